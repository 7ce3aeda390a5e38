"""The incident list and one id everywhere: filters, pagination, the `incident-` prefix, staff only, and the reason
shown when an incident has no containment proposal."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api.routes.soc.incidents import _containment_note
from domain.roles import Role
from models import SocAlert, SocIncident
from tests.conftest import auth
from tests.factories import make_soc_integration, make_tenant, make_user

INCIDENTS = "/api/v1/soc/incidents"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _incident(engine, tenant, priority: str, status: str = "open", minutes: int = 0, integration=None) -> str:  # noqa: ANN001
    key = f"{tenant.customer_number}-{uuid.uuid4().hex[:12]}"
    with Session(engine) as s:
        s.add(
            SocIncident(
                key=key,
                tenant_id=tenant.id,
                status=status,
                priority=priority,
                title=f"Bedrohung {key}",
                alert_count=1,
                first_alert_at=T0 + timedelta(minutes=minutes),
                last_alert_at=T0 + timedelta(minutes=minutes),
            )
        )
        if integration is not None:
            s.add(
                SocAlert(
                    dedupe_key=f"{integration.source}:{integration.id}:{key}",
                    tenant_id=tenant.id,
                    integration_id=integration.id,
                    source=integration.source,
                    vendor_alert_id=key,
                    incident_key=key,
                    title="Bedrohung",
                    severity="high",
                    verdict="malicious",
                    normalized={},
                    raw={},
                    vendor_status="new",
                    detected_at=T0,
                )
            )
        s.commit()
    return key


async def test_list_filters_by_customer_priority_status_and_time(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    a, b = make_tenant(engine), make_tenant(engine)
    p1 = _incident(engine, a, "P1", minutes=10)
    p3 = _incident(engine, a, "P3", status="closed", minutes=20)
    other = _incident(engine, b, "P1", minutes=30)

    r = await api.get(INCIDENTS, headers=auth(admin), params={"customer_number": a.customer_number})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["key"] for i in body["items"]] == [p3, p1] and body["total"] == 2  # newest alert first
    assert body["items"][0]["workflow_id"] == f"incident-{p3}"

    r = await api.get(INCIDENTS, headers=auth(admin), params={"tenant_id": str(a.id), "priority": "P1"})
    assert [i["key"] for i in r.json()["items"]] == [p1]
    r = await api.get(INCIDENTS, headers=auth(admin), params={"tenant_id": str(a.id), "status": "closed"})
    assert [i["key"] for i in r.json()["items"]] == [p3]
    window = {"from": (T0 + timedelta(minutes=15)).isoformat(), "to": (T0 + timedelta(minutes=31)).isoformat()}
    r = await api.get(INCIDENTS, headers=auth(admin), params={"priority": "P1", **window})
    keys = [i["key"] for i in r.json()["items"]]
    assert other in keys and p1 not in keys

    r = await api.get(INCIDENTS, headers=auth(admin), params={"customer_number": a.customer_number, "limit": 1})
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1


async def test_bad_filters_are_refused_with_the_field(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    r = await api.get(INCIDENTS, headers=auth(admin), params={"status": "done"})
    assert r.status_code == 422 and "status" in r.json()["detail"]
    r = await api.get(INCIDENTS, headers=auth(admin), params={"from": "2026-11-20T10:00:00"})  # no zone
    assert r.status_code == 422 and "from" in r.json()["detail"]
    later, earlier = (T0 + timedelta(hours=1)).isoformat(), T0.isoformat()
    r = await api.get(INCIDENTS, headers=auth(admin), params={"from": later, "to": earlier})
    assert r.status_code == 422 and r.json()["detail"].startswith("to:")


async def test_customer_roles_cannot_list_incidents(api, engine):
    tenant = make_tenant(engine)
    _, customer_it = make_user(engine, Role.CUSTOMER_IT, tenant)
    r = await api.get(INCIDENTS, headers=auth(customer_it))
    assert r.status_code == 403


async def test_one_incident_under_its_key_or_its_workflow_id_with_the_containment_reason(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    tenant = make_tenant(engine)
    without_credentials = make_soc_integration(engine, tenant)  # SentinelOne, no credentials_ref
    p1 = _incident(engine, tenant, "P1", status="closed", integration=without_credentials)
    p2 = _incident(engine, tenant, "P2")
    for ident in (p1, f"incident-{p1}"):
        r = await api.get(f"{INCIDENTS}/{ident}", headers=auth(admin))
        assert r.status_code == 200 and r.json()["key"] == p1, r.text
    # No workflow runs for these rows: a closed incident says so, an open one that cannot be asked says that.
    assert "closed" in r.json()["containment_note"] and r.json()["containment"] is None
    r = await api.get(f"{INCIDENTS}/{p2}", headers=auth(admin))
    assert "cannot be asked now" in r.json()["containment_note"]
    r = await api.get(f"{INCIDENTS}/incident-{p2}/lifecycle", headers=auth(admin))
    assert r.status_code == 200 and r.json()["key"] == p2


def test_the_containment_reason_names_what_is_missing(engine):
    tenant = make_tenant(engine)
    s1_without_credentials = make_soc_integration(engine, tenant)
    s1 = make_soc_integration(engine, tenant, credentials_ref="s1prod")
    rocket = make_soc_integration(engine, tenant, source="rocketcyber", name="RC")
    cases = {
        _incident(engine, tenant, "P2", integration=s1): "P1 incidents only",
        _incident(engine, tenant, "P1", integration=rocket): "SentinelOne integrations only",
        _incident(engine, tenant, "P1", integration=s1_without_credentials): "no API credentials",
        _incident(engine, tenant, "P1", integration=s1): "names no SentinelOne agent",
    }
    with Session(engine) as s:
        for key, reason in cases.items():
            assert reason in _containment_note(s, s.get(SocIncident, key), live=True)


async def test_time_filters_at_the_edge_of_the_range_are_refused(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    for name, value in (("from", "0001-01-01T00:00:00+14:00"), ("to", "9999-12-31T23:59:59-14:00")):
        r = await api.get(INCIDENTS, headers=auth(admin), params={name: value})
        assert r.status_code == 422 and r.json()["detail"].startswith(f"{name}: must lie between"), r.text
