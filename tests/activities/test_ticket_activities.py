"""Ticket activities are retried by Temporal: running one twice must never write twice."""

import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.tickets.ticket import TicketActivities
from domain.contracts.tickets import Actor, NewTicket, TicketChange, TicketCreation, TimeEntryRequest
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from hub.tickets.opening import open_ticket
from models import Ticket, TicketEvent, TimeEntry
from tests.factories import make_tenant, make_user


def _count(engine, model, **where) -> int:
    with Session(engine) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.exec(q).one()


@pytest.fixture
def created(engine):
    tenant = make_tenant(engine)
    user, _ = make_user(engine, Role.MSP_TECH)
    ticket = NewTicket(
        ticket_id=uuid.uuid4(),
        tenant_id=tenant.id,
        customer_number=tenant.customer_number,
        title="Test",
        priority=Priority.P4,
        created_by_user_id=user.id,
    )
    return ticket, user


def _time_logged(ticket: NewTicket, user, started_at: datetime, minutes: int) -> TicketChange:  # noqa: ANN001
    actor = Actor(user_id=user.id, role=Role.MSP_TECH)
    return TicketChange(
        event_id=uuid.uuid4(),
        ticket_id=ticket.ticket_id,
        tenant_id=ticket.tenant_id,
        kind=EventKind.TIME_LOGGED,
        at=datetime.now(UTC),
        actor_user_id=user.id,
        visibility=Visibility.INTERNAL,
        status=TicketStatus.NEW,
        priority=Priority.P4,
        time_entry=TimeEntryRequest(actor=actor, user_id=user.id, minutes=minutes, started_at=started_at),
    )


def test_open_twice_is_one_ticket_with_one_number(engine, created):
    ticket, _ = created
    req = TicketCreation(ticket=ticket, at=datetime.now(UTC))
    first = open_ticket(engine, req)
    second = open_ticket(engine, req)
    assert first.record == second.record
    assert _count(engine, Ticket, id=ticket.ticket_id) == 1
    assert _count(engine, TicketEvent, ticket_id=ticket.ticket_id) == 1


def test_apply_change_twice_writes_one_event_and_one_time_entry(engine, created):
    ticket, user = created
    acts, env = TicketActivities(engine), ActivityEnvironment()
    open_ticket(engine, TicketCreation(ticket=ticket, at=datetime.now(UTC)))
    change = _time_logged(ticket, user, datetime.now(UTC) - timedelta(hours=1), 30)
    env.run(acts.apply_change, change)
    env.run(acts.apply_change, change)
    assert _count(engine, TicketEvent, id=change.event_id) == 1
    assert _count(engine, TimeEntry, ticket_id=ticket.ticket_id) == 1


def test_apply_change_to_missing_ticket_is_not_retried(engine, created):
    ticket, user = created
    change = TicketChange(
        event_id=uuid.uuid4(),
        ticket_id=uuid.uuid4(),
        tenant_id=ticket.tenant_id,
        kind=EventKind.COMMENTED,
        at=datetime.now(UTC),
        status=TicketStatus.NEW,
        priority=Priority.P4,
    )
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(TicketActivities(engine).apply_change, change)
    assert err.value.non_retryable and err.value.type == "TicketNotFound"
    assert _count(engine, TicketEvent, id=change.event_id) == 0


def test_apply_change_with_data_the_database_refuses_is_not_retried_but_an_outage_is(engine, created):
    ticket, user = created
    acts, env = TicketActivities(engine), ActivityEnvironment()
    open_ticket(engine, TicketCreation(ticket=ticket, at=datetime.now(UTC)))
    started = datetime.fromisoformat("0001-01-01T00:00:00+14:00")  # no UTC value: year 0
    change = _time_logged(ticket, user, started, 5)
    with pytest.raises(ApplicationError) as err:
        env.run(acts.apply_change, change)
    assert err.value.non_retryable and err.value.type == "TicketDataRefused"
    assert err.value.message.startswith(f"the database refused the time_logged change of ticket {ticket.ticket_id}: ")
    assert _count(engine, TicketEvent, id=change.event_id) == 0
    assert _count(engine, TimeEntry, ticket_id=ticket.ticket_id) == 0
    # A database that cannot be reached heals: that error stays retryable.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    gone = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed}/hub")
    with pytest.raises(OperationalError):
        env.run(TicketActivities(gone).apply_change, change)
    gone.dispose()


def test_apply_change_postgresql_refuses_is_not_retried(engine, created):
    """Text PostgreSQL cannot store (a NUL byte) is a DataError there: the same answer on every retry."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL bytes")
    ticket, user = created
    acts, env = TicketActivities(engine), ActivityEnvironment()
    open_ticket(engine, TicketCreation(ticket=ticket, at=datetime.now(UTC)))
    comment = {"kind": EventKind.COMMENTED, "body": "vom Hersteller: a\x00b", "time_entry": None}
    change = _time_logged(ticket, user, datetime.now(UTC), 5).model_copy(update=comment)
    with pytest.raises(ApplicationError) as err:
        env.run(acts.apply_change, change)
    assert err.value.non_retryable and err.value.type == "TicketDataRefused"
    assert "NUL" in err.value.message
    assert _count(engine, TicketEvent, id=change.event_id) == 0
