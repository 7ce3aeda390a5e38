"""The SOC inbox between the webhook and the incident workflows: an accepted alert is committed before the 202 and
handed over by the dispatcher, also when Temporal was away at delivery time; claims are leased, so a dead
dispatcher's rows are taken over; claims take turns between customers; identical deliveries held at one moment go
over once, status changes in order."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

import api.routes.soc.webhooks as route
from api.app import create_app
from api.routes.soc import inbox as soc_inbox
from domain.contracts.soc import IncidentAlert
from domain.roles import Role
from domain.soc.alerts import AlertStatus
from domain.soc.sentinelone import normalize_sentinelone
from hub.adaptive_limit import AdaptiveLimit
from hub.config import Settings
from hub.db import session_scope
from models import AssetType, SocInboxItem, WebhookDelivery
from tests.api.test_soc_webhook_api import deliver, eventually, incident, ticket_of
from tests.conftest import auth
from tests.factories import make_asset, make_soc_integration, make_tenant, make_user
from tests.workflows.test_incident_lifecycle import later, open_threat


def new_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def rows_of(engine, tenant_id) -> list[SocInboxItem]:
    with Session(engine) as s:
        return list(s.exec(select(SocInboxItem).where(SocInboxItem.tenant_id == tenant_id)).all())


async def test_webhook_accepts_while_temporal_is_away_and_the_alert_reaches_its_incident_later(env, engine):
    app = create_app(Settings(), engine=engine, temporal=None, clock=env.get_current_time)
    tenant = make_tenant(engine)
    host = f"ws-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.WORKSTATION)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as api:
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
            integration = r.json()
            first = open_threat(new_id(), host)
            answer = await deliver(api, env, integration, first)
            assert answer.status_code == 202, answer.text
            (waiting,) = rows_of(engine, tenant.id)
            assert waiting.workflow_id == answer.json()["incidents"][0]
            assert waiting.dedupe_key == f"sentinelone:{integration['id']}:{first['id']}"
            assert IncidentAlert.model_validate(waiting.item).tenant_id == tenant.id
            assert waiting.rank == 1  # a malicious threat: may become a P1, so it goes first when the hub is behind
            health = (await api.get("/healthz")).json()
            assert health["status"] == "degraded" and health["soc_inbox"]["pending"] >= 1

            app.state.temporal = env.client  # Temporal is back (the app's reconnect loop does this)
            app.state.soc_inbox.wake()
            ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
            assert ticket.tenant_id == tenant.id
            await eventually(lambda: not rows_of(engine, tenant.id))
    finally:
        await app.state.soc_inbox.stop()


def _items(engine, count: int) -> tuple[list[IncidentAlert], object]:
    tenant = make_tenant(engine)
    row = make_soc_integration(engine, tenant)
    items = [
        IncidentAlert(
            alert=normalize_sentinelone(open_threat(new_id(), "ws-1"), str(row.id)),
            tenant_id=tenant.id,
            customer_number=tenant.customer_number,
        )
        for _ in range(count)
    ]
    return items, tenant


def test_claims_are_leased_taken_over_when_the_lease_ends_and_given_back_on_release(engine):
    items, tenant = _items(engine, 3)
    with session_scope(engine) as s:
        soc_inbox.put(s, items)
    ours = {r.id for r in rows_of(engine, tenant.id)}

    def claimed_ids(lease: timedelta) -> list[int]:
        return [c.id for c in soc_inbox.claim(engine, 10_000, lease) if c.id in ours]

    first = claimed_ids(timedelta(minutes=1))
    assert first == sorted(ours)  # oldest first: alerts go over in arrival order
    assert claimed_ids(timedelta(minutes=1)) == []  # held by the first dispatcher
    with session_scope(engine) as s:  # that dispatcher died: its lease runs out
        for row in s.exec(select(SocInboxItem).where(SocInboxItem.id.in_(first[:1]))):
            row.claimed_until = datetime.now(UTC) - timedelta(seconds=1)
            s.add(row)
    assert claimed_ids(timedelta(minutes=1)) == first[:1]
    soc_inbox.release(engine, first[1:])
    assert claimed_ids(timedelta(minutes=1)) == first[1:]
    soc_inbox.retry_later(engine, first[1:], "TimeoutError: boom", timedelta(minutes=5))
    rows = {r.id: r for r in rows_of(engine, tenant.id)}
    assert all(rows[i].attempts == 1 and rows[i].last_error == "TimeoutError: boom" for i in first[1:])
    assert soc_inbox.backlog(engine).failing >= 2
    # Handed over: deleted with the dispatcher's next claim, or on its own when the dispatcher stops.
    assert soc_inbox.claim(engine, 0, timedelta(minutes=1), finished=first[:1]) == []
    assert sorted(r.id for r in rows_of(engine, tenant.id)) == first[1:]
    soc_inbox.finish(engine, first[1:])
    assert rows_of(engine, tenant.id) == []


def test_claims_take_turns_between_customers_so_one_backlog_does_not_fill_them(engine):
    busy, busy_tenant = _items(engine, 10)
    quiet, quiet_tenant = _items(engine, 2)
    held = [c.id for c in soc_inbox.claim(engine, 10_000, timedelta(minutes=5))]  # other tests' rows: not ours
    try:
        with session_scope(engine) as s:
            soc_inbox.put(s, busy)  # a storm of one customer, delivered first
        with session_scope(engine) as s:
            soc_inbox.put(s, quiet)
        claimed = soc_inbox.claim(engine, 4, timedelta(minutes=1))
        busy_ids = sorted(r.id for r in rows_of(engine, busy_tenant.id))
        # Each customer's first row, then each one's second: the later customer is not behind the whole backlog.
        assert [c.id for c in claimed] == sorted(busy_ids[:2] + [r.id for r in rows_of(engine, quiet_tenant.id)])
        assert {c.tenant_id for c in claimed} == {busy_tenant.id, quiet_tenant.id}
        assert soc_inbox.claim(engine, 100, timedelta(minutes=1))[0].id == busy_ids[2]  # the rest in arrival order
    finally:
        soc_inbox.release(engine, held)
        soc_inbox.finish(engine, [r.id for t in (busy_tenant, quiet_tenant) for r in rows_of(engine, t.id)])


async def test_a_customer_with_many_hand_overs_waiting_takes_turns_with_another():
    share = soc_inbox.TenantShare(AdaptiveLimit(initial=2, maximum=2, fast_s=0, slow_s=10))
    busy, quiet, order = uuid.uuid4(), uuid.uuid4(), []

    async def hand_over(tenant: uuid.UUID, name: str) -> None:
        async with share.slot(tenant, urgent=True, rank=1):
            order.append(name)
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(hand_over(busy, f"busy-{n}")) for n in range(10)]
    await asyncio.sleep(0)  # the busy customer's hand-overs queue first
    tasks += [asyncio.create_task(hand_over(quiet, f"quiet-{n}")) for n in range(2)]
    await asyncio.gather(*tasks)
    # Each customer holds its share (half of 2 slots) once both wait: the later one is not behind the whole queue.
    assert order[:5] == ["busy-0", "busy-1", "quiet-0", "busy-2", "quiet-1"]
    assert share.limit.in_use == 0 and not share._entered and not share._waiting


def test_identical_deliveries_go_over_once_and_status_changes_stay_in_order(engine):
    items, _ = _items(engine, 2)
    a, b = items
    integration = a.alert.integration_id
    resolved = a.model_copy(
        update={"alert": normalize_sentinelone(later(a.alert.raw, minutes=30, incidentStatus="resolved"), integration)}
    )
    assert resolved.alert.status == AlertStatus.RESOLVED
    # The repeat of an older state after a newer one adds nothing: the incident keeps the newer vendor time.
    assert soc_inbox.unique_in_order([a, b, a, resolved, a, resolved]) == [a, b, resolved]


async def test_a_dispatcher_without_temporal_waits_instead_of_spinning(engine):
    dispatcher = soc_inbox.InboxDispatcher(lambda: engine, lambda: None)
    rounds = 0
    original = dispatcher._round

    async def counted() -> bool:
        nonlocal rounds
        rounds += 1
        return await original()

    dispatcher._round = counted
    try:
        for _ in range(3):
            dispatcher.wake()
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        assert 1 <= rounds <= 4  # one per wake-up (the poll interval is 2 s), not a busy loop
    finally:
        await dispatcher.stop()


async def test_a_delivery_the_database_cannot_store_gets_a_503_and_leaves_nothing(api, env, engine, monkeypatch):
    tenant = make_tenant(engine)
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
    integration = r.json()
    original = route._accept

    def locked(session, **kwargs):  # noqa: ANN001, ANN003, ANN202
        original(session, **kwargs)  # written, then the commit is lost: all of it must roll back
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(route, "_accept", locked)
    answer = await deliver(api, env, integration, open_threat(new_id(), "ws-1"))
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("application/problem+json")
    assert "deliver it again" in answer.json()["detail"]
    assert rows_of(engine, tenant.id) == []
    monkeypatch.setattr(route, "_accept", original)
    assert (await deliver(api, env, integration, open_threat(new_id(), "ws-1"))).status_code == 202
    with Session(engine) as s:  # the refused attempt left no log row either: it rolled back with the rest
        logged = s.exec(select(WebhookDelivery).where(WebhookDelivery.integration_id == uuid.UUID(integration["id"])))
        assert [d.accepted for d in logged] == [True]
