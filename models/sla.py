"""Calendars, SLA definitions, versioned escalation policies, per-ticket SLA records and the notification outbox."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import UtcDateTime


class BusinessCalendarRow(SQLModel, table=True):
    """A business calendar (domain.business_calendar.CalendarSpec as JSON), managed by the MSP and referenced
    by tenants and contracts."""

    __tablename__ = "business_calendars"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100, unique=True)
    spec: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime = created_at_field()


class SlaDefinitionRow(SQLModel, table=True):
    """Targets per priority (domain.sla.SlaDefinition as JSON) and the escalation policy that goes with them."""

    __tablename__ = "sla_definitions"
    # At most one default, enforced by the database even for concurrent requests.
    __table_args__ = (
        Index(
            "uq_sla_definitions_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100, unique=True)
    document: dict[str, Any] = Field(sa_type=JSON)
    escalation_policy_id: uuid.UUID | None = Field(
        default=None, foreign_key="escalation_policies.id", ondelete="SET NULL"
    )
    is_default: bool = False
    created_at: datetime = created_at_field()


class EscalationPolicy(SQLModel, table=True):
    __tablename__ = "escalation_policies"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100, unique=True)
    active_version_id: uuid.UUID | None = Field(default=None, sa_column_kwargs={"nullable": True})
    created_at: datetime = created_at_field()


class EscalationPolicyVersion(SQLModel, table=True):
    """Immutable once written; activating a version points the policy at it. Tickets pin the version."""

    __tablename__ = "escalation_policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: uuid.UUID = id_field()
    policy_id: uuid.UUID = Field(foreign_key="escalation_policies.id", index=True, ondelete="CASCADE")
    version: int
    document: dict[str, Any] = Field(sa_type=JSON)
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    activated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class TicketSla(SQLModel, table=True):
    """The latest state of one SLA clock of a ticket, and its outcome once stopped (for reports and QBRs)."""

    __tablename__ = "ticket_sla"

    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=16, primary_key=True)  # response, resolution, update
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    target_minutes: int
    state: str = Field(max_length=16)
    due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    used_seconds: int = 0
    paused_seconds: int = 0
    customer_it_seconds: int = 0  # of paused_seconds: while the customer's IT held the ticket (co-managed IT)
    running_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    met: bool | None = None
    diff_minutes: int | None = None
    cycle: int = 0
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class Notification(SQLModel, table=True):
    """Outbox of escalation notifications: the unique key makes a retried activity find its earlier send."""

    __tablename__ = "notifications"

    id: uuid.UUID = id_field()
    key: str = Field(max_length=300, unique=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=16)  # email, webhook, page
    destination: str = Field(max_length=2000)
    status: str = Field(max_length=16)  # pending, sent
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
