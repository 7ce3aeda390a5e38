"""Calendars, SLA definitions and versioned escalation policies over HTTP: CRUD with audit trail, one default
definition, versions and activation, 422s that point at the offending field, MSP-only access."""

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from hub.db import session_scope
from models import (
    AuditEvent,
    BusinessCalendarRow,
    Contract,
    EscalationPolicy,
    EscalationPolicyVersion,
    SlaDefinitionRow,
    Tenant,
)
from tests.api import assert_auth_required, assert_problem, audit_events, make_world, row
from tests.factories import unique

CALENDARS = "/api/v1/calendars"
DEFINITIONS = "/api/v1/sla-definitions"
POLICIES = "/api/v1/escalation-policies"
SLA_TABLES = (BusinessCalendarRow, SlaDefinitionRow, EscalationPolicy, EscalationPolicyVersion, AuditEvent, Tenant,
              Contract)

SPEC = {
    "time_zone": "Europe/Berlin",
    "country": "DE",
    "subdivision": "de-by",
    "hours": {"mon": ["08:00-12:00", "13:00-17:00"], "tue": [["08:00", "17:00"]], "2": [["08:00", "17:00"]],
              "thursday": [["08:00", "17:00"]], "fri": [["08:00", "15:00"]]},
    "half_day_rules": {"12-24": "12:00"},
}
DEFINITION = {
    "name": "Standard",
    "targets": {
        "P1": {"response_minutes": 30, "resolution_minutes": 240, "calendar": "24x7"},
        "P2": {"response_minutes": 60, "resolution_minutes": 480},
        "P3": {"response_minutes": 240, "resolution_minutes": 960, "update_minutes": 480},
        "P4": {"response_minutes": 480, "resolution_minutes": 2400},
    },
}
POLICY = {
    "name": "Standard-Eskalation",
    "levels": [
        {"name": "warn-75", "target": "response", "trigger": {"type": "percent_used", "percent": 75},
         "actions": [{"type": "notify_email", "to": [{"role": "msp_tech"}], "business_hours_only": True}]},
        {"name": "before-30", "target": "resolution", "trigger": {"type": "before_breach", "minutes": 30},
         "actions": [{"type": "notify_webhook", "url": "https://hooks.example/teams", "format": "teams"}]},
        {"name": "breach", "target": "resolution", "trigger": {"type": "on_breach"},
         "actions": [{"type": "reassign", "queue": "eskalation"}]},
        {"name": "after-60", "target": "resolution", "trigger": {"type": "after_breach", "minutes": 60},
         "actions": [{"type": "page_on_call", "url": "https://oncall.example/page"}]},
    ],
}


@pytest.fixture(autouse=True)
def _no_default_definition_left(engine):
    """The default SLA definition can be moved but not removed through the API; tests of other modules share this
    database and expect tickets without an SLA unless they set one up."""
    yield
    with session_scope(engine) as s:
        s.exec(update(SlaDefinitionRow).values(is_default=False))


@pytest.fixture
def w(engine):
    return make_world(engine)


def changed(document: dict, path: str, value: object) -> dict:
    """A deep copy of ``document`` with the value at a dotted path replaced (list indexes as numbers)."""
    result = copy.deepcopy(document)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = result
    for part in parents:
        node = node[part]
    node[last] = value
    return result


def sla_counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__tablename__: s.exec(select(func.count()).select_from(m)).one() for m in SLA_TABLES}


@contextmanager
def nothing_written(engine) -> Iterator[None]:
    before = sla_counts(engine)
    yield
    assert sla_counts(engine) == before


def assert_field(resp, field: str, *fragments: str) -> dict:
    """A 422 whose first error (and detail) names ``field``."""
    body = assert_problem(resp, 422, f"{field}: ", *fragments)
    assert body["errors"][0]["field"] == field, body
    assert body["detail"].startswith(f"{field}: "), body
    return body


def set_tenant_calendar(engine, tenant_id, calendar_id) -> None:
    with session_scope(engine) as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.calendar_id = calendar_id
        s.add(tenant)


def make_contract(engine, tenant, **fields) -> Contract:
    with session_scope(engine) as s:
        contract = Contract(tenant_id=tenant.id, number=unique("V"), name="Managed Services",
                            start_date=date(2026, 1, 1), **fields)
        s.add(contract)
    return contract


async def create(api, w, path: str, body: dict) -> dict:
    resp = await api.post(path, json=body, headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- calendars --------------------------------------------------------------------------------------------------


async def test_calendar_lifecycle(api, engine, w):
    name = unique("Bayern")
    created = await create(api, w, CALENDARS, {"name": name, "spec": SPEC})
    cid = uuid.UUID(created["id"])
    spec = created["spec"]
    assert spec["subdivision"] == "DE-BY"  # canonical form
    assert spec["hours"] == {"0": [["08:00", "12:00"], ["13:00", "17:00"]], "1": [["08:00", "17:00"]],
                             "2": [["08:00", "17:00"]], "3": [["08:00", "17:00"]], "4": [["08:00", "15:00"]]}
    assert row(engine, BusinessCalendarRow, cid).spec == spec
    [event] = audit_events(engine, cid)
    assert (event.entity, event.action, event.tenant_id, event.actor_user_id) == (
        "calendar", "created", None, w.users["msp_admin"].id)
    assert event.data == {"name": name, "spec": spec}

    for reader in ("msp_tech", "finance"):
        assert (await api.get(f"{CALENDARS}/{cid}", headers=w.h(reader))).json() == created
    listed = (await api.get(CALENDARS, params={"limit": 200}, headers=w.h("finance"))).json()
    assert created in listed["items"]

    new_spec = changed(SPEC, "time_zone", "Europe/Vienna") | {"country": "AT", "subdivision": "AT-9"}
    resp = await api.patch(f"{CALENDARS}/{cid}", json={"spec": new_spec}, headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["name"], resp.json()["spec"]["time_zone"], resp.json()["spec"]["subdivision"]) == (
        name, "Europe/Vienna", "AT-9")
    assert row(engine, BusinessCalendarRow, cid).spec["country"] == "AT"
    assert set(audit_events(engine, cid)[-1].data) == {"spec"}
    # The same values again change nothing and leave no audit event.
    resp = await api.patch(f"{CALENDARS}/{cid}", json={"spec": new_spec, "name": name}, headers=w.h("msp_admin"))
    assert resp.status_code == 200 and len(audit_events(engine, cid)) == 2

    assert (await api.delete(f"{CALENDARS}/{cid}", headers=w.h("msp_admin"))).status_code == 204
    assert row(engine, BusinessCalendarRow, cid) is None
    assert (audit_events(engine, cid)[-1].action, audit_events(engine, cid)[-1].data) == ("deleted", {"name": name})
    assert_problem(await api.get(f"{CALENDARS}/{cid}", headers=w.h("msp_admin")), 404, f"calendar {cid} not found")


async def test_calendar_in_use_cannot_be_deleted(api, engine, w):
    cid = (await create(api, w, CALENDARS, {"name": unique("Kal"), "spec": SPEC}))["id"]
    set_tenant_calendar(engine, w.a.id, uuid.UUID(cid))
    with nothing_written(engine):
        assert_problem(await api.delete(f"{CALENDARS}/{cid}", headers=w.h("msp_admin")), 409,
                       f"calendar {cid} is still used by 1 tenant")
    set_tenant_calendar(engine, w.a.id, None)
    make_contract(engine, w.b, calendar_id=uuid.UUID(cid))
    with nothing_written(engine):
        assert_problem(await api.delete(f"{CALENDARS}/{cid}", headers=w.h("msp_admin")), 409, "1 contract")
    assert row(engine, BusinessCalendarRow, uuid.UUID(cid)) is not None


@pytest.mark.parametrize(("spec", "field", "fragment"), [
    (changed(SPEC, "time_zone", "Europe/Munich"), "spec.time_zone", "unknown IANA time zone 'Europe/Munich'"),
    (changed(SPEC, "hours.mon", ["08:00-12:00", "11:30-17:00"]), "spec.hours.mon",
     "intervals 08:00-12:00 and 11:30-17:00 overlap"),
    (changed(SPEC, "hours.tue", [["08:00", "25:00"]]), "spec.hours.1.0", "not a valid time of day"),
    (changed(SPEC, "hours.2", [["17:00", "08:00"]]), "spec.hours.2.0", "start must be before end"),
    (changed(SPEC, "hours", {"funday": [["08:00", "17:00"]]}), "spec.hours", "invalid weekday 'funday'"),
    (changed(SPEC, "subdivision", "DE-XX"), "spec.subdivision", "unknown subdivision 'DE-XX'"),
    (changed(SPEC, "subdivision", "AT-9"), "spec.subdivision", "does not belong to country 'DE'"),
    (changed(SPEC, "country", "FR"), "spec.country", "Input should be 'DE', 'AT' or 'CH'"),
    (changed(SPEC, "half_day_rules", {"02-30": "12:00"}), "spec.half_day_rules.02-30",
     "not a valid month-day"),
    (changed(SPEC, "closures", ["2026-13-01"]), "spec.closures.0", "date"),
    (changed(SPEC, "hours", {}), "spec", "calendar has no opening hours"),
    (SPEC | {"holidays": True}, "spec.holidays", "Extra inputs are not permitted"),
    ({k: v for k, v in SPEC.items() if k != "time_zone"}, "spec.time_zone", "Field required"),
])
async def test_create_calendar_rejects_invalid_spec(api, engine, w, spec, field, fragment):
    with nothing_written(engine):
        resp = await api.post(CALENDARS, json={"name": unique("Kal"), "spec": spec}, headers=w.h("msp_admin"))
    assert_field(resp, field, fragment)


async def test_calendar_rejects_bad_names_and_patches(api, engine, w):
    taken = await create(api, w, CALENDARS, {"name": unique("Kal"), "spec": SPEC})
    other = await create(api, w, CALENDARS, {"name": unique("Kal"), "spec": SPEC})
    path = f"{CALENDARS}/{other['id']}"
    missing = uuid.uuid4()
    with nothing_written(engine):
        assert_field(await api.post(CALENDARS, json={"name": "", "spec": SPEC}, headers=w.h("msp_admin")), "name")
        assert_field(await api.post(CALENDARS, json={"name": "x"}, headers=w.h("msp_admin")), "spec", "required")
        body = assert_problem(await api.post(CALENDARS, json={"name": taken["name"], "spec": SPEC},
                                             headers=w.h("msp_admin")), 409, "already exists")
        assert body["errors"][0]["field"] == "name"
        assert_problem(await api.patch(path, json={"name": taken["name"]}, headers=w.h("msp_admin")), 409,
                       "already exists")
        assert_field(await api.patch(path, json={"spec": None}, headers=w.h("msp_admin")), "spec", "may not be null")
        assert_field(await api.patch(path, json={"spec": changed(SPEC, "time_zone", "Mars/Base")},
                                     headers=w.h("msp_admin")), "spec.time_zone")
        assert_field(await api.patch(path, json={"id": str(missing)}, headers=w.h("msp_admin")), "id", "Extra inputs")
        for method in ("GET", "PATCH", "DELETE"):
            resp = await api.request(method, f"{CALENDARS}/{missing}", json={}, headers=w.h("msp_admin"))
            assert_problem(resp, 404, f"calendar {missing} not found")
        assert_field(await api.get(f"{CALENDARS}/not-a-uuid", headers=w.h("msp_admin")), "path.calendar_id")
    assert row(engine, BusinessCalendarRow, uuid.UUID(other["id"])).name == other["name"]


# --- SLA definitions --------------------------------------------------------------------------------------------


async def test_sla_definition_lifecycle_and_single_default(api, engine, w):
    policy = await create(api, w, POLICIES, {"name": unique("Pol"), "document": POLICY})
    first = await create(api, w, DEFINITIONS, {"name": unique("Standard"), "document": DEFINITION,
                                               "escalation_policy_id": policy["id"], "is_default": True})
    assert first["is_default"] and first["escalation_policy_id"] == policy["id"]
    assert first["document"]["pause_statuses"] == ["waiting_customer"]  # defaults are stored explicitly
    assert first["document"]["targets"]["P1"]["calendar"] == "24x7"
    first_id = uuid.UUID(first["id"])
    [event] = audit_events(engine, first_id)
    assert (event.entity, event.action, event.tenant_id) == ("sla_definition", "created", None)
    assert event.data["document"]["targets"]["P3"]["resolution_minutes"] == 960

    second = await create(api, w, DEFINITIONS, {"name": unique("Premium"), "document": DEFINITION,
                                                "is_default": True})
    assert second["is_default"] and second["escalation_policy_id"] is None
    assert row(engine, SlaDefinitionRow, first_id).is_default is False
    assert audit_events(engine, first_id)[-1].data == {"is_default": False, "replaced_by": second["id"]}
    with Session(engine) as s:
        defaults = s.exec(select(SlaDefinitionRow.id).where(SlaDefinitionRow.is_default)).all()
    assert defaults == [uuid.UUID(second["id"])]

    path = f"{DEFINITIONS}/{first_id}"
    document = changed(DEFINITION, "warning_percent", 80)
    resp = await api.patch(path, json={"document": document, "escalation_policy_id": None, "is_default": True},
                           headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["document"]["warning_percent"], resp.json()["escalation_policy_id"]) == (80, None)
    assert row(engine, SlaDefinitionRow, uuid.UUID(second["id"])).is_default is False
    assert set(audit_events(engine, first_id)[-1].data) == {"document", "escalation_policy_id", "is_default"}

    for reader in ("msp_tech", "finance"):
        assert (await api.get(path, headers=w.h(reader))).json() == resp.json()
    listed = (await api.get(DEFINITIONS, params={"limit": 200}, headers=w.h("msp_tech"))).json()
    assert resp.json() in listed["items"]

    with nothing_written(engine):  # the default is moved, never removed
        assert_problem(await api.delete(path, headers=w.h("msp_admin")), 409,
                       f"SLA definition {first_id} cannot be deleted: it is the default SLA definition; "
                       "make another one the default first")
    resp = await api.patch(f"{DEFINITIONS}/{second['id']}", json={"is_default": True}, headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    assert (await api.delete(path, headers=w.h("msp_admin"))).status_code == 204
    assert row(engine, SlaDefinitionRow, first_id) is None
    assert audit_events(engine, first_id)[-1].action == "deleted"


async def test_the_default_sla_definition_cannot_be_unset(api, engine, w):
    default = await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION, "is_default": True})
    other = await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION})
    with nothing_written(engine):
        body = assert_problem(await api.patch(f"{DEFINITIONS}/{default['id']}", json={"is_default": False},
                                              headers=w.h("msp_admin")), 409,
                              "is_default: it is the default SLA definition; make another one the default first")
        assert body["errors"][0]["field"] == "is_default"
        # Unsetting a flag that is not set changes nothing.
        resp = await api.patch(f"{DEFINITIONS}/{other['id']}", json={"is_default": False}, headers=w.h("msp_admin"))
        assert resp.status_code == 200 and resp.json() == other
    assert row(engine, SlaDefinitionRow, uuid.UUID(default["id"])).is_default is True


async def test_sla_definition_in_use_cannot_be_deleted(api, engine, w):
    did = (await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION}))["id"]
    make_contract(engine, w.a, sla_definition_id=uuid.UUID(did))
    with nothing_written(engine):
        assert_problem(await api.delete(f"{DEFINITIONS}/{did}", headers=w.h("msp_admin")), 409,
                       f"SLA definition {did} is still used by 1 contract")


@pytest.mark.parametrize(("fields", "field", "fragment"), [
    ({"document": changed(DEFINITION, "pause_statuses", ["open"])}, "document.pause_statuses",
     "only waiting statuses can pause the clock"),
    ({"document": changed(DEFINITION, "warning_percent", 100)}, "document.warning_percent", "less than 100"),
    ({"document": changed(DEFINITION, "targets.P9", {"response_minutes": 5})}, "document.targets.P9",
     "Input should be 'P1', 'P2', 'P3' or 'P4'"),
    ({"document": changed(DEFINITION, "targets.P2.calendar", "weekdays")}, "document.targets.P2.calendar",
     "should match pattern"),
    ({"document": changed(DEFINITION, "targets.P3.response_minutes", 0)}, "document.targets.P3.response_minutes",
     "greater than 0"),
    ({"document": changed(DEFINITION, "name", "")}, "document.name", "at least 1 character"),
    ({"escalation_policy_id": "UNKNOWN"}, "escalation_policy_id", "no escalation policy"),
    ({"is_default": "maybe"}, "is_default", "valid boolean"),
    ({"name": "x" * 101}, "name", "at most 100 characters"),
])
async def test_create_sla_definition_rejects_bad_input(api, engine, w, fields, field, fragment):
    fields = {k: str(uuid.uuid4()) if v == "UNKNOWN" else v for k, v in fields.items()}
    with nothing_written(engine):
        resp = await api.post(DEFINITIONS, json={"name": unique("Std"), "document": DEFINITION} | fields,
                              headers=w.h("msp_admin"))
    assert_field(resp, field, fragment)


async def test_patch_sla_definition_rejects_bad_input(api, engine, w):
    taken = await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION})
    mine = await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION})
    path, missing = f"{DEFINITIONS}/{mine['id']}", uuid.uuid4()
    with nothing_written(engine):
        for fields, field in (({"is_default": None}, "is_default"), ({"document": None}, "document"),
                              ({"name": None}, "name"),
                              ({"escalation_policy_id": str(missing)}, "escalation_policy_id"),
                              ({"document": changed(DEFINITION, "targets.P1.update_minutes", -5)},
                               "document.targets.P1.update_minutes")):
            assert_field(await api.patch(path, json=fields, headers=w.h("msp_admin")), field)
        assert_problem(await api.patch(path, json={"name": taken["name"]}, headers=w.h("msp_admin")), 409,
                       "already exists")
        for method in ("GET", "PATCH", "DELETE"):
            resp = await api.request(method, f"{DEFINITIONS}/{missing}", json={}, headers=w.h("msp_admin"))
            assert_problem(resp, 404, f"SLA definition {missing} not found")
    assert (await api.get(path, headers=w.h("msp_admin"))).json() == mine


# --- escalation policies ----------------------------------------------------------------------------------------


async def test_policy_schema_is_published(api, w):
    resp = await api.get(f"{POLICIES}/schema", headers=w.h("msp_admin"))
    assert resp.status_code == 200
    schema = resp.json()
    assert schema["title"] == "EscalationPolicyDocument" and schema["required"] == ["name", "levels"]
    assert {"PercentUsed", "OnBreach", "NotifyEmail", "RaisePriority"} <= set(schema["$defs"])
    assert schema["$defs"]["PercentUsed"]["properties"]["percent"]["maximum"] == 100


async def test_validate_policy(api, engine, w):
    with nothing_written(engine):
        resp = await api.post(f"{POLICIES}/validate", json=POLICY, headers=w.h("msp_admin"))
    assert resp.status_code == 200 and resp.json() == {"valid": True, "levels": 4}


INVALID_POLICIES = [
    (changed(POLICY, "levels.1.trigger", {"type": "half_time"}), "levels.1.trigger",
     "Input tag 'half_time' found using 'type' does not match"),
    (changed(POLICY, "levels.0.trigger.percent", 150), "levels.0.trigger.percent", "less than or equal to 100"),
    (changed(POLICY, "levels.2.name", "warn-75"), "levels.2.name", "duplicate level name 'warn-75'"),
    (changed(POLICY, "levels.3.actions", []), "levels.3.actions", "at least 1 item"),
    (changed(POLICY, "levels.0.actions.0.to.0.role", "boss"), "levels.0.actions.0.to.0.role", "Input should be"),
    (changed(POLICY, "levels.3.actions.0.business_hours_only", True), "levels.3.actions.0.business_hours_only",
     "Input should be False"),
    (changed(POLICY, "levels.1.actions.0.url", "not a url"), "levels.1.actions.0.url", "valid URL"),
    (changed(POLICY, "levels.0.target", "first_reply"), "levels.0.target", "'response', 'resolution' or 'update'"),
    (changed(POLICY, "levels", []), "levels", "at least 1 item"),
    (changed(POLICY, "levels.0.conditions", {"priorities": ["P7"]}), "levels.0.conditions.priorities.0",
     "Input should be"),
]


@pytest.mark.parametrize(("document", "field", "fragment"), INVALID_POLICIES)
async def test_invalid_policies_point_at_the_field(api, engine, w, document, field, fragment):
    policy = await create(api, w, POLICIES, {"name": unique("Pol"), "document": POLICY})
    with nothing_written(engine):
        assert_field(await api.post(f"{POLICIES}/validate", json=document, headers=w.h("msp_admin")), field, fragment)
        resp = await api.post(POLICIES, json={"name": unique("Pol"), "document": document}, headers=w.h("msp_admin"))
        assert_field(resp, f"document.{field}", fragment)
        resp = await api.post(f"{POLICIES}/{policy['id']}/versions", json=document, headers=w.h("msp_admin"))
        assert_field(resp, field, fragment)


async def test_policy_versions_and_activation(api, engine, w):
    name = unique("Pol")
    created = await create(api, w, POLICIES, {"name": name, "document": POLICY})
    pid = uuid.UUID(created["id"])
    assert (created["name"], created["active_version_id"], created["active_version"], created["latest_version"]) == (
        name, None, None, 1)
    [v1] = created["versions"]
    assert (v1["version"], v1["active"], v1["activated_at"], v1["document"]["name"]) == (
        1, False, None, "Standard-Eskalation")
    assert v1["created_by_user_id"] == str(w.users["msp_admin"].id)
    [event] = audit_events(engine, pid)
    assert (event.entity, event.action, event.tenant_id) == ("escalation_policy", "created", None)
    assert event.data == {"name": name, "version": 1, "version_id": v1["id"], "levels": 4}

    draft = changed(POLICY, "levels.0.trigger.percent", 50)
    resp = await api.post(f"{POLICIES}/{pid}/versions", json=draft, headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text
    v2 = resp.json()
    assert (v2["version"], v2["active"], v2["document"]["levels"][0]["trigger"]["percent"]) == (2, False, 50)
    assert audit_events(engine, pid)[-1].data == {"version": 2, "version_id": v2["id"], "levels": 4}

    resp = await api.post(f"{POLICIES}/{pid}/versions/2/activate", headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    policy = resp.json()
    assert (policy["active_version_id"], policy["active_version"], policy["latest_version"]) == (v2["id"], 2, 2)
    assert [(v["version"], v["active"]) for v in policy["versions"]] == [(1, False), (2, True)]
    assert policy["versions"][1]["activated_at"] is not None
    assert row(engine, EscalationPolicy, pid).active_version_id == uuid.UUID(v2["id"])
    assert audit_events(engine, pid)[-1].data == {"version": 2, "version_id": v2["id"], "previous_version": None}

    # Activating the active version again changes nothing; going back to version 1 is recorded.
    assert (await api.post(f"{POLICIES}/{pid}/versions/2/activate", headers=w.h("msp_admin"))).json() == policy
    assert len(audit_events(engine, pid)) == 3
    resp = await api.post(f"{POLICIES}/{pid}/versions/1/activate", headers=w.h("msp_admin"))
    assert resp.json()["active_version"] == 1
    assert audit_events(engine, pid)[-1].data == {"version": 1, "version_id": v1["id"], "previous_version": 2}

    # Versions are immutable: version 2 still holds its document.
    resp = await api.get(f"{POLICIES}/{pid}/versions/2", headers=w.h("msp_admin"))
    assert resp.json()["document"] == v2["document"] and resp.json()["active"] is False
    full = (await api.get(f"{POLICIES}/{pid}", headers=w.h("msp_admin"))).json()
    assert [v["version"] for v in full["versions"]] == [1, 2] and full["active_version"] == 1
    listed = (await api.get(POLICIES, params={"limit": 200}, headers=w.h("msp_admin"))).json()
    [summary] = [p for p in listed["items"] if p["id"] == str(pid)]
    assert summary == {k: full[k] for k in summary} and "versions" not in summary
    with Session(engine) as s:
        versions = s.exec(select(EscalationPolicyVersion).where(EscalationPolicyVersion.policy_id == pid)).all()
    assert len(versions) == 2


async def test_policy_bad_names_and_unknown_ids(api, engine, w):
    taken = await create(api, w, POLICIES, {"name": unique("Pol"), "document": POLICY})
    missing = uuid.uuid4()
    with nothing_written(engine):
        body = assert_problem(await api.post(POLICIES, json={"name": taken["name"], "document": POLICY},
                                             headers=w.h("msp_admin")), 409, "already exists")
        assert body["errors"][0]["field"] == "name"
        assert_field(await api.post(POLICIES, json={"document": POLICY}, headers=w.h("msp_admin")), "name", "required")
        for method, path in (("GET", f"{POLICIES}/{missing}"), ("GET", f"{POLICIES}/{missing}/versions/1"),
                             ("POST", f"{POLICIES}/{missing}/versions"),
                             ("POST", f"{POLICIES}/{missing}/versions/1/activate")):
            resp = await api.request(method, path, json=POLICY, headers=w.h("msp_admin"))
            assert_problem(resp, 404, f"escalation policy {missing} not found")
        for method, suffix in (("GET", "versions/7"), ("POST", "versions/7/activate")):
            resp = await api.request(method, f"{POLICIES}/{taken['id']}/{suffix}", headers=w.h("msp_admin"))
            assert_problem(resp, 404, "has no version 7")
        assert_field(await api.get(f"{POLICIES}/{taken['id']}/versions/0", headers=w.h("msp_admin")),
                     "path.version", "greater than or equal to 1")


# --- roles ------------------------------------------------------------------------------------------------------


async def test_roles(api, engine, w):
    cal = await create(api, w, CALENDARS, {"name": unique("Kal"), "spec": SPEC})
    dfn = await create(api, w, DEFINITIONS, {"name": unique("Std"), "document": DEFINITION})
    pol = await create(api, w, POLICIES, {"name": unique("Pol"), "document": POLICY})
    reads = [("GET", CALENDARS, None), ("GET", f"{CALENDARS}/{cal['id']}", None),
             ("GET", DEFINITIONS, None), ("GET", f"{DEFINITIONS}/{dfn['id']}", None)]
    writes = [("POST", CALENDARS, {"name": unique("Kal"), "spec": SPEC}),
              ("PATCH", f"{CALENDARS}/{cal['id']}", {"name": "x"}), ("DELETE", f"{CALENDARS}/{cal['id']}", None),
              ("POST", DEFINITIONS, {"name": unique("Std"), "document": DEFINITION}),
              ("PATCH", f"{DEFINITIONS}/{dfn['id']}", {"is_default": True}),
              ("DELETE", f"{DEFINITIONS}/{dfn['id']}", None)]
    admin_only = [("GET", f"{POLICIES}/schema", None), ("POST", f"{POLICIES}/validate", POLICY),
                  ("GET", POLICIES, None), ("GET", f"{POLICIES}/{pol['id']}", None),
                  ("GET", f"{POLICIES}/{pol['id']}/versions/1", None),
                  ("POST", POLICIES, {"name": unique("Pol"), "document": POLICY}),
                  ("POST", f"{POLICIES}/{pol['id']}/versions", POLICY),
                  ("POST", f"{POLICIES}/{pol['id']}/versions/1/activate", None)]
    denied = {"msp_tech": writes + admin_only, "finance": writes + admin_only,
              "a_it": reads + writes + admin_only, "a_user": reads + writes + admin_only,
              "b_it": reads + writes + admin_only}
    with nothing_written(engine):
        for who, calls in denied.items():
            role = {"a_it": "customer_it", "b_it": "customer_it", "a_user": "customer_user"}.get(who, who)
            for method, path, body in calls:
                resp = await api.request(method, path, json=body, headers=w.h(who))
                assert_problem(resp, 403, f"role {role} may not do this")
        for method, path, body in reads:
            for who in ("msp_tech", "finance"):
                assert (await api.request(method, path, json=body, headers=w.h(who))).status_code == 200
    assert row(engine, EscalationPolicy, uuid.UUID(pol["id"])).active_version_id is None


@pytest.mark.parametrize(("method", "path"), [("GET", CALENDARS), ("POST", CALENDARS), ("GET", DEFINITIONS),
                                              ("POST", DEFINITIONS), ("GET", f"{POLICIES}/schema"),
                                              ("POST", POLICIES), ("POST", "/api/v1/sla/simulate")])
async def test_missing_or_invalid_key_is_unauthorized(api, engine, method, path):
    with nothing_written(engine):
        await assert_auth_required(api, method, path)
