"""Contacts over HTTP: CRUD with audit trail, validation, tenant isolation and roles."""

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from hub.db import session_scope
from models import Contact
from tests.api import (
    assert_auth_required,
    assert_problem,
    audit_events,
    make_site,
    make_world,
    nothing_written,
    row,
)
from tests.factories import make_contact, make_tenant, unique

CONTACTS = "/api/v1/contacts"


@pytest.fixture
def w(engine):
    return make_world(engine)


def contact_body(**fields) -> dict:
    return {"first_name": "Max", "last_name": unique("Huber"), "email": f"{unique('max')}@Kunde.example"} | fields


async def test_contact_lifecycle(api, engine, w):
    site = make_site(engine, w.a)
    body = contact_body(tenant_id=str(w.a.id), site_id=str(site.id), phone="+49 89 123456", is_primary=True)
    resp = await api.post(CONTACTS, json=body, headers=w.h("msp_tech"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    cid = uuid.UUID(created["id"])
    assert created["email"].endswith("@kunde.example") and created["tenant_id"] == str(w.a.id)
    assert row(engine, Contact, cid).site_id == site.id
    [event] = audit_events(engine, cid)
    assert (event.entity, event.action, event.tenant_id) == ("contact", "created", w.a.id)
    assert event.data["last_name"] == body["last_name"] and event.data["site_id"] == str(site.id)

    listed = (await api.get(CONTACTS, params={"tenant_id": str(w.a.id), "q": f"Max {body['last_name']}"},
                            headers=w.h("a_user"))).json()
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    assert (await api.get(f"{CONTACTS}/{cid}", headers=w.h("finance"))).json() == created

    resp = await api.patch(f"{CONTACTS}/{cid}", json={"job_title": "IT-Leiter", "site_id": None},
                           headers=w.h("a_it"))
    assert resp.status_code == 200 and resp.json()["job_title"] == "IT-Leiter"
    stored = row(engine, Contact, cid)
    assert (stored.job_title, stored.site_id) == ("IT-Leiter", None)
    assert audit_events(engine, cid)[-1].data == {"job_title": "IT-Leiter", "site_id": None}

    resp = await api.delete(f"{CONTACTS}/{cid}", headers=w.h("msp_admin"))
    assert resp.status_code == 204 and resp.content == b""
    assert row(engine, Contact, cid) is None
    deleted = audit_events(engine, cid)[-1]
    assert (deleted.action, deleted.actor_user_id, deleted.data["email"]) == ("deleted", w.users["msp_admin"].id,
                                                                             created["email"])
    assert_problem(await api.get(f"{CONTACTS}/{cid}", headers=w.h("msp_admin")), 404, f"contact {cid} not found")


async def test_customer_it_creates_for_own_tenant_only(api, engine, w):
    resp = await api.post(CONTACTS, json=contact_body(), headers=w.h("b_it"))
    assert resp.status_code == 201 and resp.json()["tenant_id"] == str(w.b.id)
    with nothing_written(engine):
        foreign = await api.post(CONTACTS, json=contact_body(tenant_id=str(w.a.id)), headers=w.h("b_it"))
        assert_problem(foreign, 404, f"tenant {w.a.id} not found")


@pytest.mark.parametrize(("fields", "status", "fragment"), [
    ({"email": "not-an-email"}, 422, "email"),
    ({"email": "a" * 250 + "@x.de"}, 422, "email"),
    ({"first_name": "x" * 101}, 422, "first_name"),
    ({"last_name": None}, 422, "last_name"),
    ({"phone": "call me"}, 422, "phone"),
    ({"job_title": "CEO\u0000"}, 422, "job_title: Value error, must not contain control characters"),
    ({"is_primary": "maybe"}, 422, "is_primary"),
    ({"site_id": "nope"}, 422, "site_id"),
    ({"favourite_colour": "blue"}, 422, "favourite_colour: Extra inputs are not permitted"),
    ({"tenant_id": None}, 422, "tenant_id: required for MSP users"),
    ({"tenant_id": "unknown"}, 422, "tenant_id"),
    ({"tenant_id": str(uuid.UUID(int=7))}, 422, "tenant_id: no tenant"),
    ({"site_id": "foreign"}, 422, "site_id: "),
    ({"email": "DUPLICATE"}, 409, "already exists"),
])
async def test_create_contact_rejects_bad_input(api, engine, w, fields, status, fragment):
    taken = make_contact(engine, w.a).email
    replacements = {"unknown": str(uuid.uuid4()), "foreign": str(make_site(engine, w.b).id),
                    "DUPLICATE": taken.upper()}
    fields = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    with nothing_written(engine):
        resp = await api.post(CONTACTS, json=contact_body(tenant_id=str(w.a.id)) | fields, headers=w.h("msp_admin"))
    assert_problem(resp, status, fragment)


async def test_patch_contact_rejects_bad_input(api, engine, w):
    contact, other = make_contact(engine, w.a), make_contact(engine, w.a)
    foreign_site = make_site(engine, w.b)
    path = f"{CONTACTS}/{contact.id}"
    cases = [({"email": None}, 422, "email: Value error, may not be null"),
             ({"email": other.email}, 409, "already exists"),
             ({"site_id": str(foreign_site.id)}, 422, "site_id"),
             ({"tenant_id": str(w.b.id)}, 422, "tenant_id: Extra inputs are not permitted"),
             ({"job_title": "x" * 101}, 422, "job_title")]
    with nothing_written(engine):
        for fields, status, fragment in cases:
            assert_problem(await api.patch(path, json=fields, headers=w.h("msp_tech")), status, fragment)
        missing = uuid.uuid4()
        for method in ("GET", "PATCH", "DELETE"):
            resp = await api.request(method, f"{CONTACTS}/{missing}", json={}, headers=w.h("msp_tech"))
            assert_problem(resp, 404, f"contact {missing} not found")
        assert_problem(await api.get(f"{CONTACTS}/123", headers=w.h("msp_tech")), 422, "contact_id")
        assert_problem(await api.get(CONTACTS, params={"tenant_id": "x"}, headers=w.h("msp_tech")), 422, "tenant_id")
    assert row(engine, Contact, contact.id).email == contact.email


async def test_other_tenant_cannot_see_or_change_contacts(api, engine, w):
    contact = make_contact(engine, w.a)
    path = f"{CONTACTS}/{contact.id}"
    with nothing_written(engine):
        for who in ("b_it", "b_user"):
            assert_problem(await api.get(path, headers=w.h(who)), 404, f"contact {contact.id} not found")
            listed = (await api.get(CONTACTS, params={"tenant_id": str(w.a.id)}, headers=w.h(who))).json()
            assert listed["total"] == 0
        assert_problem(await api.patch(path, json={"first_name": "X"}, headers=w.h("b_it")), 404, "not found")
        assert_problem(await api.delete(path, headers=w.h("b_it")), 404, "not found")
    assert row(engine, Contact, contact.id).first_name == contact.first_name
    own = (await api.get(CONTACTS, headers=w.h("a_user"))).json()
    assert str(contact.id) in {c["id"] for c in own["items"]}
    assert {c["tenant_id"] for c in own["items"]} == {str(w.a.id)}


@pytest.mark.parametrize(("who", "role"), [("finance", "finance"), ("a_user", "customer_user")])
async def test_readers_may_not_write_contacts(api, engine, w, who, role):
    contact = make_contact(engine, w.a)
    with nothing_written(engine):
        for method, path in [("POST", CONTACTS), ("PATCH", f"{CONTACTS}/{contact.id}"),
                             ("DELETE", f"{CONTACTS}/{contact.id}")]:
            resp = await api.request(method, path, json=contact_body(tenant_id=str(w.a.id)), headers=w.h(who))
            assert_problem(resp, 403, f"role {role} may not do this")


@pytest.mark.parametrize(("method", "item"), [("GET", False), ("POST", False), ("GET", True), ("PATCH", True),
                                              ("DELETE", True)])
async def test_missing_or_invalid_key_is_unauthorized(api, engine, w, method, item):
    contact = make_contact(engine, w.a)
    with nothing_written(engine):
        await assert_auth_required(api, method, f"{CONTACTS}/{contact.id}" if item else CONTACTS)


def test_the_database_refuses_one_address_in_two_spellings(engine):
    """The API's check can race; the case-insensitive unique index cannot."""
    tenant = make_tenant(engine)
    address = f"{unique('anna')}@example.de"
    with session_scope(engine) as s:
        s.add(Contact(tenant_id=tenant.id, first_name="Anna", last_name="Alt", email=address))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Contact(tenant_id=tenant.id, first_name="Anna", last_name="Alt", email=address.upper()))
    other = make_tenant(engine)
    with session_scope(engine) as s:  # another tenant may have the same address
        s.add(Contact(tenant_id=other.id, first_name="Anna", last_name="Alt", email=address.upper()))
