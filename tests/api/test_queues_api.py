"""Queues: MSP queues and a customer's shared queue, their members, "my queues" and "unassigned in my queues",
moving a ticket between queues through its workflow, and the TicketQueue/TicketAssignee search attributes."""

import uuid

import pytest

from tests.api import assert_problem, audit_events
from tests.api.co_managed_support import people
from tests.factories import make_tenant

QUEUES, TICKETS = "/api/v1/queues", "/api/v1/tickets"


@pytest.fixture
def w(engine):
    tenants = {"a": make_tenant(engine, co_managed=True), "b": make_tenant(engine, co_managed=True)}
    w = people(engine, tenants, "admin tech a_it a_user b_it")
    return w | {"tag": uuid.uuid4().hex[:8]}


async def make_queue(api, w, name, tenant=None) -> dict:
    body = {"name": f"{name}-{w['tag']}", "display_name": name.title(), "tenant_id": str(tenant.id) if tenant else None}
    resp = await api.post(QUEUES, json=body, headers=w["admin_h"])
    assert resp.status_code == 201, resp.text
    return resp.json()


async def add_member(api, w, queue, who, status=200):
    resp = await api.put(f"{QUEUES}/{queue['id']}/members/{w[who].id}", headers=w["admin_h"])
    assert resp.status_code == status, resp.text
    return resp


async def ticket(api, w, tenant, queue, **body) -> dict:
    payload = {"title": "Drucker", "tenant_id": str(tenant.id), "queue": queue["name"]} | body
    resp = await api.post(TICKETS, json=payload, headers=w["tech_h"])
    assert resp.status_code == 201, resp.text
    return resp.json()


async def ids(api, w, who, **params) -> set[str]:
    resp = await api.get(f"{QUEUES}/mine/tickets", params=params, headers=w[who + "_h"])
    assert resp.status_code == 200, resp.text
    return {t["id"] for t in resp.json()["items"]}


async def test_my_queues_members_and_moves(api, env, engine, w):
    desk = await make_queue(api, w, "servicedesk")
    shared_a = await make_queue(api, w, "kunde-a-it", w["a"])
    shared_b = await make_queue(api, w, "kunde-b-it", w["b"])
    [created] = audit_events(engine, shared_a["id"])
    assert (created.action, created.tenant_id) == ("created", w["a"].id)
    await add_member(api, w, desk, "tech")
    await add_member(api, w, shared_a, "a_it")
    await add_member(api, w, shared_a, "a_it")  # again: still one membership
    await add_member(api, w, shared_a, "tech")
    # Customer IT joins its own customer's queue only; customer users join none; only admins add.
    assert_problem(await add_member(api, w, desk, "a_it", 422), 422, "user_id")
    assert_problem(await add_member(api, w, shared_b, "a_it", 422), 422, "user_id")
    assert_problem(await add_member(api, w, shared_a, "a_user", 422), 422, "user_id")
    resp = await api.put(f"{QUEUES}/{shared_a['id']}/members/{w['a_it'].id}", headers=w["tech_h"])
    assert_problem(resp, 403, "msp_admin")
    members = (await api.get(f"{QUEUES}/{shared_a['id']}/members", headers=w["a_it_h"])).json()
    assert {m["user_id"] for m in members["items"]} == {str(w["a_it"].id), str(w["tech"].id)}

    # Customer IT sees its customer's queues only.
    assert (await api.get(f"{QUEUES}/{shared_b['id']}", headers=w["a_it_h"])).status_code == 404
    assert_problem(await api.get(f"{QUEUES}/{shared_b['id']}/members", headers=w["a_it_h"]), 404, "not found")
    listed = {q["id"] for q in (await api.get(QUEUES, headers=w["a_it_h"])).json()["items"]}
    assert shared_a["id"] in listed and not listed & {desk["id"], shared_b["id"]}
    assert_problem(await api.get(QUEUES, headers=w["a_user_h"]), 403, "customer_it")

    t1 = await ticket(api, w, w["a"], desk)
    t2 = await ticket(api, w, w["a"], shared_a)
    t3 = await ticket(api, w, w["b"], desk)
    t4 = await ticket(api, w, w["b"], shared_b)
    assert t1["queue"] == desk["name"]
    resp = await api.post(
        TICKETS, json={"title": "x", "tenant_id": str(w["a"].id), "queue": shared_b["name"]}, headers=w["tech_h"]
    )
    assert_problem(resp, 422, "queue")

    assert await ids(api, w, "tech") == {t1["id"], t2["id"], t3["id"]}
    assert await ids(api, w, "a_it") == {t2["id"]}
    assert await ids(api, w, "b_it") == set()  # a member of no queue
    assert t4["id"] not in await ids(api, w, "tech")

    resp = await api.put(
        f"{TICKETS}/{t1['id']}/assignee", json={"assignee_user_id": str(w["tech"].id)}, headers=w["tech_h"]
    )
    assert resp.status_code == 200, resp.text
    assert await ids(api, w, "tech", unassigned=True) == {t2["id"], t3["id"]}
    described = await env.client.get_workflow_handle(f"ticket-{t1['id']}").describe()
    sa = {p.key.name: p.value for p in described.typed_search_attributes}
    assert (sa["TicketQueue"], list(sa["TicketAssignee"])) == (desk["name"], [str(w["tech"].id)])

    # Customer IT hands its ticket to the MSP's service desk: the queue holds it, nobody is assigned.
    await api.put(f"{TICKETS}/{t2['id']}/assignee", json={"assignee_user_id": str(w["a_it"].id)}, headers=w["a_it_h"])
    resp = await api.put(f"{TICKETS}/{t2['id']}/queue", json={"queue": desk["name"]}, headers=w["a_it_h"])
    assert resp.status_code == 200, resp.text
    assert (resp.json()["queue"], resp.json()["assignee_user_id"]) == (desk["name"], None)
    assert await ids(api, w, "a_it") == set()
    events = await api.get(f"{TICKETS}/{t2['id']}/events", params={"kind": "queue_changed"}, headers=w["a_it_h"])
    [moved] = events.json()["items"]
    assert (moved["data"]["from"], moved["data"]["to"]) == (shared_a["name"], desk["name"])
    described = await env.client.get_workflow_handle(f"ticket-{t2['id']}").describe()
    sa = {p.key.name: p.value for p in described.typed_search_attributes}
    assert (sa["TicketQueue"], list(sa["TicketAssignee"])) == (desk["name"], ["unassigned"])
    for who, path, body in [
        ("b_it", f"{TICKETS}/{t2['id']}/queue", {"queue": shared_b["name"]}),
        ("a_it", f"{TICKETS}/{t3['id']}/queue", {"queue": shared_a["name"]}),
    ]:
        assert_problem(await api.put(path, json=body, headers=w[who + "_h"]), 404, "not found")
    resp = await api.put(f"{TICKETS}/{t2['id']}/queue", json={"queue": shared_b["name"]}, headers=w["tech_h"])
    assert_problem(resp, 422, "queue")

    resp = await api.delete(f"{QUEUES}/{desk['id']}/members/{w['tech'].id}", headers=w["admin_h"])
    assert resp.status_code == 204
    assert await ids(api, w, "tech") == set()  # out of the service desk; its shared queue is empty since the move
    assert [e.action for e in audit_events(engine, desk["id"])] == ["created", "member_added", "member_removed"]
