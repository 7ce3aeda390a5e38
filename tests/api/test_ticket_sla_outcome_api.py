"""After resolving, the ticket-level SLA state is the outcome of its clocks (met / missed) in the API, the ticket
list's filter and the Temporal search attribute; a clock that never started says so instead of "ok"."""

from datetime import timedelta

from temporalio.common import SearchAttributeKey

from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_sla, make_tenant, make_user

DEFINITION = {
    "name": "Mit Aktualisierung",
    "targets": {"P2": {"response_minutes": 60, "resolution_minutes": 480, "update_minutes": 120, "calendar": "24x7"}},
}
SLA_STATE = SearchAttributeKey.for_keyword("SlaState")


async def _resolve(api, tech: str, tid: str) -> None:  # noqa: ANN001
    for status in ("in_progress", "resolved"):
        r = await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": status}, headers=auth(tech))
        assert r.status_code == 200, r.text


async def test_resolved_in_time_is_met_everywhere(api, env, engine):
    tenant = make_tenant(engine)
    make_sla(engine, tenant, DEFINITION)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_USER, tenant)
    body = {"title": "VPN", "priority": "P2"}
    tid = (await api.post("/api/v1/tickets", json=body, headers=auth(customer))).json()["id"]
    await _resolve(api, tech, tid)

    ticket = (await api.get(f"/api/v1/tickets/{tid}", headers=auth(tech))).json()
    assert ticket["sla_state"] == "met"
    sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(tech))).json()
    assert sla["state"] == "met"
    clocks = {c["kind"]: c for c in sla["clocks"]}
    assert clocks["response"]["state"] == "met" and clocks["resolution"]["state"] == "met"
    assert clocks["update"]["state"] == "not_started" and clocks["update"]["stopped_at"] is None
    listed = (
        await api.get("/api/v1/tickets", params={"sla_state": "met", "tenant_id": str(tenant.id)}, headers=auth(tech))
    ).json()
    assert [t["id"] for t in listed["items"]] == [tid]
    described = await env.client.get_workflow_handle(f"ticket-{tid}").describe()
    assert described.typed_search_attributes.get(SLA_STATE) == "met"


async def test_resolved_after_the_response_breach_is_missed(api, env, engine):
    tenant = make_tenant(engine)
    make_sla(engine, tenant, DEFINITION)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_USER, tenant)
    tid = (
        await api.post("/api/v1/tickets", json={"title": "Drucker", "priority": "P2"}, headers=auth(customer))
    ).json()["id"]
    await env.sleep(timedelta(minutes=61))
    assert (await api.get(f"/api/v1/tickets/{tid}", headers=auth(tech))).json()["sla_state"] == "breached"
    await _resolve(api, tech, tid)
    assert (await api.get(f"/api/v1/tickets/{tid}", headers=auth(tech))).json()["sla_state"] == "missed"
    described = await env.client.get_workflow_handle(f"ticket-{tid}").describe()
    assert described.typed_search_attributes.get(SLA_STATE) == "missed"
