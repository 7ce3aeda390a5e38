"""The SLA clock, hand-computed against real calendars (Europe/Berlin, Bavarian holidays, DST 2026)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar_spec import CalendarSpec
from domain.escalation import EscalationPolicyDocument, TargetKind
from domain.sla import (
    AdvanceRequest,
    Clock,
    ClockSet,
    PriorityTargets,
    SlaContext,
    SlaDefinition,
    SlaEvent,
    SlaEventKind,
    SlaState,
    advance,
    outcomes,
)
from domain.tickets import Priority, TicketStatus

BERLIN = ZoneInfo("Europe/Berlin")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def ctx(policy: dict | None = None, **targets) -> SlaContext:
    definition = SlaDefinition(
        name="Standard",
        targets={
            Priority.P1: PriorityTargets(response_minutes=30, resolution_minutes=240, calendar="24x7"),
            Priority.P2: PriorityTargets(response_minutes=60, resolution_minutes=480),
            Priority.P3: PriorityTargets(response_minutes=240, resolution_minutes=960, update_minutes=480),
            Priority.P4: PriorityTargets(response_minutes=480, resolution_minutes=2400),
        }
        | targets,
    )
    return SlaContext(
        definition=definition,
        calendar=CalendarSpec.standard_dach("DE", "DE-BY"),
        policy=EscalationPolicyDocument.model_validate(policy) if policy else None,
        customer_number="K1",
    )


def run(c: SlaContext, events: list[SlaEvent], now: datetime, cs: ClockSet | None = None):
    result = advance(AdvanceRequest(context=c, clocks=cs or ClockSet(priority=Priority.P3), events=events, now=now))
    return result.clocks, result.plan


def created(at: datetime, priority=Priority.P3) -> SlaEvent:
    return SlaEvent(kind=SlaEventKind.CREATED, at=at, priority=priority, status=TicketStatus.NEW)


def status(at: datetime, s: TicketStatus) -> SlaEvent:
    return SlaEvent(kind=SlaEventKind.STATUS_CHANGED, at=at, status=s)


def view(plan, kind: TargetKind):
    return next(v for v in plan.clocks if v.kind == kind)


def test_friday_evening_ticket_is_due_on_monday_across_dst():
    # Fri 27.3.2026 16:55; the clocks change on Sunday 29.3.; 240 business minutes: 5 on Friday, 235 on Monday.
    cs, plan = run(ctx(), [created(local(2026, 3, 27, 16, 55))], local(2026, 3, 27, 16, 55))
    assert view(plan, TargetKind.RESPONSE).due_at == local(2026, 3, 30, 11, 55).astimezone(UTC)
    # 960 minutes: Fri 5, Mon 540 (08-17), Tue 415 -> Tue 14:55
    assert view(plan, TargetKind.RESOLUTION).due_at == local(2026, 3, 31, 14, 55).astimezone(UTC)
    assert plan.state == SlaState.OK


def test_p1_runs_on_24x7_calendar():
    cs, plan = run(ctx(), [created(local(2026, 3, 28, 23, 0), Priority.P1)], local(2026, 3, 28, 23, 0))
    # 240 real minutes across the spring-forward night: 23:00 CET + 4 h = 04:00 CEST (wall clock shows 04:00)
    assert view(plan, TargetKind.RESOLUTION).due_at == local(2026, 3, 29, 4, 0).astimezone(UTC)


def test_pause_over_holiday_weekend_adds_no_business_time():
    c = ctx()
    start = local(2026, 4, 2, 9, 0)  # Thursday before Easter; Good Friday and Easter Monday are holidays in BY
    cs, _ = run(
        c, [created(start), status(local(2026, 4, 2, 10, 0), TicketStatus.WAITING_CUSTOMER)], local(2026, 4, 2, 10, 0)
    )
    cs, plan = run(c, [status(local(2026, 4, 7, 9, 0), TicketStatus.OPEN)], local(2026, 4, 7, 9, 0), cs)
    resolution = view(plan, TargetKind.RESOLUTION)
    assert resolution.used_seconds == 60 * 60  # only Thursday 09:00-10:00 counts
    # Paused Thu 10:00-17:00 and Tue 08:00-09:00: 8 business hours paused; the holidays count for nothing.
    assert resolution.paused_seconds == 8 * 3600
    # 960 - 60 = 900 minutes left from Tue 09:00: Tue 8 h, Wed 9 h -> 900 min = 15 h -> Wed 15:00
    assert resolution.due_at == local(2026, 4, 8, 15, 0).astimezone(UTC)


def test_paused_state_and_no_due_while_paused():
    c = ctx()
    t0 = local(2026, 6, 1, 9, 0)
    cs, plan = run(
        c, [created(t0), status(t0 + timedelta(minutes=10), TicketStatus.WAITING_CUSTOMER)], t0 + timedelta(hours=3)
    )
    assert plan.state == SlaState.PAUSED
    assert view(plan, TargetKind.RESOLUTION).due_at is None
    assert view(plan, TargetKind.RESOLUTION).used_seconds == 600


def test_priority_raise_keeps_used_time():
    c = ctx()
    t0 = local(2026, 6, 2, 9, 0)  # Tuesday
    cs, _ = run(c, [created(t0)], t0)
    cs, plan = run(
        c,
        [SlaEvent(kind=SlaEventKind.PRIORITY_CHANGED, at=t0 + timedelta(hours=2), priority=Priority.P2)],
        t0 + timedelta(hours=2),
        cs,
    )
    resolution = view(plan, TargetKind.RESOLUTION)
    assert resolution.target_minutes == 480 and resolution.used_seconds == 7200
    assert resolution.due_at == local(2026, 6, 2, 17, 0).astimezone(UTC)  # 6 h left from 11:00, closes 17:00
    response = view(plan, TargetKind.RESPONSE)
    assert response.state == "breached"  # 120 minutes used of a 60-minute P2 response target


def test_first_response_by_in_progress_and_outcomes():
    c = ctx()
    t0 = local(2026, 6, 3, 8, 0)  # Wednesday; Corpus Christi is Thursday 4.6. in Bavaria
    cs, _ = run(c, [created(t0), status(t0 + timedelta(minutes=30), TicketStatus.IN_PROGRESS)], t0 + timedelta(hours=1))
    cs, plan = run(c, [status(local(2026, 6, 5, 9, 0), TicketStatus.RESOLVED)], local(2026, 6, 5, 9, 0), cs)
    assert view(plan, TargetKind.RESPONSE).state == "met"
    result = {o.kind: o for o in outcomes(cs)}
    assert result[TargetKind.RESPONSE].used_minutes == 30 and result[TargetKind.RESPONSE].met
    # Wed 08:00-17:00 (540) + Fri 08:00-09:00 (60); Thursday is a holiday in DE-BY.
    assert result[TargetKind.RESOLUTION].used_minutes == 600
    assert result[TargetKind.RESOLUTION].diff_minutes == 360


def test_update_clock_starts_on_customer_reply_after_first_response():
    c = ctx()
    t0 = local(2026, 6, 8, 9, 0)
    events = [
        created(t0),
        SlaEvent(kind=SlaEventKind.AGENT_PUBLIC_REPLY, at=t0 + timedelta(minutes=20)),
        SlaEvent(kind=SlaEventKind.CUSTOMER_PUBLIC_REPLY, at=t0 + timedelta(hours=1)),
    ]
    cs, plan = run(c, events, t0 + timedelta(hours=1))
    update = view(plan, TargetKind.UPDATE)
    assert update.due_at == local(2026, 6, 9, 9, 0).astimezone(UTC)  # 480 min from Mon 10:00: 420 Mon + 60 Tue
    cs, plan = run(
        c, [SlaEvent(kind=SlaEventKind.AGENT_PUBLIC_REPLY, at=t0 + timedelta(hours=2))], t0 + timedelta(hours=2), cs
    )
    assert view(plan, TargetKind.UPDATE).state == "met"


POLICY = {
    "name": "Vier Stufen",
    "levels": [
        {
            "name": "warn-75",
            "target": "response",
            "trigger": {"type": "percent_used", "percent": 75},
            "actions": [{"type": "notify_email", "to": [{"role": "msp_tech"}], "business_hours_only": True}],
        },
        {
            "name": "before-30",
            "target": "resolution",
            "trigger": {"type": "before_breach", "minutes": 30},
            "actions": [{"type": "notify_webhook", "url": "https://hooks.example/teams", "format": "teams"}],
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


def test_escalation_instants_and_business_hours_hold():
    c = ctx(POLICY)
    t0 = local(2026, 3, 27, 16, 55)
    cs, plan = run(c, [created(t0)], t0)
    fire = {a.level: a.fire_at for a in plan.actions}
    assert fire["warn-75"] == local(2026, 3, 30, 10, 55).astimezone(UTC)  # 180 min: 5 Fri + 175 Mon
    assert fire["before-30"] == local(2026, 3, 31, 14, 25).astimezone(UTC)
    assert fire["breach"] == local(2026, 3, 31, 14, 55).astimezone(UTC)
    assert "after-60" not in fire  # P3 does not match the level's conditions
    assert plan.wake_at == fire["warn-75"]


def test_fired_actions_are_not_planned_again():
    c = ctx(POLICY)
    t0 = local(2026, 3, 30, 9, 0)
    cs, plan = run(c, [created(t0)], local(2026, 3, 30, 12, 0))
    due = [a for a in plan.actions if a.fire_at <= local(2026, 3, 30, 12, 0)]
    assert [a.level for a in due] == ["warn-75"]
    cs.fired.append(due[0].key)
    cs, plan = run(c, [], local(2026, 3, 30, 12, 1), cs)
    assert "warn-75" not in [a.level for a in plan.actions]


def test_invalid_definitions_are_rejected():
    with pytest.raises(ValueError, match="pause_statuses"):
        SlaDefinition(name="x", targets={}, pause_statuses=[TicketStatus.OPEN])
    with pytest.raises(ValueError, match="duplicate level name"):
        EscalationPolicyDocument.model_validate({"name": "x", "levels": [POLICY["levels"][0], POLICY["levels"][0]]})


def test_a_cloned_clock_set_shares_nothing_mutable_with_its_original():
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    response = Clock(kind=TargetKind.RESPONSE, target_minutes=60, running_since=at)
    original = ClockSet(priority=Priority.P2, clocks={TargetKind.RESPONSE: response}, fired=["response:0:L1:0"])
    copy = original.clone()
    assert copy == original
    copy.clocks[TargetKind.RESPONSE].used_seconds = 600
    copy.clocks[TargetKind.RESOLUTION] = Clock(kind=TargetKind.RESOLUTION, target_minutes=480)
    copy.fired.append("response:0:L2:0")
    copy.priority = Priority.P1
    assert original.clocks == {TargetKind.RESPONSE: response} and response.used_seconds == 0
    assert original.fired == ["response:0:L1:0"] and original.priority == Priority.P2
