"""Whole tickets with a live SLA clock on the time-skipping server: escalations at the right instant, once.

The calendars are Mon-Fri 08:00-17:00 in Europe/Berlin with Bavarian holidays; each test picks the next
dates that fit its story (a plain working week, or a closure weekend) so the hand-computed instants hold in
any year the suite runs."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec
from domain.contracts.tickets import (
    Actor,
    CommentRequest,
    NewTicket,
    PriorityRequest,
    QueueRequest,
    TransitionRequest,
)
from domain.processes import ticket_workflow_id
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus
from hub.db import session_scope
from hub.temporal.tickets import update_ticket
from models import EscalationPolicy, EscalationPolicyVersion, SlaDefinitionRow, Ticket, TicketEvent, TicketSla
from tests.factories import make_sla, make_tenant, make_user, open_test_ticket
from workflows.tickets.ticket import TicketWorkflow

BERLIN = ZoneInfo("Europe/Berlin")
DEFINITION = {
    "name": "Standard",
    "targets": {
        "P1": {"response_minutes": 30, "resolution_minutes": 240, "calendar": "24x7"},
        "P2": {"response_minutes": 60, "resolution_minutes": 480},
        "P3": {"response_minutes": 240, "resolution_minutes": 960},
        "P4": {"response_minutes": 480, "resolution_minutes": 2400},
    },
}
WARN_BY_MAIL = {
    "name": "warn-75",
    "target": "response",
    "trigger": {"type": "percent_used", "percent": 75},
    "actions": [{"type": "notify_email", "to": [{"role": "msp_tech"}]}],
}
FOUR_LEVELS = {
    "name": "Vier Stufen",
    "levels": [
        WARN_BY_MAIL,
        {
            "name": "before-30",
            "target": "resolution",
            "trigger": {"type": "before_breach", "minutes": 30},
            "actions": [{"type": "notify_webhook", "url": "https://teams.example/webhook", "format": "teams"}],
        },
        {
            "name": "breach",
            "target": "resolution",
            "trigger": {"type": "on_breach"},
            "actions": [{"type": "raise_priority"}],
        },
        {
            "name": "after-60",
            "target": "resolution",
            "trigger": {"type": "after_breach", "minutes": 60},
            "conditions": {"priorities": ["P1", "P2"]},
            "actions": [{"type": "page_on_call", "url": "https://oncall.example/page"}],
        },
    ],
}
BAVARIA = BusinessCalendar(CalendarSpec.standard_dach("DE", "DE-BY"))


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), BERLIN)


def close_to(actual: datetime | None, expected: datetime, tolerance: float = 2.0) -> bool:
    """The test server's clock moves on by milliseconds between steps; instants agree to the second."""
    return actual is not None and abs(actual - expected.astimezone(UTC)) < timedelta(seconds=tolerance)


def working(day: date) -> bool:
    return day.weekday() < 5 and not BAVARIA.is_holiday(day) and (day.month, day.day) not in ((12, 24), (12, 31))


async def now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(UTC)


async def sleep_until(env: WorkflowEnvironment, target: datetime) -> None:
    current = await now(env)
    assert target > current, f"test clock {current} already past {target}"
    await env.sleep(target - current)


def next_day(start: datetime, ok) -> date:  # noqa: ANN001
    day = start.astimezone(BERLIN).date() + timedelta(days=1)
    while not ok(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def people(engine):
    tenant = make_tenant(engine)
    tech, _ = make_user(engine, Role.MSP_TECH)
    customer, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    return tenant, Actor(user_id=tech.id, role=Role.MSP_TECH), Actor(user_id=customer.id, role=Role.CUSTOMER_USER)


async def open_at(env, engine, tenant, actor: Actor, at: datetime, priority=Priority.P3) -> uuid.UUID:  # noqa: ANN001
    await sleep_until(env, at)
    ticket = NewTicket(
        ticket_id=uuid.uuid4(),
        tenant_id=tenant.id,
        customer_number=tenant.customer_number,
        title="Fileserver langsam",
        priority=priority,
        created_by_user_id=actor.user_id,
        requester_user_id=actor.user_id,
    )
    await open_test_ticket(env, engine, ticket)
    return ticket.ticket_id


def escalations(engine, ticket_id) -> list[TicketEvent]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.ESCALATED)
                .order_by(TicketEvent.at)
            )
        )


def sla_row(engine, ticket_id, kind: str) -> TicketSla:
    with Session(engine) as s:
        return s.get(TicketSla, (ticket_id, kind))


async def search_attributes(env, ticket_id) -> dict:  # noqa: ANN001
    desc = await env.client.get_workflow_handle(ticket_workflow_id(ticket_id)).describe()
    return {p.key.name: p.value for p in desc.typed_search_attributes}


async def test_friday_evening_p3_escalates_on_monday(env, engine, people, smtp):
    inbox, _ = smtp
    tenant, tech, customer = people
    make_sla(engine, tenant, DEFINITION, {"name": "Warnung", "levels": [WARN_BY_MAIL]})
    friday = next_day(
        await now(env),
        lambda d: d.weekday() == 4 and working(d) and working(d + timedelta(days=3)) and working(d + timedelta(days=4)),
    )
    monday = friday + timedelta(days=3)
    tid = await open_at(env, engine, tenant, customer, local(friday, 16, 55))
    # Response 240 business minutes: 5 on Friday, 235 on Monday -> due Monday 11:55; 75 % (180) -> 10:55.
    assert close_to(sla_row(engine, tid, "response").due_at, local(monday, 11, 55))
    assert close_to(sla_row(engine, tid, "resolution").due_at, local(friday + timedelta(days=4), 14, 55))
    await sleep_until(env, local(monday, 10, 54))
    assert escalations(engine, tid) == []
    await sleep_until(env, local(monday, 11, 0))
    fired = escalations(engine, tid)
    assert [e.data["level"] for e in fired] == ["warn-75"]
    assert close_to(fired[0].at, local(monday, 10, 55))
    with Session(engine) as s:
        number = s.get(Ticket, tid).number
    mails = inbox.about(number, tenant.name)
    assert len(mails) == 1 and "Reaktionszeit" in str(mails[0]["Subject"]) + mails[0].get_content()
    assert (await search_attributes(env, tid))["SlaState"] == "warning"
    # The first public reply meets the response target; the clock state says so.
    await update_ticket(env.client, tid, TicketWorkflow.comment, CommentRequest(actor=tech, body="Wir sehen nach."))
    response = sla_row(engine, tid, "response")
    assert response.state == "met" and response.met and abs(response.diff_minutes - (240 - 185)) <= 1


async def test_pause_over_a_closed_long_weekend_adds_no_business_time(env, engine, people):
    tenant, tech, customer = people
    start = await now(env)
    # A Thursday; the MSP is closed on the Friday and the Monday after (a long weekend), Tue and Wed are normal.
    thursday = next_day(
        start,
        lambda d: d.weekday() == 3 and working(d) and working(d + timedelta(days=5)) and working(d + timedelta(days=6)),
    )
    friday, monday, tuesday = (thursday + timedelta(days=n) for n in (1, 4, 5))
    calendar = CalendarSpec.standard_dach("DE", "DE-BY", closures=[friday, monday]).model_dump(mode="json")
    make_sla(engine, tenant, DEFINITION, calendar=calendar)
    tid = await open_at(env, engine, tenant, customer, local(thursday, 9, 0))
    await sleep_until(env, local(thursday, 10, 0))
    await update_ticket(
        env.client,
        tid,
        TicketWorkflow.transition,
        TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER, note="Welche Freigabe?"),
    )
    assert (await search_attributes(env, tid))["SlaState"] == "paused"
    await sleep_until(env, local(tuesday, 9, 0))
    state = await update_ticket(
        env.client, tid, TicketWorkflow.comment, CommentRequest(actor=customer, body="Die Freigabe 'Konstruktion'.")
    )
    assert state.status == TicketStatus.OPEN
    resolution = sla_row(engine, tid, "resolution")
    assert abs(resolution.used_seconds - 3600) <= 2  # Thursday 09:00-10:00 only
    assert abs(resolution.paused_seconds - 8 * 3600) <= 2  # Thu 10-17 and Tue 08-09; Fri, weekend, Mon closed
    # 900 minutes left from Tue 09:00: Tue 480, Wed 420 -> Wednesday 15:00.
    assert close_to(resolution.due_at, local(tuesday + timedelta(days=1), 15, 0))


async def test_priority_raise_keeps_the_time_used(env, engine, people):
    tenant, tech, customer = people
    make_sla(engine, tenant, DEFINITION)
    day = next_day(await now(env), working)
    tid = await open_at(env, engine, tenant, customer, local(day, 8, 30))
    await sleep_until(env, local(day, 10, 30))
    await update_ticket(
        env.client,
        tid,
        TicketWorkflow.change_priority,
        PriorityRequest(actor=tech, priority=Priority.P2, reason="Ganze Abteilung"),
    )
    resolution = sla_row(engine, tid, "resolution")
    assert resolution.target_minutes == 480 and abs(resolution.used_seconds - 7200) <= 2
    assert close_to(resolution.due_at, local(day, 16, 30))  # 360 minutes left from 10:30
    assert sla_row(engine, tid, "response").state == "breached"  # 120 minutes used of P2's 60
    assert (await search_attributes(env, tid))["SlaState"] == "breached"


async def test_four_levels_fire_four_actions_once_each(env, engine, people, smtp):
    inbox, _ = smtp
    tenant, tech, customer = people
    make_sla(engine, tenant, DEFINITION, FOUR_LEVELS)
    monday = next_day(
        await now(env), lambda d: d.weekday() == 0 and all(working(d + timedelta(days=i)) for i in range(5))
    )
    with respx.mock(assert_all_called=True) as mock:
        teams = mock.post("https://teams.example/webhook").mock(return_value=httpx.Response(200, text="1"))
        page = mock.post("https://oncall.example/page").mock(return_value=httpx.Response(202))
        tid = await open_at(env, engine, tenant, customer, local(monday, 8, 0))
        # warn-75 at Mon 11:00; before-30 at Tue 14:30 (930 min); breach at Tue 15:00 raises P3 -> P2, whose
        # after-60 threshold (540 min) is long passed, so the page goes out at once; nothing fires twice.
        await sleep_until(env, local(monday + timedelta(days=1), 16, 30))
        await update_ticket(
            env.client,
            tid,
            TicketWorkflow.transition,
            TransitionRequest(actor=tech, to_status=TicketStatus.IN_PROGRESS),
        )
        await sleep_until(env, local(monday + timedelta(days=3), 12, 0))
        fired = escalations(engine, tid)
        assert [e.data["level"] for e in fired] == ["warn-75", "before-30", "breach", "after-60"]
        expected = [
            local(monday, 11, 0),
            local(monday + timedelta(days=1), 14, 30),
            local(monday + timedelta(days=1), 15, 0),
            local(monday + timedelta(days=1), 15, 0),
        ]
        for event, at in zip(fired, expected, strict=True):
            assert close_to(event.at, at), (event.data, event.at)
        assert teams.call_count == 1 and page.call_count == 1
        body = teams.calls.last.request.content.decode()
        assert "before-30" in body or "Lösungszeit" in body
    with Session(engine) as s:
        ticket = s.get(Ticket, tid)
    assert ticket.priority == Priority.P2 and ticket.sla_state == "breached"
    assert len(inbox.about(ticket.number, tenant.name)) == 1


async def test_failing_webhook_is_retried_and_never_holds_up_the_clock(env, engine, people):
    tenant, tech, customer = people
    policy = {
        "name": "Webhook dann Priorität",
        "levels": [
            {
                "name": "teams-50",
                "target": "response",
                "trigger": {"type": "percent_used", "percent": 50},
                "actions": [{"type": "notify_webhook", "url": "https://teams.example/flaky", "format": "teams"}],
            },
            {
                "name": "breach",
                "target": "response",
                "trigger": {"type": "on_breach"},
                "actions": [{"type": "raise_priority"}],
            },
        ],
    }
    make_sla(engine, tenant, DEFINITION, policy)
    day = next_day(await now(env), working)
    with respx.mock() as mock:
        # The webhook fails for a good while (8 attempts, backoff from 5 s), then recovers.
        answers = [httpx.Response(503)] * 8 + [httpx.Response(200, text="1")]
        flaky = mock.post("https://teams.example/flaky").mock(side_effect=answers)
        # response 240: 50 % at 11:00, breach 13:00
        tid = await open_at(env, engine, tenant, customer, local(day, 9, 0))
        await sleep_until(env, local(day, 14, 0))
        fired = escalations(engine, tid)
        assert [e.data["level"] for e in fired] == ["teams-50", "breach"]
        assert close_to(fired[1].at, local(day, 13, 0))  # on time, although the webhook was still failing
        assert flaky.call_count == 9  # eight failures, then one success: delivered once
    with Session(engine) as s:
        assert s.get(Ticket, tid).priority == Priority.P2


async def test_running_ticket_keeps_its_policy_version(env, engine, people, smtp):
    tenant, tech, customer = people
    contract = make_sla(engine, tenant, DEFINITION, {"name": "v1", "levels": [WARN_BY_MAIL]})
    day = next_day(await now(env), working)
    tid = await open_at(env, engine, tenant, customer, local(day, 9, 0))
    # Ops staff activate a version 2 without the warning while the ticket runs.
    with session_scope(engine) as s:
        definition = s.get(SlaDefinitionRow, contract.sla_definition_id)
        policy = s.get(EscalationPolicy, definition.escalation_policy_id)
        v2 = EscalationPolicyVersion(
            policy_id=policy.id,
            version=2,
            document={
                "name": "v2",
                "levels": [
                    {
                        "name": "nur-breach",
                        "target": "resolution",
                        "trigger": {"type": "on_breach"},
                        "actions": [{"type": "raise_priority"}],
                    }
                ],
            },
        )
        s.add(v2)
        s.flush()
        policy.active_version_id = v2.id
    await sleep_until(env, local(day, 12, 5))
    assert [e.data["level"] for e in escalations(engine, tid)] == ["warn-75"]  # 75 % of 240 at 12:00, v1 pinned
    later = await open_at(env, engine, tenant, customer, local(day, 12, 10))
    await sleep_until(env, local(day, 15, 30))
    assert escalations(engine, later) == []  # v2 has no response warning


async def test_a_level_for_a_queue_applies_once_a_person_moves_the_ticket_there(env, engine, people):
    """Escalation levels conditioned on queues follow the ticket's queue, also when a person moves it."""
    tenant, tech, customer = people
    vip_only = {"name": "VIP", "levels": [{
        "name": "vip-50", "target": "response", "trigger": {"type": "percent_used", "percent": 50},
        "conditions": {"queues": ["vip"]}, "actions": [{"type": "raise_priority"}],
    }]}  # fmt: skip
    make_sla(engine, tenant, DEFINITION, vip_only)
    day = next_day(await now(env), working)
    tid = await open_at(env, engine, tenant, customer, local(day, 8, 0))  # P3: 240 response minutes, half at 10:00
    await sleep_until(env, local(day, 8, 30))
    await update_ticket(env.client, tid, TicketWorkflow.change_queue, QueueRequest(actor=tech, queue="vip"))
    await sleep_until(env, local(day, 10, 5))
    assert [e.data["level"] for e in escalations(engine, tid)] == ["vip-50"]
    with Session(engine) as s:
        assert s.get(Ticket, tid).priority == Priority.P2
