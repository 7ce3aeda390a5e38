"""Request and response bodies of the user and API key routes (MSP admins manage both)."""

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from api.schemas.common import Body, Name, not_null, text
from api.schemas.contacts import Email
from domain.roles import Role


class UserCreate(Body):
    email: Email
    display_name: Name
    role: Role
    tenant_id: UUID | None = Field(default=None, description="The customer a customer role belongs to; MSP roles: none")
    access_expires_at: AwareDatetime | None = Field(
        default=None, description="Every key is refused from then on; required for external_tech"
    )


class UserUpdate(Body):
    display_name: Name | None = None
    role: Role | None = None
    tenant_id: UUID | None = None
    is_active: bool | None = Field(default=None, description="false: every key of the user is refused at once")
    access_expires_at: AwareDatetime | None = Field(default=None, description="A date in the past ends access now")

    _required = field_validator("display_name", "role", "is_active")(not_null)


class UserPublic(BaseModel):
    id: UUID
    email: str
    display_name: str
    role: Role
    tenant_id: UUID | None
    is_active: bool
    created_at: datetime
    access_expires_at: datetime | None = None


class PasswordSet(Body):
    password: str = Field(min_length=1, max_length=1024, description="For the web portal; at least 12 characters")


class KeyCreate(Body):
    user_id: UUID
    name: text(100) = Field(description="What the key is for, e.g. 'RMM integration'")
    expires_at: AwareDatetime | None = Field(default=None, description="Refused from then on; empty: until revoked")


class KeyPublic(BaseModel):
    id: UUID
    user_id: UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyIssued(KeyPublic):
    key: str = Field(description="The key itself: shown this once, stored only as a hash")
