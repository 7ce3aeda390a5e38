"""Containment waits for a person: approve runs SentinelOne's network disconnect once, reject and expiry don't."""

import json
import uuid
from datetime import timedelta

import httpx
import pytest
import respx
from sqlmodel import Session, select

from domain.roles import Role
from domain.tickets import EventKind
from models import AssetType, TicketEvent
from tests.api.test_soc_webhook_api import deliver, eventually, incident, threat, ticket_of
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user

S1 = "https://s1.example.net"
DISCONNECT = f"{S1}/web/api/v2.1/agents/actions/disconnect"


@pytest.fixture
async def p1_incident(api, env, engine, monkeypatch):
    monkeypatch.setenv("PSA_SOC_CREDENTIALS__S1TEST__BASE_URL", S1)
    monkeypatch.setenv("PSA_SOC_CREDENTIALS__S1TEST__TOKEN", "secret-token")
    tenant = make_tenant(engine)
    host = f"dc-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.SERVER, tags=["critical"])
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_IT, tenant)
    integration = (
        await api.post(
            "/api/v1/soc/integrations",
            headers=auth(admin),
            json={
                "tenant_id": str(tenant.id),
                "source": "sentinelone",
                "name": "S1",
                "credentials_ref": "s1test",
                "vendor_tenant_ids": ["1650000000000000001"],
            },
        )
    ).json()
    alert = threat(f"{uuid.uuid4().int % 10**18}", host)
    assert (await deliver(api, env, integration, alert)).status_code == 202
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    key = incident(engine, host).key

    async def proposal():
        body = (await api.get(f"/api/v1/soc/incidents/{key}", headers=auth(tech))).json()
        return body["containment"]

    for _ in range(100):
        if (found := await proposal()) is not None:
            break
    assert found["status"] == "pending" and found["agent_id"] == alert["agentRealtimeInfo"]["agentId"]
    return {"key": key, "tech": tech, "customer": customer, "ticket": ticket, "agent": found["agent_id"]}


def notes(engine, ticket_id) -> str:
    with Session(engine) as s:
        rows = s.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.COMMENTED)
        ).all()
    return "\n".join(r.body or "" for r in rows)


async def test_approval_disconnects_once_and_is_recorded(api, engine, p1_incident):
    inc = p1_incident
    url = f"/api/v1/soc/incidents/{inc['key']}/containment"
    assert (await api.post(url, json={"approve": True}, headers=auth(inc["customer"]))).status_code == 403
    with respx.mock() as mock:
        route = mock.post(DISCONNECT).mock(return_value=httpx.Response(200, json={"data": {"affected": 1}}))
        r = await api.post(url, json={"approve": True, "reason": "Ransomware aktiv"}, headers=auth(inc["tech"]))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "executed" and "1 Agent" in r.json()["result"]
        assert route.call_count == 1
        assert json.loads(route.calls.last.request.content) == {"filter": {"ids": [inc["agent"]]}}
        again = await api.post(url, json={"approve": True}, headers=auth(inc["tech"]))
        assert again.status_code == 409 and "already executed" in again.json()["detail"]
        assert route.call_count == 1
    text = await eventually(lambda: (t := notes(engine, inc["ticket"].id)) and "ausgeführt" in t and t)
    assert "freigegeben" in text and "Ransomware aktiv" in text


async def test_rejection_runs_nothing(api, engine, p1_incident):
    inc = p1_incident
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(DISCONNECT).mock(return_value=httpx.Response(200, json={"data": {"affected": 1}}))
        r = await api.post(
            f"/api/v1/soc/incidents/{inc['key']}/containment", json={"approve": False}, headers=auth(inc["tech"])
        )
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        assert route.call_count == 0
    await eventually(lambda: "abgelehnt" in notes(engine, inc["ticket"].id))


async def test_unanswered_proposal_expires(api, env, engine, p1_incident):
    inc = p1_incident
    await env.sleep(timedelta(minutes=61))
    r = await api.post(
        f"/api/v1/soc/incidents/{inc['key']}/containment", json={"approve": True}, headers=auth(inc["tech"])
    )
    assert r.status_code == 409 and ("expired" in r.json()["detail"])
    await eventually(lambda: "abgelaufen" in notes(engine, inc["ticket"].id))


async def test_unknown_incident_and_bad_body(api, p1_incident):
    inc = p1_incident
    assert (
        await api.post("/api/v1/soc/incidents/nope/containment", json={"approve": True}, headers=auth(inc["tech"]))
    ).status_code == 404
    bad = await api.post(
        f"/api/v1/soc/incidents/{inc['key']}/containment", json={"approve": "vielleicht"}, headers=auth(inc["tech"])
    )
    assert bad.status_code == 422
