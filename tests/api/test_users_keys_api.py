"""Users, memberships and API keys over HTTP: MSP admins only, the key shown once and stored hashed, a revoked,
expired or deactivated key refused at the next request, every change in the audit trail."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from hub.security import hash_api_key
from models import ApiKey
from tests.api import assert_problem, audit_events, make_world, nothing_written, row
from tests.conftest import auth
from tests.factories import make_user, unique

USERS, KEYS = "/api/v1/users", "/api/v1/keys"


@pytest.fixture
def w(engine):
    return make_world(engine)


def user_body(**fields) -> dict:
    return {"email": f"{unique('it')}@Kunde.example", "display_name": "Anna IT", "role": "customer_it"} | fields


async def test_admin_creates_user_and_key_which_works_until_revoked(api, engine, w):
    resp = await api.post(USERS, json=user_body(tenant_id=str(w.a.id)), headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text
    user = resp.json()
    assert (
        user["role"] == "customer_it" and user["tenant_id"] == str(w.a.id) and user["email"].endswith("@kunde.example")
    )
    assert resp.headers["Location"] == f"{USERS}/{user['id']}"

    expires = datetime.now(UTC) + timedelta(days=30)
    resp = await api.post(
        KEYS,
        json={"user_id": user["id"], "name": "Laptop", "expires_at": expires.isoformat()},
        headers=w.h("msp_admin"),
    )
    assert resp.status_code == 201, resp.text
    issued = resp.json()
    key = issued["key"]
    assert key.startswith("psa_") and issued["prefix"] == key[:12] and resp.headers["Cache-Control"] == "no-store"
    stored = row(engine, ApiKey, uuid.UUID(issued["id"]))
    assert stored.key_hash == hash_api_key(key) and key not in str(stored.model_dump())
    listed = (await api.get(KEYS, params={"user_id": user["id"]}, headers=w.h("msp_admin"))).json()
    assert [k["id"] for k in listed["items"]] == [issued["id"]] and "key" not in listed["items"][0]

    # The new key works with its role and tenant: customer IT of A sees tenant A only.
    assert (await api.get(f"/api/v1/tenants/{w.a.id}", headers=auth(key))).status_code == 200
    assert (await api.get(f"/api/v1/tenants/{w.b.id}", headers=auth(key))).status_code == 404

    resp = await api.post(f"{KEYS}/{issued['id']}/revoke", headers=w.h("msp_admin"))
    assert resp.status_code == 200 and resp.json()["revoked_at"] is not None
    assert_problem(await api.get("/api/v1/tickets", headers=auth(key)), 401, "revoked")
    again = await api.post(f"{KEYS}/{issued['id']}/revoke", headers=w.h("msp_admin"))
    assert again.json()["revoked_at"] == resp.json()["revoked_at"]

    [created] = audit_events(engine, user["id"])
    assert (created.action, created.entity, created.tenant_id) == ("created", "user", w.a.id)
    assert created.actor_user_id == w.users["msp_admin"].id
    assert [(e.action, e.data["prefix"]) for e in audit_events(engine, issued["id"])] == [
        ("created", key[:12]),
        ("revoked", key[:12]),
    ]


async def test_expired_key_and_deactivated_user_are_refused(api, engine, w):
    user, key = make_user(engine, w.users["a_it"].role, w.a)
    with Session(engine) as s:
        stored = s.exec(select(ApiKey).where(ApiKey.user_id == user.id)).one()
        stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(stored)
        s.commit()
    assert_problem(await api.get("/api/v1/tickets", headers=auth(key)), 401, "expired")

    other, other_key = make_user(engine, w.users["a_user"].role, w.a)
    assert (await api.get("/api/v1/tickets", headers=auth(other_key))).status_code == 200
    resp = await api.patch(f"{USERS}/{other.id}", json={"is_active": False}, headers=w.h("msp_admin"))
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert_problem(await api.get("/api/v1/tickets", headers=auth(other_key)), 401, "revoked")
    [event] = [e for e in audit_events(engine, other.id) if e.action == "updated"]
    assert event.data == {"is_active": False}
    # A deactivated user gets no new key; an expiry in the past is refused.
    assert_problem(
        await api.post(KEYS, json={"user_id": str(other.id), "name": "x"}, headers=w.h("msp_admin")), 409, "deactivated"
    )
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    resp = await api.post(
        KEYS, json={"user_id": str(user.id), "name": "x", "expires_at": past}, headers=w.h("msp_admin")
    )
    assert_problem(resp, 422, "expires_at", "future")


@pytest.mark.parametrize("who", ["msp_tech", "finance", "a_it", "a_user"])
async def test_non_admins_and_other_tenants_are_refused(api, engine, w, who):
    target = w.users["b_it"]
    [key_id] = [k.id for k in _keys(engine, target.id)]
    with nothing_written(engine):
        for method, path, body in (
            ("POST", USERS, user_body(tenant_id=str(w.a.id))),
            ("POST", USERS, user_body(tenant_id=str(w.b.id))),
            ("GET", USERS, None),
            ("GET", f"{USERS}/{target.id}", None),
            ("PATCH", f"{USERS}/{target.id}", {"is_active": False}),
            ("POST", KEYS, {"user_id": str(target.id), "name": "x"}),
            ("GET", KEYS, None),
            ("POST", f"{KEYS}/{key_id}/revoke", None),
        ):
            resp = await api.request(method, path, json=body, headers=w.h(who))
            assert_problem(resp, 403, "msp_admin")
    assert row(engine, ApiKey, key_id).revoked_at is None


async def test_role_and_membership_must_fit(api, engine, w):
    admin = w.h("msp_admin")
    with nothing_written(engine):
        assert_problem(await api.post(USERS, json=user_body(), headers=admin), 422, "tenant_id", "exactly one")
        resp = await api.post(USERS, json=user_body(role="msp_tech", tenant_id=str(w.a.id)), headers=admin)
        assert_problem(resp, 422, "tenant_id", "no tenant")
        resp = await api.post(USERS, json=user_body(tenant_id=str(uuid.uuid4())), headers=admin)
        assert_problem(resp, 422, "tenant_id", "no tenant")
        resp = await api.post(
            USERS, json=user_body(email=w.users["a_it"].email.upper(), tenant_id=str(w.a.id)), headers=admin
        )
        assert_problem(resp, 409, "exists already")
        resp = await api.patch(f"{USERS}/{w.users['a_it'].id}", json={"role": "msp_tech"}, headers=admin)
        assert_problem(resp, 422, "tenant_id")
        resp = await api.patch(f"{USERS}/{w.users['msp_admin'].id}", json={"is_active": False}, headers=admin)
        assert_problem(resp, 409, "yourself")
        assert_problem(
            await api.post(KEYS, json={"user_id": str(uuid.uuid4()), "name": "x"}, headers=admin), 422, "user_id"
        )
    # Moving a customer user to MSP staff: role and membership change together.
    resp = await api.patch(
        f"{USERS}/{w.users['a_user'].id}", json={"role": "msp_tech", "tenant_id": None}, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["role"], resp.json()["tenant_id"]) == ("msp_tech", None)
    listed = (await api.get(USERS, params={"tenant_id": str(w.b.id)}, headers=admin)).json()
    assert {u["id"] for u in listed["items"]} == {str(w.users["b_it"].id), str(w.users["b_user"].id)}


def _keys(engine, user_id) -> list[ApiKey]:
    with Session(engine) as s:
        return list(s.exec(select(ApiKey).where(ApiKey.user_id == user_id)))
