"""GET /tickets/{id}/sla: live clocks from the running workflow, recorded outcomes once it has finished."""

from datetime import timedelta

from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_sla, make_tenant, make_user

DEFINITION = {"name": "24/7", "targets": {
    "P2": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"},
    "P3": {"response_minutes": 240, "resolution_minutes": 960, "calendar": "24x7"},
}}


async def test_sla_is_live_then_recorded(api, env, engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    make_sla(engine, tenant, DEFINITION)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_USER, tenant)
    _, stranger = make_user(engine, Role.CUSTOMER_IT, other)
    created = await api.post("/api/v1/tickets", json={"title": "Mailserver", "priority": "P2"}, headers=auth(customer))
    tid = created.json()["id"]
    assert created.json()["sla_state"] == "ok"

    await env.sleep(timedelta(minutes=50))
    sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(customer))).json()
    assert sla["live"] and sla["state"] == "warning" and sla["time_zone"] == "Europe/Berlin"
    response = next(c for c in sla["clocks"] if c["kind"] == "response")
    assert response["target_minutes"] == 60 and 49 <= response["business_minutes_used"] <= 51
    assert 9 <= response["business_minutes_remaining"] <= 11
    assert (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(stranger))).status_code == 404

    warning = (await api.get("/api/v1/tickets", params={"sla_state": "warning", "tenant_id": str(tenant.id)},
                             headers=auth(tech))).json()
    assert tid in [t["id"] for t in warning["items"]]

    # Resolved and closed: the workflow completes; the recorded outcome remains.
    for status in ("in_progress", "resolved", "closed"):
        r = await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": status}, headers=auth(tech))
        assert r.status_code == 200, r.text
    await env.sleep(timedelta(seconds=5))
    done = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(tech))).json()
    clocks = {c["kind"]: c for c in done["clocks"]}
    assert clocks["response"]["met"] is True and clocks["response"]["state"] == "met"
    assert clocks["resolution"]["met"] is True


async def test_ticket_without_sla_says_none(api, env, engine):
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    tid = (await api.post("/api/v1/tickets", json={"title": "Ohne SLA"}, headers=auth(key))).json()["id"]
    sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(key))).json()
    assert sla["state"] == "none" and sla["clocks"] == []
