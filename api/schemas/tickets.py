"""Request and response bodies of the ticket routes."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.tickets import EventKind, Priority, TicketStatus, Visibility


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(_Body):
    tenant_id: UUID | None = Field(default=None, description="Required for MSP users; customers create for their own")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    priority: Priority = Priority.P3
    category: str | None = Field(default=None, max_length=64)
    requester_user_id: UUID | None = None


class TicketPublic(BaseModel):
    id: UUID
    number: str
    tenant_id: UUID
    title: str
    description: str
    status: TicketStatus
    priority: Priority
    category: str | None
    requester_user_id: UUID | None
    assignee_user_id: UUID | None
    created_by_user_id: UUID | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class TicketAccepted(BaseModel):
    id: UUID
    status: str = "pending"
    detail: str = "the ticket is being created; fetch it under its id shortly"


class TransitionBody(_Body):
    to_status: TicketStatus
    note: str | None = Field(default=None, max_length=20_000)


class CommentBody(_Body):
    body: str = Field(min_length=1, max_length=20_000)
    visibility: Visibility = Visibility.PUBLIC


class AssignBody(_Body):
    assignee_user_id: UUID | None


class PriorityBody(_Body):
    priority: Priority
    reason: str | None = Field(default=None, max_length=2_000)


class TimeEntryCreate(_Body):
    started_at: AwareDatetime
    minutes: int = Field(gt=0, le=24 * 60)
    billable: bool = True
    activity_type: str = Field(default="support", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2_000)
    user_id: UUID | None = Field(default=None, description="Whose time; defaults to the caller")


class TimeEntryPublic(BaseModel):
    id: UUID
    ticket_id: UUID
    user_id: UUID
    started_at: datetime
    minutes: int
    billable: bool
    activity_type: str
    note: str | None


class TicketEventPublic(BaseModel):
    id: UUID
    kind: EventKind
    at: datetime
    actor_user_id: UUID | None
    visibility: Visibility
    body: str | None
    data: dict[str, Any]
