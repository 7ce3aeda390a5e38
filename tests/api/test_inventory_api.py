"""Inventory sources through the API: MSP admins connect a customer's Datto RMM sites (or N-central organisation
units: one RMM per customer) and Microsoft 365 tenant
(credentials by reference only: nothing secret goes in or comes out), bad input answers 4xx with the field, and
customer A's sources, snapshots and synced assets are invisible to customer B."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from domain.roles import Role
from hub.db import session_scope
from models import AuditEvent, HealthSnapshot, Licence
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user

SOURCES = "/api/v1/inventory/sources"
SITE = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
NC = "https://ncentral.muster-it.example"


@pytest.fixture
def people(engine):
    a, b = make_tenant(engine), make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, it_a = make_user(engine, Role.CUSTOMER_IT, a)
    _, it_b = make_user(engine, Role.CUSTOMER_IT, b)
    return {"a": a, "b": b, "admin": auth(admin), "tech": auth(tech), "it_a": auth(it_a), "it_b": auth(it_b)}


def datto(tenant, **settings) -> dict:  # noqa: ANN001
    return {"tenant_id": str(tenant.id), "kind": "datto_rmm", "name": "Datto RMM", "credentials_ref": "msp-datto",
            "datto_rmm": {"platform": "merlot", "site_uids": [SITE, SITE]} | settings}  # fmt: skip


async def test_admin_connects_rmm_and_m365_staff_reads_nothing_secret(api, engine, people):
    a = people["a"]
    r = await api.post(SOURCES, headers=people["admin"], json=datto(a))
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["settings"] == {"base_url": "https://merlot-api.centrastage.net", "site_uids": [SITE]}
    assert source["credentials_ref"] == "msp-datto" and source["last_error"] is None
    assert not any("secret" in key or "key" in key.split("_") for key in source)
    m365 = {"tenant_id": str(a.id), "kind": "m365", "name": "Microsoft 365", "credentials_ref": "msp-graph",
            "m365": {"tenant": "contoso.onmicrosoft.com"}}  # fmt: skip
    assert (await api.post(SOURCES, headers=people["admin"], json=m365)).status_code == 201
    assert (await api.post(SOURCES, headers=people["tech"], json=m365)).status_code == 403
    listed = await api.get(SOURCES, headers=people["tech"], params={"tenant_id": str(a.id)})
    assert [s["kind"] for s in listed.json()["items"]] == ["datto_rmm", "m365"]

    r = await api.patch(f"{SOURCES}/{source['id']}", headers=people["admin"],
                        json={"datto_rmm": {"base_url": "https://concord-api.centrastage.net/", "site_uids": ["s-2"]},
                              "is_active": False})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {"base_url": "https://concord-api.centrastage.net", "site_uids": ["s-2"]}
    assert r.json()["is_active"] is False
    with Session(engine) as s:
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.entity_id == source["id"])).all()
    assert set(actions) >= {"created", "updated"}
    assert (await api.delete(f"{SOURCES}/{source['id']}", headers=people["admin"])).status_code == 204
    assert (await api.get(f"{SOURCES}/{source['id']}", headers=people["admin"])).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"datto_rmm": {"platform": "merlot", "base_url": "https://x.example", "site_uids": [SITE]}}, "datto_rmm"),
        ({"datto_rmm": {"platform": "chardonnay", "site_uids": [SITE]}}, "datto_rmm"),
        ({"datto_rmm": {"base_url": "http://merlot-api.centrastage.net", "site_uids": [SITE]}}, "datto_rmm"),
        ({"datto_rmm": {"platform": "merlot", "site_uids": []}}, "site_uids"),
        ({"datto_rmm": {"platform": "merlot", "site_uids": ["a/../b"]}}, "site_uids"),
        ({"datto_rmm": None, "m365": {"tenant": "contoso.onmicrosoft.com"}}, "datto_rmm"),
        ({"credentials_ref": "../etc"}, "credentials_ref"),
        ({"api_secret": "s3cret"}, "api_secret"),  # secrets are refused, not silently dropped
    ],
)
async def test_bad_input_is_a_422_naming_the_field(api, people, change, field):
    r = await api.post(SOURCES, headers=people["admin"], json=datto(people["a"]) | change)
    assert r.status_code == 422, r.text
    assert field in r.text


async def test_one_source_per_kind_and_known_tenants_only(api, people):
    assert (await api.post(SOURCES, headers=people["admin"], json=datto(people["a"]))).status_code == 201
    again = await api.post(SOURCES, headers=people["admin"], json=datto(people["a"]))
    assert again.status_code == 409 and "already has a datto_rmm source" in again.json()["detail"]
    unknown = datto(people["a"]) | {"tenant_id": "00000000-0000-4000-8000-000000000000"}
    assert (await api.post(SOURCES, headers=people["admin"], json=unknown)).status_code == 422
    listed = await api.get(SOURCES, headers=people["admin"], params={"tenant_id": str(people["a"].id)})
    r = await api.patch(f"{SOURCES}/{listed.json()['items'][0]['id']}", headers=people["admin"], json={"name": None})
    assert r.status_code == 422 and "name" in r.text


def ncentral(tenant, **settings) -> dict:  # noqa: ANN001
    return {"tenant_id": str(tenant.id), "kind": "ncentral", "name": "N-central", "credentials_ref": "msp-ncentral",
            "ncentral": {"server_url": "https://ncentral.muster-it.example/", "org_unit_ids": [1234, 1234, 1301]}
            | settings}  # fmt: skip


async def test_admin_connects_ncentral_as_the_customers_one_rmm(api, engine, people):
    a, b = people["a"], people["b"]
    r = await api.post(SOURCES, headers=people["admin"], json=ncentral(a))
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["kind"] == "ncentral" and source["credentials_ref"] == "msp-ncentral"
    assert source["settings"] == {"server_url": "https://ncentral.muster-it.example", "org_unit_ids": [1234, 1301]}
    clash = await api.post(SOURCES, headers=people["admin"], json=datto(a))
    assert clash.status_code == 409 and "one RMM per customer" in clash.json()["detail"]
    assert "ncentral" in clash.json()["detail"]
    assert (await api.post(SOURCES, headers=people["admin"], json=datto(b))).status_code == 201
    again = await api.post(SOURCES, headers=people["admin"], json=ncentral(b))  # b has Datto: refused the same way
    assert again.status_code == 409 and "datto_rmm" in again.json()["detail"]
    r = await api.patch(f"{SOURCES}/{source['id']}", headers=people["admin"],
                        json={"ncentral": {"server_url": "https://nc.muster-it.example", "org_unit_ids": [77]}})
    assert r.status_code == 200 and r.json()["settings"]["org_unit_ids"] == [77]
    wrong = await api.patch(f"{SOURCES}/{source['id']}", headers=people["admin"],
                            json={"datto_rmm": {"platform": "merlot", "site_uids": [SITE]}})  # fmt: skip
    assert wrong.status_code == 422 and "ncentral" in wrong.text
    assert (await api.get(f"{SOURCES}/{source['id']}", headers=people["it_a"])).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ncentral": {"server_url": "http://ncentral.muster-it.example", "org_unit_ids": [1]}}, "server_url"),
        ({"ncentral": {"server_url": "https://u:p@ncentral.muster-it.example", "org_unit_ids": [1]}}, "server_url"),
        ({"ncentral": {"server_url": NC, "org_unit_ids": []}}, "org_unit_ids"),
        ({"ncentral": {"server_url": NC, "org_unit_ids": [0]}}, "org_unit_ids"),
        ({"ncentral": {"server_url": NC, "org_unit_ids": ["1 OR 1"]}}, "org_unit_ids"),
        ({"ncentral": None, "datto_rmm": {"platform": "merlot", "site_uids": [SITE]}}, "ncentral"),
        ({"api_token": "eyJhbGciOi"}, "api_token"),  # the JWT never goes through the API
    ],
)
async def test_bad_ncentral_input_is_a_422_naming_the_field(api, people, change, field):
    r = await api.post(SOURCES, headers=people["admin"], json=ncentral(people["a"]) | change)
    assert r.status_code == 422, r.text
    assert field in r.text


async def test_customer_a_config_snapshots_and_assets_are_invisible_to_customer_b(api, engine, people):
    a, b = people["a"], people["b"]
    source = (await api.post(SOURCES, headers=people["admin"], json=datto(a))).json()
    make_asset(engine, a, hostname="ACME-WS-042", rmm_uid="0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
               patch_status="FullyPatched")  # fmt: skip
    with session_scope(engine) as s:
        for tenant, known in ((a, 7), (b, 3)):
            s.add(HealthSnapshot(tenant_id=tenant.id, day=date(2026, 12, 2), taken_at=datetime.now(UTC),
                                 counts={"devices_known": known}))  # fmt: skip
    # The sources are the MSP's: no customer reads them, its own or another's.
    for who in ("it_a", "it_b"):
        assert (await api.get(f"{SOURCES}/{source['id']}", headers=people[who])).status_code == 403
        assert (await api.get(SOURCES, headers=people[who])).status_code == 403
    health_b = await api.get("/api/v1/inventory/health", headers=people["it_b"])
    assert [(h["tenant_id"], h["counts"]["devices_known"]) for h in health_b.json()["items"]] == [(str(b.id), 3)]
    asked_for_a = await api.get("/api/v1/inventory/health", headers=people["it_b"], params={"tenant_id": str(a.id)})
    assert asked_for_a.json()["items"] == []
    health_a = await api.get("/api/v1/inventory/health", headers=people["it_a"])
    assert [h["counts"]["devices_known"] for h in health_a.json()["items"]] == [7]
    assets_b = await api.get("/api/v1/assets", headers=people["it_b"], params={"q": "ACME-WS"})
    assert assets_b.json()["items"] == []
    assets_a = await api.get("/api/v1/assets", headers=people["it_a"], params={"q": "ACME-WS"})
    assert [x["hostname"] for x in assets_a.json()["items"]] == ["ACME-WS-042"]
    staff = await api.get("/api/v1/inventory/health", headers=people["tech"], params={"tenant_id": str(a.id)})
    assert [h["tenant_id"] for h in staff.json()["items"]] == [str(a.id)]
    with session_scope(engine) as s:
        s.add(Licence(tenant_id=a.id, vendor="Microsoft", product="SPE_E3", sku="SPE_E3", quantity=5, assigned=3))
    licences = "/api/v1/inventory/licences"
    assert (await api.get(licences, headers=people["it_b"])).json()["items"] == []
    assert (await api.get(licences, headers=people["it_b"], params={"tenant_id": str(a.id)})).json()["items"] == []
    (own,) = (await api.get(licences, headers=people["it_a"])).json()["items"]
    assert (own["sku"], own["quantity"], own["assigned"], own["synced_at"]) == ("SPE_E3", 5, 3, None)
