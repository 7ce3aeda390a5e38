"""No SOC alert blocks another customer: a hand-over that keeps failing (the incident refuses, or never answers)
ends in the quarantine with its reason after a bounded number of attempts, while the other customers' alerts reach
their incidents promptly; refusals shrink no limit; an outage (nothing gets through) sets nothing aside. MSP staff
list the quarantine and release an item back into the inbox after a fix."""

import asyncio
import contextlib
import uuid
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.app import create_app
from api.routes.soc import inbox as soc_inbox
from api.routes.soc.inbox import InboxDispatcher, InboxSettings
from domain.contracts.soc import IncidentAlert
from domain.roles import Role
from domain.soc.sentinelone import normalize_sentinelone
from hub.config import Settings
from hub.db import session_scope
from models import AssetType, AuditEvent, SocInboxItem, SocQuarantineItem, SocQuarantineKind
from tests.api.test_soc_inbox import rows_of
from tests.api.test_soc_webhook_api import deliver, eventually, incident, ticket_of
from tests.conftest import auth
from tests.factories import make_asset, make_soc_integration, make_tenant, make_user
from tests.workflows.test_incident_lifecycle import open_threat

FAILED, MOVED = "psa_soc_inbox_hand_overs", "psa_soc_inbox_quarantined"  # the dispatcher's counters


def new_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def quarantined(engine, tenant_id) -> list[SocQuarantineItem]:
    with Session(engine) as s:
        query = select(SocQuarantineItem).where(SocQuarantineItem.tenant_id == tenant_id)
        return list(s.exec(query.order_by(SocQuarantineItem.workflow_id)).all())


def refused() -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError("the incident refuses this alert", type="Refused"))


def alerts(engine, hosts: list[str]) -> tuple[list[IncidentAlert], object]:
    """One alert per host (one incident each) of a new customer."""
    tenant = make_tenant(engine)
    integration = make_soc_integration(engine, tenant)
    return [
        IncidentAlert(
            alert=normalize_sentinelone(open_threat(new_id(), host), str(integration.id)),
            tenant_id=tenant.id,
            customer_number=tenant.customer_number,
        )
        for host in hosts
    ], tenant


def fast(**changes) -> InboxSettings:
    """Short deadlines and back-off, three attempts."""
    values = {
        "poll_seconds": 0.1,
        "max_backoff": timedelta(seconds=0.1),
        "hand_over_timeout": timedelta(seconds=0.5),
        "retry_timeout": timedelta(seconds=0.5),
        "max_attempts": 3,
    }
    return InboxSettings(**values | changes)


@pytest.fixture
def only_ours(engine):
    """Other tests' inbox rows are held meanwhile, so a dispatcher with a fake hand-over touches only ours."""
    held = [c.id for c in soc_inbox.claim(engine, 10_000, timedelta(minutes=10))]
    yield
    soc_inbox.release(engine, held)


async def run(dispatcher: InboxDispatcher, until, timeout: float = 20.0):  # noqa: ANN001
    dispatcher.wake()
    try:
        return await eventually(until, timeout)
    finally:
        await dispatcher.stop()


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0


async def test_a_refusing_incident_ends_in_quarantine_with_its_reason_and_shrinks_no_limit(engine, only_ours):
    bad, bad_tenant = alerts(engine, ["ws-refuses-1", "ws-refuses-2"])
    good, good_tenant = alerts(engine, ["ws-fine"])
    with session_scope(engine) as s:
        soc_inbox.put(s, bad + good)
    handed: list[str] = []

    async def hand_over(client, items):  # noqa: ANN001, ANN202
        if items[0].tenant_id == bad_tenant.id:
            raise refused()
        handed.extend(i.alert.dedupe_key for i in items)
        return "incident"

    # Deadlines far above the instant answers: a slow machine must not look like load (a timeout cuts a limit).
    patient = fast(hand_over_timeout=timedelta(seconds=10), retry_timeout=timedelta(seconds=10))
    dispatcher = InboxDispatcher(lambda: engine, lambda: object(), patient)
    dispatcher._hand_over = hand_over
    failed, moved = counter(FAILED, outcome="failed"), counter(MOVED)
    await run(dispatcher, lambda: not rows_of(engine, bad_tenant.id) and not rows_of(engine, good_tenant.id))

    assert handed == [good[0].alert.dedupe_key] and quarantined(engine, good_tenant.id) == []
    held = quarantined(engine, bad_tenant.id)
    assert sorted(q.item["alert"]["dedupe_key"] for q in held) == sorted(a.alert.dedupe_key for a in bad)
    for q in held:
        assert (q.kind, q.attempts, q.released_at) == (SocQuarantineKind.INBOX, 3, None)
        assert "WorkflowUpdateFailedError" in q.reason and "the incident refuses this alert" in q.reason
        assert q.integration_id == uuid.UUID(bad[0].alert.integration_id) and q.workflow_id.startswith("incident-")
        assert q.received_at is not None and IncidentAlert.model_validate(q.item).tenant_id == bad_tenant.id
    # The incident answered (no): not a sign of load, so neither lane's limit was cut.
    assert dispatcher._first.share.limit.limit >= 4 and dispatcher._retry.share.limit.limit >= 2
    assert counter(FAILED, outcome="failed") - failed == 6 and counter(MOVED) - moved == 2


async def test_a_stored_item_that_is_no_alert_is_quarantined_at_once(engine, only_ours):
    (item,), tenant = alerts(engine, ["ws-x"])
    with session_scope(engine) as s:
        soc_inbox.put(s, [item])
    with session_scope(engine) as s:
        (row,) = s.exec(select(SocInboxItem).where(SocInboxItem.tenant_id == tenant.id)).all()
        row.item = {"alert": {"source": "sentinelone"}}  # written by an older hub, say
        s.add(row)

    async def hand_over(client, items):  # noqa: ANN001, ANN202
        raise AssertionError("never handed over")

    dispatcher = InboxDispatcher(lambda: engine, lambda: object(), fast())
    dispatcher._hand_over = hand_over
    (held,) = await run(dispatcher, lambda: quarantined(engine, tenant.id))
    assert held.attempts == 1 and held.reason.startswith("not a valid alert") and not rows_of(engine, tenant.id)


async def test_without_any_answer_nothing_is_set_aside_and_once_others_get_through_a_stuck_incident_is(
    engine, only_ours
):
    (stuck,), stuck_tenant = alerts(engine, ["ws-stuck"])
    with session_scope(engine) as s:
        soc_inbox.put(s, [stuck])

    async def hand_over(client, items):  # noqa: ANN001, ANN202
        if items[0].tenant_id == stuck_tenant.id:
            await asyncio.sleep(3600)  # its workflow task fails forever: the update is never taken
        return "incident"

    dispatcher = InboxDispatcher(lambda: engine, lambda: object(), fast())
    dispatcher._hand_over = hand_over
    dispatcher.wake()
    try:
        # Nothing gets through (it is the only hand-over): Temporal may be away, so the alert waits in the inbox.
        (row,) = await eventually(lambda: [r for r in rows_of(engine, stuck_tenant.id) if r.attempts >= 5])
        assert "no answer within 0.5 s" in row.last_error and quarantined(engine, stuck_tenant.id) == []
        # Its next new alert would fail alike: it goes to the retry lane, not to the others' slots.
        fresh = soc_inbox.Claimed(0, row.workflow_id, {}, 0, 1, stuck_tenant.id, row.received_at)
        assert dispatcher._lane(row.workflow_id, [fresh]) is dispatcher._retry
        assert dispatcher._lane("incident-another", [fresh]) is dispatcher._first
        # Another customer's alerts go through meanwhile: the stuck one is the problem, and is set aside.
        others = []
        for n in range(100):
            good, tenant = alerts(engine, [f"ws-good-{n}"])
            others.append(tenant)
            with session_scope(engine) as s:
                soc_inbox.put(s, good)
            dispatcher.wake()
            await asyncio.sleep(0.2)
            if quarantined(engine, stuck_tenant.id):
                break
        (held,) = quarantined(engine, stuck_tenant.id)
        assert held.reason == "no answer within 0.5 s" and held.attempts >= 6
        assert not rows_of(engine, stuck_tenant.id)
        await eventually(lambda: not any(rows_of(engine, t.id) for t in others))
    finally:
        await dispatcher.stop()


@pytest.fixture
async def customers(api, engine):
    """Two customers with a SentinelOne integration each; the good one's hosts are known workstations."""
    _, admin = make_user(engine, Role.MSP_ADMIN)
    out = []
    for _ in range(2):
        tenant = make_tenant(engine)
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
        out.append((tenant, r.json()))
    return out


async def test_one_customers_failing_alerts_block_nobody_and_end_in_quarantine(env, engine, customers):
    (bad_tenant, bad_integration), (good_tenant, good_integration) = customers
    app = create_app(Settings(), engine=engine, temporal=env.client, clock=env.get_current_time)
    dispatcher = InboxDispatcher(
        lambda: app.state.engine,
        lambda: app.state.temporal,
        fast(
            hand_over_timeout=timedelta(seconds=3),
            retry_timeout=timedelta(seconds=1),
            max_backoff=timedelta(seconds=0.3),
        ),
    )
    app.state.soc_inbox = dispatcher
    stuck_hosts = {f"ws-stuck-{n}-{uuid.uuid4().hex[:4]}" for n in range(5)}  # more than the 4 first slots
    refusing_hosts = {f"ws-refuses-{n}-{uuid.uuid4().hex[:4]}" for n in range(2)}

    async def hand_over(client, items):  # noqa: ANN001, ANN202
        if items[0].tenant_id == bad_tenant.id:
            if items[0].alert.device_hostname in stuck_hosts:
                await asyncio.sleep(3600)  # its workflow task fails forever: the incident never takes the alerts
            raise refused()
        return await soc_inbox.hand_over_and_wait(client, items)

    dispatcher._hand_over = hand_over
    _, tech = make_user(engine, Role.MSP_TECH)
    good_hosts = [f"ws-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    for host in good_hosts:
        make_asset(engine, good_tenant, hostname=host, asset_type=AssetType.WORKSTATION)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as api:
        try:
            for host in sorted(stuck_hosts | refusing_hosts):  # the bad customer's alerts come first
                assert (await deliver(api, env, bad_integration, open_threat(new_id(), host))).status_code == 202
            await asyncio.sleep(0.5)  # its hand-overs are under way, holding what they can

            loop = asyncio.get_running_loop()
            started = loop.time()
            first = good_hosts[0]
            assert (await deliver(api, env, good_integration, open_threat(new_id(), first))).status_code == 202
            await eventually(lambda: incident(engine, first), timeout=15)
            # At most one deadline (3 s) of the stuck hand-overs that hold the slots; before: for good.
            assert loop.time() - started < 10

            async def more_good_alerts() -> None:  # the good customer's traffic goes on
                for n in range(200):
                    host = good_hosts[1 + n % 2]
                    await deliver(api, env, good_integration, open_threat(new_id(), host))
                    await asyncio.sleep(0.5)

            traffic = asyncio.create_task(more_good_alerts())
            try:
                held = await eventually(
                    lambda: not rows_of(engine, bad_tenant.id) and quarantined(engine, bad_tenant.id), timeout=60
                )
            finally:
                traffic.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await traffic
            assert len(held) == 7 and all(q.attempts == 3 for q in held)
            reasons = {q.item["alert"]["device_hostname"]: q.reason for q in held}
            assert all(reasons[h] == "no answer within 1 s" for h in stuck_hosts)  # the last, a retry
            assert all("the incident refuses this alert" in reasons[h] for h in refusing_hosts)
            assert quarantined(engine, good_tenant.id) == []
            await eventually(lambda: not rows_of(engine, good_tenant.id), timeout=30)
            assert all(incident(engine, h) for h in good_hosts)

            listed = await api.get(
                "/api/v1/soc/quarantine", params={"tenant_id": str(bad_tenant.id)}, headers=auth(tech)
            )
            assert listed.status_code == 200, listed.text
            page = listed.json()
            assert page["total"] == 7 and {i["reason"] for i in page["items"]} == set(reasons.values())
            by_integration = await api.get(
                "/api/v1/soc/quarantine",
                params={"integration_id": good_integration["id"], "released": "false"},
                headers=auth(tech),
            )
            assert by_integration.json()["total"] == 0
        finally:
            await dispatcher.stop()


async def test_a_released_item_goes_back_into_the_inbox_reaches_its_incident_and_is_audited(
    api, env, engine, customers
):
    (tenant, integration), (other_tenant, _) = customers
    host = f"ws-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.WORKSTATION)
    alert = IncidentAlert(
        alert=normalize_sentinelone(open_threat(new_id(), host), integration["id"]),
        tenant_id=tenant.id,
        customer_number=tenant.customer_number,
    )
    with session_scope(engine) as s:
        item = SocQuarantineItem(
            tenant_id=tenant.id,
            integration_id=uuid.UUID(integration["id"]),
            kind=SocQuarantineKind.INBOX.value,
            item=alert.model_dump(mode="json"),
            reason="no answer within 65 s",
            attempts=8,
        )
        broken = SocQuarantineItem(
            tenant_id=tenant.id,
            integration_id=uuid.UUID(integration["id"]),
            kind=SocQuarantineKind.INBOX.value,
            item={"alert": {"source": "sentinelone"}},
            reason="not a valid alert",
            attempts=1,
        )
        s.add_all([item, broken])
    tech_user, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_IT, tenant)

    listed = await api.get(
        "/api/v1/soc/quarantine", params={"integration_id": integration["id"], "limit": 1}, headers=auth(tech)
    )
    assert listed.status_code == 200 and listed.json()["total"] == 2 and len(listed.json()["items"]) == 1
    assert (await api.get("/api/v1/soc/quarantine", headers=auth(customer))).status_code == 403
    refused_call = await api.post(f"/api/v1/soc/quarantine/{item.id}/release", headers=auth(customer))
    assert refused_call.status_code == 403 and "msp_tech" in refused_call.json()["detail"]
    missing = await api.post(f"/api/v1/soc/quarantine/{uuid.uuid4()}/release", headers=auth(tech))
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]

    r = await api.post(f"/api/v1/soc/quarantine/{item.id}/release", headers=auth(tech))
    assert r.status_code == 200, r.text
    assert r.json()["released_at"] is not None and r.json()["attempts"] == 8
    await eventually(lambda: ticket_of(engine, incident(engine, host)))  # handed over as if just delivered
    await eventually(lambda: not rows_of(engine, tenant.id))
    with Session(engine) as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.entity_id == str(item.id))).all()
    assert (event.entity, event.action, event.actor_user_id, event.tenant_id) == (
        "soc_quarantine",
        "released",
        tech_user.id,
        tenant.id,
    )
    assert event.data["reason"] == "no answer within 65 s"

    again = await api.post(f"/api/v1/soc/quarantine/{item.id}/release", headers=auth(tech))
    assert again.status_code == 409 and "already released" in again.json()["detail"]
    # An item that is no alert cannot go back: refused, and nothing is written.
    bad = await api.post(f"/api/v1/soc/quarantine/{broken.id}/release", headers=auth(tech))
    assert bad.status_code == 409 and "not a valid alert" in bad.json()["detail"]
    assert bad.headers["content-type"].startswith("application/problem+json")
    with Session(engine) as s:
        assert s.get(SocQuarantineItem, broken.id).released_at is None
    assert rows_of(engine, tenant.id) == []

    held = await api.get(
        "/api/v1/soc/quarantine", params={"tenant_id": str(tenant.id), "released": "false"}, headers=auth(tech)
    )
    assert [i["id"] for i in held.json()["items"]] == [str(broken.id)]
    done = await api.get(
        "/api/v1/soc/quarantine", params={"tenant_id": str(tenant.id), "released": "true"}, headers=auth(tech)
    )
    assert [i["id"] for i in done.json()["items"]] == [str(item.id)]
    others = await api.get("/api/v1/soc/quarantine", params={"tenant_id": str(other_tenant.id)}, headers=auth(tech))
    assert others.json()["total"] == 0
    bad_filter = await api.get("/api/v1/soc/quarantine", params={"kind": "nonsense"}, headers=auth(tech))
    assert bad_filter.status_code == 422 and bad_filter.json()["detail"].startswith("query.kind")
