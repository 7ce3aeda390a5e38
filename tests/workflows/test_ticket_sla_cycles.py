"""Whole tickets on the time-skipping server: the update clock's cycles and notifications held to business hours.

Same calendar as test_ticket_sla.py (Mon-Fri 08:00-17:00 Europe/Berlin, Bavarian holidays)."""

from datetime import timedelta

import httpx
import respx

from domain.contracts.tickets import CommentRequest
from domain.tickets import Priority
from hub.temporal.tickets import update_ticket
from tests.factories import make_sla
from tests.workflows.test_ticket_sla import (
    DEFINITION,
    close_to,
    escalations,
    local,
    next_day,
    now,
    open_at,
    people,  # noqa: F401 - fixture
    sleep_until,
    working,
)
from workflows.tickets.ticket import TicketWorkflow

UPDATE_HOOK = "https://teams.example/update"
P3_WITH_UPDATE = DEFINITION["targets"]["P3"] | {"update_minutes": 60}
WITH_UPDATE = DEFINITION | {"targets": DEFINITION["targets"] | {"P3": P3_WITH_UPDATE}}
UPDATE_ON_BREACH = {
    "name": "Aktualisierung",
    "levels": [
        {
            "name": "update-breach",
            "target": "update",
            "trigger": {"type": "on_breach"},
            "actions": [{"type": "notify_webhook", "url": UPDATE_HOOK, "format": "teams"}],
        }
    ],
}


async def test_update_clock_escalates_once_per_unanswered_customer_message(env, engine, people):  # noqa: F811
    """Each message of the customer that stays unanswered for 60 business minutes escalates once; a message
    answered in time escalates nothing; the level fires again in a later cycle."""
    tenant, tech, customer = people
    make_sla(engine, tenant, WITH_UPDATE, UPDATE_ON_BREACH)
    day = next_day(await now(env), working)

    async def say(actor, text: str) -> None:  # noqa: ANN001
        await update_ticket(env.client, tid, TicketWorkflow.comment, CommentRequest(actor=actor, body=text))

    with respx.mock(assert_all_called=True) as mock:
        hook = mock.post(UPDATE_HOOK).mock(return_value=httpx.Response(200, text="1"))
        tid = await open_at(env, engine, tenant, customer, local(day, 9, 0))
        await sleep_until(env, local(day, 9, 10))
        await say(tech, "Wir sehen uns das an.")  # first response; no update clock yet
        await sleep_until(env, local(day, 10, 0))
        await say(customer, "Gibt es etwas Neues?")  # cycle 1: due 11:00
        await sleep_until(env, local(day, 11, 30))
        await say(tech, "Ja, der Dienst läuft wieder.")
        await sleep_until(env, local(day, 13, 0))
        await say(customer, "Und der Drucker?")  # cycle 2: answered at 13:30, in time
        await sleep_until(env, local(day, 13, 30))
        await say(tech, "Auch erledigt.")
        await sleep_until(env, local(day, 15, 0))
        await say(customer, "Danke, noch eine Frage ...")  # cycle 3: due 16:00, unanswered
        await sleep_until(env, local(day, 16, 30))
        fired = escalations(engine, tid)
        assert [e.data["key"] for e in fired] == ["update:1:update-breach:0", "update:3:update-breach:0"]
        assert close_to(fired[0].at, local(day, 11, 0)) and close_to(fired[1].at, local(day, 16, 0))
        assert hook.call_count == 2


HELD_HOOK = "https://teams.example/held"
PAGE_HOOK = "https://oncall.example/page"
NIGHT_POLICY = {
    "name": "Nachts",
    "levels": [
        {
            "name": "p1-breach",
            "target": "response",
            "trigger": {"type": "on_breach"},
            "actions": [
                # A team channel message waits for the customer's business hours; the page goes out at once.
                {"type": "notify_webhook", "url": HELD_HOOK, "format": "teams", "business_hours_only": True},
                {"type": "page_on_call", "url": PAGE_HOOK},
            ],
        }
    ],
}


async def test_business_hours_only_holds_a_notification_until_monday_but_pages_at_once(env, engine, people):  # noqa: F811
    tenant, tech, customer = people
    make_sla(engine, tenant, DEFINITION, NIGHT_POLICY)
    saturday = next_day(await now(env), lambda d: d.weekday() == 5 and working(d + timedelta(days=2)))
    monday = saturday + timedelta(days=2)
    with respx.mock(assert_all_called=True) as mock:
        held = mock.post(HELD_HOOK).mock(return_value=httpx.Response(200, text="1"))
        page = mock.post(PAGE_HOOK).mock(return_value=httpx.Response(202))
        # P1 runs on 24x7: response 30 min, breached Saturday 02:30.
        tid = await open_at(env, engine, tenant, customer, local(saturday, 2, 0), priority=Priority.P1)
        await sleep_until(env, local(saturday, 2, 35))
        assert page.call_count == 1 and held.call_count == 0
        await sleep_until(env, local(monday, 7, 55))
        assert held.call_count == 0  # not on Sunday, not before the customer's opening
        await sleep_until(env, local(monday, 8, 5))
        assert page.call_count == 1 and held.call_count == 1
    fired = escalations(engine, tid)
    assert [e.data["action"] for e in fired] == ["page_on_call", "notify_webhook"]
    assert close_to(fired[0].at, local(saturday, 2, 30)) and close_to(fired[1].at, local(monday, 8, 0))
