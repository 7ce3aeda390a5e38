"""Assets over HTTP: CRUD with audit trail, filters, validation, tenant isolation and roles."""

import uuid
from datetime import date

import pytest

from models import Asset
from tests.api import (
    assert_auth_required,
    assert_problem,
    audit_events,
    make_site,
    make_world,
    nothing_written,
    row,
)
from tests.factories import make_asset, unique

ASSETS = "/api/v1/assets"


@pytest.fixture
def w(engine):
    return make_world(engine)


def asset_body(**fields) -> dict:
    return {"hostname": unique("pc"), "asset_type": "laptop"} | fields


async def test_asset_lifecycle(api, engine, w):
    site = make_site(engine, w.b)
    body = asset_body(hostname="SRV-DC01.Kunde.local.", asset_type="server", serial="CZ123ABC", os="Windows Server",
                      warranty_end="2026-03-31", tags=["backup", " kritisch ", "backup"], site_id=str(site.id))
    resp = await api.post(ASSETS, json=body, headers=w.h("b_it"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    aid = uuid.UUID(created["id"])
    assert (created["hostname"], created["tags"]) == ("srv-dc01.kunde.local", ["backup", "kritisch"])
    stored = row(engine, Asset, aid)
    assert (stored.tenant_id, stored.site_id, stored.warranty_end) == (w.b.id, site.id, date(2026, 3, 31))
    [event] = audit_events(engine, aid)
    assert (event.entity, event.action, event.actor_user_id) == ("asset", "created", w.users["b_it"].id)
    assert event.data["warranty_end"] == "2026-03-31" and event.data["asset_type"] == "server"

    assert (await api.get(f"{ASSETS}/{aid}", headers=w.h("b_user"))).json() == created

    resp = await api.patch(f"{ASSETS}/{aid}", json={"tags": [], "warranty_end": None, "os": "Windows Server 2025"},
                           headers=w.h("msp_tech"))
    assert resp.status_code == 200 and resp.json()["tags"] == []
    assert (row(engine, Asset, aid).os, row(engine, Asset, aid).warranty_end) == ("Windows Server 2025", None)
    assert audit_events(engine, aid)[-1].data == {"tags": [], "warranty_end": None, "os": "Windows Server 2025"}

    assert (await api.delete(f"{ASSETS}/{aid}", headers=w.h("b_it"))).status_code == 204
    assert row(engine, Asset, aid) is None
    assert audit_events(engine, aid)[-1].data["hostname"] == "srv-dc01.kunde.local"


async def test_list_filters(api, engine, w):
    old = make_asset(engine, w.a, hostname="nas-01", asset_type="server",
                     serial="SN-OLD", warranty_end=date(2024, 1, 2))
    new = make_asset(engine, w.a, hostname="nb-01", asset_type="laptop",
                     serial="SN_NEW", warranty_end=date(2030, 1, 2))
    make_asset(engine, w.b, hostname="nas-01", asset_type="server", warranty_end=date(2020, 1, 1))

    async def ids(who: str, **params) -> list[str]:
        resp = await api.get(ASSETS, params={"tenant_id": str(w.a.id)} | params, headers=w.h(who))
        assert resp.status_code == 200, resp.text
        return [a["id"] for a in resp.json()["items"]]

    assert await ids("msp_tech") == [str(old.id), str(new.id)]
    assert await ids("finance", asset_type="server") == [str(old.id)]
    assert await ids("a_user", q="NB-") == [str(new.id)]
    assert await ids("a_user", q="sn_") == [str(new.id)]  # "_" is a literal, not a LIKE wildcard
    assert await ids("a_it", warranty_before="2025-06-30") == [str(old.id)]
    assert await ids("b_it") == []  # another tenant's filter finds nothing for a customer
    resp = await api.get(ASSETS, params={"limit": 1, "offset": 1, "tenant_id": str(w.a.id)}, headers=w.h("msp_admin"))
    assert resp.json()["total"] == 2 and [a["id"] for a in resp.json()["items"]] == [str(new.id)]


@pytest.mark.parametrize(("params", "fragment"), [
    ({"asset_type": "toaster"}, "asset_type"), ({"warranty_before": "31.12.2025"}, "warranty_before"),
    ({"tenant_id": "42"}, "tenant_id"), ({"q": ""}, "q"), ({"q": "\u0000"}, "q"), ({"offset": -1}, "offset"),
])
async def test_list_rejects_bad_filters(api, w, params, fragment):
    assert_problem(await api.get(ASSETS, params=params, headers=w.h("msp_admin")), 422, fragment)


@pytest.mark.parametrize(("fields", "status", "fragment"), [
    ({"hostname": "-bad-"}, 422, "not a valid host name"),
    ({"hostname": "a..b"}, 422, "not a valid host name"),
    ({"hostname": "Jane's Mac/Book"}, 422, "no computer name contains '/'"),
    ({"hostname": "Jane\tMacBook"}, 422, "no computer name contains '\\t'"),
    ({"hostname": "   "}, 422, "not a valid host name"),
    ({"agent_uuid": "not a uuid!"}, 422, "agent_uuid: Value error, 'not a uuid!' is not an agent UUID"),
    ({"ip_address": "10.1.2.300"}, 422, "ip_address: Value error, '10.1.2.300' is not an IPv4 or IPv6 address"),
    ({"hostname": "a" * 64}, 422, "not a valid host name"),
    ({"hostname": ("a" * 60 + ".") * 5}, 422, "hostname"),
    ({"hostname": 5}, 422, "hostname"),
    ({"asset_type": "toaster"}, 422, "asset_type"),
    ({"warranty_end": "2026-02-30"}, 422, "warranty_end"),
    ({"tags": [f"t{i}" for i in range(21)]}, 422, "tags"),
    ({"tags": ["x" * 33]}, 422, "tags.0"),
    ({"tags": "backup"}, 422, "tags"),
    ({"tags": ["nul\u0000"]}, 422, "tags.0: Value error, must not contain control characters"),
    ({"serial": "s" * 101}, 422, "serial"),
    ({"owner": "me"}, 422, "owner: Extra inputs are not permitted"),
    ({"tenant_id": None}, 422, "tenant_id: required for MSP users"),
    ({"tenant_id": "unknown"}, 422, "tenant_id: no tenant"),
    ({"site_id": "foreign"}, 422, "site_id: "),
    ({"hostname": "DUPLICATE"}, 409, "already exists"),
    ({"agent_uuid": "TAKEN-AGENT"}, 409, "agent_uuid: another asset of this tenant has the agent UUID"),
])
async def test_create_asset_rejects_bad_input(api, engine, w, fields, status, fragment):
    taken = make_asset(engine, w.a, agent_uuid="4a1f0c2e9b7d4e11a3c5b7d9e1f30101").hostname
    replacements = {"unknown": str(uuid.uuid4()), "foreign": str(make_site(engine, w.b).id),
                    "DUPLICATE": taken.upper(), "TAKEN-AGENT": "4A1F0C2E9B7D4E11A3C5B7D9E1F30101"}
    fields = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    with nothing_written(engine):
        resp = await api.post(ASSETS, json=asset_body(tenant_id=str(w.a.id)) | fields, headers=w.h("msp_admin"))
    assert_problem(resp, status, fragment)


async def test_host_names_as_devices_report_them_and_their_agent_ids(api, engine, w):
    """A macOS computer name with blanks (or a Windows one with an underscore) is a real device's name: accepted as
    reported; the same name in other case is the same device. The EDR agent's ids are stored for the SOC lookup."""
    body = asset_body(hostname="  arvchristos MacBook Pro ", agent_uuid="E3A1C5D7-9B2F-4C6E-8A0B-1D3F5A7C9E21",
                      agent_id="1700000000000000401", ip_address="10.20.30.41", tenant_id=str(w.a.id))
    resp = await api.post(ASSETS, json=body, headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["hostname"], created["agent_uuid"], created["agent_id"], created["ip_address"]) == (
        "arvchristos MacBook Pro", "e3a1c5d7-9b2f-4c6e-8a0b-1d3f5a7c9e21", "1700000000000000401", "10.20.30.41")
    assert (await api.post(ASSETS, json=asset_body(hostname="PC_01", tenant_id=str(w.a.id)),
                           headers=w.h("msp_admin"))).json()["hostname"] == "PC_01"
    with nothing_written(engine):
        again = await api.post(ASSETS, json=asset_body(hostname="ARVCHRISTOS MACBOOK PRO", tenant_id=str(w.a.id)),
                               headers=w.h("msp_admin"))
    assert_problem(again, 409, "already exists")
    # Other tests give this agent to assets of their own tenants: look within this one.
    params = {"q": "E3A1C5D7-9B2F-4C6E-8A0B-1D3F5A7C9E21", "tenant_id": str(w.a.id)}
    listed = await api.get(ASSETS, params=params, headers=w.h("msp_admin"))
    assert [a["id"] for a in listed.json()["items"]] == [created["id"]]
    other_tenant = await api.post(ASSETS, json=body | {"tenant_id": str(w.b.id)}, headers=w.h("msp_admin"))
    assert other_tenant.status_code == 201  # one agent UUID per tenant: another customer's inventory is its own
    patched = await api.patch(f"{ASSETS}/{created['id']}", json={"agent_uuid": None}, headers=w.h("a_it"))
    assert patched.status_code == 200 and patched.json()["agent_uuid"] is None


async def test_patch_asset_rejects_bad_input(api, engine, w):
    asset, other = make_asset(engine, w.a), make_asset(engine, w.a)
    cases = [({"hostname": None}, 422, "hostname: Value error, may not be null"),
             ({"hostname": other.hostname}, 409, "already exists"),
             ({"asset_type": "fridge"}, 422, "asset_type"),
             ({"site_id": str(make_site(engine, w.b).id)}, 422, "site_id"),
             ({"tenant_id": str(w.b.id)}, 422, "Extra inputs are not permitted")]
    with nothing_written(engine):
        for fields, status, fragment in cases:
            resp = await api.patch(f"{ASSETS}/{asset.id}", json=fields, headers=w.h("a_it"))
            assert_problem(resp, status, fragment)
        missing = uuid.uuid4()
        for method in ("GET", "PATCH", "DELETE"):
            resp = await api.request(method, f"{ASSETS}/{missing}", json={}, headers=w.h("msp_admin"))
            assert_problem(resp, 404, f"asset {missing} not found")
    assert row(engine, Asset, asset.id).hostname == asset.hostname


async def test_other_tenant_cannot_see_or_change_assets(api, engine, w):
    asset = make_asset(engine, w.a)
    path = f"{ASSETS}/{asset.id}"
    with nothing_written(engine):
        for method, body in (("GET", None), ("PATCH", {"os": "Linux"}), ("DELETE", None)):
            resp = await api.request(method, path, json=body, headers=w.h("b_it"))
            assert_problem(resp, 404, f"asset {asset.id} not found")
        resp = await api.post(ASSETS, json=asset_body(tenant_id=str(w.a.id)), headers=w.h("b_it"))
        assert_problem(resp, 404, f"tenant {w.a.id} not found")
    listed = (await api.get(ASSETS, headers=w.h("b_user"))).json()
    assert str(asset.id) not in {a["id"] for a in listed["items"]}
    assert {a["tenant_id"] for a in listed["items"]} <= {str(w.b.id)}


@pytest.mark.parametrize(("who", "role"), [("finance", "finance"), ("a_user", "customer_user")])
async def test_readers_may_not_write_assets(api, engine, w, who, role):
    asset = make_asset(engine, w.a)
    with nothing_written(engine):
        for method, path in [("POST", ASSETS), ("PATCH", f"{ASSETS}/{asset.id}"), ("DELETE", f"{ASSETS}/{asset.id}")]:
            resp = await api.request(method, path, json=asset_body(tenant_id=str(w.a.id)), headers=w.h(who))
            assert_problem(resp, 403, f"role {role} may not do this")


@pytest.mark.parametrize(("method", "item"), [("GET", False), ("POST", False), ("GET", True), ("PATCH", True),
                                              ("DELETE", True)])
async def test_missing_or_invalid_key_is_unauthorized(api, engine, w, method, item):
    asset = make_asset(engine, w.a)
    with nothing_written(engine):
        await assert_auth_required(api, method, f"{ASSETS}/{asset.id}" if item else ASSETS)
