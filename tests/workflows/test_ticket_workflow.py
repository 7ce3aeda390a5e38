"""The ticket lifecycle on the real time-skipping server, with real activities and a real database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.contracts.tickets import (
    Actor,
    AssignRequest,
    CommentRequest,
    NewTicket,
    PriorityRequest,
    SystemNote,
    SystemTransition,
    TimeEntryRequest,
    TransitionRequest,
)
from domain.processes import ticket_workflow_id
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from hub.temporal.errors import WorkflowRejected
from hub.temporal.tickets import query_ticket, update_ticket
from hub.tickets.opening import NUMBERING_TZ
from models import Ticket, TicketEvent, TimeEntry
from tests.factories import make_tenant, make_user, open_test_ticket
from workflows.tickets.ticket import TicketWorkflow


@pytest.fixture
def people(engine):
    tenant = make_tenant(engine)
    tech, _ = make_user(engine, Role.MSP_TECH)
    customer, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    return tenant, Actor(user_id=tech.id, role=Role.MSP_TECH), Actor(user_id=customer.id, role=Role.CUSTOMER_USER)


def new_ticket(tenant, creator: Actor, **fields) -> NewTicket:
    values = {
        "ticket_id": uuid.uuid4(),
        "tenant_id": tenant.id,
        "customer_number": tenant.customer_number,
        "title": "Drucker im 2. OG druckt nicht",
        "priority": Priority.P3,
        "created_by_user_id": creator.user_id,
        "reopen_days": 7,
    } | fields
    return NewTicket(**values)


def events(engine, ticket_id) -> list[TicketEvent]:
    with Session(engine) as s:
        return list(s.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at)))


async def test_create_persists_ticket_with_number_and_search_attributes(env, client: Client, engine, people):
    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    state = await open_test_ticket(env, engine, ticket)
    assert state.status == TicketStatus.NEW
    # The year of the ticket's creation in the MSP's zone (the time-skipping server's clock may be a year ahead).
    assert state.number and state.number.startswith(f"{state.created_at.astimezone(NUMBERING_TZ).year}-")
    with Session(engine) as s:
        row = s.get(Ticket, ticket.ticket_id)
        assert row is not None and row.number == state.number and row.status == TicketStatus.NEW
    kinds = [e.kind for e in events(engine, ticket.ticket_id)]
    assert kinds == [EventKind.CREATED]
    desc = await client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id)).describe()
    sa = {p.key.name: p.value for p in desc.typed_search_attributes}
    assert sa["CustomerId"] == tenant.customer_number
    assert sa["TicketPriority"] == "P3" and sa["TicketStatus"] == "new" and sa["TicketNumber"] == state.number


async def test_retried_create_returns_same_ticket(env, client: Client, engine, people):
    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    first = await open_test_ticket(env, engine, ticket)
    second = await open_test_ticket(env, engine, ticket)
    assert first.number == second.number
    with Session(engine) as s:
        rows = s.exec(select(Ticket).where(Ticket.tenant_id == tenant.id)).all()
        assert [r.id for r in rows] == [ticket.ticket_id]


async def test_numbers_are_sequential(env, engine, client: Client, people):
    tenant, tech, _ = people
    a = await open_test_ticket(env, engine, new_ticket(tenant, tech))
    b = await open_test_ticket(env, engine, new_ticket(tenant, tech))
    assert int(b.number.split("-")[1]) == int(a.number.split("-")[1]) + 1


async def test_full_lifecycle_with_pause_comment_assign_time(env, client: Client, engine, people):
    tenant, tech, customer = people
    ticket = new_ticket(tenant, customer, created_by_user_id=customer.user_id)
    await open_test_ticket(env, engine, ticket)
    tid = ticket.ticket_id
    await update_ticket(client, tid, TicketWorkflow.assign, AssignRequest(actor=tech, assignee_user_id=tech.user_id))
    await update_ticket(
        client, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.IN_PROGRESS)
    )
    await update_ticket(
        client,
        tid,
        TicketWorkflow.transition,
        TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER, note="Bitte Modell?"),
    )
    # The customer's public reply ends the wait.
    state = await update_ticket(
        client, tid, TicketWorkflow.comment, CommentRequest(actor=customer, body="HP LaserJet M404")
    )
    assert state.status == TicketStatus.OPEN
    await update_ticket(
        client,
        tid,
        TicketWorkflow.log_time,
        TimeEntryRequest(
            actor=tech, user_id=tech.user_id, started_at=datetime.now(UTC) - timedelta(hours=1), minutes=25
        ),
    )
    await update_ticket(
        client,
        tid,
        TicketWorkflow.change_priority,
        PriorityRequest(actor=tech, priority=Priority.P2, reason="Ganze Abteilung betroffen"),
    )
    state = await update_ticket(
        client, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)
    )
    assert state.status == TicketStatus.RESOLVED and state.resolved_at is not None

    with Session(engine) as s:
        row = s.get(Ticket, tid)
        assert (row.status, row.priority, row.assignee_user_id) == (TicketStatus.RESOLVED, Priority.P2, tech.user_id)
        entries = s.exec(select(TimeEntry).where(TimeEntry.ticket_id == tid)).all()
        assert [e.minutes for e in entries] == [25]
    kinds = [e.kind for e in events(engine, tid)]
    assert kinds == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.STATUS_CHANGED,
        EventKind.COMMENTED,
        EventKind.STATUS_CHANGED,
        EventKind.TIME_LOGGED,
        EventKind.PRIORITY_CHANGED,
        EventKind.STATUS_CHANGED,
    ]


async def test_invalid_transition_is_rejected_and_writes_nothing(env, client: Client, engine, people):
    tenant, tech, customer = people
    ticket = new_ticket(tenant, tech)
    await open_test_ticket(env, engine, ticket)
    with pytest.raises(WorkflowRejected, match="cannot change status from new to closed"):
        await update_ticket(
            client,
            ticket.ticket_id,
            TicketWorkflow.transition,
            TransitionRequest(actor=tech, to_status=TicketStatus.CLOSED),
        )
    with pytest.raises(WorkflowRejected, match="customer users may only"):
        await update_ticket(
            client,
            ticket.ticket_id,
            TicketWorkflow.transition,
            TransitionRequest(actor=customer, to_status=TicketStatus.IN_PROGRESS),
        )
    assert [e.kind for e in events(engine, ticket.ticket_id)] == [EventKind.CREATED]
    assert (await query_ticket(client, ticket.ticket_id)).status == TicketStatus.NEW


async def test_a_change_the_database_refuses_fails_and_the_ticket_takes_the_next(env, client: Client, engine, people):
    """Bad data that slipped past the API (here a start time whose UTC value does not exist) fails its update with
    the database's reason instead of retrying forever and holding every later change of the ticket."""
    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    await open_test_ticket(env, engine, ticket)
    tid = ticket.ticket_id
    bad = TimeEntryRequest(
        actor=tech, user_id=tech.user_id, started_at=datetime.fromisoformat("0001-01-01T00:00:00+14:00"), minutes=5
    )
    with pytest.raises(WorkflowRejected, match="the database refused the time_logged change") as refused:
        await update_ticket(client, tid, TicketWorkflow.log_time, bad)
    assert refused.value.kind == "TicketDataRefused"
    state = await update_ticket(
        client, tid, TicketWorkflow.change_priority, PriorityRequest(actor=tech, priority=Priority.P1)
    )
    assert state.priority == Priority.P1
    assert [e.kind for e in events(engine, tid)] == [EventKind.CREATED, EventKind.PRIORITY_CHANGED]
    with Session(engine) as s:
        assert s.exec(select(TimeEntry).where(TimeEntry.ticket_id == tid)).all() == []


async def test_a_hub_note_the_database_refuses_is_dropped_and_the_ticket_lives_on(env, client: Client, engine, people):
    """A signal has nobody to answer: PostgreSQL refuses a NUL byte in a note; the note is dropped (logged), the
    workflow neither fails nor retries it forever, and the next change goes through."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL bytes")
    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    await open_test_ticket(env, engine, ticket)
    handle = client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id))
    await handle.signal(TicketWorkflow.keyed_system_note, SystemNote(note_id=uuid.uuid4(), text="Alarm \x00 x"))
    state = await update_ticket(
        client, ticket.ticket_id, TicketWorkflow.change_priority, PriorityRequest(actor=tech, priority=Priority.P1)
    )
    assert state.priority == Priority.P1
    kinds = [e.kind for e in events(engine, ticket.ticket_id)]
    assert kinds == [EventKind.CREATED, EventKind.PRIORITY_CHANGED]


async def test_reopen_within_window_then_autoclose_after_window(env: WorkflowEnvironment, engine, people):
    client = env.client
    tenant, tech, customer = people
    ticket = new_ticket(tenant, tech, reopen_days=3)
    await open_test_ticket(env, engine, ticket)
    tid = ticket.ticket_id
    await update_ticket(
        client, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)
    )
    await env.sleep(timedelta(days=2))
    state = await update_ticket(
        client,
        tid,
        TicketWorkflow.transition,
        TransitionRequest(actor=customer, to_status=TicketStatus.OPEN, note="Geht wieder nicht"),
    )
    assert state.status == TicketStatus.OPEN and state.resolved_at is None
    await update_ticket(
        client, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)
    )
    # Nobody reopens: after 3 days the workflow closes the ticket and completes.
    # (Handles from get_workflow_handle do not unlock time skipping on result(); skip explicitly.)
    await env.sleep(timedelta(days=3, minutes=1))
    final = await client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(tid)).result()
    assert final.status == TicketStatus.CLOSED
    assert timedelta(days=3) <= final.closed_at - final.resolved_at < timedelta(days=3, seconds=5)
    with Session(engine) as s:
        assert s.get(Ticket, tid).status == TicketStatus.CLOSED
    with pytest.raises(WorkflowRejected, match="closed"):
        await update_ticket(client, tid, TicketWorkflow.comment, CommentRequest(actor=tech, body="noch da?"))


async def test_reopen_after_window_is_rejected(engine, env: WorkflowEnvironment, people):
    client = env.client
    tenant, tech, customer = people
    ticket = new_ticket(tenant, tech, reopen_days=0)
    await open_test_ticket(env, engine, ticket)
    await update_ticket(
        client,
        ticket.ticket_id,
        TicketWorkflow.transition,
        TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED),
    )
    final = await client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(ticket.ticket_id)).result()
    assert final.status == TicketStatus.CLOSED


async def test_internal_note_by_customer_user_is_rejected(env, engine, client: Client, people):
    tenant, tech, customer = people
    ticket = new_ticket(tenant, tech)
    await open_test_ticket(env, engine, ticket)
    with pytest.raises(WorkflowRejected, match="internal notes"):
        await update_ticket(
            client,
            ticket.ticket_id,
            TicketWorkflow.comment,
            CommentRequest(actor=customer, body="x", visibility=Visibility.INTERNAL),
        )


async def test_an_unanswered_update_is_pending_not_an_error(people):
    """No worker serves the ticket (down, overloaded): the caller learns 'pending' (API: 202/503), never a 500.
    On a server of its own: an update nobody answers would hold up time skipping for the shared one."""
    from datetime import timedelta as td

    from temporalio.contrib.pydantic import pydantic_data_converter

    from domain.contracts.tickets import TicketWorkflowInput, new_ticket_state
    from hub.temporal import register_search_attributes
    from hub.temporal.errors import WorkflowUnavailable
    from tests.conftest import binary

    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        await env.client.start_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(ticket=ticket, state=new_ticket_state(ticket)),
            id=ticket_workflow_id(ticket.ticket_id),
            task_queue="nobody-serves-this",
        )
        with pytest.raises(WorkflowUnavailable):
            await update_ticket(
                env.client,
                ticket.ticket_id,
                TicketWorkflow.transition,
                TransitionRequest(actor=tech, to_status=TicketStatus.OPEN),
                wait=td(seconds=1),
            )


async def test_system_transition_resolves_or_notes_when_not_allowed(env, client: Client, engine, people):
    """The hub itself (e.g. a SOC incident) resolves a ticket by signal; a second resolve cannot apply and becomes
    an internal note, and a search attribute upsert happens only when a value changed."""
    tenant, tech, _ = people
    ticket = new_ticket(tenant, tech)
    await open_test_ticket(env, engine, ticket)
    handle = client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id))
    resolve = SystemTransition(
        to_status=TicketStatus.RESOLVED, note="Bedrohung vom Hersteller als behoben gemeldet.", reason="soc_resolved"
    )
    await handle.signal(TicketWorkflow.system_transition, resolve)
    await handle.signal(TicketWorkflow.system_transition, resolve)
    await update_ticket(client, ticket.ticket_id, TicketWorkflow.comment, CommentRequest(actor=tech, body="Danke."))
    state = await query_ticket(client, ticket.ticket_id)
    assert state.status == TicketStatus.RESOLVED and state.resolved_at is not None
    changes = [e for e in events(engine, ticket.ticket_id) if e.kind != EventKind.CREATED]
    assert [e.kind for e in changes] == [EventKind.STATUS_CHANGED, EventKind.COMMENTED, EventKind.COMMENTED]
    assert changes[0].data["reason"] == "soc_resolved" and changes[0].actor_user_id is None
    assert changes[1].visibility == Visibility.INTERNAL and "Status bleibt 'resolved'" in changes[1].body
    history = await handle.fetch_history()
    upserts = [u for u in history.events if u.HasField("upsert_workflow_search_attributes_event_attributes")]
    # The number came with the start; then only the status (comments change nothing).
    names = [
        sorted(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields) for e in upserts
    ]
    assert names == [["TicketStatus"]]
