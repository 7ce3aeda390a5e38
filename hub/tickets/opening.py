"""Opening a ticket in the database: its row and number, the creation event, the SLA context pinned at that
instant and the clock's first plan, in one short write transaction; the customer's RACI routing is read with it
(the workflow applies it). Used before the ticket's workflow starts (`hub.tickets.intake`), by the API and by a SOC
incident's activity alike."""

from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Insert, bindparam, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from domain.contracts.tickets import NewTicket, RecordSla, TicketCreation, TicketOpened, TicketRecord
from domain.raci import PartyKind
from domain.sla import AdvanceRequest, ClockSet, LoadSlaContext, SlaCarry, SlaEvent, SlaEventKind, advance
from domain.tickets import EventKind, TicketStatus, Visibility, default_co_managed, format_ticket_number
from hub.db import write_transaction
from hub.logging import get_logger
from hub.tickets.raci import raci_routing
from hub.tickets.sla_rows import insert_sla
from models import Ticket, TicketEvent, TicketNumberCounter
from models.sla_context import TenantSettings, resolve_context, tenant_settings

log = get_logger(__name__)
# Ticket numbers count per calendar year of the MSP's home time zone.
NUMBERING_TZ = ZoneInfo("Europe/Berlin")


def _counter_upsert(insert_for_dialect) -> Insert:  # noqa: ANN001 - the dialect's insert()
    counter = TicketNumberCounter.__table__
    return (
        insert_for_dialect(counter)
        .values(year=bindparam("year"), last_value=1)
        .on_conflict_do_update(index_elements=[counter.c.year], set_={"last_value": counter.c.last_value + 1})
        .returning(counter.c.last_value)
    )


# Built once: every new ticket runs these, and building a statement costs more than SQLite executing it.
_NEXT_NUMBER = {"postgresql": _counter_upsert(pg_insert), "sqlite": _counter_upsert(sqlite_insert)}
_EXISTING = select(Ticket.__table__.c.number, Ticket.__table__.c.created_at).where(
    Ticket.__table__.c.id == bindparam("ticket_id")
)
_INSERT_TICKET = insert(Ticket.__table__)
_INSERT_EVENT = insert(TicketEvent.__table__)


def _next_sequence(conn: Connection, year: int) -> int:
    """Next number of the year, in one statement: the counter row is created or incremented (insert-or-update), and
    on PostgreSQL the row lock queues concurrent creators until this transaction ends."""
    return conn.execute(_NEXT_NUMBER[conn.dialect.name], {"year": year}).scalar_one()


def _co_managed(tenant: TenantSettings, t: NewTicket, share_with_customer_it: bool) -> bool:
    """Whether the new ticket is shared with the customer's IT: its creator's choice, the RACI matrix's, else the
    tenant's default for the category."""
    if t.co_managed is not None:
        return t.co_managed
    return share_with_customer_it or default_co_managed(tenant.co_managed, tenant.co_managed_categories, t.category)


def _existing(conn: Connection, ticket_id: UUID) -> TicketRecord | None:
    row = conn.execute(_EXISTING, {"ticket_id": ticket_id}).first()
    return None if row is None else TicketRecord(number=row.number, created_at=row.created_at)


def _insert_ticket(conn: Connection, req: TicketCreation, co_managed: bool, sla_state: str | None) -> TicketRecord:
    """The row and its creation event (Core statements: this runs for every new ticket)."""
    t = req.ticket
    year = req.at.astimezone(NUMBERING_TZ).year
    number = format_ticket_number(year, _next_sequence(conn, year))
    conn.execute(
        _INSERT_TICKET,
        {
            "id": t.ticket_id,
            "tenant_id": t.tenant_id,
            "number": number,
            "title": t.title,
            "description": t.description,
            "status": TicketStatus.NEW,
            "priority": t.priority,
            "category": t.category,
            "queue": t.queue,
            "co_managed": co_managed,
            "customer_it_holds": False,
            "sla_state": sla_state,
            "requester_user_id": t.requester_user_id,
            "created_by_user_id": t.created_by_user_id,
            "idempotency_key": t.idempotency_key,
            "idempotency_fingerprint": t.idempotency_fingerprint,
            "created_at": req.at,
            "updated_at": req.at,
        },
    )
    conn.execute(
        _INSERT_EVENT,
        {
            "id": t.ticket_id,  # the creation event shares the ticket's id: one per ticket
            "ticket_id": t.ticket_id,
            "tenant_id": t.tenant_id,
            "kind": EventKind.CREATED,
            "at": req.at,
            "actor_user_id": t.created_by_user_id,
            "visibility": Visibility.PUBLIC,
            "body": t.description or None,
            "data": {"number": number, "priority": t.priority.value, "title": t.title},
        },
    )
    log.info(
        "ticket created",
        ticket_id=str(t.ticket_id),
        tenant_id=str(t.tenant_id),
        number=number,
    )
    return TicketRecord(number=number, created_at=req.at)


def open_ticket(engine: Engine, req: TicketCreation) -> TicketOpened:
    """Row, creation event, SLA context and the clock's first plan: one write transaction. Idempotent: a retry
    finds its own row; `req.at` is the caller's (when the request arrived), so every attempt computes the same clock.

    Reads and the clock's computation happen before the write transaction, which takes SQLite's database lock
    (on PostgreSQL the counter row lock) for a few statements only. Column reads and Core writes: the ORM's
    identity map and unit of work cost more than the statements here (bench/WORKER_CPU.md)."""
    t = req.ticket
    with Session(engine) as session:
        existing = _existing(session.connection(), t.ticket_id)
        created_at = existing.created_at if existing is not None else req.at
        tenant = tenant_settings(session, t.tenant_id)
        context = None
        if tenant is not None:
            load = LoadSlaContext(
                tenant_id=t.tenant_id, customer_number=t.customer_number, category=t.category, at=created_at
            )
            context = resolve_context(session, load, tenant)
        # A queue its creator chose wins over the matrix.
        routing = raci_routing(session, tenant, t.category) if t.queue is None and tenant is not None else None
    # The customer's IT is Responsible: it must see the ticket (unless its creator decided otherwise).
    share = routing is not None and routing.responsible_kind == PartyKind.CUSTOMER_IT
    co_managed = _co_managed(tenant, t, share) if tenant is not None else bool(t.co_managed)
    result = None
    if context is not None:
        created = SlaEvent(kind=SlaEventKind.CREATED, at=created_at, priority=t.priority, status=TicketStatus.NEW)
        result = advance(
            AdvanceRequest(
                context=context,
                clocks=ClockSet(priority=t.priority, queue=t.queue),
                events=[created],
                now=created_at,
            )
        )
    if routing is not None:
        routing.customer_it_holds = share and t.co_managed is not False
    record = existing
    if record is None:
        with write_transaction(engine) as conn:
            # Another attempt of this activity may have written it meanwhile (a timed-out attempt still running).
            record = _existing(conn, t.ticket_id)
            if record is None:
                sla_state = result.plan.state.value if result is not None else None
                record = _insert_ticket(conn, req, co_managed, sla_state)
                if result is not None:
                    insert_sla(
                        conn,
                        RecordSla(
                            ticket_id=t.ticket_id,
                            tenant_id=t.tenant_id,
                            clocks=result.clocks,
                            plan=result.plan,
                            at=created_at,
                        ),
                    )
    if result is None:
        return TicketOpened(record=record, routing=routing)
    sla = SlaCarry(context=context, clocks=result.clocks, plan=result.plan)
    return TicketOpened(record=record, sla=sla, routing=routing)
