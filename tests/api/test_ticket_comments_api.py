"""Comments and time entries answer with what they created (201 + Location); comments are readable by visibility."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_tenant, make_user


@pytest.fixture
def world(engine):
    a, b = make_tenant(engine, co_managed=True), make_tenant(engine, co_managed=True)
    w = {"a": a}
    for name, role, tenant in [
        ("tech", Role.MSP_TECH, None),
        ("finance", Role.FINANCE, None),
        ("a_user", Role.CUSTOMER_USER, a),
        ("a_it", Role.CUSTOMER_IT, a),
        ("b_it", Role.CUSTOMER_IT, b),
    ]:
        w[name], w[name + "_key"] = make_user(engine, role, tenant)
    return w


async def open_ticket(api, world) -> str:
    resp = await api.post("/api/v1/tickets", json={"title": "Mail kommt nicht an"}, headers=auth(world["a_user_key"]))
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def test_comment_answers_201_with_the_comment_and_its_location(api, world):
    tid = await open_ticket(api, world)
    resp = await api.post(
        f"/api/v1/tickets/{tid}/comments", json={"body": "Bitte Postfach prüfen"}, headers=auth(world["tech_key"])
    )
    assert resp.status_code == 201, resp.text
    comment = resp.json()
    assert comment["body"] == "Bitte Postfach prüfen" and comment["visibility"] == "public"
    assert comment["author_user_id"] == str(world["tech"].id) and comment["author_role"] == "msp_tech"
    assert comment["ticket_id"] == tid
    assert resp.headers["location"] == f"/api/v1/tickets/{tid}/comments/{comment['id']}"
    again = await api.get(resp.headers["location"], headers=auth(world["a_user_key"]))
    assert again.status_code == 200 and again.json() == comment


async def test_comments_are_listed_by_visibility_for_the_callers_role(api, world):
    tid = await open_ticket(api, world)
    tech, it = auth(world["tech_key"]), auth(world["a_it_key"])
    await api.post(f"/api/v1/tickets/{tid}/comments", json={"body": "Antwort"}, headers=tech)
    internal = await api.post(
        f"/api/v1/tickets/{tid}/comments", json={"body": "intern: Spamfilter", "visibility": "internal"}, headers=tech
    )
    await api.post(f"/api/v1/tickets/{tid}/comments", json={"body": "Danke"}, headers=it)
    listed = await api.get(f"/api/v1/tickets/{tid}/comments", headers=tech)
    assert [c["body"] for c in listed.json()["items"]] == ["Antwort", "intern: Spamfilter", "Danke"]
    only_internal = await api.get(f"/api/v1/tickets/{tid}/comments?visibility=internal", headers=tech)
    assert [c["body"] for c in only_internal.json()["items"]] == ["intern: Spamfilter"]
    for customer in ("a_it_key", "a_user_key"):
        seen = await api.get(f"/api/v1/tickets/{tid}/comments", headers=auth(world[customer]))
        assert [c["body"] for c in seen.json()["items"]] == ["Antwort", "Danke"]
        # The internal note is not there for a customer, not even under its own address.
        hidden = await api.get(f"/api/v1/tickets/{tid}/comments/{internal.json()['id']}", headers=auth(world[customer]))
        assert hidden.status_code == 404
    # Another customer does not even learn the ticket exists.
    assert (await api.get(f"/api/v1/tickets/{tid}/comments", headers=auth(world["b_it_key"]))).status_code == 404


async def test_time_entry_answers_201_with_the_entry_and_its_location(api, world):
    tid = await open_ticket(api, world)
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"started_at": started, "minutes": 20, "activity_type": "remote", "note": "Regel angepasst"}
    resp = await api.post(f"/api/v1/tickets/{tid}/time-entries", json=body, headers=auth(world["tech_key"]))
    assert resp.status_code == 201, resp.text
    entry = resp.json()
    assert (entry["minutes"], entry["activity_type"], entry["note"], entry["billable"]) == (
        20, "remote", "Regel angepasst", True
    )
    assert entry["user_id"] == str(world["tech"].id) and entry["ticket_id"] == tid
    assert resp.headers["location"] == f"/api/v1/tickets/{tid}/time-entries/{entry['id']}"
    got = await api.get(resp.headers["location"], headers=auth(world["finance_key"]))
    assert got.status_code == 200 and got.json() == entry
    other = await open_ticket(api, world)
    wrong_ticket = await api.get(f"/api/v1/tickets/{other}/time-entries/{entry['id']}", headers=auth(world["tech_key"]))
    assert wrong_ticket.status_code == 404
