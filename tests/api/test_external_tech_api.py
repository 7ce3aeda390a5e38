"""External technicians (role external_tech, e.g. the vendor of a line-of-business application): created by an MSP
admin with an access expiry, they see exactly the tickets of their queues and those assigned to them of their one
customer, nothing of other queues or tenants and no tenant-wide data; refused after the expiry and after a key's
revocation; every request of theirs, refused ones too, is in the audit trail."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models import AuditEvent
from tests.api import assert_problem
from tests.api.co_managed_support import people
from tests.conftest import auth
from tests.factories import make_contact, make_tenant

USERS, KEYS, QUEUES, TICKETS = "/api/v1/users", "/api/v1/keys", "/api/v1/queues", "/api/v1/tickets"


@pytest.fixture
def w(engine):
    tenants = {"a": make_tenant(engine, co_managed=True), "b": make_tenant(engine, co_managed=True)}
    return people(engine, tenants, "admin tech a_it") | {"tag": uuid.uuid4().hex[:8]}


async def created(resp) -> dict:
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def external_tech(api, w, tenant, days=30) -> tuple[dict, str, str]:
    """The user, a key and the key's id, made through the API as an installation would."""
    expires = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    body = {
        "email": f"vendor-{uuid.uuid4().hex[:8]}@softwarehaus.example",
        "display_name": "Softwarehaus Support",
        "role": "external_tech",
        "tenant_id": str(tenant.id),
        "access_expires_at": expires,
    }
    user = await created(await api.post(USERS, json=body, headers=w["admin_h"]))
    key = await created(await api.post(KEYS, json={"user_id": user["id"], "name": "ERP"}, headers=w["admin_h"]))
    return user, key["key"], key["id"]


async def queue(api, w, name, tenant) -> dict:
    body = {"name": f"{name}-{w['tag']}", "display_name": name, "tenant_id": str(tenant.id)}
    return await created(await api.post(QUEUES, json=body, headers=w["admin_h"]))


async def ticket(api, w, tenant, queue_name=None) -> dict:
    body = {"title": "ERP-Fehler", "tenant_id": str(tenant.id), "queue": queue_name}
    return await created(await api.post(TICKETS, json=body, headers=w["tech_h"]))


def accesses(engine, user_id) -> list[AuditEvent]:
    with Session(engine) as s:
        query = select(AuditEvent).where(AuditEvent.entity == "access", AuditEvent.actor_user_id == uuid.UUID(user_id))
        return list(s.exec(query.order_by(col(AuditEvent.at))))


async def test_external_tech_needs_an_expiry_and_a_customer(api, w):
    body = {"email": "x@vendor.example", "display_name": "X", "role": "external_tech", "tenant_id": str(w["a"].id)}
    assert_problem(await api.post(USERS, json=body, headers=w["admin_h"]), 422, "access_expires_at")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert_problem(await api.post(USERS, json=body | {"access_expires_at": past}, headers=w["admin_h"]), 422, "future")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    no_tenant = body | {"tenant_id": None, "access_expires_at": future}
    assert_problem(await api.post(USERS, json=no_tenant, headers=w["admin_h"]), 422, "tenant")


async def test_sees_exactly_its_queues_and_assigned_tickets(api, engine, w):
    vendor, key, _ = await external_tech(api, w, w["a"])
    vendor_b, key_b, _ = await external_tech(api, w, w["b"])
    erp, other = await queue(api, w, "erp", w["a"]), await queue(api, w, "netz", w["a"])
    erp_b = await queue(api, w, "erp-b", w["b"])
    for q, user in ((erp, vendor), (erp_b, vendor_b)):
        await created(await api.put(f"{QUEUES}/{q['id']}/members/{user['id']}", headers=w["admin_h"]))
    # An external technician works only its own customer's queues.
    refused = await api.put(f"{QUEUES}/{erp_b['id']}/members/{vendor['id']}", headers=w["admin_h"])
    assert_problem(refused, 422)

    mine = await ticket(api, w, w["a"], erp["name"])
    not_mine = await ticket(api, w, w["a"], other["name"])
    assigned = await ticket(api, w, w["a"], other["name"])
    no_queue = await ticket(api, w, w["a"])
    foreign = await ticket(api, w, w["b"], erp_b["name"])
    body = {"assignee_user_id": vendor["id"]}
    await created(await api.put(f"{TICKETS}/{assigned['id']}/assignee", json=body, headers=w["tech_h"]))

    h = auth(key)
    listed = await created(await api.get(TICKETS, headers=h))
    assert {t["id"] for t in listed["items"]} == {mine["id"], assigned["id"]}
    queued = await created(await api.get(f"{QUEUES}/mine/tickets", headers=h))
    assert [t["id"] for t in queued["items"]] == [mine["id"]]
    for t in (not_mine, no_queue, foreign):
        assert_problem(await api.get(f"{TICKETS}/{t['id']}", headers=h), 404)
        assert_problem(await api.get(f"{TICKETS}/{t['id']}/comments", headers=h), 404)
    b_listed = await created(await api.get(TICKETS, headers=auth(key_b)))
    assert [t["id"] for t in b_listed["items"]] == [foreign["id"]]

    # It works its tickets: public replies and status changes, nothing internal.
    reply = {"body": "Patch 4.2 eingespielt", "visibility": "public"}
    assert (await api.post(f"{TICKETS}/{mine['id']}/comments", json=reply, headers=h)).status_code == 201
    internal = reply | {"visibility": "internal"}
    assert_problem(await api.post(f"{TICKETS}/{mine['id']}/comments", json=internal, headers=h), 403)
    moved = await api.post(f"{TICKETS}/{mine['id']}/transitions", json={"to_status": "in_progress"}, headers=h)
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    await created(await api.post(f"{TICKETS}/{not_mine['id']}/comments", json=reply, headers=w["tech_h"]))
    comments = await created(await api.get(f"{TICKETS}/{mine['id']}/comments", headers=h))
    assert [c["body"] for c in comments["items"]] == ["Patch 4.2 eingespielt"]

    # Nothing tenant-wide: no contacts, tenant, queues list, new tickets or RACI matrix.
    make_contact(engine, w["a"])
    for path in ("/api/v1/contacts", f"/api/v1/tenants/{w['a'].id}", QUEUES, f"/api/v1/tenants/{w['a'].id}/raci"):
        assert_problem(await api.get(path, headers=h), 403)
    new = {"title": "x", "tenant_id": str(w["a"].id)}
    assert_problem(await api.post(TICKETS, json=new, headers=h), 403)

    # Every request is audited, the refused 404 on another queue's ticket included.
    paths = [(e.action, e.data["method"], e.data["path"]) for e in accesses(engine, vendor["id"])]
    assert ("request", "GET", f"{TICKETS}/{not_mine['id']}") in paths
    assert ("request", "POST", f"{TICKETS}/{mine['id']}/transitions") in paths
    assert len(paths) == 17
    assert all(e.tenant_id == w["a"].id for e in accesses(engine, vendor["id"]))


async def test_refused_after_expiry_and_after_revocation(api, engine, w):
    vendor, key, key_id = await external_tech(api, w, w["a"])
    erp = await queue(api, w, "erp", w["a"])
    await created(await api.put(f"{QUEUES}/{erp['id']}/members/{vendor['id']}", headers=w["admin_h"]))
    assert (await api.get(TICKETS, headers=auth(key))).status_code == 200

    # The engagement ends: the MSP moves the expiry to now; every key of the user is refused.
    ended = {"access_expires_at": datetime.now(UTC).isoformat()}
    await created(await api.patch(f"{USERS}/{vendor['id']}", json=ended, headers=w["admin_h"]))
    assert_problem(await api.get(TICKETS, headers=auth(key)), 401, "expired")
    assert_problem(
        await api.patch(f"{USERS}/{vendor['id']}", json={"access_expires_at": None}, headers=w["admin_h"]), 422
    )
    [*_, refused] = accesses(engine, vendor["id"])
    assert refused.action == "refused" and "expired" in refused.data["refusal"]

    # Prolonged, then the key is revoked: refused at the next request, and audited.
    later = {"access_expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat()}
    await created(await api.patch(f"{USERS}/{vendor['id']}", json=later, headers=w["admin_h"]))
    assert (await api.get(TICKETS, headers=auth(key))).status_code == 200
    await created(await api.post(f"{KEYS}/{key_id}/revoke", headers=w["admin_h"]))
    assert_problem(await api.get(TICKETS, headers=auth(key)), 401, "revoked")
    actions = [e.action for e in accesses(engine, vendor["id"])]
    assert actions == ["request", "refused", "request", "refused"]
