"""Co-managed IT: what each role reads and writes on tickets and comments, per tenant. MSP staff see everything;
customer IT its tenant's shared tickets and co-managed notes there; customer users their own tickets' public
replies; no tenant sees another's, and disabling co-management or un-sharing a ticket takes effect at once."""

import pytest

from tests.api import assert_problem, audit_events
from tests.api.co_managed_support import people
from tests.factories import make_tenant

TICKETS = "/api/v1/tickets"


@pytest.fixture
def w(engine):
    tenants = {"a": make_tenant(engine), "b": make_tenant(engine), "c": make_tenant(engine)}
    return people(engine, tenants, "admin tech a_it a_user a_user2 b_it c_it")


async def co_manage(api, w, tenant, enabled=True, categories=None):
    body = {"enabled": enabled, "categories": categories}
    resp = await api.put(f"/api/v1/tenants/{tenant.id}/co-management", json=body, headers=w["admin_h"])
    assert resp.status_code == 200, resp.text
    return resp.json()


async def open_ticket(api, headers, **body) -> dict:
    resp = await api.post(TICKETS, json={"title": "Switch im 2. OG"} | body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def comment(api, tid, headers, body, visibility="public"):
    return await api.post(f"{TICKETS}/{tid}/comments", json={"body": body, "visibility": visibility}, headers=headers)


async def seen(api, path, headers) -> list:
    resp = await api.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


async def test_each_role_sees_exactly_its_share(api, engine, w):
    assert await co_manage(api, w, w["a"]) == {"enabled": True, "categories": None}
    await co_manage(api, w, w["b"])
    [event] = audit_events(engine, w["a"].id)
    assert (event.entity, event.data["after"]["enabled"]) == ("co_management", True)

    shared = await open_ticket(api, w["a_user_h"])
    assert shared["co_managed"] is True  # the tenant's default: every ticket
    msp_only = await open_ticket(api, w["tech_h"], tenant_id=str(w["a"].id), co_managed=False)
    foreign = await open_ticket(api, w["tech_h"], tenant_id=str(w["b"].id))
    not_co_managed = await open_ticket(api, w["tech_h"], tenant_id=str(w["c"].id))
    assert (foreign["co_managed"], not_co_managed["co_managed"]) == (True, False)

    tid = shared["id"]
    ids = {}
    for who, body, visibility in [
        ("tech", "Antwort", "public"),
        ("tech", "intern", "internal"),
        ("tech", "für die IT", "co_managed"),
        ("a_it", "IT an MSP", "co_managed"),
        ("a_it", "IT an Nutzer", "public"),
    ]:
        resp = await comment(api, tid, w[who + "_h"], body, visibility)
        assert resp.status_code == 201, resp.text
        ids[body] = resp.json()["id"]

    comments = f"{TICKETS}/{tid}/comments"
    everything = ["Antwort", "intern", "für die IT", "IT an MSP", "IT an Nutzer"]
    assert [c["body"] for c in await seen(api, comments, w["tech_h"])] == everything
    assert [c["body"] for c in await seen(api, comments, w["a_it_h"])] == [
        "Antwort",
        "für die IT",
        "IT an MSP",
        "IT an Nutzer",
    ]
    assert [c["body"] for c in await seen(api, comments, w["a_user_h"])] == ["Antwort", "IT an Nutzer"]
    events = {e["visibility"] for e in await seen(api, f"{TICKETS}/{tid}/events", w["a_it_h"])}
    assert events == {"public", "co_managed"}
    assert_problem(await api.get(f"{comments}/{ids['für die IT']}", headers=w["a_user_h"]), 404, "not found")
    assert_problem(await api.get(f"{comments}/{ids['intern']}", headers=w["a_it_h"]), 404, "not found")
    assert_problem(await comment(api, tid, w["a_user_h"], "x", "co_managed"), 403, "co-managed")
    assert_problem(await comment(api, tid, w["a_it_h"], "x", "internal"), 403, "internal notes")

    def ids_of(items):
        return {t["id"] for t in items}

    everyone = {shared["id"], msp_only["id"], foreign["id"], not_co_managed["id"]}
    assert everyone <= ids_of(await seen(api, f"{TICKETS}?limit=200", w["tech_h"]))
    assert ids_of(await seen(api, TICKETS, w["a_it_h"])) == {shared["id"]}
    assert ids_of(await seen(api, TICKETS, w["a_user_h"])) == {shared["id"]}
    assert ids_of(await seen(api, TICKETS, w["a_user2_h"])) == set()
    assert ids_of(await seen(api, TICKETS, w["b_it_h"])) == {foreign["id"]}
    assert ids_of(await seen(api, TICKETS, w["c_it_h"])) == set()
    for who, ticket in [
        ("a_it", msp_only),
        ("a_it", foreign),
        ("b_it", shared),
        ("a_user2", shared),
        ("c_it", not_co_managed),
        ("b_it", not_co_managed),
    ]:
        for path in ("", "/comments", "/events", "/sla"):
            assert_problem(await api.get(f"{TICKETS}/{ticket['id']}{path}", headers=w[who + "_h"]), 404, "not found")
        assert_problem(await comment(api, ticket["id"], w[who + "_h"], "x"), 404, "not found")

    # Customer IT works only what it sees: the MSP-only ticket cannot be assigned to it.
    resp = await api.put(
        f"{TICKETS}/{msp_only['id']}/assignee", json={"assignee_user_id": str(w["a_it"].id)}, headers=w["tech_h"]
    )
    assert_problem(resp, 422, "assignee_user_id", "share it first")

    # Only MSP staff share or un-share; un-shared, the ticket and its co-managed notes are gone for customer IT.
    path = f"{TICKETS}/{tid}/co-managed"
    assert_problem(await api.put(path, json={"co_managed": False}, headers=w["a_it_h"]), 403, "msp_tech")
    resp = await api.put(path, json={"co_managed": False, "reason": "Personalsache"}, headers=w["tech_h"])
    assert resp.status_code == 200 and resp.json()["co_managed"] is False
    assert_problem(await api.get(f"{TICKETS}/{tid}", headers=w["a_it_h"]), 404, "not found")
    [changed] = [
        e for e in await seen(api, f"{TICKETS}/{tid}/events", w["tech_h"]) if e["kind"] == "co_managed_changed"
    ]
    assert changed["body"] == "Personalsache" and changed["actor_user_id"] == str(w["tech"].id)

    # Disabling the customer's co-management hides every shared ticket from its IT at once.
    assert ids_of(await seen(api, TICKETS, w["b_it_h"])) == {foreign["id"]}
    await co_manage(api, w, w["b"], enabled=False)
    assert ids_of(await seen(api, TICKETS, w["b_it_h"])) == set()


async def test_defaults_by_category_and_who_may_change_them(api, engine, w):
    assert await co_manage(api, w, w["a"], categories=["Netzwerk", "Endgeräte", "Netzwerk"]) == {
        "enabled": True,
        "categories": ["Endgeräte", "Netzwerk"],
    }
    network = await open_ticket(api, w["tech_h"], tenant_id=str(w["a"].id), category="Netzwerk")
    erp = await open_ticket(api, w["tech_h"], tenant_id=str(w["a"].id), category="Fachanwendungen")
    assert (network["co_managed"], erp["co_managed"]) == (True, False)
    # Customer IT's own ticket stays its own, shared or not; customers cannot choose the sharing.
    own = await open_ticket(api, w["a_it_h"], category="Fachanwendungen")
    assert own["co_managed"] is False
    assert (await api.get(f"{TICKETS}/{own['id']}", headers=w["a_it_h"])).status_code == 200
    assert_problem(await comment(api, own["id"], w["a_it_h"], "x", "co_managed"), 403, "co-managed")
    resp = await api.post(TICKETS, json={"title": "x", "co_managed": True}, headers=w["a_it_h"])
    assert_problem(resp, 403, "co_managed")

    settings = f"/api/v1/tenants/{w['a'].id}/co-management"
    assert (await api.get(settings, headers=w["a_it_h"])).json()["enabled"] is True
    assert_problem(await api.get(settings, headers=w["b_it_h"]), 404, "not found")
    for who in ("tech", "a_it", "b_it"):
        assert_problem(await api.put(settings, json={"enabled": False}, headers=w[who + "_h"]), 403, "msp_admin")
    assert (await api.get(settings, headers=w["tech_h"])).json()["enabled"] is True
