"""Opening a ticket row first: the sweep's view of rows whose workflow Temporal has not confirmed."""

import uuid
from datetime import UTC, datetime, timedelta

from domain.contracts.tickets import NewTicket, TicketCreation
from domain.roles import Role
from domain.tickets import Priority
from hub.tickets.intake import mark_started, pending_tickets
from hub.tickets.opening import open_ticket
from tests.factories import make_tenant, make_user


def test_pending_tickets_are_the_unstarted_ones_oldest_first_page_by_page(engine):
    tenant = make_tenant(engine)
    user, _ = make_user(engine, Role.MSP_TECH)
    now = datetime(2001, 3, 1, 9, 0, tzinfo=UTC)  # older than any other test's ticket in this database
    tickets = []
    for minutes in (4, 3, 2, 1):
        ticket = NewTicket(ticket_id=uuid.uuid4(), tenant_id=tenant.id, customer_number=tenant.customer_number,
                           title=f"vor {minutes} Minuten", priority=Priority.P2, category="Netzwerk",
                           created_by_user_id=user.id, reopen_days=5)  # fmt: skip
        open_ticket(engine, TicketCreation(ticket=ticket, at=now - timedelta(minutes=minutes)))
        tickets.append(ticket)
    mark_started(engine, tickets[1].ticket_id)  # its workflow was confirmed
    cutoff = now - timedelta(seconds=90)  # the newest one is still within the grace

    first = pending_tickets(engine, cutoff, 1, reopen_days=7)
    assert [t.ticket_id for t, _ in first] == [tickets[0].ticket_id]
    ticket, created_at = first[0]
    assert created_at == now - timedelta(minutes=4)
    # As it was opened: what the workflow's start needs (its tenant's customer number, the creator's fields).
    assert (ticket.customer_number, ticket.title, ticket.priority, ticket.category, ticket.created_by_user_id) == (
        tenant.customer_number, "vor 4 Minuten", Priority.P2, "Netzwerk", user.id)  # fmt: skip
    assert ticket.reopen_days == 7
    rest = pending_tickets(engine, cutoff, 10, reopen_days=7, after=(created_at, ticket.ticket_id))
    assert [t.ticket_id for t, _ in rest] == [tickets[2].ticket_id]
    mine = {t.ticket_id for t in tickets}
    assert [t.ticket_id for t, _ in pending_tickets(engine, now, 10, reopen_days=7) if t.ticket_id in mine] == [
        tickets[0].ticket_id, tickets[2].ticket_id, tickets[3].ticket_id]  # fmt: skip
