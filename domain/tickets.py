"""Ticket lifecycle rules and the data that crosses the workflow/activity boundary.

Kept free of I/O and of SQLModel tables: the ticket workflow runs it (tests/architecture/determinism.py).
"""

from datetime import datetime, timedelta
from enum import StrEnum

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
    PUBLIC = "public"  # everyone who sees the ticket
    INTERNAL = "internal"  # the MSP only
    CO_MANAGED = "co_managed"  # the MSP and the customer's IT (co-managed tickets), not the customer's users


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
    CO_MANAGED_CHANGED = "co_managed_changed"
    HANDED_BACK_TO_CUSTOMER = "handed_back_to_customer"  # the customer's IT holds it: the MSP's SLA clocks pause
    ESCALATED_TO_MSP = "escalated_to_msp"  # the MSP is responsible again: its clocks run


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


def default_co_managed(enabled: bool, categories: list[str] | None, category: str | None) -> bool:
    """Whether a new ticket is shared with the customer's IT: never without co-management; with it, every ticket
    (no category list) or those of the listed categories."""
    if not enabled:
        return False
    return categories is None or (category is not None and category in categories)


def readable_visibilities(role: Role, co_managed_access: bool) -> frozenset[Visibility]:
    """What a role reads on a ticket it sees; `co_managed_access`: customer IT on a co-managed ticket."""
    if role.is_msp:
        return frozenset(Visibility)
    if role == Role.CUSTOMER_IT and co_managed_access:
        return frozenset({Visibility.PUBLIC, Visibility.CO_MANAGED})
    return frozenset({Visibility.PUBLIC})


def comment_refusal(role: Role, visibility: Visibility, co_managed_access: bool) -> str | None:
    """Why `role` may not write a comment of `visibility`: nobody writes what they could not read."""
    if visibility in readable_visibilities(role, co_managed_access):
        return None
    if visibility == Visibility.INTERNAL:
        return "customer roles write public replies only; internal notes are the MSP's"
    return "co-managed notes are for the MSP and the customer's IT on co-managed tickets"


def format_ticket_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


# --- Workflow and activity payloads (small: ids and fields, never whole tables) ---
