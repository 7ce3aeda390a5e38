"""Audit trail for master-data writes made through the API."""

import uuid
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
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

    @classmethod
    def of(
        cls, actor_user_id: uuid.UUID | None, tenant_id: uuid.UUID | None, entity: str, entity_id: uuid.UUID | str,
        action: str, data: dict[str, Any],
    ) -> "AuditEvent":  # fmt: skip
        """An event with `data` made JSON-safe (UUIDs, dates, Decimals as JSON values); actor None: the CLI."""
        return cls(actor_user_id=actor_user_id, tenant_id=tenant_id, entity=entity, entity_id=str(entity_id),
                   action=action, data=to_jsonable_python(data))  # fmt: skip
