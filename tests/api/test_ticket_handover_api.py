"""Hand-over between the customer's IT and the MSP through the ticket workflow (time-skipping server): the MSP's
clocks pause while the customer's IT holds the ticket, the outcome shows that time apart, the events say who
handed over and why; refused for customer users, for unshared tickets and for other tenants."""

from datetime import timedelta

import pytest

from tests.api import assert_problem
from tests.api.co_managed_support import people
from tests.factories import make_sla, make_tenant

TICKETS = "/api/v1/tickets"
# 24x7, so the time-skipping server's clock (any weekday, any hour) gives exact minutes.
DEFINITION = {
    "name": "Co-managed",
    "targets": {"P2": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"}},
}


@pytest.fixture
def w(engine):
    a, b = make_tenant(engine, co_managed=True), make_tenant(engine, co_managed=True)
    make_sla(engine, a, DEFINITION)
    return people(engine, {"a": a, "b": b}, "admin tech a_it a_user b_it")


async def post(api, w, who, tid, action, reason="x"):
    return await api.post(f"{TICKETS}/{tid}/{action}", json={"reason": reason}, headers=w[who + "_h"])


async def test_customer_it_time_pauses_the_msps_clock(api, env, w):
    resp = await api.post(TICKETS, json={"title": "Firewall-Regel", "priority": "P2"}, headers=w["a_user_h"])
    tid = resp.json()["id"]
    await env.sleep(timedelta(minutes=10))
    resp = await post(api, w, "a_it", tid, "hand-back-to-customer", "Machen wir selbst: Regel im eigenen Netz")
    assert resp.status_code == 200, resp.text
    assert resp.json()["customer_it_holds"] is True
    sla = (await api.get(f"{TICKETS}/{tid}/sla", headers=w["tech_h"])).json()
    assert sla["state"] == "paused"
    assert_problem(await post(api, w, "tech", tid, "hand-back-to-customer"), 409, "holds the ticket already")

    await env.sleep(timedelta(hours=5))  # far past the 60-minute response target: no breach, it is not the MSP's
    assert (await api.get(f"{TICKETS}/{tid}", headers=w["tech_h"])).json()["sla_state"] == "paused"
    resp = await post(api, w, "a_it", tid, "escalate-to-msp", "Braucht Zugang zur Firewall")
    assert resp.status_code == 200 and resp.json()["customer_it_holds"] is False
    await env.sleep(timedelta(minutes=20))
    for to in ("in_progress", "resolved"):
        resp = await api.post(f"{TICKETS}/{tid}/transitions", json={"to_status": to}, headers=w["tech_h"])
        assert resp.status_code == 200, resp.text

    clocks = {c["kind"]: c for c in (await api.get(f"{TICKETS}/{tid}/sla", headers=w["tech_h"])).json()["clocks"]}
    response = clocks["response"]
    # 10 + 20 minutes the MSP was responsible (a minute of slack for the calls themselves); 5 h were customer IT's.
    assert 30 <= response["business_minutes_used"] <= 31 and response["met"] is True
    assert response["paused_minutes"] == response["customer_it_minutes"] == 300
    assert clocks["resolution"]["customer_it_minutes"] == 300 and clocks["resolution"]["met"] is True

    kinds = ["handed_back_to_customer", "escalated_to_msp"]
    events = (await api.get(f"{TICKETS}/{tid}/events", params={"kind": kinds}, headers=w["a_it_h"])).json()["items"]
    assert [(e["kind"], e["body"], e["actor_user_id"]) for e in events] == [
        ("handed_back_to_customer", "Machen wir selbst: Regel im eigenen Netz", str(w["a_it"].id)),
        ("escalated_to_msp", "Braucht Zugang zur Firewall", str(w["a_it"].id)),
    ]
    assert [e["data"]["to"] for e in events] == ["customer_it", "msp"]
    # The customer's users do not see the MSP and its IT passing the ticket between them.
    seen = (await api.get(f"{TICKETS}/{tid}/events", params={"kind": kinds}, headers=w["a_user_h"])).json()
    assert seen["items"] == []


async def test_hand_over_refusals(api, w):
    shared = (await api.post(TICKETS, json={"title": "Drucker"}, headers=w["a_user_h"])).json()["id"]
    body = {"title": "Gehalt", "tenant_id": str(w["a"].id), "co_managed": False}
    unshared = (await api.post(TICKETS, json=body, headers=w["tech_h"])).json()["id"]
    assert_problem(await post(api, w, "a_user", shared, "hand-back-to-customer"), 403, "customer_it")
    assert_problem(await post(api, w, "b_it", shared, "hand-back-to-customer"), 404, "not found")
    assert_problem(await post(api, w, "tech", unshared, "hand-back-to-customer"), 409, "not co-managed")
    assert_problem(await post(api, w, "a_it", unshared, "escalate-to-msp"), 404, "not found")
    assert_problem(await post(api, w, "tech", shared, "escalate-to-msp"), 409, "holds the ticket already")
    resp = await api.post(f"{TICKETS}/{shared}/escalate-to-msp", json={"reason": ""}, headers=w["tech_h"])
    assert_problem(resp, 422, "reason")

    # Held by the customer's IT, its customer's co-management cannot be switched off; un-sharing the ticket gives it
    # back to the MSP.
    assert (await post(api, w, "a_it", shared, "hand-back-to-customer")).json()["customer_it_holds"] is True
    params = {"customer_it_holds": "true", "tenant_id": str(w["a"].id)}
    held = (await api.get(TICKETS, params=params, headers=w["tech_h"])).json()["items"]
    assert [t["id"] for t in held] == [shared]
    settings = f"/api/v1/tenants/{w['a'].id}/co-management"
    resp = await api.put(settings, json={"enabled": False}, headers=w["admin_h"])
    assert_problem(resp, 409, "holds 1 open ticket")
    resp = await api.put(f"{TICKETS}/{shared}/co-managed", json={"co_managed": False}, headers=w["tech_h"])
    assert (resp.json()["co_managed"], resp.json()["customer_it_holds"]) == (False, False)
    kinds = [e["kind"] for e in (await api.get(f"{TICKETS}/{shared}/events", headers=w["tech_h"])).json()["items"]]
    assert kinds[-3:] == ["handed_back_to_customer", "co_managed_changed", "escalated_to_msp"]
    assert (await api.put(settings, json={"enabled": False}, headers=w["admin_h"])).status_code == 200
