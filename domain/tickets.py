"""Ticket lifecycle rules and the data that crosses the workflow/activity boundary.

Kept free of I/O and of SQLModel tables so the ticket workflow can import it inside the sandbox.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from domain.roles import Role


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    COMMENTED = "commented"
    ASSIGNED = "assigned"
    PRIORITY_CHANGED = "priority_changed"
    TIME_LOGGED = "time_logged"
    QUEUE_CHANGED = "queue_changed"
    ESCALATED = "escalated"
    SLA_REPINNED = "sla_repinned"


_ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED}
    ),
    TicketStatus.OPEN: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.OPEN, TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED}),
    TicketStatus.WAITING_CUSTOMER: frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}
# A customer user may only reopen or confirm (close) a resolved ticket.
_CUSTOMER_USER_ALLOWED = frozenset(
    {(TicketStatus.RESOLVED, TicketStatus.OPEN), (TicketStatus.RESOLVED, TicketStatus.CLOSED)}
)


class TransitionError(ValueError):
    """A status change the lifecycle does not allow; the message says why."""


def allowed_targets(current: TicketStatus) -> frozenset[TicketStatus]:
    return _ALLOWED[current]


def check_transition(
    current: TicketStatus,
    target: TicketStatus,
    *,
    actor_role: Role,
    now: datetime,
    resolved_at: datetime | None,
    reopen_days: int,
) -> None:
    """Raise TransitionError unless `current -> target` is allowed for this actor at `now`."""
    if current == target:
        raise TransitionError(f"ticket is already {current.value}")
    if target not in _ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in _ALLOWED[current])) or "none (ticket is closed)"
        raise TransitionError(f"cannot change status from {current.value} to {target.value}; allowed: {allowed}")
    if actor_role == Role.CUSTOMER_USER and (current, target) not in _CUSTOMER_USER_ALLOWED:
        raise TransitionError("customer users may only reopen or close a resolved ticket")
    if current == TicketStatus.RESOLVED and target == TicketStatus.OPEN:
        if resolved_at is None or now > reopen_deadline(resolved_at, reopen_days):
            raise TransitionError(f"the reopen window of {reopen_days} days after resolution has passed")


def reopen_deadline(resolved_at: datetime, reopen_days: int) -> datetime:
    return resolved_at + timedelta(days=reopen_days)


class TicketActivity:
    """Activity names, so the workflow needs no import of the activity module (and its tables)."""

    CREATE_RECORD = "tickets.create_record"
    OPEN = "tickets.open"
    APPLY_CHANGE = "tickets.apply_change"


def format_ticket_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


# --- Workflow and activity payloads (small: ids and fields, never whole tables) ---


class TicketState(BaseModel):
    """What the ticket workflow knows; returned by its query and carried over continue-as-new."""

    ticket_id: UUID
    tenant_id: UUID
    customer_number: str
    number: str | None = None
    title: str
    status: TicketStatus = TicketStatus.NEW
    priority: Priority
    assignee_user_id: UUID | None = None
    queue: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    reopen_days: int = 7


class NewTicket(BaseModel):
    ticket_id: UUID
    tenant_id: UUID
    customer_number: str
    title: str
    description: str = ""
    priority: Priority
    category: str | None = None
    queue: str | None = None
    requester_user_id: UUID | None = None
    created_by_user_id: UUID | None = None  # None: opened by the hub itself (e.g. a SOC incident)
    idempotency_key: str | None = None
    idempotency_fingerprint: str | None = None
    reopen_days: int = 7


class Actor(BaseModel):
    user_id: UUID
    role: Role


class TransitionRequest(BaseModel):
    actor: Actor
    to_status: TicketStatus
    note: str | None = Field(default=None, max_length=20_000)


class RepinSlaRequest(BaseModel):
    actor: Actor


class SystemNote(BaseModel):
    """An internal note the hub writes itself, under an id its sender chose: the note is written once however
    often the signal arrives (a sender that is retried, e.g. an activity, may send it twice)."""

    note_id: UUID
    text: str = Field(min_length=1)


class SystemTransition(BaseModel):
    """A status change the hub decides itself (e.g. the SOC vendor reports the threat resolved). Sent as a
    signal, so nobody waits for it: a transition the ticket's status does not allow becomes an internal note."""

    to_status: TicketStatus
    note: str = Field(min_length=1, max_length=20_000)
    reason: str = Field(min_length=1, max_length=64)  # machine-readable, e.g. "soc_vendor_resolved"


class CommentRequest(BaseModel):
    actor: Actor
    body: str = Field(min_length=1, max_length=20_000)
    visibility: Visibility = Visibility.PUBLIC


class AssignRequest(BaseModel):
    actor: Actor
    assignee_user_id: UUID | None


class PriorityRequest(BaseModel):
    actor: Actor
    priority: Priority
    reason: str | None = Field(default=None, max_length=2_000)


class TimeEntryRequest(BaseModel):
    actor: Actor
    user_id: UUID
    started_at: AwareDatetime
    minutes: int = Field(gt=0, le=24 * 60)
    billable: bool = True
    activity_type: str = Field(default="support", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2_000)


class TicketCreation(BaseModel):
    ticket: NewTicket
    at: AwareDatetime


class TicketRecord(BaseModel):
    """Result of creating the ticket row."""

    number: str
    created_at: AwareDatetime


class TicketChange(BaseModel):
    """One change to persist: an event, the resulting ticket fields and, optionally, a time entry."""

    event_id: UUID
    ticket_id: UUID
    tenant_id: UUID
    kind: EventKind
    at: AwareDatetime
    actor_user_id: UUID | None = None
    visibility: Visibility = Visibility.INTERNAL
    body: str | None = None
    data: dict[str, str | int | bool | None] = Field(default_factory=dict)
    status: TicketStatus
    priority: Priority
    assignee_user_id: UUID | None = None
    queue: str | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    time_entry: TimeEntryRequest | None = None
