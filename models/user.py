"""Hub users and their API keys."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from domain.roles import Role
from models.base import created_at_field, id_field
from models.types import UtcDateTime, enum_type


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        # Customer roles always belong to exactly one tenant; MSP staff to none.
        CheckConstraint(
            "(role IN ('customer_it', 'customer_user', 'external_tech') AND tenant_id IS NOT NULL) "
            "OR (role IN ('msp_admin', 'msp_tech', 'finance') AND tenant_id IS NULL)",
            name="role_tenant",
        ),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=200)
    role: Role = Field(sa_type=enum_type(Role))
    is_active: bool = True
    created_at: datetime = created_at_field()
    # Every key of the user is refused from this instant on: an external technician's access ends with its
    # engagement, whichever keys it holds (required for external_tech).
    access_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Argon2 hash (pwdlib) of the password for the web portal; None: the user logs in with an API key only.
    password_hash: str | None = Field(default=None, max_length=255)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    # First characters of the key, to find the row without storing the key itself.
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Refused from this instant on (e.g. a contractor's key); None: valid until revoked.
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
