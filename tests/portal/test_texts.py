"""The SLA state in German words, as the ticket page shows it."""

from datetime import UTC, datetime

from api.portal.texts import duration, sla_words
from api.schemas.tickets import SlaClockPublic, TicketSlaPublic


def clock(kind="response", state="ok", remaining=130, stopped=False, met=None) -> SlaClockPublic:
    return SlaClockPublic(
        kind=kind,
        target_minutes=240,
        state=state,
        due_at=None,
        business_minutes_used=240 - remaining,
        business_minutes_remaining=remaining,
        paused_minutes=0,
        stopped_at=datetime(2026, 12, 3, tzinfo=UTC) if stopped else None,
        met=met,
    )


def sla(*clocks: SlaClockPublic) -> TicketSlaPublic:
    return TicketSlaPublic(
        ticket_id="00000000-0000-0000-0000-000000000001",
        state="ok",
        live=True,
        time_zone="Europe/Berlin",
        sla_definition_id=None,
        escalation_policy_version_id=None,
        clocks=list(clocks),
    )


def test_durations_in_words():
    assert duration(130) == "2 Std. 10 Min."
    assert duration(45) == "45 Min."
    assert duration(0) == "0 Min."
    assert duration(60 * 27) == "1 Tag 3 Std."
    assert duration(-75) == "1 Std. 15 Min."


def test_sla_state_in_words():
    running = sla(clock(), clock("resolution", remaining=60 * 24 * 2 + 5))
    assert sla_words(running, "open", False) == ["Reaktion fällig in 2 Std. 10 Min.", "Lösung fällig in 2 Tage 5 Min."]
    paused = sla(clock("resolution", state="paused"))
    assert sla_words(paused, "waiting_customer", False) == ["Lösung pausiert: wartet auf Sie"]
    assert sla_words(paused, "open", True) == ["Lösung pausiert: liegt bei Ihrer IT"]
    late = sla(clock(state="breached", remaining=-20))
    assert sla_words(late, "open", False) == ["Reaktion überfällig seit 20 Min."]
    done = sla(clock(stopped=True, met=True), clock("resolution", state="missed", stopped=True, met=False))
    assert sla_words(done, "resolved", False) == ["Reaktion: eingehalten", "Lösung: verfehlt"]
    assert sla_words(None, "open", False) == ["Für dieses Ticket gilt keine SLA."]
