"""Ticket routes end to end: API -> Temporal update -> activity -> database, on both databases."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from domain.roles import Role
from models import Ticket, TicketEvent, TimeEntry
from tests.conftest import auth
from tests.factories import make_tenant, make_user

PROBLEM = "application/problem+json"


@pytest.fixture
def world(engine):
    """Two co-managed customers, each with a customer user and customer IT, plus MSP staff."""
    a, b = make_tenant(engine, co_managed=True), make_tenant(engine, co_managed=True)
    w = {"a": a, "b": b}
    for name, role, tenant in [
        ("tech", Role.MSP_TECH, None),
        ("admin", Role.MSP_ADMIN, None),
        ("finance", Role.FINANCE, None),
        ("a_user", Role.CUSTOMER_USER, a),
        ("a_user2", Role.CUSTOMER_USER, a),
        ("a_it", Role.CUSTOMER_IT, a),
        ("b_user", Role.CUSTOMER_USER, b),
        ("b_it", Role.CUSTOMER_IT, b),
    ]:
        w[name], w[name + "_key"] = make_user(engine, role, tenant)
    return w


async def create(api, key, **body):
    payload = {"title": "VPN verbindet nicht", "description": "Seit heute früh", "priority": "P2"} | body
    return await api.post("/api/v1/tickets", json=payload, headers=auth(key))


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def assert_problem(resp, status: int, text: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert text in resp.json()["detail"], resp.json()


async def test_customer_creates_ticket_and_msp_sees_it(api, engine, world):
    resp = await create(api, world["a_user_key"])
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "new" and body["tenant_id"] == str(world["a"].id)
    assert body["requester_user_id"] == str(world["a_user"].id)
    assert resp.headers["location"] == f"/api/v1/tickets/{body['id']}"
    got = await api.get(f"/api/v1/tickets/{body['id']}", headers=auth(world["tech_key"]))
    assert got.status_code == 200 and got.json()["number"] == body["number"]


async def test_msp_must_name_an_existing_tenant(api, engine, world):
    before = count(engine, Ticket)
    assert_problem(await create(api, world["tech_key"]), 422, "tenant_id")
    assert_problem(await create(api, world["tech_key"], tenant_id=str(uuid.uuid4())), 422, "no tenant")
    resp = await create(api, world["tech_key"], tenant_id=str(world["b"].id))
    assert resp.status_code == 201
    assert count(engine, Ticket) == before + 1


async def test_idempotency_key_returns_same_ticket(api, engine, world):
    headers = auth(world["a_it_key"]) | {"Idempotency-Key": "mail-4711"}
    payload = {"title": "Drucker", "priority": "P3"}
    first = await api.post("/api/v1/tickets", json=payload, headers=headers)
    second = await api.post("/api/v1/tickets", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and second.headers["idempotent-replayed"] == "true"
    other = await api.post("/api/v1/tickets", json=payload | {"title": "Anderes"}, headers=headers)
    assert_problem(other, 409, "Idempotency-Key")
    with Session(engine) as s:
        assert s.exec(select(func.count()).where(Ticket.idempotency_key == "mail-4711")).one() == 1


async def test_lifecycle_through_the_api(api, engine, world):
    tid = (await create(api, world["a_user_key"])).json()["id"]
    tech = auth(world["tech_key"])
    r = await api.put(f"/api/v1/tickets/{tid}/assignee", json={"assignee_user_id": str(world["tech"].id)}, headers=tech)
    assert r.status_code == 200 and r.json()["assignee_user_id"] == str(world["tech"].id)
    r = await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": "waiting_customer"}, headers=tech)
    assert r.json()["status"] == "waiting_customer"
    r = await api.post(
        f"/api/v1/tickets/{tid}/comments", json={"body": "Neustart hat geholfen"}, headers=auth(world["a_user_key"])
    )
    assert r.status_code == 201 and r.json()["body"] == "Neustart hat geholfen"
    assert (await api.get(f"/api/v1/tickets/{tid}", headers=tech)).json()["status"] == "open"
    r = await api.post(
        f"/api/v1/tickets/{tid}/comments", json={"body": "intern", "visibility": "internal"}, headers=tech
    )
    assert r.status_code == 201
    r = await api.put(f"/api/v1/tickets/{tid}/priority", json={"priority": "P1"}, headers=tech)
    assert r.json()["priority"] == "P1"
    started = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    r = await api.post(f"/api/v1/tickets/{tid}/time-entries", json={"started_at": started, "minutes": 15}, headers=tech)
    assert r.status_code == 201
    times = await api.get(f"/api/v1/tickets/{tid}/time-entries", headers=auth(world["finance_key"]))
    assert [t["minutes"] for t in times.json()["items"]] == [15]
    r = await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": "resolved"}, headers=tech)
    assert r.json()["status"] == "resolved" and r.json()["resolved_at"]
    r = await api.post(
        f"/api/v1/tickets/{tid}/transitions", json={"to_status": "closed"}, headers=auth(world["a_user_key"])
    )
    assert r.json()["status"] == "closed"
    # The customer sees the public history only; the technician sees the internal note too.
    customer_events = (await api.get(f"/api/v1/tickets/{tid}/events", headers=auth(world["a_user_key"]))).json()
    tech_events = (await api.get(f"/api/v1/tickets/{tid}/events?limit=200", headers=tech)).json()
    assert "intern" not in [e["body"] for e in customer_events["items"]]
    assert "intern" in [e["body"] for e in tech_events["items"]]
    assert tech_events["total"] == 10


async def test_invalid_transition_is_409_and_writes_nothing(api, engine, world):
    tid = (await create(api, world["a_user_key"])).json()["id"]
    before = count(engine, TicketEvent)
    r = await api.post(
        f"/api/v1/tickets/{tid}/transitions", json={"to_status": "closed"}, headers=auth(world["tech_key"])
    )
    assert_problem(r, 409, "cannot change status from new to closed")
    r = await api.post(
        f"/api/v1/tickets/{tid}/transitions", json={"to_status": "in_progress"}, headers=auth(world["a_user_key"])
    )
    assert_problem(r, 409, "customer users may only")
    assert count(engine, TicketEvent) == before


async def test_other_tenant_gets_404_everywhere(api, engine, world):
    tid = (await create(api, world["a_user_key"])).json()["id"]
    before = count(engine, TicketEvent)
    for key in ("b_user_key", "b_it_key"):
        h = auth(world[key])
        assert_problem(await api.get(f"/api/v1/tickets/{tid}", headers=h), 404, "not found")
        assert_problem(await api.get(f"/api/v1/tickets/{tid}/events", headers=h), 404, "not found")
        assert_problem(
            await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": "open"}, headers=h),
            404,
            "not found",
        )
        assert_problem(
            await api.post(f"/api/v1/tickets/{tid}/comments", json={"body": "x"}, headers=h), 404, "not found"
        )
        listed = (await api.get("/api/v1/tickets?limit=200", headers=h)).json()["items"]
        assert tid not in [t["id"] for t in listed]
        assert {t["tenant_id"] for t in listed} <= {str(world["b"].id)}
    b_it = auth(world["b_it_key"])
    assert_problem(
        await api.put(f"/api/v1/tickets/{tid}/assignee", json={"assignee_user_id": None}, headers=b_it),
        404,
        "not found",
    )
    # Creating for another tenant looks like an unknown tenant.
    assert_problem(await create(api, world["b_it_key"], tenant_id=str(world["a"].id)), 404, "not found")
    assert count(engine, TicketEvent) == before


async def test_customer_user_sees_only_own_tickets_customer_it_sees_co_managed_tenant(api, world):
    mine = (await create(api, world["a_user_key"])).json()["id"]
    theirs = (await create(api, world["a_user2_key"])).json()["id"]
    assert_problem(await api.get(f"/api/v1/tickets/{theirs}", headers=auth(world["a_user_key"])), 404, "not found")
    own = {
        t["id"] for t in (await api.get("/api/v1/tickets?limit=200", headers=auth(world["a_user_key"]))).json()["items"]
    }
    assert mine in own and theirs not in own
    it = {
        t["id"] for t in (await api.get("/api/v1/tickets?limit=200", headers=auth(world["a_it_key"]))).json()["items"]
    }
    assert {mine, theirs} <= it


async def test_list_filters_and_pagination(api, world):
    h = auth(world["b_it_key"])
    ids = [
        (await create(api, world["b_it_key"], title=f"Filter {i}", priority=p)).json()["id"]
        for i, p in enumerate(["P1", "P4", "P1"])
    ]
    r = (await api.get("/api/v1/tickets", params={"priority": "P1", "q": "filter"}, headers=h)).json()
    assert {t["id"] for t in r["items"]} == {ids[0], ids[2]} and r["total"] == 2
    page = (await api.get("/api/v1/tickets", params={"q": "filter", "limit": 1, "offset": 1}, headers=h)).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["id"] == ids[1]


BAD_REQUESTS = [
    ("post", "/api/v1/tickets", {"title": ""}, 422, "title"),
    ("post", "/api/v1/tickets", {"title": "x" * 201}, 422, "title"),
    ("post", "/api/v1/tickets", {"title": "ok", "priority": "P9"}, 422, "priority"),
    ("post", "/api/v1/tickets", {"title": "ok", "unknown": 1}, 422, "unknown"),
    ("post", "/api/v1/tickets", {"title": 5}, 422, "title"),
    ("post", "/api/v1/tickets", {"title": "ok", "requester_user_id": "not-a-uuid"}, 422, "requester_user_id"),
    ("post", "/api/v1/tickets", {"title": "ok", "description": "x" * 20_001}, 422, "description"),
    ("post", "/api/v1/tickets", {"title": "ok", "requester_user_id": str(uuid.uuid4())}, 422, "requester_user_id"),
    ("post", "/api/v1/tickets/{tid}/transitions", {"to_status": "gone"}, 422, "to_status"),
    ("post", "/api/v1/tickets/{tid}/transitions", {}, 422, "to_status"),
    ("post", "/api/v1/tickets/{other}/transitions", {"to_status": "open"}, 404, "not found"),
    ("post", "/api/v1/tickets/not-a-uuid/transitions", {"to_status": "open"}, 422, "ticket_id"),
    ("post", "/api/v1/tickets/{tid}/comments", {"body": ""}, 422, "body"),
    ("post", "/api/v1/tickets/{tid}/comments", {"body": "x", "visibility": "secret"}, 422, "visibility"),
    ("put", "/api/v1/tickets/{tid}/assignee", {"assignee_user_id": "{b_user}"}, 422, "assignee_user_id"),
    ("put", "/api/v1/tickets/{tid}/assignee", {"assignee_user_id": "{a_user}"}, 422, "assignee_user_id"),
    ("put", "/api/v1/tickets/{tid}/priority", {"priority": 1}, 422, "priority"),
    (
        "post",
        "/api/v1/tickets/{tid}/time-entries",
        {"started_at": "2026-01-01T10:00:00", "minutes": 5},
        422,
        "started_at",
    ),
    ("post", "/api/v1/tickets/{tid}/time-entries", {"started_at": "2099-01-01T10:00:00Z", "minutes": 5}, 422, "future"),
    (
        "post",
        "/api/v1/tickets/{tid}/time-entries",
        {"started_at": "2026-01-01T10:00:00Z", "minutes": 0},
        422,
        "minutes",
    ),
    (
        "post",
        "/api/v1/tickets/{tid}/time-entries",
        {"started_at": "2026-01-01T10:00:00Z", "minutes": 5, "user_id": "{b_user}"},
        403,
        "msp_admin",
    ),
    ("post", "/api/v1/tickets", {"title": "nul\x00byte"}, 422, "control characters"),
    ("post", "/api/v1/tickets/{tid}/comments", {"body": "a\x00b"}, 422, "control characters"),
    ("get", "/api/v1/tickets?q=a%00b", None, 422, "control characters"),
    ("get", "/api/v1/tickets?limit=0", None, 422, "limit"),
    ("get", "/api/v1/tickets?status=nonsense", None, 422, "status"),
    ("get", "/api/v1/tickets?created_from=2026-01-01T00:00:00", None, 422, "time zone"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "text"), BAD_REQUESTS)
async def test_bad_input_is_a_problem_and_writes_nothing(api, engine, world, method, path, body, status, text):
    tid = (await create(api, world["a_user_key"])).json()["id"]
    other = (await create(api, world["b_user_key"])).json()["id"]
    fill = {"tid": tid, "other": other, "b_user": str(world["b_user"].id), "a_user": str(world["a_user"].id)}
    path = path.format(**fill)
    if body:
        body = {k: (v.format(**fill) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    before = (count(engine, Ticket), count(engine, TicketEvent), count(engine, TimeEntry))
    resp = await api.request(method, path, json=body, headers=auth(world["a_it_key"]))
    assert_problem(resp, status, text)
    assert (count(engine, Ticket), count(engine, TicketEvent), count(engine, TimeEntry)) == before


async def test_auth_roles_and_malformed_bodies(api, engine, world):
    before = count(engine, Ticket)
    assert_problem(await api.post("/api/v1/tickets", json={"title": "x"}), 401, "missing API key")
    assert_problem(await api.get("/api/v1/tickets", headers=auth("psa_wrong")), 401, "invalid")
    assert_problem(await create(api, world["finance_key"], tenant_id=str(world["a"].id)), 403, "finance")
    raw = await api.post(
        "/api/v1/tickets", content=b"{not json", headers=auth(world["a_it_key"]) | {"content-type": "application/json"}
    )
    assert raw.status_code == 422 and raw.headers["content-type"].startswith(PROBLEM)
    big = await api.post(
        "/api/v1/tickets",
        content=b"x" * (1024 * 1024 + 1),
        headers=auth(world["a_it_key"]) | {"content-type": "application/json"},
    )
    assert_problem(big, 413, "exceeds")
    tid = (await create(api, world["a_user_key"])).json()["id"]
    assert_problem(
        await api.post(
            f"/api/v1/tickets/{tid}/comments",
            json={"body": "x", "visibility": "internal"},
            headers=auth(world["a_user_key"]),
        ),
        403,
        "internal",
    )
    assert_problem(
        await api.put(f"/api/v1/tickets/{tid}/priority", json={"priority": "P1"}, headers=auth(world["a_user_key"])),
        403,
        "customer_user",
    )
    assert count(engine, Ticket) == before + 1
