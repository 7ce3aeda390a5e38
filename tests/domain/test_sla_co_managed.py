"""The MSP's SLA clocks pause while the customer's IT holds a co-managed ticket; hand-checked against the business
calendar (Mon-Fri 08:00-17:00 Europe/Berlin, Bavarian holidays; Corpus Christi is Thursday 4 June 2026)."""

from datetime import UTC

from domain.escalation import TargetKind
from domain.sla import SlaEvent, SlaEventKind, SlaState, outcomes
from domain.tickets import TicketStatus
from tests.domain.test_sla import created, ctx, local, run, status, view


def hand_over(at, to_customer: bool) -> SlaEvent:
    return SlaEvent(kind=SlaEventKind.RESPONSIBILITY_CHANGED, at=at, customer_it_holds=to_customer)


def test_customer_it_time_is_not_the_msps():
    c = ctx()  # P3: response 240, resolution 960 business minutes
    t0 = local(2026, 6, 2, 9, 0)  # Tuesday
    cs, plan = run(c, [created(t0), hand_over(local(2026, 6, 2, 10, 0), True)], local(2026, 6, 2, 16, 0))
    assert plan.state == SlaState.PAUSED and view(plan, TargetKind.RESOLUTION).due_at is None
    assert view(plan, TargetKind.RESOLUTION).used_seconds == 3600  # only the MSP's hour, 09:00-10:00

    # Customer IT holds it Tue 10:00-17:00 (7 h) and Wed 08:00-11:00 (3 h): 600 business minutes.
    cs, plan = run(c, [hand_over(local(2026, 6, 3, 11, 0), False)], local(2026, 6, 3, 11, 0), cs)
    assert plan.state == SlaState.OK
    resolution = view(plan, TargetKind.RESOLUTION)
    # 900 minutes left from Wed 11:00: Wed 6 h; Thu 4 June is Corpus Christi; Fri 9 h -> 15 h = 900 min: Fri 17:00.
    assert resolution.due_at == local(2026, 6, 5, 17, 0).astimezone(UTC)
    # 180 response minutes left from Wed 11:00: Wed 14:00.
    assert view(plan, TargetKind.RESPONSE).due_at == local(2026, 6, 3, 14, 0).astimezone(UTC)

    cs, plan = run(c, [status(local(2026, 6, 3, 13, 30), TicketStatus.RESOLVED)], local(2026, 6, 3, 13, 30), cs)
    result = {o.kind: o for o in outcomes(cs)}
    for kind in (TargetKind.RESPONSE, TargetKind.RESOLUTION):  # 60 + 150 MSP minutes; 600 held by customer IT
        assert (result[kind].used_minutes, result[kind].paused_minutes, result[kind].customer_it_minutes) == (
            210,
            600,
            600,
        )
        assert result[kind].met
    assert plan.state == SlaState.MET


def test_waiting_on_the_customer_and_customer_it_holding_overlap():
    c = ctx()
    t0 = local(2026, 6, 8, 8, 0)  # Monday
    events = [
        created(t0),
        status(local(2026, 6, 8, 9, 0), TicketStatus.WAITING_CUSTOMER),
        hand_over(local(2026, 6, 8, 10, 0), True),  # paused already: stays paused
        status(local(2026, 6, 8, 12, 0), TicketStatus.OPEN),  # the customer answered; its IT still holds it
    ]
    cs, plan = run(c, events, local(2026, 6, 8, 13, 0))
    assert plan.state == SlaState.PAUSED
    cs, plan = run(c, [hand_over(local(2026, 6, 8, 14, 0), False)], local(2026, 6, 8, 14, 0), cs)
    resolution = view(plan, TargetKind.RESOLUTION)
    assert resolution.used_seconds == 3600  # 08:00-09:00
    assert resolution.paused_seconds == 5 * 3600  # 09:00-14:00
    assert resolution.customer_it_seconds == 4 * 3600  # 10:00-14:00
    # 900 minutes from Mon 14:00: Mon 3 h, Tue 9 h, Wed 3 h -> Wed 10 June 11:00.
    assert resolution.due_at == local(2026, 6, 10, 11, 0).astimezone(UTC)
    # Back with the MSP while waiting on the customer: still paused, and not the customer's IT's time.
    cs, plan = run(c, [status(local(2026, 6, 8, 15, 0), TicketStatus.WAITING_CUSTOMER)], local(2026, 6, 8, 16, 0), cs)
    assert plan.state == SlaState.PAUSED
    assert view(plan, TargetKind.RESOLUTION).customer_it_seconds == 4 * 3600
    assert view(plan, TargetKind.RESOLUTION).used_seconds == 2 * 3600
    assert view(plan, TargetKind.RESOLUTION).paused_seconds == 6 * 3600
