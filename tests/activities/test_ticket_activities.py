"""Ticket activities are retried by Temporal: running one twice must never write twice."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.tickets.ticket import TicketActivities
from domain.contracts.tickets import Actor, NewTicket, TicketChange, TicketCreation, TimeEntryRequest
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
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
    ticket = NewTicket(ticket_id=uuid.uuid4(), tenant_id=tenant.id, customer_number=tenant.customer_number,
                       title="Test", priority=Priority.P4, created_by_user_id=user.id)
    return ticket, user


def test_open_twice_is_one_ticket_with_one_number(engine, created):
    ticket, _ = created
    acts, env = TicketActivities(engine), ActivityEnvironment()
    req = TicketCreation(ticket=ticket, at=datetime.now(UTC))
    first = env.run(acts.open, req)
    second = env.run(acts.open, req)
    assert first.record == second.record
    assert _count(engine, Ticket, id=ticket.ticket_id) == 1
    assert _count(engine, TicketEvent, ticket_id=ticket.ticket_id) == 1


def test_apply_change_twice_writes_one_event_and_one_time_entry(engine, created):
    ticket, user = created
    acts, env = TicketActivities(engine), ActivityEnvironment()
    env.run(acts.open, TicketCreation(ticket=ticket, at=datetime.now(UTC)))
    actor = Actor(user_id=user.id, role=Role.MSP_TECH)
    change = TicketChange(
        event_id=uuid.uuid4(), ticket_id=ticket.ticket_id, tenant_id=ticket.tenant_id, kind=EventKind.TIME_LOGGED,
        at=datetime.now(UTC), actor_user_id=user.id, visibility=Visibility.INTERNAL, status=TicketStatus.NEW,
        priority=Priority.P4, time_entry=TimeEntryRequest(actor=actor, user_id=user.id, minutes=30,
                                                          started_at=datetime.now(UTC) - timedelta(hours=1)),
    )
    env.run(acts.apply_change, change)
    env.run(acts.apply_change, change)
    assert _count(engine, TicketEvent, id=change.event_id) == 1
    assert _count(engine, TimeEntry, ticket_id=ticket.ticket_id) == 1


def test_apply_change_to_missing_ticket_is_not_retried(engine, created):
    ticket, user = created
    change = TicketChange(event_id=uuid.uuid4(), ticket_id=uuid.uuid4(), tenant_id=ticket.tenant_id,
                          kind=EventKind.COMMENTED, at=datetime.now(UTC), status=TicketStatus.NEW,
                          priority=Priority.P4)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(TicketActivities(engine).apply_change, change)
    assert err.value.non_retryable and err.value.type == "TicketNotFound"
    assert _count(engine, TicketEvent, id=change.event_id) == 0
