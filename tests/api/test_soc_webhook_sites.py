"""The customer comes from the integration's site mapping, never from where a delivery arrives: an item naming a
vendor site or account that is not mapped to the integration's customer is refused, with its reason, and kept in the
quarantine for review; the others of its batch are accepted. Every item delivered ends as an accepted alert or a
refusal with a reason and a quarantined copy."""

import json
import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, select

from domain.roles import Role
from hub.db import session_scope
from models import SocAlert, SocInboxItem, SocIntegration, SocQuarantineItem, Ticket, WebhookDelivery
from tests.api.test_soc_webhook_api import SITE, count, deliver, eventually, threat
from tests.api.test_soc_webhook_redelivery import last_delivery
from tests.conftest import auth
from tests.factories import make_tenant, make_user

FIXTURES = Path(__file__).parent.parent / "fixtures/soc/webhooks"
THREE_SITES = json.loads((FIXTURES / "sentinelone_threats_three_sites.json").read_text())
MIXED = json.loads((FIXTURES / "generic_batch_mixed.json").read_text())


def fresh(payload: dict) -> dict:
    """The fixture with vendor ids of this test run (the database outlives a test on PostgreSQL)."""
    run = uuid.uuid4().hex[:8]
    text = json.dumps(payload)
    for item in payload["data"]:
        if isinstance(item, dict) and "id" in item:
            text = text.replace(f'"{item["id"]}"', f'"{item["id"]}-{run}"')
    return json.loads(text)


async def integration(api, admin: str, tenant, source: str, sites: list[str]) -> dict:  # noqa: ANN001
    body = {"tenant_id": str(tenant.id), "source": source, "name": source, "vendor_tenant_ids": sites}
    r = await api.post("/api/v1/soc/integrations", headers=auth(admin), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def quarantined(engine, integration_id: str) -> list[SocQuarantineItem]:  # noqa: ANN001
    with Session(engine) as s:
        query = select(SocQuarantineItem).where(SocQuarantineItem.integration_id == uuid.UUID(integration_id))
        return list(s.exec(query).all())


@pytest.fixture
def admin(engine) -> str:
    return make_user(engine, Role.MSP_ADMIN)[1]


async def test_threats_of_three_sites_at_one_integration_file_only_its_customers(api, env, engine, admin):
    contoso, fabrikam = make_tenant(engine), make_tenant(engine)
    hook_a = await integration(api, admin, contoso, "sentinelone", ["1650000000000000001"])
    hook_b = await integration(api, admin, fabrikam, "sentinelone", ["1650000000000000002"])
    batch = fresh(THREE_SITES)

    r = await deliver(api, env, hook_a, batch)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert (answer["accepted"], answer["refused"]) == (1, 2)
    statuses = [(o["index"], o["status"], o.get("reason")) for o in answer["items"]]
    assert statuses == [(0, "accepted", None), (1, "refused", "foreign_site"), (2, "refused", "foreign_site")]
    refused = answer["items"][1]
    assert refused["field"] == "data.1.vendor_tenant_id"
    assert "1650000000000000002" in refused["message"] and "Fabrikam AG" in refused["message"]

    # Customer A gets its own threat only; B's and C's device names, users and paths never reach A's records.
    alerts = await eventually(lambda: count(engine, SocAlert, SocAlert.tenant_id == contoso.id) == 1)
    assert alerts
    with Session(engine) as s:
        stored = [a.device_hostname for a in s.exec(select(SocAlert).where(SocAlert.tenant_id == contoso.id))]
        tickets = s.exec(select(Ticket).where(Ticket.tenant_id == contoso.id)).all()
    assert [h.upper() for h in stored if h] == ["CONTOSO-WS-042"]
    text = " ".join(f"{t.title} {t.description}" for t in tickets)
    assert "FABRIKAM" not in text.upper() and "NORTHWIND" not in text.upper()

    # The refused ones are kept for review under the integration they arrived at, with the reason.
    held = {q.item["id"]: q for q in quarantined(engine, hook_a["id"])}
    assert set(held) == {batch["data"][1]["id"], batch["data"][2]["id"]}
    assert all(q.kind == "webhook" and q.reason.startswith("foreign_site: ") for q in held.values())
    assert {str(q.id) for q in held.values()} == {o["quarantine_id"] for o in answer["items"][1:]}

    # Fabrikam's own integration takes the same batch's Fabrikam threat.
    r = await deliver(api, env, hook_b, batch)
    assert r.status_code == 202 and r.json()["accepted"] == 1
    assert [o["status"] for o in r.json()["items"]] == ["refused", "accepted", "refused"]


async def test_an_unmapped_site_is_refused_listed_in_the_quarantine_and_taken_once_mapped(api, env, engine, admin):
    tenant = make_tenant(engine)
    hook = await integration(api, admin, tenant, "sentinelone", [])
    one = threat(f"{uuid.uuid4().int % 10**18}", "ws-unmapped")

    r = await deliver(api, env, hook, one)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    problem = r.json()
    assert problem["errors"] == [{"field": "vendor_tenant_id", "message": problem["items"][0]["message"]}]
    assert SITE in problem["detail"] and "vendor_tenant_ids" in problem["detail"]
    assert last_delivery(engine, hook).reason == "foreign_site" and not last_delivery(engine, hook).accepted
    assert count(engine, SocInboxItem, SocInboxItem.integration_id == uuid.UUID(hook["id"])) == 0

    listed = await api.get(
        "/api/v1/soc/quarantine", headers=auth(admin), params={"integration_id": hook["id"], "kind": "webhook"}
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["item"]["id"] == one["id"] and "not mapped" in item["reason"]
    assert item["id"] == problem["items"][0]["quarantine_id"]

    release = f"/api/v1/soc/quarantine/{item['id']}/release"
    still = await api.post(release, headers=auth(admin))
    assert still.status_code == 409 and "still refused: foreign_site" in still.json()["detail"], still.text

    # Once the site is mapped, the kept item is released into the inbox and reaches its incident.
    r = await api.patch(
        f"/api/v1/soc/integrations/{hook['id']}", headers=auth(admin), json={"vendor_tenant_ids": [SITE, SITE]}
    )
    assert r.status_code == 200 and r.json()["vendor_tenant_ids"] == [SITE], r.text
    released = await api.post(release, headers=auth(admin))
    assert released.status_code == 200 and released.json()["released_at"], released.text
    assert await eventually(lambda: count(engine, SocAlert, SocAlert.integration_id == uuid.UUID(hook["id"])) == 1)
    assert (await api.post(release, headers=auth(admin))).status_code == 409
    assert (await deliver(api, env, hook, one)).status_code == 202


async def test_an_integration_that_expects_sites_refuses_an_alert_without_one(api, env, engine, admin):
    tenant = make_tenant(engine)
    hook = await integration(api, admin, tenant, "generic", ["contoso"])
    anonymous = {"id": f"a-{uuid.uuid4().hex[:8]}", "title": "No tenant", "detected_at": "2026-11-20T08:15:42Z"}
    r = await deliver(api, env, hook, anonymous)
    assert r.status_code == 422 and r.json()["items"][0]["reason"] == "foreign_site", r.text
    assert "names no tenant" in r.json()["detail"]
    # Without a mapping, a sender that names no tenant is one customer's sender: taken.
    open_hook = await integration(api, admin, tenant, "generic", [])
    assert (await deliver(api, env, open_hook, anonymous)).status_code == 202


async def test_every_item_of_a_mixed_batch_ends_accepted_or_refused_with_a_reason(api, env, engine, admin):
    tenant = make_tenant(engine)
    hook = await integration(api, admin, tenant, "generic", ["contoso"])
    batch = fresh(MIXED)
    delivered = len(batch["data"])

    r = await deliver(api, env, hook, batch)
    assert r.status_code == 202, r.text
    answer = r.json()
    items = answer["items"]
    assert [o["index"] for o in items] == list(range(delivered))
    accepted = [o for o in items if o["status"] == "accepted"]
    refused = [o for o in items if o["status"] == "refused"]
    assert len(accepted) + len(refused) == delivered == answer["accepted"] + answer["refused"]
    assert [o["index"] for o in accepted] == [0, 5]
    assert {o["index"]: o["reason"] for o in refused} == {
        1: "bad_alert",
        2: "out_of_window",
        3: "bad_alert",
        4: "foreign_site",
    }
    assert all(o["message"] and o["field"].startswith(f"data.{o['index']}") for o in refused)
    assert len(answer["incidents"]) == 2

    # Durable: the accepted ones become alerts, each refused one is in the quarantine with its reason.
    assert await eventually(lambda: count(engine, SocAlert, SocAlert.integration_id == uuid.UUID(hook["id"])) == 2)
    held = {str(q.id): q for q in quarantined(engine, hook["id"])}
    assert set(held) == {o["quarantine_id"] for o in refused}
    for o in refused:
        assert held[o["quarantine_id"]].reason.startswith(o["reason"] + ": " + o["field"])
    assert held[next(o["quarantine_id"] for o in refused if o["index"] == 3)].item == {"value": "not an alert"}
    with Session(engine) as s:
        logged = s.exec(select(WebhookDelivery).where(WebhookDelivery.integration_id == uuid.UUID(hook["id"]))).one()
    assert logged.accepted and logged.reason == "partly_refused"


async def test_a_batch_of_only_bad_items_is_a_422_naming_each_and_keeps_them(api, env, engine, admin):
    tenant = make_tenant(engine)
    hook = await integration(api, admin, tenant, "generic", ["contoso"])
    batch = fresh(MIXED)
    batch["data"] = batch["data"][1:5]
    r = await deliver(api, env, hook, batch)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert [e["field"].split(".")[1] for e in problem["errors"]] == ["0", "1", "2", "3"]
    assert "all 4 alerts were refused" in problem["detail"]
    assert len(quarantined(engine, hook["id"])) == 4
    assert count(engine, SocInboxItem, SocInboxItem.integration_id == uuid.UUID(hook["id"])) == 0

    # The sender retries the 422: the items are held once, the answer names the same quarantined items.
    again = await deliver(api, env, hook, batch)
    assert again.status_code == 422
    assert [o["quarantine_id"] for o in again.json()["items"]] == [o["quarantine_id"] for o in problem["items"]]
    assert len(quarantined(engine, hook["id"])) == 4


async def test_after_an_upgrade_an_integration_without_sites_refuses_with_what_to_do_and_releases_once_mapped(
    api, env, engine, admin
):
    """An integration created before the site mapping (no vendor_tenant_ids, as the migration leaves it): its S1
    alerts are refused to the quarantine, and the refusal says how to map the site and release them."""
    tenant = make_tenant(engine)
    hook = await integration(api, admin, tenant, "sentinelone", [])
    with session_scope(engine) as s:
        s.get(SocIntegration, uuid.UUID(hook["id"])).vendor_tenant_ids = None  # as an upgraded row has it
    alert = threat(f"9{uuid.uuid4().int % 10**17:017d}", "contoso-ws-042")

    r = await deliver(api, env, hook, alert)

    assert r.status_code == 422, r.text
    [item] = r.json()["items"]
    assert item["reason"] == "foreign_site" and item["field"] == "vendor_tenant_id"
    message = item["message"]
    assert f"SentinelOne site {SITE}" in message and "lists no vendor_tenant_ids yet" in message
    assert f'PATCH /api/v1/soc/integrations/{hook["id"]} {{"vendor_tenant_ids": ["{SITE}"]}}' in message
    assert "POST /api/v1/soc/quarantine/{id}/release" in message and r.json()["detail"].endswith(message)
    [held] = quarantined(engine, hook["id"])
    assert str(held.id) == item["quarantine_id"] and "lists no vendor_tenant_ids yet" in held.reason

    # Doing what it says: the site mapped, the alert released, it reaches its incident under this customer.
    patched = await api.patch(
        f"/api/v1/soc/integrations/{hook['id']}", headers=auth(admin), json={"vendor_tenant_ids": [SITE]}
    )
    assert patched.status_code == 200, patched.text
    released = await api.post(f"/api/v1/soc/quarantine/{held.id}/release", headers=auth(admin))
    assert released.status_code == 200, released.text
    stored = await eventually(
        lambda: count(
            engine, SocAlert, SocAlert.integration_id == uuid.UUID(hook["id"]), SocAlert.tenant_id == tenant.id
        )
    )
    assert stored == 1
