"""The incident's ticket through local activities (patch incident-direct-v1): opening and noting are retried by
Temporal, so each must hold when it runs twice: one ticket row, one ticket workflow, one note."""

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment

from activities.soc.tickets import SocTicketActivities
from domain.contracts.soc import OpenTicket, TicketNote
from domain.contracts.tickets import Actor, NewTicket, SystemNote, TransitionRequest
from domain.processes import ticket_workflow_id
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from models import Ticket, TicketEvent
from tests.api.test_soc_webhook_api import eventually
from tests.factories import make_tenant, make_user
from workflows.tickets.ticket import TicketWorkflow


def _env() -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = replace(env.info, workflow_id="incident-test", workflow_run_id="run-1")
    return env


def _ticket(tenant) -> NewTicket:  # noqa: ANN001
    return NewTicket(
        ticket_id=uuid.uuid4(),
        tenant_id=tenant.id,
        customer_number=tenant.customer_number,
        title="[SentinelOne] invoice_2026.exe auf ws-001",
        description="Alarm sentinelone 1: invoice_2026.exe",
        priority=Priority.P2,
        category="security",
        queue="soc",
    )


def _events(engine, ticket_id) -> list[TicketEvent]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at)))


async def test_opening_twice_is_one_ticket_and_one_workflow(env, engine):
    tenant = make_tenant(engine)
    acts = SocTicketActivities(engine, env.client)
    ticket = _ticket(tenant)
    req = OpenTicket(ticket=ticket, at=await env.get_current_time(), incident_key="k-open-twice")
    first = await _env().run(acts.open_ticket, req)
    again = await _env().run(acts.open_ticket, req)  # a retry after the first attempt did everything
    assert first.number == again.number
    with Session(engine) as s:
        rows = s.exec(select(Ticket).where(Ticket.tenant_id == tenant.id)).all()
    assert [r.number for r in rows] == [first.number] and rows[0].queue == "soc"
    handle = env.client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id))
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING and desc.parent_id is None
    listed = {p.key.name: p.value for p in desc.typed_search_attributes}
    assert listed["TicketNumber"] == first.number and listed["TicketPriority"] == "P2"
    assert listed["Process"] == "ticket" and listed["CustomerId"] == tenant.customer_number
    assert (await desc.memo_value("incident")) == "k-open-twice"
    # The workflow begins with the opened ticket: it does not open it again, and it takes changes at once.
    state = await handle.query(TicketWorkflow.state)
    assert state.number == first.number and state.created_at == req.at
    assert [e.kind for e in _events(engine, ticket.ticket_id)] == [EventKind.CREATED]


async def test_a_note_sent_twice_is_one_note_and_an_ended_ticket_takes_none(env, engine):
    tenant = make_tenant(engine)
    tech, _ = make_user(engine, Role.MSP_TECH)
    acts = SocTicketActivities(engine, env.client)
    ticket = _ticket(tenant)
    await _env().run(
        acts.open_ticket, OpenTicket(ticket=ticket, at=await env.get_current_time(), incident_key="k-note")
    )
    note = TicketNote(ticket_id=ticket.ticket_id, note=SystemNote(note_id=uuid.uuid4(), text="Alarm sentinelone 2"))
    await _env().run(acts.note_ticket, note)
    await _env().run(acts.note_ticket, note)  # the activity retried after its signal went out

    def noted() -> list[TicketEvent]:
        return [e for e in _events(engine, ticket.ticket_id) if e.kind == EventKind.COMMENTED]

    written = await eventually(noted)
    handle = env.client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id))
    await handle.query(TicketWorkflow.state)  # both signals handled by now (a query follows them)
    assert len(noted()) == 1 and written[0].id == note.note.note_id
    assert written[0].visibility == Visibility.INTERNAL and written[0].data["author_role"] == "system"

    # Resolved, then closed after its reopen window: the workflow ends; a late note is kept in its history (once).
    actor = Actor(user_id=tech.id, role=Role.MSP_TECH)
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
        await handle.execute_update(TicketWorkflow.transition, TransitionRequest(actor=actor, to_status=status))
    await env.sleep(timedelta(days=ticket.reopen_days + 1))
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    late = TicketNote(ticket_id=ticket.ticket_id, note=SystemNote(note_id=uuid.uuid4(), text="Alarm sentinelone 3"))
    await _env().run(acts.note_ticket, late)
    await _env().run(acts.note_ticket, late)
    kept = {e.id: e.data for e in noted()}
    assert kept == {
        note.note.note_id: {"author_role": "system"},
        late.note.note_id: {"author_role": "system", "after_close": True},
    }
    with Session(engine) as s:
        assert s.get(Ticket, ticket.ticket_id).status == TicketStatus.CLOSED
