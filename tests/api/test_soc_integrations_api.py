"""Administration of SOC integrations: secret rotation with a grace period, PATCH with the create-time
validation, deactivation refusing webhooks, and the poll schedule's status when Temporal cannot help
(time-skipping server without schedules, Temporal unreachable). Real schedules: tests/workflows/test_soc_schedules.py.
"""

import json
import socket
import uuid

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from domain.roles import Role
from hub.config import Settings
from models import AuditEvent, SocIntegration, WebhookDelivery
from tests.api.test_soc_webhook_api import SITE, deliver, threat
from tests.conftest import auth
from tests.factories import make_tenant, make_user

INTEGRATIONS = "/api/v1/soc/integrations"


@pytest.fixture
async def s1(api, engine):
    """A SentinelOne integration (webhook only) of a fresh tenant, and API keys of several roles."""
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    body = {"tenant_id": str(tenant.id), "source": "sentinelone", "name": "S1", "vendor_tenant_ids": [SITE]}
    r = await api.post(INTEGRATIONS, headers=auth(admin), json=body)
    assert r.status_code == 201, r.text
    assert r.json()["poll_schedule"] == {"status": "none", "schedule_id": None, "every_minutes": None, "detail": None}
    return tenant, r.json(), admin


def audits(engine, integration_id: str) -> list[AuditEvent]:  # noqa: ANN001
    with Session(engine) as s:
        return list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "soc_integration", AuditEvent.entity_id == integration_id)
                .order_by(AuditEvent.at)
            )
        )


def last_delivery(engine, integration_id: str) -> WebhookDelivery:  # noqa: ANN001
    with Session(engine) as s:
        return s.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.integration_id == uuid.UUID(integration_id))
            .order_by(WebhookDelivery.received_at.desc())
        ).first()


def alert(host: str = "ws-rot") -> dict:
    return threat(f"{uuid.uuid4().int % 10**18}", f"{host}-{uuid.uuid4().hex[:6]}")


async def test_rotation_accepts_old_and_new_secret_until_the_grace_period_ends(api, env, engine, s1):
    _, integration, admin = s1
    iid, first = integration["id"], integration["webhook_secret"]
    url = f"{INTEGRATIONS}/{iid}"

    r = await api.post(f"{url}/rotate-secret", headers=auth(admin))
    assert r.status_code == 200, r.text
    second = r.json()["webhook_secret"]
    assert second.startswith("whsec_") and second != first and r.json()["previous_secret_accepted"] is True
    shown = await api.get(url, headers=auth(admin))
    assert "webhook_secret" not in shown.json() and shown.json()["previous_secret_accepted"] is True

    assert (await deliver(api, env, integration, alert(), secret=first)).status_code == 202
    assert (await deliver(api, env, integration, alert(), secret=second)).status_code == 202

    assert (await api.delete(f"{url}/previous-secret", headers=auth(admin))).status_code == 204
    old = await deliver(api, env, integration, alert(), secret=first)
    assert old.status_code == 401 and old.json()["reason"] == "bad_signature"
    assert last_delivery(engine, iid).reason == "bad_signature"
    assert (await deliver(api, env, integration, alert(), secret=second)).status_code == 202
    assert (await api.get(url, headers=auth(admin))).json()["previous_secret_accepted"] is False
    # Ending a grace period that is not running changes and records nothing.
    assert (await api.delete(f"{url}/previous-secret", headers=auth(admin))).status_code == 204

    actions = [(e.action, e.data) for e in audits(engine, iid)]
    assert actions == [
        (
            "created",
            {"source": "sentinelone", "name": "S1", "webhook_auth": "standard_webhooks", "vendor_tenant_ids": [SITE]},
        ),
        ("secret_rotated", {"replaced_previous": False}),
        ("previous_secret_revoked", {}),
    ]
    assert all(first not in json.dumps(e.data) and second not in json.dumps(e.data) for e in audits(engine, iid))


async def test_a_second_rotation_replaces_the_previous_secret(api, env, engine, s1):
    _, integration, admin = s1
    first = integration["webhook_secret"]
    second = (await api.post(f"{INTEGRATIONS}/{integration['id']}/rotate-secret", headers=auth(admin))).json()
    third = (await api.post(f"{INTEGRATIONS}/{integration['id']}/rotate-secret", headers=auth(admin))).json()
    assert (await deliver(api, env, integration, alert(), secret=first)).status_code == 401
    assert (await deliver(api, env, integration, alert(), secret=second["webhook_secret"])).status_code == 202
    assert (await deliver(api, env, integration, alert(), secret=third["webhook_secret"])).status_code == 202
    with Session(engine) as s:
        row = s.get(SocIntegration, uuid.UUID(integration["id"]))
    assert (row.webhook_secret, row.previous_webhook_secret) == (third["webhook_secret"], second["webhook_secret"])
    assert audits(engine, integration["id"])[-1].data == {"replaced_previous": True}


async def test_admin_routes_check_role_and_existence(api, engine, s1):
    tenant, integration, admin = s1
    iid = integration["id"]
    _, tech = make_user(engine, Role.MSP_TECH)
    _, own_customer = make_user(engine, Role.CUSTOMER_IT, tenant)
    _, foreign_customer = make_user(engine, Role.CUSTOMER_IT, make_tenant(engine))
    calls = [
        ("POST", f"{INTEGRATIONS}/{iid}/rotate-secret", None),
        ("DELETE", f"{INTEGRATIONS}/{iid}/previous-secret", None),
        ("PATCH", f"{INTEGRATIONS}/{iid}", {"name": "Übernommen"}),
    ]
    for method, url, body in calls:
        for key in (tech, own_customer, foreign_customer):
            r = await api.request(method, url, headers=auth(key), json=body)
            assert r.status_code == 403 and "msp_admin" in r.json()["detail"], (method, url, r.text)
        missing = url.replace(iid, str(uuid.uuid4()))
        r = await api.request(method, missing, headers=auth(admin), json=body)
        assert r.status_code == 404 and "not found" in r.json()["detail"], (method, missing, r.text)
        assert (await api.request(method, url.replace(iid, "nope"), headers=auth(admin), json=body)).status_code == 422
    with Session(engine) as s:
        row = s.get(SocIntegration, uuid.UUID(iid))
    assert (row.name, row.webhook_secret, row.previous_webhook_secret) == ("S1", integration["webhook_secret"], None)
    assert [e.action for e in audits(engine, iid)] == ["created"]


async def test_deactivated_integration_refuses_webhooks_until_reactivated(api, env, engine, s1):
    _, integration, admin = s1
    url = f"{INTEGRATIONS}/{integration['id']}"
    r = await api.patch(url, headers=auth(admin), json={"is_active": False, "name": "S1 (pausiert)"})
    assert r.status_code == 200, r.text
    assert (r.json()["is_active"], r.json()["name"]) == (False, "S1 (pausiert)")
    refused = await deliver(api, env, integration, alert())
    assert refused.status_code == 404 and "deactivated" in refused.json()["detail"]
    assert last_delivery(engine, integration["id"]).reason == "inactive_integration"

    assert (await api.patch(url, headers=auth(admin), json={"is_active": True})).json()["is_active"] is True
    assert (await deliver(api, env, integration, alert())).status_code == 202
    updates = [e.data for e in audits(engine, integration["id"]) if e.action == "updated"]
    assert updates == [{"is_active": False, "name": "S1 (pausiert)"}, {"is_active": True}]


async def test_patch_validates_like_create_and_changes_only_what_is_sent(api, engine):
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    r = await api.post(
        INTEGRATIONS,
        headers=auth(admin),
        json={"tenant_id": str(tenant.id), "source": "barracuda_xdr", "name": "XDR"},
    )
    assert r.status_code == 201, r.text
    url = f"{INTEGRATIONS}/{r.json()['id']}"

    bad_bodies = {
        "field_mapping.title": {"field_mapping": {"title": "has space"}},
        "field_mapping.nonsense": {"field_mapping": {"nonsense": "x"}},
        "name": {"name": None},
        "is_active": {"is_active": None},
        "tenant_id": {"tenant_id": str(make_tenant(engine).id)},
        "credentials_ref": {"credentials_ref": "a\x00b"},
        "poll_interval_minutes": {"poll_interval_minutes": 10},
    }
    for field, body in bad_bodies.items():
        bad = await api.patch(url, headers=auth(admin), json=body)
        assert bad.status_code == 422 and bad.json()["detail"].startswith(field), (field, bad.text)
    # The same field_mapping error as on create.
    created_bad = await api.post(
        INTEGRATIONS,
        headers=auth(admin),
        json={"tenant_id": str(tenant.id), "source": "barracuda_xdr", "name": "x", "field_mapping": {"title": "a b"}},
    )
    patched_bad = await api.patch(url, headers=auth(admin), json={"field_mapping": {"title": "a b"}})
    assert created_bad.json()["errors"] == patched_bad.json()["errors"]

    r = await api.patch(url, headers=auth(admin), json={"field_mapping": {"device_hostname": "asset.name"}})
    assert r.status_code == 200, r.text
    mapping = r.json()["field_mapping"]
    assert mapping["device_hostname"] == "asset.name" and mapping["title"] == "title"  # stored whole, as on create
    assert r.json()["poll_schedule"]["status"] == "none" and r.json()["name"] == "XDR"
    r = await api.patch(url, headers=auth(admin), json={"field_mapping": None, "credentials_ref": "xdr-key"})
    assert (r.json()["field_mapping"], r.json()["credentials_ref"]) == (None, "xdr-key")
    assert r.json()["poll_schedule"]["status"] == "none"  # webhook-only: no schedule, Temporal not asked


async def test_schedule_status_is_explicit_when_the_server_has_no_schedules(api, engine):
    """The time-skipping server answers UNIMPLEMENTED: reported as unsupported, never as active."""
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    body = {"tenant_id": str(tenant.id), "source": "rocketcyber", "name": "RC", "credentials_ref": "rc-acme"}
    r = await api.post(INTEGRATIONS, headers=auth(admin), json=body | {"poll_interval_minutes": 15})
    assert r.status_code == 201, r.text
    schedule = r.json()["poll_schedule"]
    assert schedule["status"] == "unsupported" and "does not support schedules" in schedule["detail"]
    assert schedule["schedule_id"] == f"soc-poll-rocketcyber-{tenant.customer_number}"
    r = await api.patch(f"{INTEGRATIONS}/{r.json()['id']}", headers=auth(admin), json={"is_active": False})
    assert r.status_code == 200 and r.json()["poll_schedule"]["status"] == "unsupported"
    bad = await api.post(INTEGRATIONS, headers=auth(admin), json=body | {"poll_interval_minutes": 0})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("poll_interval_minutes")


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("temporal", ["not connected", "unreachable"])
async def test_create_without_temporal_saves_the_integration_and_says_pending(env, engine, temporal):
    client = None
    if temporal == "unreachable":
        client = await Client.connect(f"127.0.0.1:{_dead_port()}", lazy=True, data_converter=pydantic_data_converter)
    app = create_app(Settings(), engine=engine, temporal=client, clock=env.get_current_time)
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as api:
        r = await api.post(
            INTEGRATIONS,
            headers=auth(admin),
            json={"tenant_id": str(tenant.id), "source": "sentinelone", "name": "S1", "credentials_ref": "s1-acme"},
        )
        assert r.status_code == 201, r.text
        schedule = r.json()["poll_schedule"]
        assert schedule["status"] == "pending" and "psa soc sync-schedules" in schedule["detail"]
        assert schedule["schedule_id"] == f"soc-poll-sentinelone-{tenant.customer_number}"
        url = f"{INTEGRATIONS}/{r.json()['id']}"
        assert (await api.get(url, headers=auth(admin))).status_code == 200  # saved despite Temporal

        r = await api.patch(url, headers=auth(admin), json={"is_active": False})
        assert r.status_code == 200 and r.json()["poll_schedule"]["status"] == "pending"
        r = await api.patch(url, headers=auth(admin), json={"poll_interval_minutes": 10, "name": "neu"})
        # The interval is stored with the integration; the schedule follows once Temporal is back (or the CLI runs).
        assert r.status_code == 200 and r.json()["poll_schedule"]["status"] == "pending"
        saved = (await api.get(url, headers=auth(admin))).json()
        assert saved["name"] == "neu" and saved["poll_interval_minutes"] == 10
