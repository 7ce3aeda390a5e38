"""Request and response bodies of the ticket routes."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from api.schemas.common import Body as _Body
from api.schemas.common import CustomerNumber, multiline, text
from domain.tickets import EventKind, Priority, TicketStatus, Visibility

Title = text(200)
Code = text(64)
# Time is logged for work done: not before the hub's era, not ahead of the clock (a little slack for clock skew).
TIME_ENTRY_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TIME_ENTRY_SLACK = timedelta(minutes=5)


class TicketCreate(_Body):
    tenant_id: UUID | None = Field(
        default=None, description="The customer; MSP users name it here or by customer_number, customers may omit it"
    )
    customer_number: CustomerNumber | None = Field(default=None, description="The customer by number, e.g. K10001")
    title: Title
    description: multiline(20_000) = ""
    priority: Priority = Priority.P3
    category: Code | None = None
    queue: Code | None = None
    requester_user_id: UUID | None = None
    co_managed: bool | None = Field(
        default=None, description="Share with the customer's IT (MSP staff only); empty: the customer's default"
    )

    @model_validator(mode="after")
    def _one_customer_reference(self) -> "TicketCreate":
        if self.tenant_id is not None and self.customer_number is not None:
            raise ValueError("give tenant_id or customer_number, not both")
        return self


class TicketPublic(BaseModel):
    id: UUID
    number: str
    tenant_id: UUID
    title: str
    description: str
    status: TicketStatus
    priority: Priority
    category: str | None
    queue: str | None
    co_managed: bool = Field(description="Shared with the customer's IT (customer_it)")
    customer_it_holds: bool = Field(description="Handed back to the customer's IT: the MSP's SLA clocks pause")
    sla_state: str | None = Field(description="ok, warning, breached, paused; empty when no SLA applies")
    requester_user_id: UUID | None
    assignee_user_id: UUID | None
    created_by_user_id: UUID | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class TransitionBody(_Body):
    to_status: TicketStatus
    note: multiline(20_000, 1) | None = None


class CommentBody(_Body):
    body: multiline(20_000, 1)
    visibility: Visibility = Visibility.PUBLIC


class AssignBody(_Body):
    assignee_user_id: UUID | None


class HandOverBody(_Body):
    reason: multiline(2_000, min_length=1)


class CoManagedBody(_Body):
    co_managed: bool
    reason: multiline(2_000) | None = None


class CoManagementSettings(_Body):
    """A customer's co-management: its IT staff (customer_it) work the shared tickets with the MSP."""

    enabled: bool
    categories: list[Code] | None = Field(
        default=None, max_length=100, description="New tickets of these categories are shared; empty: every ticket"
    )


class PriorityBody(_Body):
    priority: Priority
    reason: multiline(2_000, 1) | None = None


class TimeEntryCreate(_Body):
    started_at: AwareDatetime
    minutes: int = Field(gt=0, le=24 * 60)
    billable: bool = True
    activity_type: Code = "support"
    note: multiline(2_000, 1) | None = None
    user_id: UUID | None = Field(default=None, description="Whose time; defaults to the caller")

    @field_validator("started_at")
    @classmethod
    def _in_window(cls, value: datetime) -> datetime:
        window = f"accepted: {TIME_ENTRY_EARLIEST.isoformat()} up to 5 minutes from now"
        if value < TIME_ENTRY_EARLIEST:
            raise ValueError(f"time entries cannot start before 2000 ({window})")
        if value > datetime.now(UTC) + TIME_ENTRY_SLACK:
            raise ValueError(f"time entries cannot start in the future ({window})")
        return value


class TimeEntryPublic(BaseModel):
    id: UUID
    ticket_id: UUID
    user_id: UUID
    started_at: datetime
    minutes: int
    billable: bool
    activity_type: str
    note: str | None


class TicketCommentPublic(BaseModel):
    id: UUID
    ticket_id: UUID
    at: datetime
    author_user_id: UUID | None = Field(description="Empty for notes the hub writes itself (SOC, SLA)")
    author_role: str | None = Field(description="msp_admin, msp_tech, customer_it, customer_user or system")
    visibility: Visibility
    body: str


class TicketEventPublic(BaseModel):
    id: UUID
    kind: EventKind
    at: datetime
    actor_user_id: UUID | None
    visibility: Visibility
    body: str | None
    data: dict[str, Any]


class SlaClockPublic(BaseModel):
    kind: str = Field(description="response, resolution or update")
    target_minutes: int
    state: str = Field(description="ok, warning, breached, paused, met or missed")
    due_at: datetime | None
    business_minutes_used: int
    business_minutes_remaining: int = Field(description="Negative once breached")
    paused_minutes: int
    customer_it_minutes: int = Field(
        default=0, description="Of paused_minutes: while the customer's IT held the ticket (not the MSP's time)"
    )
    stopped_at: datetime | None
    met: bool | None


class SlaRepinPublic(BaseModel):
    changed: bool
    reason: str | None = Field(description="Why nothing changed (German, for the UI)")
    sla: "TicketSlaPublic"


class TicketSlaPublic(BaseModel):
    ticket_id: UUID
    state: str
    live: bool = Field(description="True: computed now from the running workflow; false: last recorded state")
    time_zone: str | None
    sla_definition_id: UUID | None
    escalation_policy_version_id: UUID | None
    clocks: list[SlaClockPublic]
