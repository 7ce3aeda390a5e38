"""Opening a ticket: its row and SLA clock first, then its workflow (a transactional outbox), and what the sweep
needs to start the workflow of a row whose start was not confirmed.

The row, its number, the creation event and the SLA clock's first plan are one write transaction
(`hub.tickets.opening`); the workflow starts right after with that state and its search
attributes, and the row is marked once Temporal holds it. So a ticket is durable (the API answers 2xx) while
Temporal or every worker is down, and a new ticket costs a worker one workflow task that arms its timer instead of
an opening activity and an update's round trip (bench/WORKER_CPU.md). A row left unmarked (the caller stopped
between the two, Temporal was away) is started by `tickets.start_pending` (activities/tickets/intake.py), which the
schedule `ticket-start-sweep` runs every minute: idempotent, since the workflow id is the ticket's and an ended
run is never started again."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, bindparam, select, tuple_, update
from temporalio.client import Client

from domain.contracts.tickets import NewTicket, TicketCreation, TicketOpened
from hub.db import write_transaction
from hub.temporal.tickets import start_opened_ticket
from hub.tickets.opening import open_ticket as write_opening
from models import Tenant, Ticket

# An opening in flight marks its own row; the sweep leaves it that long.
PENDING_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 200
SWEEP_BUDGET = timedelta(minutes=3)  # within the activity's timeout; the next sweep goes on

_T = Ticket.__table__.c
_MARK_STARTED = (
    update(Ticket.__table__)
    .where(_T.id == bindparam("ticket_id"), _T.workflow_started_at.is_(None))
    .values(workflow_started_at=bindparam("at"))
)


async def open_ticket(
    engine: Engine, client: Client, ticket: NewTicket, *, at: datetime | None = None, memo: dict[str, str] | None = None
) -> TicketOpened:
    """Write the ticket (idempotent: a retry with the same id finds its row and clock) and start its workflow.
    Raises `WorkflowUnavailable` when Temporal did not confirm the start: the ticket is durable all the same, and
    the sweep starts its workflow."""
    opened = await asyncio.to_thread(write_opening, engine, TicketCreation(ticket=ticket, at=at or datetime.now(UTC)))
    await start_opened_ticket(client, ticket, opened, memo=memo)
    await asyncio.to_thread(mark_started, engine, ticket.ticket_id)
    return opened


def mark_started(engine: Engine, ticket_id: UUID) -> None:
    with write_transaction(engine) as conn:
        conn.execute(_MARK_STARTED, {"ticket_id": ticket_id, "at": datetime.now(UTC)})


def pending_tickets(
    engine: Engine, cutoff: datetime, limit: int, reopen_days: int, after: tuple[datetime, UUID] | None = None
) -> list[tuple[NewTicket, datetime]]:
    """Tickets written before `cutoff` whose workflow Temporal has not confirmed, oldest first (after `after`, the
    last one of the page before), as they were opened."""
    query = (
        select(Ticket.__table__, Tenant.__table__.c.customer_number)
        .join(Tenant.__table__, Tenant.__table__.c.id == _T.tenant_id)
        .where(_T.workflow_started_at.is_(None), _T.created_at <= cutoff)
        .order_by(_T.created_at, _T.id)
        .limit(limit)
    )
    if after is not None:
        last = tuple_(bindparam("c", after[0], type_=_T.created_at.type), bindparam("i", after[1], type_=_T.id.type))
        query = query.where(tuple_(_T.created_at, _T.id) > last)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        (
            NewTicket(
                ticket_id=row.id,
                tenant_id=row.tenant_id,
                customer_number=row.customer_number,
                title=row.title,
                description=row.description,
                priority=row.priority,
                category=row.category,
                queue=row.queue,
                requester_user_id=row.requester_user_id,
                created_by_user_id=row.created_by_user_id,
                co_managed=row.co_managed,  # as decided at the opening
                idempotency_key=row.idempotency_key,
                idempotency_fingerprint=row.idempotency_fingerprint,
                reopen_days=reopen_days,
            ),
            row.created_at,
        )
        for row in rows
    ]
