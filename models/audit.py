"""Audit trail for master-data writes made through the API."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: uuid.UUID = id_field()
    at: datetime = created_at_field()
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
