"""The facts of the ticket and SLA reports (domain.reports): one read of the tickets opened in a period, with who
resolved, held and took each, and its stored SLA outcomes. No activity: the API reads it directly."""

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.qbr.kpis import SLA_KINDS
from domain.reports import SlaFact, TicketFact, handler
from domain.roles import Role
from domain.sla import SlaState
from domain.tickets import EventKind, TicketStatus
from models.sla import TicketSla
from models.ticket import Ticket, TicketEvent
from models.user import User


def load_ticket_facts(
    session: Session, start: datetime, end: datetime, tenant_id: UUID | None, *only: ColumnElement[bool]
) -> list[TicketFact]:
    """Tickets opened in [start, end), of one tenant or (None) of all; `only`: further conditions on the ticket
    (what the caller may see)."""
    scope = [col(Ticket.created_at) >= start, col(Ticket.created_at) < end, *only]
    if tenant_id is not None:
        scope.append(Ticket.tenant_id == tenant_id)
    assignee = aliased(User)
    tickets = session.exec(
        select(Ticket.id, Ticket.tenant_id, Ticket.created_at, Ticket.status, Ticket.customer_it_holds, assignee.role)
        .outerjoin(assignee, col(assignee.id) == Ticket.assignee_user_id)
        .where(*scope)
    ).all()
    resolver: dict[UUID, Role | None] = {}
    handed_back: set[UUID] = set()
    events = session.exec(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.data, User.role)
        .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
        .outerjoin(User, col(User.id) == TicketEvent.actor_user_id)
        .where(*scope, col(TicketEvent.kind).in_([EventKind.STATUS_CHANGED, EventKind.HANDED_BACK_TO_CUSTOMER]))
        .order_by(col(TicketEvent.at))
    ).all()
    for ticket_id, kind, data, role in events:
        if kind == EventKind.HANDED_BACK_TO_CUSTOMER:
            handed_back.add(ticket_id)
        elif data.get("to") == TicketStatus.RESOLVED.value:
            resolver[ticket_id] = role  # the last resolution counts (a reopened ticket may be resolved again)
    clocks: dict[UUID, list[SlaFact]] = defaultdict(list)
    for ticket_id, kind, met, state, customer_it_seconds in session.exec(
        select(TicketSla.ticket_id, TicketSla.kind, TicketSla.met, TicketSla.state, TicketSla.customer_it_seconds)
        .join(Ticket, col(Ticket.id) == TicketSla.ticket_id)
        .where(*scope, col(TicketSla.kind).in_(SLA_KINDS))
    ):
        clocks[ticket_id].append(SlaFact(kind, met, customer_it_seconds, overdue=state == SlaState.BREACHED))
    done = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    return [
        TicketFact(
            tenant_id=tenant,
            created_at=created_at,
            resolved=status in done,
            handler=handler(resolver.get(ticket_id) if status in done else None, assignee_role, holds),
            handed_back=ticket_id in handed_back,
            sla=tuple(clocks[ticket_id]),
        )
        for ticket_id, tenant, created_at, status, holds, assignee_role in tickets
    ]
