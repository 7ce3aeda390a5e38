"""The ticket process (`ticket-<id>`, SLA clock and escalations, re-pin batch): activity names, the workflow's
input, state and update requests, and the payloads of its activities. Workflows, activities and the client in
`hub/temporal/` import these; nothing here does I/O."""

from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from temporalio.common import SearchAttributeUpdate

from domain.escalation import NotifyEmail, NotifyWebhook, PageOnCall
from domain.processes import (
    CUSTOMER_ID,
    PROCESS,
    SLA_STATE,
    TICKET_ASSIGNEE,
    TICKET_NUMBER,
    TICKET_PRIORITY,
    TICKET_PROCESS,
    TICKET_QUEUE,
    TICKET_STATUS,
    UNASSIGNED,
)
from domain.raci import RaciNotice, RaciRouting
from domain.roles import Role
from domain.sla import AdvanceRequest, ClockSet, SlaCarry, SlaPlan, SlaState, TargetKind
from domain.tickets import EventKind, Priority, TicketStatus, Visibility


class TicketActivity:
    """Activity names of the ticket process; the worker registers each once (tests/test_architecture.py)."""

    APPLY_CHANGE = "tickets.apply_change"
    # The sweep: start the workflow of every ticket whose row was written but whose start was not confirmed.
    START_PENDING = "tickets.start_pending"


class SlaActivity:
    # Local: feed the clock and write its new state in one step, so due instants are recorded, not recomputed on
    # replay (a change to the ticket feeds the clock inside `tickets.apply_change` instead).
    ADVANCE = "sla.advance"
    NOTIFY = "sla.notify"
    REPIN = "sla.repin"
    LIST_REPIN_CANDIDATES = "sla.list_repin_candidates"


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
    customer_it_holds: bool = False  # handed back to the customer's IT; the MSP's SLA clocks pause
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
    co_managed: bool | None = None  # None: the tenant's default for the category
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
    # Chosen by the caller (the API), so it can answer with the comment it created; the event's id.
    comment_id: UUID | None = None


class AssignRequest(BaseModel):
    actor: Actor
    assignee_user_id: UUID | None


class QueueRequest(BaseModel):
    """Move the ticket to a queue (None: out of every queue); the queue holds it, unassigned, until someone takes it."""

    actor: Actor
    queue: str | None = Field(default=None, max_length=64)


class HandOverRequest(BaseModel):
    """`escalate_to_msp` or `hand_back_to_customer` (the customer's IT): who holds a co-managed ticket, and why."""

    actor: Actor
    reason: str = Field(min_length=1, max_length=2_000)


class CoManagedRequest(BaseModel):
    """Share the ticket with the customer's IT, or stop sharing it."""

    actor: Actor
    co_managed: bool
    reason: str | None = Field(default=None, max_length=2_000)


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
    # Chosen by the caller, as `CommentRequest.comment_id`: the time entry's id and its event's.
    entry_id: UUID | None = None


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
    co_managed: bool | None = None  # None: unchanged
    customer_it_holds: bool | None = None  # None: unchanged
    # The SLA clock fed with this change's events, written in the same transaction (None: the clock is untouched).
    sla: AdvanceRequest | None = None


class TicketWorkflowInput(BaseModel):
    """The row and its SLA clock exist when the workflow starts (`opened_ticket_input`) or continues as new."""

    ticket: NewTicket
    state: TicketState
    sla: SlaCarry | None = None
    routing: RaciRouting | None = None  # the customer's RACI matrix, applied once by the first run


class TicketOpened(BaseModel):
    """Result of opening a ticket: its row, and the SLA clock's context and first plan where an SLA applies."""

    record: TicketRecord
    sla: SlaCarry | None = None
    routing: RaciRouting | None = None  # the customer's RACI matrix: queue and notices, applied by the workflow


class SlaStep(BaseModel):
    """Feed a ticket's clock and record its new state (`SlaActivity.ADVANCE`)."""

    ticket_id: UUID
    tenant_id: UUID
    advance: AdvanceRequest


class RecordSla(BaseModel):
    ticket_id: UUID
    tenant_id: UUID
    clocks: "ClockSet"
    plan: SlaPlan
    at: AwareDatetime


class RepinRequest(BaseModel):
    """Move a running ticket onto the SLA context in force now (a person asked for it: see `repin`)."""

    event_id: UUID  # chosen by the workflow: the audit event is written once, however often this is retried
    ticket_id: UUID
    tenant_id: UUID
    customer_number: str
    category: str | None = None
    carry: "SlaCarry"
    actor_user_id: UUID
    at: AwareDatetime


class RepinResult(BaseModel):
    changed: bool
    carry: "SlaCarry"
    reason: str | None = None  # why nothing changed


Channel = Literal["email", "webhook", "page"]


NotifyAction = Annotated[NotifyEmail | NotifyWebhook | PageOnCall, Field(discriminator="type")]


def channel_of(action: NotifyEmail | NotifyWebhook | PageOnCall) -> Channel:
    if isinstance(action, NotifyEmail):
        return "email"
    if isinstance(action, PageOnCall):
        return "page"
    return "webhook"


class NotifyRequest(BaseModel):
    """One notifying action of an escalation level for one ticket; `key` makes it happen once."""

    key: str = Field(min_length=1, max_length=300, description='Globally unique: f"{ticket_id}:{action key}"')
    ticket_id: UUID
    tenant_id: UUID
    ticket_number: str
    title: str
    priority: Priority
    status: TicketStatus
    customer_number: str
    customer_name: str | None = Field(default=None, description="Empty: the activity reads the tenant's name")
    level: str
    target: TargetKind
    sla_state: str
    due_at: AwareDatetime | None = None
    time_zone: str = Field(default="Europe/Berlin", description="The customer's zone for the due time in texts")
    action: NotifyAction
    raci: RaciNotice | None = Field(default=None, description="Set: a RACI notice of a new ticket, no escalation")

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @property
    def channel(self) -> Channel:
        return channel_of(self.action)


class NotifyResult(BaseModel):
    status: Literal["sent", "already_sent"]
    channel: Channel
    # E-mail addresses; for webhooks only scheme and host (their paths and queries often carry secrets).
    recipients: list[str]


PAGE_SIZE = 200


class RepinBatchInput(BaseModel):
    tenant_id: UUID | None = None  # None: all customers
    actor_user_id: UUID
    requested_at: AwareDatetime
    after_ticket_id: UUID | None = None  # the cursor carried across continue-as-new
    signalled: int = 0
    skipped: int = 0


class RepinBatchResult(BaseModel):
    signalled: int  # tickets asked to re-pin (each records whether its context changed)
    skipped: int  # tickets that finished meanwhile


class RepinCandidates(BaseModel):
    tenant_id: UUID | None = None
    after_ticket_id: UUID | None = None
    limit: int = Field(default=PAGE_SIZE, ge=1, le=1_000)


def ticket_listing(s: TicketState, sla: SlaCarry | None) -> list[SearchAttributeUpdate]:
    """The ticket's search attributes, for the Temporal UI (also set by a starter that opened the ticket before its
    workflow, see `opened_ticket_input`). No memo that follows the state: each upsert is a history event and a
    visibility write, and the attributes and the static summary (title, priority, customer) say it already."""
    attributes = [
        CUSTOMER_ID.value_set(s.customer_number),
        TICKET_PRIORITY.value_set(s.priority.value),
        TICKET_STATUS.value_set(s.status.value),
        TICKET_NUMBER.value_set(s.number or ""),
        PROCESS.value_set(TICKET_PROCESS),
        TICKET_ASSIGNEE.value_set([str(s.assignee_user_id) if s.assignee_user_id else UNASSIGNED]),
    ]
    if s.queue is not None:
        attributes.append(TICKET_QUEUE.value_set(s.queue))
    sla_state = sla.plan.state if sla is not None and sla.plan is not None else None
    if sla_state is not None and sla_state != SlaState.NONE:
        attributes.append(SLA_STATE.value_set(sla_state.value))
    return attributes


def opened_ticket_input(ticket: NewTicket, opened: TicketOpened) -> TicketWorkflowInput:
    """The input of a ticket's workflow, started once its row and SLA clock are written
    (`hub.tickets.intake.open_ticket`)."""
    at = opened.record.created_at
    opened_fields = {"number": opened.record.number, "created_at": at, "updated_at": at}
    state = new_ticket_state(ticket).model_copy(update=opened_fields)
    return TicketWorkflowInput(ticket=ticket, state=state, sla=opened.sla, routing=opened.routing)


def new_ticket_state(t: NewTicket) -> TicketState:
    """What the workflow knows of a ticket before it is opened."""
    return TicketState(
        ticket_id=t.ticket_id,
        tenant_id=t.tenant_id,
        customer_number=t.customer_number,
        title=t.title,
        priority=t.priority,
        queue=t.queue,
        reopen_days=t.reopen_days,
    )
