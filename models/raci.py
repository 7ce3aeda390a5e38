"""The RACI matrix of a customer (one document per tenant, validated by `domain/raci.py`) and its history: every
change with who, when, and the matrix before and after."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class RaciMatrixRow(SQLModel, table=True):
    __tablename__ = "raci_matrices"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    # Counts the changes; a writer may name the version it read (a stale write is refused, not merged).
    version: int = 1
    matrix: dict[str, Any] = Field(sa_type=JSON)
    updated_at: datetime = created_at_field()
    updated_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class RaciChange(SQLModel, table=True):
    __tablename__ = "raci_changes"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    version: int
    at: datetime = created_at_field()
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    old: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # None: the first matrix
    new: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # None: the matrix was deleted
