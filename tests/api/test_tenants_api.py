"""Tenants and sites over HTTP: validation of DACH region data, visibility per role, audit trail."""

import uuid

import pytest

from domain.regions import RegionError, holidays_subdivision, normalise_vat_id, subdivisions
from domain.roles import Role
from models import Site, Tenant
from tests.api import assert_auth_required, assert_problem, audit_events, make_world, nothing_written, row
from tests.conftest import auth
from tests.factories import make_tenant, make_user, unique

TENANTS = "/api/v1/tenants"


@pytest.fixture
def w(engine):
    return make_world(engine)


def tenant_body(**fields) -> dict:
    return {
        "name": unique("Muster AG"),
        "customer_number": unique("K").upper(),
        "country": "DE",
        "subdivision": "DE-BY",
    } | fields


async def test_create_list_get_patch_tenant(api, engine, w):
    body = tenant_body(country="AT", subdivision="at-9", vat_id="ATU 1358 5627")
    resp = await api.post(TENANTS, json=body, headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["subdivision"], created["vat_id"], created["time_zone"]) == ("AT-9", "ATU13585627", "Europe/Vienna")
    stored = row(engine, Tenant, uuid.UUID(created["id"]))
    assert (stored.name, stored.customer_number, stored.subdivision) == (body["name"], body["customer_number"], "AT-9")
    [event] = audit_events(engine, created["id"])
    assert (event.action, event.entity, event.tenant_id) == ("created", "tenant", stored.id)
    assert event.actor_user_id == w.users["msp_admin"].id and event.data["vat_id"] == "ATU13585627"

    listed = (
        await api.get(TENANTS, params={"q": body["customer_number"].lower(), "country": "AT"}, headers=w.h("finance"))
    ).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    assert (await api.get(TENANTS, params={"q": body["name"], "country": "CH"}, headers=w.h("msp_tech"))).json()[
        "total"
    ] == 0
    assert (await api.get(f"{TENANTS}/{created['id']}", headers=w.h("msp_tech"))).json() == created

    resp = await api.patch(
        f"{TENANTS}/{created['id']}",
        headers=w.h("msp_admin"),
        json={
            "country": "CH",
            "subdivision": "CH-ZH",
            "vat_id": "CHE 116.281.710 mwst",
            "time_zone": "Europe/Zurich",
            "name": body["name"],
        },
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["country"], resp.json()["vat_id"]) == ("CH", "CHE-116.281.710 MWST")
    assert row(engine, Tenant, stored.id).subdivision == "CH-ZH"
    update = audit_events(engine, created["id"])[-1]
    assert update.action == "updated"
    assert update.data == {
        "country": "CH",
        "subdivision": "CH-ZH",
        "vat_id": "CHE-116.281.710 MWST",
        "time_zone": "Europe/Zurich",
    }  # the unchanged name is not recorded


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": 123}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "Null\u0000Byte GmbH"}, "name: Value error, must not contain control characters"),
        ({"country": "FR"}, "country"),
        ({"subdivision": "DE-XX"}, "unknown subdivision"),
        ({"subdivision": "AT-9"}, "does not belong to country DE"),
        ({"subdivision": "DE-Augsburg"}, "subdivision"),
        ({"vat_id": "DE12345678"}, "not a valid DE VAT id"),
        ({"vat_id": "DE123456789"}, "its check digit is wrong"),
        ({"vat_id": "ATU12345678"}, "not a valid DE VAT id"),
        ({"country": "CH", "subdivision": None, "vat_id": "CHE-123.456.78"}, "not a valid CH VAT id"),
        ({"time_zone": "Europe/Atlantis"}, "unknown IANA time zone"),
        ({"time_zone": "../../etc/passwd"}, "unknown IANA time zone"),
        ({"customer_number": "k-lowercase"}, "customer_number"),
        ({"customer_number": "-K1"}, "customer_number"),
        ({"is_vip": True}, "is_vip: Extra inputs are not permitted"),
    ],
)
async def test_create_tenant_rejects_bad_input(api, engine, w, fields, fragment):
    with nothing_written(engine):
        resp = await api.post(TENANTS, json=tenant_body(**fields), headers=w.h("msp_admin"))
    assert_problem(resp, 422, fragment)


async def test_missing_field_and_non_object_body(api, engine, w):
    with nothing_written(engine):
        body = tenant_body()
        del body["customer_number"]
        assert_problem(await api.post(TENANTS, json=body, headers=w.h("msp_admin")), 422, "customer_number")
        assert_problem(await api.post(TENANTS, json=["x"], headers=w.h("msp_admin")), 422, "body")


async def test_duplicate_customer_number_is_a_conflict(api, engine, w):
    resp = await api.post(TENANTS, json=tenant_body(), headers=w.h("msp_admin"))
    taken = resp.json()["customer_number"]
    with nothing_written(engine):
        dup = await api.post(TENANTS, json=tenant_body(customer_number=taken), headers=w.h("msp_admin"))
        assert_problem(dup, 409, f"customer number {taken} is already taken")
        patch = await api.patch(f"{TENANTS}/{w.b.id}", json={"customer_number": taken}, headers=w.h("msp_admin"))
        assert_problem(patch, 409, "already taken")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": None}, "name: Value error, may not be null"),
        ({"time_zone": None}, "time_zone"),
        ({"country": "AT"}, "subdivision 'DE-BY' does not belong to country AT"),
        ({"vat_id": "DE 123"}, "not a valid DE VAT id"),
        ({"subdivision": "CH-ZH"}, "does not belong to country DE"),
        ({"id": str(uuid.uuid4())}, "Extra inputs are not permitted"),
        ({"customer_number": "X" * 33}, "customer_number"),
    ],
)
async def test_patch_tenant_rejects_bad_input(api, engine, w, fields, fragment):
    with nothing_written(engine):
        resp = await api.patch(f"{TENANTS}/{w.a.id}", json=fields, headers=w.h("msp_admin"))
    assert_problem(resp, 422, fragment)
    assert row(engine, Tenant, w.a.id).country == "DE"


async def test_unknown_and_malformed_tenant_ids(api, engine, w):
    missing = uuid.uuid4()
    with nothing_written(engine):
        for method, path in [
            ("GET", f"{TENANTS}/{missing}"),
            ("PATCH", f"{TENANTS}/{missing}"),
            ("GET", f"{TENANTS}/{missing}/sites"),
            ("POST", f"{TENANTS}/{missing}/sites"),
        ]:
            resp = await api.request(method, path, json={"name": "HQ"}, headers=w.h("msp_admin"))
            assert_problem(resp, 404, f"tenant {missing} not found")
        assert_problem(await api.get(f"{TENANTS}/not-a-uuid", headers=w.h("msp_admin")), 422, "tenant_id")
        assert_problem(await api.get(TENANTS, params={"country": "FR"}, headers=w.h("msp_admin")), 422, "country")
        assert_problem(await api.get(TENANTS, params={"q": "x" * 101}, headers=w.h("msp_admin")), 422, "q")
        assert_problem(await api.get(TENANTS, params={"q": "a\u0000"}, headers=w.h("msp_admin")), 422, "control")
        assert_problem(await api.get(TENANTS, params={"limit": 0}, headers=w.h("msp_admin")), 422, "limit")


async def test_customers_see_only_their_own_tenant(api, engine, w):
    for who in ("b_it", "b_user"):
        listed = (await api.get(TENANTS, headers=w.h(who))).json()
        assert [t["id"] for t in listed["items"]] == [str(w.b.id)] and listed["total"] == 1
        assert (await api.get(f"{TENANTS}/{w.b.id}", headers=w.h(who))).status_code == 200
        assert_problem(await api.get(f"{TENANTS}/{w.a.id}", headers=w.h(who)), 404, f"tenant {w.a.id} not found")
        assert_problem(await api.get(f"{TENANTS}/{w.a.id}/sites", headers=w.h(who)), 404, "not found")
    assert (await api.get(TENANTS, params={"q": w.a.name}, headers=w.h("b_it"))).json()["total"] == 0


@pytest.mark.parametrize(
    ("who", "method", "suffix"),
    [
        ("msp_tech", "POST", ""),
        ("finance", "POST", ""),
        ("a_it", "POST", ""),
        ("msp_tech", "PATCH", "/{a}"),
        ("a_it", "PATCH", "/{a}"),
        ("a_user", "PATCH", "/{a}"),
        ("finance", "POST", "/{a}/sites"),
        ("a_it", "POST", "/{a}/sites"),
        ("a_user", "POST", "/{a}/sites"),
    ],
)
async def test_wrong_role_is_forbidden(api, engine, w, who, method, suffix):
    with nothing_written(engine):
        resp = await api.request(method, TENANTS + suffix.format(a=w.a.id), json={"name": "Neu"}, headers=w.h(who))
    assert_problem(resp, 403, "may not do this")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{a}"),
        ("PATCH", "/{a}"),
        ("GET", "/{a}/sites"),
        ("POST", "/{a}/sites"),
    ],
)
async def test_missing_or_invalid_key_is_unauthorized(api, engine, w, method, suffix):
    with nothing_written(engine):
        await assert_auth_required(api, method, TENANTS + suffix.format(a=w.a.id))


async def test_sites_create_and_list(api, engine, w):
    path = f"{TENANTS}/{w.a.id}/sites"
    body = {
        "name": "Zentrale",
        "street": "Leopoldstr. 1",
        "postal_code": "80802",
        "city": "München",
        "subdivision": "de-by",
    }
    resp = await api.post(path, json=body, headers=w.h("msp_tech"))
    assert resp.status_code == 201, resp.text
    site = resp.json()
    assert (site["country"], site["subdivision"], site["tenant_id"]) == ("DE", "DE-BY", str(w.a.id))
    assert row(engine, Site, uuid.UUID(site["id"])).city == "München"
    [event] = audit_events(engine, site["id"])
    assert (event.entity, event.action, event.tenant_id, event.data["postal_code"]) == (
        "site",
        "created",
        w.a.id,
        "80802",
    )
    listed = (await api.get(path, headers=w.h("a_user"))).json()
    assert [s["id"] for s in listed["items"]] == [site["id"]]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"postal_code": "8080"}, "not a valid DE postal code"),
        ({"country": "AT", "postal_code": "1010", "subdivision": "DE-BY"}, "does not belong to country AT"),
        ({"name": ""}, "name"),
        ({"city": "x" * 101}, "city"),
        ({"tenant_id": str(uuid.uuid4())}, "Extra inputs are not permitted"),
    ],
)
async def test_site_rejects_bad_input(api, engine, w, fields, fragment):
    with nothing_written(engine):
        resp = await api.post(f"{TENANTS}/{w.a.id}/sites", json={"name": "Lager"} | fields, headers=w.h("msp_admin"))
    assert_problem(resp, 422, fragment)


def test_region_helpers():
    assert holidays_subdivision("de-by") == ("DE", "BY")
    assert holidays_subdivision("AT-9") == ("AT", "9")
    assert "CH-GE" in subdivisions("CH") and "DE-SN" in subdivisions("DE")
    assert all(len(code) <= 8 for country in ("DE", "AT", "CH") for code in subdivisions(country))
    assert normalise_vat_id("CH", "CHE116281710IVA") == "CHE-116.281.710 IVA"
    with pytest.raises(RegionError) as err:
        holidays_subdivision("BY")
    assert err.value.field == "subdivision"


async def test_tenant_calendar_assignment(api, engine):
    from hub.db import session_scope
    from models import BusinessCalendarRow

    with session_scope(engine) as s:
        cal = BusinessCalendarRow(
            name=f"Schichtbetrieb-{uuid.uuid4().hex[:6]}",
            spec={
                "time_zone": "Europe/Vienna",
                "country": "AT",
                "subdivision": "AT-9",
                "hours": {"0": [["06:00", "22:00"]]},
            },
        )
        s.add(cal)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    tenant = make_tenant(engine)
    r = await api.patch(f"/api/v1/tenants/{tenant.id}", json={"calendar_id": str(cal.id)}, headers=auth(admin))
    assert r.status_code == 200 and r.json()["calendar_id"] == str(cal.id)
    bad = await api.patch(f"/api/v1/tenants/{tenant.id}", json={"calendar_id": str(uuid.uuid4())}, headers=auth(admin))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "calendar_id"
