"""SOC intake end to end: signed webhook -> incident workflow -> one prioritised ticket; repeats and correlated
alerts add nothing but notes; bad deliveries are refused and only logged; tenants never cross."""

import asyncio
import copy
import hashlib
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from domain.roles import Role
from domain.soc.signatures import signed_headers
from domain.tickets import EventKind, Priority
from models import AssetType, SocAlert, SocIncident, Ticket, TicketEvent, WebhookDelivery
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user

THREAT = json.loads((Path(__file__).parent.parent / "fixtures/soc/sentinelone_threat_webhook.json").read_text())
SITE = THREAT["agentRealtimeInfo"]["siteId"]  # the sample threat's SentinelOne site


def agent_of(host: str) -> str:
    """One SentinelOne agent per device, as in a console: a numeric agent id of its own per host name."""
    return str(1_700_000_000_000_000_000 + int(hashlib.sha256(host.casefold().encode()).hexdigest()[:12], 16))


def threat(threat_id: str, host: str, sha256: str | None = None) -> dict:
    """A malicious threat S1 has not mitigated yet: one the hub triages (an already mitigated one is information)."""
    t = copy.deepcopy(THREAT)
    t["id"] = t["threatInfo"]["threatId"] = threat_id
    t["threatInfo"]["mitigationStatus"] = "not_mitigated"
    t["agentRealtimeInfo"].update(agentComputerName=host, agentId=agent_of(host))
    if sha256:
        t["threatInfo"]["sha256"] = sha256
    return t


async def deliver(api, env, integration: dict, payload, *, secret=None, shift=None, headers=None):  # noqa: ANN001
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    now = await env.get_current_time()
    if shift is not None:
        now += shift
    signed = signed_headers(secret or integration["webhook_secret"], f"msg_{uuid.uuid4().hex}", now, body)
    return await api.post(
        integration["webhook_url"],
        content=body,
        headers=(signed if headers is None else headers) | {"content-type": "application/json"},
    )


async def eventually(check, timeout: float = 20.0):  # noqa: ANN001
    for _ in range(int(timeout / 0.1)):
        result = check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def incident(engine, key_part: str) -> SocIncident | None:
    """The incident of a device (by the host name its alerts name: the key names its agent), else by key part."""
    with Session(engine) as s:
        keys = s.exec(
            select(SocAlert.incident_key).where(
                func.lower(SocAlert.device_hostname) == key_part.lower(), SocAlert.incident_key.is_not(None)
            )
        ).all()
        found = SocIncident.key.in_(keys) if keys else SocIncident.key.contains(key_part)
        return s.exec(select(SocIncident).where(found)).first()


def ticket_of(engine, inc: SocIncident | None) -> Ticket | None:
    """The incident's ticket, once its own workflow has created the row."""
    if inc is None or inc.ticket_id is None:
        return None
    with Session(engine) as s:
        return s.get(Ticket, inc.ticket_id)


def count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
async def setup(api, engine):
    tenant = make_tenant(engine)
    host = f"srv-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.SERVER, tags=["critical"])
    _, admin = make_user(engine, Role.MSP_ADMIN)
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={
            "tenant_id": str(tenant.id),
            "source": "sentinelone",
            "name": "S1 Konsole",
            "vendor_tenant_ids": [SITE],
        },
    )
    assert r.status_code == 201, r.text
    return tenant, host, r.json(), admin


async def test_alert_opens_one_p1_ticket_repeats_and_correlated_alerts_do_not(api, env, engine, setup):
    tenant, host, integration, _ = setup
    first = threat(f"{uuid.uuid4().int % 10**18}", host)
    r = await deliver(api, env, integration, first)
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    assert ticket.tenant_id == tenant.id and ticket.priority == Priority.P1 and ticket.queue == "soc"
    assert ticket.title.startswith("[SentinelOne]") and host in ticket.title.lower()

    # The same threat again (a retry or the poller): still one alert, one ticket.
    assert (await deliver(api, env, integration, first)).status_code == 202
    # Another threat id, same device and same file hash: the same incident, a note on the same ticket.
    second = threat(f"{uuid.uuid4().int % 10**18}", host.upper())
    assert (await deliver(api, env, integration, second)).status_code == 202

    def noted():
        with Session(engine) as s:
            notes = s.exec(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.COMMENTED)
            ).all()
            return [n for n in notes if second["id"] in (n.body or "")]

    await eventually(noted)
    assert count(engine, SocAlert, SocAlert.tenant_id == tenant.id) == 2
    assert count(engine, Ticket, Ticket.tenant_id == tenant.id) == 1
    assert (await eventually(lambda: (i := incident(engine, host)) and i.alert_count == 2 and i)).ticket_id == ticket.id
    with Session(engine) as s:
        repeated = s.exec(select(SocAlert).where(SocAlert.vendor_alert_id == first["id"])).one()
    assert repeated.deliveries == 1  # the repeat was recognised in the incident, not stored again


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("wrong_secret", 401, "bad_signature"),
        ("no_headers", 401, "missing_header"),
        ("stale", 401, "stale_timestamp"),
        ("future", 401, "future_timestamp"),
        ("not_json", 422, "malformed_json"),
        ("no_threat", 422, "bad_alert"),
    ],
)
async def test_bad_deliveries_are_refused_logged_and_write_nothing(api, env, engine, setup, case, status, reason):
    from datetime import timedelta

    tenant, host, integration, _ = setup
    payload, kw = threat("4711", host), {}
    if case == "wrong_secret":
        kw["secret"] = "whsec_" + "A" * 43
    elif case == "no_headers":
        kw["headers"] = {}
    elif case in ("stale", "future"):
        kw["shift"] = timedelta(minutes=-10 if case == "stale" else 10)
    elif case == "not_json":
        payload = b"{not json"
    elif case == "no_threat":
        payload = {"hello": "world"}
    alerts_before = count(engine, SocAlert)
    r = await deliver(api, env, integration, payload, **kw)
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["detail"]
    assert count(engine, SocAlert) == alerts_before
    with Session(engine) as s:
        logged = s.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.integration_id == uuid.UUID(integration["id"]))
            .order_by(WebhookDelivery.received_at.desc())
        ).first()
    assert logged is not None and not logged.accepted and logged.reason == reason


async def test_unknown_integration_or_source_is_404(api, env, engine, setup):
    _, host, integration, _ = setup
    wrong_id = dict(integration, webhook_url=f"/api/v1/webhooks/sentinelone/{uuid.uuid4()}")
    assert (await deliver(api, env, wrong_id, threat("1", host))).status_code == 404
    wrong_source = dict(integration, webhook_url=integration["webhook_url"].replace("sentinelone", "rocketcyber"))
    assert (await deliver(api, env, wrong_source, threat("1", host))).status_code == 404
    assert (await api.post("/api/v1/webhooks/nessus/x", content=b"{}")).status_code == 404


async def test_integration_of_customer_b_never_touches_customer_a(api, env, engine, setup):
    tenant_a, host_a, _, admin = setup
    tenant_b = make_tenant(engine)
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={
            "tenant_id": str(tenant_b.id),
            "source": "sentinelone",
            "name": "S1 B",
            "vendor_tenant_ids": [SITE],
        },
    )
    integration_b = r.json()
    # B's platform reports A's host name: the tenant comes from the integration, A's asset is not matched.
    assert (await deliver(api, env, integration_b, threat(f"{uuid.uuid4().int % 10**18}", host_a))).status_code == 202
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, tenant_b.customer_number)))
    inc = incident(engine, tenant_b.customer_number)
    assert inc.tenant_id == tenant_b.id and ticket.tenant_id == tenant_b.id
    assert inc.asset_id is None and ticket.queue == "soc-unassigned"
    assert count(engine, Ticket, Ticket.tenant_id == tenant_a.id) == 0


async def test_integration_routes_check_role_and_input(api, engine, setup):
    tenant, _, integration, admin = setup
    _, customer = make_user(engine, Role.CUSTOMER_IT, tenant)
    assert (await api.get("/api/v1/soc/integrations", headers=auth(customer))).status_code == 403
    bad = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={"tenant_id": str(uuid.uuid4()), "source": "sentinelone", "name": "x"},
    )
    assert bad.status_code == 422 and "tenant_id" in bad.json()["detail"]
    bad = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={"tenant_id": str(tenant.id), "source": "nessus", "name": "x"},
    )
    assert bad.status_code == 422
    listed = (await api.get(f"/api/v1/soc/integrations?tenant_id={tenant.id}", headers=auth(admin))).json()
    assert [i["id"] for i in listed["items"]] == [integration["id"]]
    assert "webhook_secret" not in listed["items"][0]
