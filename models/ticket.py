"""Tickets, their event log and time entries. The row is written when a ticket is opened (before its workflow
starts), every later change only by the ticket workflow's activities."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from models.base import created_at_field
from models.types import UtcDateTime, enum_type


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        # The start sweep reads the few tickets whose workflow has not been confirmed yet.
        Index(
            "ix_tickets_workflow_pending",
            "created_at",
            sqlite_where=text("workflow_started_at IS NULL"),
            postgresql_where=text("workflow_started_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="RESTRICT")
    number: str = Field(max_length=16, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    status: TicketStatus = Field(sa_type=enum_type(TicketStatus), index=True)
    priority: Priority = Field(sa_type=enum_type(Priority), index=True)
    category: str | None = Field(default=None, max_length=64)
    queue: str | None = Field(default=None, max_length=64, index=True)
    # Shared with the customer's IT (customer_it); defaulted at opening from the tenant's co-management.
    co_managed: bool = False
    # The customer's IT holds the ticket (handed back to it): the MSP's SLA clocks pause meanwhile.
    customer_it_holds: bool = False
    sla_state: str | None = Field(default=None, max_length=16, index=True)
    requester_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    assignee_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    idempotency_key: str | None = Field(default=None, max_length=128)
    idempotency_fingerprint: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Set once Temporal holds the ticket's workflow: the row is written first, its workflow started right after
    # (hub.tickets.intake); a row still without it is started by the sweep.
    workflow_started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class TicketEvent(SQLModel, table=True):
    __tablename__ = "ticket_events"

    # Chosen by the workflow, so a retried activity finds its own earlier write.
    id: uuid.UUID = Field(primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="RESTRICT")
    kind: EventKind = Field(sa_type=enum_type(EventKind))
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    visibility: Visibility = Field(sa_type=enum_type(Visibility))
    body: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class TimeEntry(SQLModel, table=True):
    __tablename__ = "time_entries"

    id: uuid.UUID = Field(primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="RESTRICT")
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    started_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    minutes: int = Field(gt=0)
    billable: bool = True
    activity_type: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT")  # billed on


class TicketNumberCounter(SQLModel, table=True):
    """One row per year; incremented in the ticket's creating transaction."""

    __tablename__ = "ticket_number_counters"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = 0
