"""The webhook under a storm: redeliveries of stored, unchanged alerts are answered without a Temporal round trip
(logged as `duplicate`), a changed status still reaches the incident, a redelivery racing the first one is dropped
by the incident itself, and no database call runs on the event loop."""

import asyncio
import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

import api.routes.soc.webhooks as route
from domain.roles import Role
from domain.soc.sentinelone import normalize_sentinelone
from hub.db import session_scope
from models import AssetType, SocAlert, SocInboxItem, SocIncident, SocIntegration, Ticket, WebhookDelivery
from tests.api.test_soc_webhook_api import count, deliver, eventually, incident, ticket_of
from tests.conftest import auth
from tests.factories import make_asset, make_soc_integration, make_tenant, make_user
from tests.workflows.test_incident_lifecycle import later, notes, open_threat


@pytest.fixture
async def setup(api, engine):
    """A customer with a workstation and an S1 integration (a P2 incident: no containment, no paging)."""
    tenant = make_tenant(engine)
    host = f"ws-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.WORKSTATION)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={
            "tenant_id": str(tenant.id),
            "source": "sentinelone",
            "name": "S1",
            "vendor_tenant_ids": ["1650000000000000001"],
        },
    )
    assert r.status_code == 201, r.text
    return tenant, host, r.json(), admin


def new_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def last_delivery(engine, integration: dict) -> WebhookDelivery:
    with Session(engine) as s:
        return s.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.integration_id == uuid.UUID(integration["id"]))
            .order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
        ).first()


async def signals(env, key: str) -> int:
    """Hand-overs (the inbox's `take_alerts` updates) the incident's current run took."""
    history = await env.client.get_workflow_handle(f"incident-{key}").fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == "take_alerts"
    )


def stored(engine, vendor_id: str) -> SocAlert:
    with Session(engine) as s:
        return s.exec(select(SocAlert).where(SocAlert.vendor_alert_id == vendor_id)).one()


async def test_unchanged_redelivery_is_answered_without_signal_and_logged_as_duplicate(api, env, engine, setup):
    tenant, host, integration, _ = setup
    first = open_threat(new_id(), host)
    assert (await deliver(api, env, integration, first)).status_code == 202
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    key = incident(engine, host).key
    assert last_delivery(engine, integration).reason is None
    await eventually(lambda: not inbox_rows(engine, tenant.id))  # the incident has answered the hand-over
    before = await signals(env, key)

    r = await deliver(api, env, integration, first)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert (answer["accepted"], answer["refused"], answer["incidents"]) == (1, 0, [f"incident-{key}"])
    logged = last_delivery(engine, integration)
    assert logged.accepted and logged.reason == "duplicate"
    assert await signals(env, key) == before  # no hand-over: the stored alert was handled already
    assert stored(engine, first["id"]).deliveries == 1
    assert count(engine, Ticket, Ticket.tenant_id == tenant.id) == 1

    # A changed vendor status is news: it is signalled, recorded and noted as before.
    resolved = later(first, minutes=30, incidentStatus="resolved")
    assert (await deliver(api, env, integration, resolved)).status_code == 202
    assert last_delivery(engine, integration).reason is None
    await eventually(lambda: stored(engine, first["id"]).vendor_status == "resolved")
    await eventually(lambda: not inbox_rows(engine, tenant.id))
    assert await signals(env, key) == before + 1
    await eventually(lambda: any("offen → behoben" in n for n in notes(engine, ticket.id)))
    # ... and once stored, its redelivery is a duplicate again.
    assert (await deliver(api, env, integration, resolved)).status_code == 202
    assert last_delivery(engine, integration).reason == "duplicate"
    assert await signals(env, key) == before + 1


async def test_redelivery_racing_the_first_is_dropped_by_the_incident(api, env, engine, setup, monkeypatch):
    tenant, host, integration, _ = setup
    # Not stored yet when the redelivery is checked (the incident has not recorded the first delivery): signalled.
    monkeypatch.setattr(route, "_stored", lambda session, tenant_id, alerts: (set(), {}))
    first = open_threat(new_id(), host)
    answers = await asyncio.gather(*(deliver(api, env, integration, first) for _ in range(3)))
    assert [a.status_code for a in answers] == [202, 202, 202]
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    key = incident(engine, host).key
    await eventually(lambda: not inbox_rows(engine, tenant.id))  # every hand-over answered, so in the history
    # One to three hand-overs: the inbox sends identical deliveries it holds at one moment once.
    assert 1 <= (before := await signals(env, key)) <= 3
    # And once more after it is recorded: the check still misses it, the incident drops it.
    assert (await deliver(api, env, integration, first)).status_code == 202
    second = open_threat(new_id(), host)
    assert (await deliver(api, env, integration, second)).status_code == 202
    await eventually(lambda: any(second["id"] in n for n in notes(engine, ticket.id)))
    await eventually(lambda: not inbox_rows(engine, tenant.id))
    assert await signals(env, key) > before
    assert count(engine, Ticket, Ticket.tenant_id == tenant.id) == 1
    assert count(engine, SocAlert, SocAlert.tenant_id == tenant.id) == 2
    assert stored(engine, first["id"]).deliveries == 1
    # The first alert is the ticket's description; none of its repeats became a note.
    assert not any(f"Alarm sentinelone {first['id']}:" in n for n in notes(engine, ticket.id))
    assert (await eventually(lambda: (i := incident(engine, host)) and i.alert_count == 2 and i)).ticket_id == ticket.id


def _row(tenant_id, alert, incident_key: str, status: str, updated_at: datetime | None) -> SocAlert:
    return SocAlert(
        dedupe_key=alert.dedupe_key,
        tenant_id=tenant_id,
        integration_id=uuid.UUID(alert.integration_id),
        run_id="run",
        source=alert.source.value,
        vendor_alert_id=alert.vendor_alert_id,
        incident_key=incident_key,
        title=alert.title,
        severity=alert.severity.value,
        verdict=alert.verdict.value,
        detected_at=alert.detected_at,
        vendor_status=status,
        vendor_updated_at=updated_at,
    )


def test_stored_compares_status_and_time_within_the_tenant_and_open_incidents(engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    row = make_soc_integration(engine, tenant)
    integration = str(row.id)
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    same, older, newer, changed, closed, foreign = (
        normalize_sentinelone(later(open_threat(new_id(), "ws-1"), minutes=0), integration) for _ in range(6)
    )
    closed_key = f"closed-{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as s:
        for alert, status, stored_at, owner, key in (
            (same, "new", at, tenant, "open-1"),
            (older, "new", datetime(2026, 11, 20, 9, 30, tzinfo=UTC), tenant, "open-1"),
            (newer, "new", datetime(2026, 11, 20, 8, 30, tzinfo=UTC), tenant, "open-1"),
            (changed, "resolved", at, tenant, "open-1"),
            (closed, "new", at, tenant, closed_key),
            (foreign, "new", at, other, "open-1"),
        ):
            s.add(_row(owner.id, alert, key, status, stored_at))
        s.add(
            SocIncident(
                key=closed_key,
                tenant_id=tenant.id,
                status="closed",
                priority="P2",
                title="x",
                first_alert_at=at,
                last_alert_at=at,
            )
        )
    unknown = normalize_sentinelone(open_threat(new_id(), "ws-1"), integration)
    alerts = [same, older, newer, changed, closed, foreign, unknown]
    # Same status, delivery not newer than stored: a duplicate. Newer, another status, a closed incident (a new
    # run counts the repeat), another tenant's row, an alert never stored: handed to the incident.
    with Session(engine) as s:
        unchanged, known = route._stored(s, tenant.id, alerts)
        assert unchanged == {same.dedupe_key, older.dedupe_key}
        assert known == {a.dedupe_key: "open-1" for a in (same, older, newer, changed)} | {
            closed.dedupe_key: closed_key
        }
        assert route._stored(s, other.id, alerts) == ({foreign.dedupe_key}, {foreign.dedupe_key: "open-1"})


async def test_database_calls_of_the_route_run_off_the_event_loop(api, env, engine, setup, monkeypatch):
    _, host, integration, _ = setup
    loop_thread = threading.get_ident()
    threads: dict[str, list[int]] = {"lookup": [], "accept": [], "log": []}
    for name, key in (("_lookup", "lookup"), ("_accept", "accept"), ("_log", "log")):
        original = getattr(route, name)

        def spy(*args, _original=original, _key=key, **kwargs):  # noqa: ANN002, ANN003, ANN202
            threads[_key].append(threading.get_ident())
            return _original(*args, **kwargs)

        monkeypatch.setattr(route, name, spy)
    first = open_threat(new_id(), host)
    assert (await deliver(api, env, integration, first)).status_code == 202
    bad = await deliver(api, env, integration, first, secret="whsec_" + "A" * 43)
    assert bad.status_code == 401 and last_delivery(engine, integration).reason == "bad_signature"
    assert len(threads["lookup"]) == 2 and len(threads["accept"]) == 1 and len(threads["log"]) == 1
    assert loop_thread not in threads["lookup"] + threads["accept"] + threads["log"]


async def test_a_start_race_is_retried_and_a_failing_hand_over_keeps_the_alert_in_the_inbox(
    api, env, engine, setup, monkeypatch
):
    tenant, host, integration, _ = setup
    original, calls = Client.execute_update_with_start_workflow, []

    async def racing(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        workflow_id = kwargs["start_workflow_operation"]._start_workflow_input.id
        calls.append(workflow_id)
        if len(calls) == 1 or fail_always:  # another hand-over started the incident a moment before
            raise WorkflowAlreadyStartedError(workflow_id, "SocIncident")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Client, "execute_update_with_start_workflow", racing)
    fail_always = False
    first = open_threat(new_id(), host)
    assert (await deliver(api, env, integration, first)).status_code == 202
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    assert len(calls) == 2 and last_delivery(engine, integration).reason is None

    # Hand-over keeps failing: the delivery is still accepted (the alert is the hub's once committed), the alert
    # waits in the inbox with the reason, and goes over once the incident takes it.
    fail_always = True
    second = open_threat(new_id(), host)
    r = await deliver(api, env, integration, second)
    assert r.status_code == 202, r.text
    assert last_delivery(engine, integration).accepted
    waiting = await eventually(lambda: inbox_rows(engine, tenant.id, failed=True))
    assert [w.dedupe_key.rsplit(":", 1)[-1] for w in waiting] == [second["id"]]
    assert "start race" in waiting[0].last_error and waiting[0].attempts >= 1
    fail_always = False
    await eventually(lambda: any(second["id"] in n for n in notes(engine, ticket.id)), timeout=30)
    await eventually(lambda: not inbox_rows(engine, tenant.id))
    assert count(engine, Ticket, Ticket.tenant_id == tenant.id) == 1


def inbox_rows(engine, tenant_id, failed: bool = False) -> list[SocInboxItem]:
    with Session(engine) as s:
        query = select(SocInboxItem).where(SocInboxItem.tenant_id == tenant_id)
        if failed:
            query = query.where(SocInboxItem.last_error.is_not(None))
        return list(s.exec(query).all())


async def test_the_cached_integration_lookup_follows_a_change_at_once(api, env, engine, setup):
    """The route keeps the integration briefly per process; a write through this process's sessions clears it, so a
    rotated secret or a deactivation applies to the next delivery, not after the cache's lifetime."""
    _, host, integration, _ = setup
    iid = uuid.UUID(integration["id"])
    assert (await deliver(api, env, integration, open_threat(new_id(), host))).status_code == 202
    assert iid in route._lookups
    with session_scope(engine) as s:
        s.get(SocIntegration, iid).webhook_secret = "whsec_" + "B" * 43
    stale = await deliver(api, env, integration, open_threat(new_id(), host))
    assert stale.status_code == 401 and last_delivery(engine, integration).reason == "bad_signature"
    fresh = await deliver(api, env, integration, open_threat(new_id(), host), secret="whsec_" + "B" * 43)
    assert fresh.status_code == 202, fresh.text
    with session_scope(engine) as s:
        s.get(SocIntegration, iid).is_active = False
    assert (await deliver(api, env, integration, open_threat(new_id(), host))).status_code == 404
