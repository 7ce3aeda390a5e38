"""POST /sla/simulate: due times and escalation instants of a hand-computed ticket, against real DACH calendars.

Every expected instant below is computed by hand in the comments: business minutes per day, holidays of the
subdivision (holidays package), and the UTC offset of the day (CET +01:00, CEST +02:00 from Sunday 29.3.2026).
"""

import copy
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar_spec import CalendarSpec
from domain.escalation import EscalationPolicyDocument
from domain.sla import PriorityTargets, SlaContext, SlaDefinition
from domain.sla_simulation import simulate, ticket_timeline
from domain.tickets import Priority
from tests.api import assert_problem, make_world
from tests.api.test_sla_admin_api import (
    DEFINITION,
    POLICY,
    assert_field,
    changed,
    nothing_written,
    set_tenant_calendar,
)
from tests.factories import unique

SIMULATE = "/api/v1/sla/simulate"
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_8_17 = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
P3 = {"response_minutes": 240, "resolution_minutes": 960}


@pytest.fixture
def w(engine):
    return make_world(engine)


def calendar(subdivision: str | None = "DE-BY", time_zone: str = "Europe/Berlin", **fields) -> dict:
    """Mon-Fri 08:00-17:00 with the public holidays of the subdivision (none without one)."""
    country = {"country": subdivision[:2], "subdivision": subdivision} if subdivision else {}
    return {"time_zone": time_zone, "hours": WEEKDAYS_8_17} | country | fields


def level(name: str, target: str, trigger: dict, *actions: dict, **conditions) -> dict:
    result = {"name": name, "target": target, "trigger": trigger,
              "actions": list(actions) or [{"type": "reassign", "queue": f"q-{name}"}]}
    return result | ({"conditions": conditions} if conditions else {})


def percent(p: int) -> dict:
    return {"type": "percent_used", "percent": p}


def policy(*levels: dict) -> dict:
    return {"name": "Entwurf", "levels": list(levels)}


EMAIL_HELD = {"type": "notify_email", "to": [{"role": "msp_tech"}], "business_hours_only": True}
PAGE = {"type": "page_on_call", "url": "https://oncall.example/page"}


async def run(api, w, body: dict, who: str = "msp_tech") -> dict:
    resp = await api.post(SIMULATE, json=body, headers=w.h(who))
    assert resp.status_code == 200, resp.text
    return resp.json()


def fired(result: dict) -> list[tuple[str, str, str]]:
    return [(e["level"], e["action"], e["fire_at"]) for e in result["escalations"]]


# --- issue 3, case (a): Friday evening across the DST change --------------------------------------------------


async def test_friday_evening_ticket_is_due_after_the_dst_change(api, engine, w):
    body = {"calendar": calendar(), "priority": "P3", "targets": P3, "created_at": "2026-03-27T16:55:00+01:00",
            "policy": policy(level("warn-75", "response", percent(75), EMAIL_HELD))}
    with nothing_written(engine):
        result = await run(api, w, body)
    assert result["time_zone"] == "Europe/Berlin"
    assert result["created_at"] == "2026-03-27T15:55:00Z"
    assert result["created_at_local"] == "2026-03-27T16:55:00+01:00"
    # Response 240 min: Fri 16:55-17:00 = 5, Monday 30.3. (now CEST, +02:00) 08:00 + 235 = 11:55 local = 09:55 UTC.
    assert (result["response_due_at"], result["response_due_at_local"]) == (
        "2026-03-30T09:55:00Z", "2026-03-30T11:55:00+02:00")
    # Resolution 960 min: Fri 5 + Mon 540 (08-17) = 545; Tue 31.3. 08:00 + 415 = 14:55 local = 12:55 UTC.
    assert (result["resolution_due_at"], result["resolution_due_at_local"]) == (
        "2026-03-31T12:55:00Z", "2026-03-31T14:55:00+02:00")
    assert result["update_due_at"] is None and result["update_due_at_local"] is None
    # 75 % of 240 = 180 min: Fri 5 + Mon 175 -> Mon 10:55 local (open, so the held e-mail is not delayed).
    [warning] = result["escalations"]
    assert warning == {
        "level": "warn-75", "target": "response", "action": "notify_email", "fire_at": "2026-03-30T08:55:00Z",
        "fire_at_local": "2026-03-30T10:55:00+02:00", "business_hours_only": True,
        "details": {"type": "notify_email", "to": [{"role": "msp_tech"}], "message": None,
                    "business_hours_only": True},
    }
    assert (result["priority"], result["final_priority"], result["targets"]["calendar"]) == ("P3", "P3", "customer")
    assert result["calendar"]["subdivision"] == "DE-BY" and result["truncated"] is False


# --- (b): paused over the Easter weekend 2026 ---------------------------------------------------------------


EASTER_POLICY = policy(
    level("early", "response", percent(20)),  # 48 min
    level("half", "response", percent(50)),  # 120 min
    level("warn", "response", percent(75), EMAIL_HELD),  # 180 min
    level("breach", "resolution", {"type": "on_breach"}),
)


async def test_pause_over_easter_with_holidays_of_the_tenant(api, engine, w):
    # Tenant A is in Bavaria without a calendar of its own: Mon-Fri 08-17 with the DE-BY holidays, so Good Friday
    # 3.4. and Easter Monday 6.4. are closed. Created Thursday 2.4. 14:00 CEST, waiting for the customer from
    # 15:00 until Easter Monday 12:00: 60 business minutes before the pause, nothing until Tuesday 08:00.
    body = {"tenant_id": str(w.a.id), "priority": "P3", "targets": P3, "created_at": "2026-04-02T14:00:00+02:00",
            "pauses": [{"start": "2026-04-02T15:00:00+02:00", "end": "2026-04-06T12:00:00+02:00"}],
            "policy": EASTER_POLICY}
    with nothing_written(engine):
        result = await run(api, w, body, who="msp_admin")
    # Response: 240 - 60 = 180 from Tue 7.4. 08:00 -> 11:00 CEST = 09:00 UTC.
    assert (result["response_due_at"], result["response_due_at_local"]) == (
        "2026-04-07T09:00:00Z", "2026-04-07T11:00:00+02:00")
    # Resolution: 960 - 60 = 900: Tue 540, Wed 8.4. 08:00 + 360 = 14:00 CEST = 12:00 UTC.
    assert result["resolution_due_at"] == "2026-04-08T12:00:00Z"
    assert fired(result) == [
        ("early", "reassign", "2026-04-02T12:48:00Z"),  # Thu 14:48: fired before the pause started
        ("half", "reassign", "2026-04-07T07:00:00Z"),  # 60 before + 60 after the pause: Tue 09:00 CEST
        ("warn", "notify_email", "2026-04-07T08:00:00Z"),  # 60 + 120: Tue 10:00 CEST
        ("breach", "reassign", "2026-04-08T12:00:00Z"),  # = resolution due
    ]
    assert result["calendar"]["half_day_rules"] == {"12-24": "12:00", "12-31": "12:00"}  # the standard calendar

    # The same ticket on a calendar without holidays: the clock runs again on Monday 12:00, 180 min -> 15:00 CEST.
    body = {k: v for k, v in body.items() if k != "tenant_id"} | {"calendar": calendar(None)}
    result = await run(api, w, body)
    assert result["response_due_at_local"] == "2026-04-06T15:00:00+02:00"


# --- (c), (d), (e): regional holidays -----------------------------------------------------------------------


@pytest.mark.parametrize(("created_at", "subdivision", "time_zone", "due_utc", "due_local"), [
    # (c) Corpus Christi, Thursday 4.6.2026: a holiday in DE-BY, not in DE-BE. Created Wed 3.6. 16:00 CEST,
    # 240 min: Wed 60, then BY: Fri 5.6. 08:00 + 180 = 11:00 CEST; BE: Thu 4.6. 11:00 CEST.
    ("2026-06-03T16:00:00+02:00", "DE-BY", "Europe/Berlin", "2026-06-05T09:00:00Z", "2026-06-05T11:00:00+02:00"),
    ("2026-06-03T16:00:00+02:00", "DE-BE", "Europe/Berlin", "2026-06-04T09:00:00Z", "2026-06-04T11:00:00+02:00"),
    # (d) Repentance Day, Wednesday 18.11.2026, only in DE-SN. Created Tue 17.11. 16:00 CET: Tue 60, then
    # SN: Thu 19.11. 11:00 CET; BY: Wed 18.11. 11:00 CET.
    ("2026-11-17T16:00:00+01:00", "DE-SN", "Europe/Berlin", "2026-11-19T10:00:00Z", "2026-11-19T11:00:00+01:00"),
    ("2026-11-17T16:00:00+01:00", "DE-BY", "Europe/Berlin", "2026-11-18T10:00:00Z", "2026-11-18T11:00:00+01:00"),
    # (e) Immaculate Conception, Tuesday 8.12.2026, in Austria (Vienna, AT-9), not in Bavaria. Created Mon 7.12.
    # 16:00 CET: Mon 60, then AT-9: Wed 9.12. 11:00 CET; DE-BY: Tue 8.12. 11:00 CET.
    ("2026-12-07T16:00:00+01:00", "AT-9", "Europe/Vienna", "2026-12-09T10:00:00Z", "2026-12-09T11:00:00+01:00"),
    ("2026-12-07T16:00:00+01:00", "DE-BY", "Europe/Berlin", "2026-12-08T10:00:00Z", "2026-12-08T11:00:00+01:00"),
])
async def test_regional_holidays(api, w, created_at, subdivision, time_zone, due_utc, due_local):
    body = {"calendar": calendar(subdivision, time_zone), "priority": "P3", "targets": {"response_minutes": 240},
            "created_at": created_at}
    result = await run(api, w, body)
    assert (result["response_due_at"], result["response_due_at_local"]) == (due_utc, due_local)
    assert result["resolution_due_at"] is None and result["escalations"] == []
    assert result["time_zone"] == time_zone


# --- (f): a stored four-level policy -------------------------------------------------------------------------


async def test_four_level_policy_gives_four_instants(api, engine, w):
    document = changed(POLICY, "levels.3.conditions", {"customer_numbers": [w.a.customer_number]})
    resp = await api.post("/api/v1/escalation-policies", json={"name": unique("Pol"), "document": document},
                          headers=w.h("msp_admin"))
    pid = resp.json()["id"]
    body = {"tenant_id": str(w.a.id), "priority": "P3", "targets": P3, "created_at": "2026-03-27T16:55:00+01:00",
            "escalation_policy_id": pid}
    with nothing_written(engine):
        assert_field(await api.post(SIMULATE, json=body, headers=w.h("msp_tech")), "escalation_policy_id",
                     "has no active version")
    await api.post(f"/api/v1/escalation-policies/{pid}/versions/1/activate", headers=w.h("msp_admin"))
    with nothing_written(engine):
        result = await run(api, w, body)
    assert (result["escalation_policy_id"], result["policy_version"]) == (pid, 1)
    # Same ticket as case (a); DE-BY standard calendar of tenant A. Resolution target 960 min.
    assert fired(result) == [
        ("warn-75", "notify_email", "2026-03-30T08:55:00Z"),  # 180 min: Mon 10:55 CEST
        ("before-30", "notify_webhook", "2026-03-31T12:25:00Z"),  # 930 min: Tue 08:00 + 385 = 14:25 CEST
        ("breach", "reassign", "2026-03-31T12:55:00Z"),  # 960 min: Tue 14:55 CEST
        ("after-60", "page_on_call", "2026-03-31T13:55:00Z"),  # 1020 min: Tue 15:55 CEST
    ]
    assert [e["fire_at_local"] for e in result["escalations"]] == [
        "2026-03-30T10:55:00+02:00", "2026-03-31T14:25:00+02:00", "2026-03-31T14:55:00+02:00",
        "2026-03-31T15:55:00+02:00"]
    # The last level is only for tenant A's customer number (defaulted from the tenant); another number skips it.
    result = await run(api, w, body | {"customer_number": "K-ANDERS"})
    assert [e["level"] for e in result["escalations"]] == ["warn-75", "before-30", "breach"]


async def test_stored_definition_brings_its_active_policy(api, w):
    policy_resp = await api.post("/api/v1/escalation-policies", json={"name": unique("Pol"), "document": POLICY},
                                 headers=w.h("msp_admin"))
    pid = policy_resp.json()["id"]
    await api.post(f"/api/v1/escalation-policies/{pid}/versions/1/activate", headers=w.h("msp_admin"))
    resp = await api.post("/api/v1/sla-definitions", json={"name": unique("Std"), "document": DEFINITION,
                                                           "escalation_policy_id": pid}, headers=w.h("msp_admin"))
    body = {"calendar": calendar(), "priority": "P3", "sla_definition_id": resp.json()["id"],
            "created_at": "2026-03-27T16:55:00+01:00"}
    result = await run(api, w, body)
    assert (result["escalation_policy_id"], result["policy_version"]) == (pid, 1)
    assert result["targets"] == {"response_minutes": 240, "resolution_minutes": 960, "update_minutes": 480,
                                 "calendar": "customer"}
    assert result["resolution_due_at"] == "2026-03-31T12:55:00Z"
    assert [e["level"] for e in result["escalations"]] == ["warn-75", "before-30", "breach", "after-60"]
    # An inline draft policy replaces the stored one.
    result = await run(api, w, body | {"policy": policy(level("only", "response", percent(50)))})
    assert (result["escalation_policy_id"], fired(result)) == (None, [("only", "reassign", "2026-03-30T07:55:00Z")])


# --- (g): a notification held for business hours --------------------------------------------------------------


async def test_business_hours_only_notification_on_saturday_fires_monday_0800(api, w):
    # P1 runs on the 24x7 calendar: created Saturday 6.6.2026 10:00 CEST, response 60 real minutes -> due 11:00.
    # 50 % is reached Saturday 10:30: the page goes out at once, the e-mail waits for the customer's calendar to
    # open, Monday 8.6. 08:00 CEST = 06:00 UTC.
    body = {"calendar": calendar(), "priority": "P1", "targets": {"response_minutes": 60, "calendar": "24x7"},
            "created_at": "2026-06-06T10:00:00+02:00",
            "policy": policy(level("half", "response", percent(50), EMAIL_HELD, PAGE))}
    result = await run(api, w, body)
    assert result["response_due_at_local"] == "2026-06-06T11:00:00+02:00"
    assert [(e["level"], e["action"], e["fire_at_local"], e["business_hours_only"]) for e in result["escalations"]] == [
        ("half", "page_on_call", "2026-06-06T10:30:00+02:00", False),
        ("half", "notify_email", "2026-06-08T08:00:00+02:00", True),
    ]
    assert result["escalations"][1]["fire_at"] == "2026-06-08T06:00:00Z"


# --- more behaviour ---------------------------------------------------------------------------------------------


async def test_tenant_calendar_and_update_clock(api, engine, w):
    resp = await api.post("/api/v1/calendars", json={"name": unique("Kal"), "spec": calendar(
        hours={day: ["09:00-12:00"] for day in ("mon", "tue", "wed", "thu", "fri")})}, headers=w.h("msp_admin"))
    set_tenant_calendar(engine, w.b.id, uuid.UUID(resp.json()["id"]))
    # Created Mon 8.6.2026 09:00 CEST on Mon-Fri 09-12: response 240 = Mon 180 + Tue 60 -> Tue 10:00 CEST.
    body = {"tenant_id": str(w.b.id), "priority": "P3", "created_at": "2026-06-08T09:00:00+02:00",
            "targets": {"response_minutes": 240, "update_minutes": 120}}
    result = await run(api, w, body)
    assert result["response_due_at"] == "2026-06-09T08:00:00Z"
    assert result["calendar"]["hours"]["0"] == [["09:00", "12:00"]]
    # Answered at 09:20, the customer replies at 10:00: the update clock (120 min) runs 10-12 -> Mon 12:00 CEST.
    # The response clock stopped at 09:20; its due time stays the one computed while it ran.
    result = await run(api, w, body | {"first_response_at": "2026-06-08T09:20:00+02:00",
                                       "customer_reply_at": "2026-06-08T10:00:00+02:00",
                                       "policy": policy(level("warn", "response", percent(75)),
                                                        level("silence", "update", {"type": "on_breach"}))})
    assert (result["response_due_at"], result["update_due_at"], result["update_due_at_local"]) == (
        "2026-06-09T08:00:00Z", "2026-06-08T10:00:00Z", "2026-06-08T12:00:00+02:00")
    assert fired(result) == [("silence", "reassign", "2026-06-08T10:00:00Z")]  # no response warning: answered


async def test_raise_priority_changes_what_follows(api, w):
    # P3 response 240 from Mon 8.6.2026 09:00 CEST -> breach at 13:00 CEST (11:00 UTC); the breach raises the
    # ticket to P2 (response 60, already used up), so a level for P2 tickets 30 min after breach fires at once.
    body = {"calendar": calendar(), "priority": "P3", "definition": DEFINITION,
            "created_at": "2026-06-08T09:00:00+02:00",
            "policy": policy(level("breach", "response", {"type": "on_breach"}, {"type": "raise_priority"}),
                             level("p2-late", "response", {"type": "after_breach", "minutes": 30},
                                   priorities=["P2"]))}
    result = await run(api, w, body)
    assert result["response_due_at"] == "2026-06-08T11:00:00Z"  # due as created, before escalations
    assert fired(result) == [("breach", "raise_priority", "2026-06-08T11:00:00Z"),
                             ("p2-late", "reassign", "2026-06-08T11:00:00Z")]
    assert result["final_priority"] == "P2"


# --- bad input, roles -------------------------------------------------------------------------------------------


BASE = {"calendar": calendar(), "priority": "P3", "targets": P3, "created_at": "2026-03-27T16:55:00+01:00"}
DRAFT = policy(level("warn", "response", percent(75), EMAIL_HELD), level("breach", "resolution", {"type": "on_breach"}))


def without(body: dict, *names: str) -> dict:
    return {k: v for k, v in body.items() if k not in names}


BAD_REQUESTS = [
    (BASE | {"tenant_id": "TENANT"}, "calendar", "give only one of tenant_id or calendar"),
    (without(BASE, "calendar"), "tenant_id", "give the calendar: tenant_id or calendar"),
    (without(BASE, "targets"), "sla_definition_id", "give the targets"),
    (BASE | {"definition": DEFINITION}, "targets", "not definition and targets"),
    (BASE | {"policy": DRAFT, "escalation_policy_id": str(uuid.uuid4())}, "policy", "not both"),
    (BASE | {"created_at": "2026-03-27T16:55:00"}, "created_at", "timezone info"),
    (BASE | {"priority": "P5"}, "priority", "Input should be 'P1', 'P2', 'P3' or 'P4'"),
    (BASE | {"targets": {"calendar": "24x7"}}, "targets", "at least one of"),
    (BASE | {"targets": P3 | {"calendar": "weekly"}}, "targets.calendar", "pattern"),
    (BASE | {"definition": changed(DEFINITION, "targets", {"P1": P3})} | {"targets": None}, "priority",
     "no targets for P3"),
    (BASE | {"pauses": [{"start": "2026-03-30T10:00:00+02:00", "end": "2026-03-30T09:00:00+02:00"}]},
     "pauses.0.end", "must be after start"),
    (BASE | {"pauses": [{"start": "2026-03-27T16:00:00+01:00", "end": "2026-03-30T09:00:00+02:00"}]},
     "pauses.0.start", "before created_at"),
    (BASE | {"pauses": [{"start": "2026-03-30T10:00:00+02:00", "end": "2026-03-30T12:00:00+02:00"},
                        {"start": "2026-03-30T08:00:00+02:00", "end": "2026-03-30T10:30:00+02:00"}]},
     "pauses.0.start", "overlaps pause 1"),
    (BASE | {"pauses": [{"start": "2026-03-30T10:00:00", "end": "2026-03-30T12:00:00+02:00"}]},
     "pauses.0.start", "timezone info"),
    (BASE | {"pauses": [{"start": "2026-03-30T10:00:00+02:00"}]}, "pauses.0.end", "Field required"),
    (BASE | {"pauses": [{"start": f"2026-04-{d:02d}T10:00:00+02:00", "end": f"2026-04-{d:02d}T11:00:00+02:00"}
                        for d in range(1, 31)] * 2}, "pauses", "at most 50 items"),
    (BASE | {"customer_reply_at": "2026-03-30T10:00:00+02:00"}, "customer_reply_at", "needs first_response_at"),
    (BASE | {"first_response_at": "2026-03-27T16:00:00+01:00"}, "first_response_at", "before created_at"),
    (BASE | {"calendar": calendar(time_zone="Europe/Nuremberg")}, "calendar.time_zone", "unknown IANA time zone"),
    (BASE | {"calendar": calendar(hours={"mon": ["08:00-12:00", "11:00-17:00"]})}, "calendar.hours.mon", "overlap"),
    (BASE | {"calendar": calendar("DE-XY")}, "calendar.subdivision", "unknown subdivision 'DE-XY'"),
    (BASE | {"policy": changed(DRAFT, "levels.0.trigger", {"type": "sometimes"})}, "policy.levels.0.trigger",
     "Input tag 'sometimes'"),
    (BASE | {"policy": changed(DRAFT, "levels.0.trigger.percent", 150)}, "policy.levels.0.trigger.percent",
     "less than or equal to 100"),
    (BASE | {"policy": changed(DRAFT, "levels.1.name", "warn")}, "policy.levels.1.name", "duplicate level name"),
    (BASE | {"policy": changed(DRAFT, "levels.1.actions", [])}, "policy.levels.1.actions", "at least 1 item"),
    (BASE | {"now": "2026-03-30T10:00:00+02:00"}, "now", "Extra inputs are not permitted"),
    (BASE | {"tenant_id": "TENANT"} | {"calendar": None}, "tenant_id", "no tenant"),
    (without(BASE, "targets") | {"sla_definition_id": str(uuid.uuid4())}, "sla_definition_id", "no SLA definition"),
    (BASE | {"escalation_policy_id": str(uuid.uuid4())}, "escalation_policy_id", "no escalation policy"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), BAD_REQUESTS)
async def test_simulate_rejects_bad_input(api, engine, w, body, field, fragment):
    body = {k: str(uuid.uuid4()) if v == "TENANT" else v for k, v in body.items()}
    with nothing_written(engine):
        assert_field(await api.post(SIMULATE, json=body, headers=w.h("msp_admin")), field, fragment)


@pytest.mark.parametrize(("who", "role"), [("finance", "finance"), ("a_it", "customer_it"),
                                           ("a_user", "customer_user")])
async def test_simulate_roles(api, engine, w, who, role):
    with nothing_written(engine):
        resp = await api.post(SIMULATE, json=BASE | {"tenant_id": str(w.a.id), "calendar": None}, headers=w.h(who))
        assert_problem(resp, 403, f"role {role} may not do this")


# --- the pure simulation ------------------------------------------------------------------------------------------


def test_simulation_interleaves_pauses_and_levels():
    # The Easter case of the API test, straight through the domain function, plus the step bound.
    context = SlaContext(
        definition=SlaDefinition(name="x", targets={Priority.P3: PriorityTargets(**P3)}),
        calendar=CalendarSpec.standard_dach("DE", "DE-BY"),
        policy=EscalationPolicyDocument.model_validate(EASTER_POLICY), customer_number="K1")
    pause = (datetime(2026, 4, 2, 15, tzinfo=BERLIN), datetime(2026, 4, 6, 12, tzinfo=BERLIN))
    events = ticket_timeline(datetime(2026, 4, 2, 14, tzinfo=BERLIN), Priority.P3, pauses=[pause])
    result = simulate(context, events)
    assert [(a.level, a.fire_at.astimezone(BERLIN).strftime("%a %d.%m. %H:%M")) for a in result.actions] == [
        ("early", "Thu 02.04. 14:48"), ("half", "Tue 07.04. 09:00"), ("warn", "Tue 07.04. 10:00"),
        ("breach", "Wed 08.04. 14:00")]
    assert result.final_queue == "q-breach" and not result.truncated
    assert simulate(context, events, max_steps=2).truncated
    with pytest.raises(ValueError, match="CREATED"):
        simulate(context, copy.deepcopy(events[1:]))
