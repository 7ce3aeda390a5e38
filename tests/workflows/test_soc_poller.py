"""SOC poller on the time-skipping server: vendor pages (respx) -> incident workflows on the real SOC queue,
cursor persisted, repeats de-duplicated, vendor errors mapped; the schedule helper against the dev server."""

import asyncio
import copy
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import func
from sqlmodel import Session, select
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.soc.polling import SocPollActivities, env_name
from domain.contracts.soc import SocPollInput, SocPollResult
from domain.processes import poll_workflow_id
from domain.soc.alerts import correlation_key
from domain.soc.polling import OVERLAP, PollCursor
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from hub.temporal import register_search_attributes
from hub.temporal.soc import ensure_poll_schedule
from models import SocAlert, SocIncident, SocIntegration, Ticket
from tests.conftest import binary
from tests.factories import make_soc_integration, make_tenant, unique
from worker import workflow_runner
from workflows.soc.poller import SocPollerWorkflow

VENDORS = Path(__file__).parent.parent / "fixtures" / "vendors"
S1_BASE = "https://acme.sentinelone.test"
RC_BASE = "https://api-eu.rocketcyber.test/v3"
TOKEN = "tok-DO-NOT-LEAK-0123456789"
RC_ACCOUNT = "1234567"
WATCH_START = datetime(2026, 11, 1, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


S1_PAGES = [fixture(f"sentinelone_threats_page{n}.json") for n in (1, 2, 3)]
RC_PAGES = [fixture(f"rocketcyber_incidents_page{n}.json") for n in (1, 2, 3)]


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    source: str
    tenant_id: uuid.UUID
    customer_number: str
    credentials_ref: str


class Poller:
    """A private task queue served by a worker with the poller; its vendor HTTP goes to `router`."""

    def __init__(self, env: WorkflowEnvironment, engine, monkeypatch) -> None:  # noqa: ANN001
        self.env, self.engine, self.monkeypatch = env, engine, monkeypatch
        self.router = respx.MockRouter(assert_all_called=False)
        self.task_queue = f"soc-poll-test-{uuid.uuid4().hex[:8]}"

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))

    def integration(self, source: str, *, credentials: bool = True) -> "Target":
        tenant = make_tenant(self.engine)
        ref = unique("cred")
        if credentials:
            base = S1_BASE if source == "sentinelone" else RC_BASE
            self.monkeypatch.setenv(env_name(ref, "BASE_URL"), base)
            self.monkeypatch.setenv(env_name(ref, "TOKEN"), TOKEN)
            if source == "rocketcyber":
                self.monkeypatch.setenv(env_name(ref, "ACCOUNT_ID"), RC_ACCOUNT)
        # The fixtures are from 2026-11-17..20: the hub has watched since before them (a first scan from "now minus
        # the lookback" would make them old threats once the calendar moves on).
        cursor = PollCursor.first(WATCH_START).to_json()
        row = make_soc_integration(
            self.engine, tenant, source=source, name="poll", credentials_ref=ref, poll_cursor=cursor
        )
        return Target(row.id, source, tenant.id, tenant.customer_number, ref)

    async def run(self, row: "Target", **fields: Any) -> SocPollResult:
        return await self.env.client.execute_workflow(
            SocPollerWorkflow.run,
            SocPollInput(integration_id=row.id, **fields),
            id=poll_workflow_id(row.source, row.customer_number),
            task_queue=self.task_queue,
            result_type=SocPollResult,
        )


@pytest.fixture
async def poller(env: WorkflowEnvironment, engine, monkeypatch):  # noqa: ANN001
    p = Poller(env, engine, monkeypatch)
    activities = SocPollActivities(engine, env.client, client_factory=p.http)
    async with Worker(
        env.client,
        task_queue=p.task_queue,
        workflows=[SocPollerWorkflow],
        activities=[activities.poll_page],
        workflow_runner=workflow_runner(),
    ):
        yield p


def s1_pages(*extra_page2: dict) -> Callable[[httpx.Request], httpx.Response]:
    """Serves page 1..3 by cursor, like the API; `extra_page2` items are appended to page 2."""
    pages = copy.deepcopy(S1_PAGES)
    pages[1]["data"].extend(extra_page2)
    by_cursor = {None: pages[0]} | {
        p["pagination"]["nextCursor"]: nxt for p, nxt in zip(pages, pages[1:], strict=False)
    }

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=by_cursor[request.url.params.get("cursor")])

    return respond


RC_EMPTY = {"totalCount": 0, "currentPage": 1, "totalPages": 0, "dataCount": 0, "data": []}


def rc_pages(*extra_page2: dict, resolved: list[dict] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """Creation scans get pages 1..3; the resolution scan (`status=resolved`) gets `resolved` on one page."""
    pages = copy.deepcopy(RC_PAGES)
    pages[1]["data"].extend(extra_page2)

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("status") == "resolved":
            items = resolved or []
            return httpx.Response(
                200,
                json=RC_EMPTY
                | {"totalCount": len(items), "totalPages": int(bool(items)), "dataCount": len(items), "data": items},
            )
        return httpx.Response(200, json=pages[int(request.url.params["page"]) - 1])

    return respond


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    for _ in range(int(timeout / 0.1)):
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def alerts_of(engine, row: Target) -> list[SocAlert]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(SocAlert).where(SocAlert.integration_id == row.id)))


def incidents_of(engine, customer_number: str) -> list[SocIncident]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(SocIncident).where(SocIncident.key.startswith(customer_number + "-"))))


def cursor_of(engine, row: Target) -> PollCursor | None:  # noqa: ANN001
    with Session(engine) as s:
        raw = s.get(SocIntegration, row.id).poll_cursor
    return PollCursor.model_validate_json(raw) if raw else None


async def settled(client: Client, workflow_ids: list[str], hand_overs: int) -> bool:
    """Every workflow has taken `hand_overs` hand-overs (updates it answered, or signals followed by a finished
    workflow task)."""
    for wid in workflow_ids:
        kinds = [e.WhichOneof("attributes") async for e in client.get_workflow_handle(wid).fetch_history_events()]
        signalled = [i for i, k in enumerate(kinds) if k == "workflow_execution_signaled_event_attributes"]
        answered = [i for i, k in enumerate(kinds) if k == "workflow_execution_update_completed_event_attributes"]
        done = [i for i, k in enumerate(kinds) if k == "workflow_task_completed_event_attributes"]
        if len(signalled) + len(answered) < hand_overs or (signalled and (not done or done[-1] < signalled[-1])):
            return False
    return True


async def test_sentinelone_pages_are_handed_over_cursor_saved_and_a_rerun_adds_nothing(poller, env, engine):
    row = poller.integration("sentinelone")
    route = poller.router.get(S1_BASE + "/web/api/v2.1/threats").mock(side_effect=s1_pages({"id": "broken"}))

    result = await poller.run(row)

    assert (result.pages, result.fetched, result.handed_over, result.skipped) == (3, 6, 5, 1)
    assert result.quarantined == 1  # {"id": "broken"}: kept with its reason, not dropped
    assert result.customer_number == row.customer_number and not result.has_more
    sent = [r.request.url.params for r in route.calls]
    assert [p.get("cursor") for p in sent] == [None, *(p["pagination"]["nextCursor"] for p in S1_PAGES[:2])]
    assert len({p["updatedAt__gte"] for p in sent}) == 1  # one filter for the whole scan, as the cursor needs
    assert all(r.request.headers["Authorization"] == f"ApiToken {TOKEN}" for r in route.calls)
    stored = await eventually(lambda: len(a := alerts_of(engine, row)) == 5 and a)
    assert {a.tenant_id for a in stored} == {row.tenant_id}
    newest = datetime(2026, 11, 20, 10, 6, 10, tzinfo=UTC)  # page 3's threatInfo.updatedAt
    cursor = cursor_of(engine, row)
    assert (cursor.since, cursor.high_water, cursor.cursor) == (newest - OVERLAP, newest, None)
    assert len(cursor.seen) == 1  # page 3's threat: in the next scan's overlap, not handed over again

    # The very path of the webhook: incident-<correlation key of the customer>, one per threat here.
    threats = [t for p in S1_PAGES for t in p["data"]]
    ids = [f"incident-{correlation_key(normalize_sentinelone(t, str(row.id)), row.customer_number)}" for t in threats]
    incidents = await eventually(lambda: len(i := incidents_of(engine, row.customer_number)) == 5 and i)
    assert {f"incident-{i.key}" for i in incidents} == set(ids)
    assert {i.tenant_id for i in incidents} == {row.tenant_id}

    # The vendor returns the same threats again (e.g. the activity retried a page): nothing new anywhere; the one
    # in the overlap is not even handed over again.
    again = await poller.run(row)
    assert (again.handed_over, again.repeats, again.quarantined) == (4, 1, 1)
    await eventually(lambda: settled(env.client, ids[:4], hand_overs=2))
    await asyncio.sleep(0.2)
    assert len(alerts_of(engine, row)) == 5 and all(a.deliveries == 1 for a in alerts_of(engine, row))
    assert [i.alert_count for i in incidents_of(engine, row.customer_number)] == [1] * 5
    with Session(engine) as s:
        tickets = s.exec(select(func.count()).select_from(Ticket).where(Ticket.tenant_id == row.tenant_id)).one()
    assert tickets == 5


async def test_an_incident_that_refuses_its_alerts_keeps_the_cursor_until_the_retry_hands_them_over(
    poller, env, engine, monkeypatch
):
    """A closing incident run refuses the hand-over (`WorkflowUpdateFailedError`): the page's activity fails
    (retryable) before it saves the cursor, and its retry hands the page over; nothing is lost or stored twice."""
    import activities.soc.polling as soc_poll

    row = poller.integration("sentinelone")
    poller.router.get(S1_BASE + "/web/api/v2.1/threats").mock(side_effect=s1_pages())
    real, refused = soc_poll.hand_over_and_wait, []

    async def closing_once(client, items, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if not refused:
            refused.append(items[0].alert.vendor_alert_id)
            raise WorkflowUpdateFailedError(ApplicationError("this incident run is closing", type="Closing"))
        return await real(client, items, *args, **kwargs)

    monkeypatch.setattr(soc_poll, "hand_over_and_wait", closing_once)
    result = await poller.run(row)
    assert len(refused) == 1 and (result.pages, result.handed_over) == (3, 5)
    stored = alerts_of(engine, row)
    assert len(stored) == 5 and all(a.deliveries == 1 for a in stored)
    assert refused[0] in {a.vendor_alert_id for a in stored}
    assert cursor_of(engine, row) is not None and not result.has_more


async def test_rate_limit_waits_for_retry_after_then_succeeds(poller, env):
    row = poller.integration("sentinelone")
    route = poller.router.get(S1_BASE + "/web/api/v2.1/threats").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "90"}, json={}), httpx.Response(200, json=S1_PAGES[2])]
    )
    before = await env.get_current_time()
    result = await poller.run(row)
    assert (result.pages, result.handed_over) == (1, 1) and route.call_count == 2
    assert await env.get_current_time() - before >= timedelta(seconds=90)  # the vendor's wait, not our 2 s backoff


async def test_unauthorized_fails_at_once_with_a_clear_error_and_keeps_the_cursor(poller, engine):
    row = poller.integration("sentinelone")
    route = poller.router.get(S1_BASE + "/web/api/v2.1/threats").mock(
        return_value=httpx.Response(401, json=fixture("sentinelone_error_401.json"))
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await poller.run(row)
    error = caught.value.cause
    assert isinstance(error, ApplicationError) and error.type == "VendorAuthError" and error.non_retryable
    assert "HTTP 401" in error.message and env_name(row.credentials_ref, "TOKEN") in error.message
    assert TOKEN not in error.message
    assert route.call_count == 1 and cursor_of(engine, row) == PollCursor.first(WATCH_START)


async def test_missing_credentials_fail_without_calling_the_vendor(poller):
    row = poller.integration("rocketcyber", credentials=False)
    route = poller.router.get(url__startswith=RC_BASE).mock(return_value=httpx.Response(200, json=RC_PAGES[2]))
    with pytest.raises(WorkflowFailureError) as caught:
        await poller.run(row)
    error = caught.value.cause
    assert isinstance(error, ApplicationError) and error.type == "MissingCredentials"
    assert env_name(row.credentials_ref, "TOKEN") in error.message and not route.called


async def test_rocketcyber_pages_only_this_customers_account_and_tenant(poller, env, engine):
    other_tenant = make_tenant(engine)
    row = poller.integration("rocketcyber")
    foreign = dict(RC_PAGES[0]["data"][0], id=999001, accountId=7654321)  # another customer's account
    route = poller.router.get(RC_BASE + "/incidents").mock(side_effect=rc_pages(foreign))

    result = await poller.run(row, max_pages=2)  # stops after two pages; the next run continues at page 3
    assert (result.pages, result.handed_over, result.skipped, result.has_more) == (2, 4, 1, True)
    assert cursor_of(engine, row).page == 3
    result = await poller.run(row)  # page 3, then the (empty) scan of resolutions since the first scan's start
    assert (result.pages, result.handed_over, result.has_more) == (2, 1, False)

    sent = [r.request.url.params for r in route.calls]
    assert [p["page"] for p in sent] == ["1", "2", "3", "1"] and {p["accountId"] for p in sent} == {RC_ACCOUNT}
    assert [p.get("status") for p in sent] == [None, None, None, "resolved"]
    assert sent[3]["resolvedAt"] == sent[0]["createdAt"]  # the first resolution scan starts where creation did
    assert all(r.request.headers["Authorization"] == f"Bearer {TOKEN}" for r in route.calls)
    stored = await eventually(lambda: len(a := alerts_of(engine, row)) == 5 and a)
    assert {a.tenant_id for a in stored} == {row.tenant_id} and "999001" not in {a.vendor_alert_id for a in stored}
    keys = {
        correlation_key(normalize_rocketcyber(i, str(row.id)), row.customer_number) for p in RC_PAGES for i in p["data"]
    }
    incidents = await eventually(lambda: len(i := incidents_of(engine, row.customer_number)) == 5 and i)
    assert {i.key for i in incidents} == keys and {i.tenant_id for i in incidents} == {row.tenant_id}
    assert incidents_of(engine, other_tenant.customer_number) == []
    newest = datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)  # the newest createdAt of the scan
    cursor = cursor_of(engine, row)
    assert (cursor.phase, cursor.since, cursor.high_water, cursor.page) == ("created", newest - OVERLAP, newest, 1)
    assert sent[0]["sort"] == "createdAt:asc" and sent[3]["sort"] == "resolvedAt:asc"
    assert cursor.resolved_since is not None and cursor.resolved_since < newest


async def test_rocketcyber_resolution_scan_records_the_vendors_resolution(poller, env, engine):
    """RocketCyber filters by creation time; a resolution after the scan is found by the resolution scan and
    reaches the incident (vendor status on the alert and the incident, a note on the ticket)."""
    row = poller.integration("rocketcyber")
    first = RC_PAGES[0]["data"][0]
    resolved = dict(
        first, status="resolved", resolvedAt="2026-11-21T10:00:00.000Z", updatedAt="2026-11-21T10:00:00.000Z"
    )
    route = poller.router.get(RC_BASE + "/incidents").mock(side_effect=rc_pages())
    await poller.run(row)
    await eventually(lambda: len(incidents_of(engine, row.customer_number)) == 5)

    calls_before = route.call_count
    route.side_effect = rc_pages(resolved=[resolved])
    result = await poller.run(row)
    assert not result.has_more
    sent = [c.request.url.params for c in route.calls[calls_before:]]
    assert sent[-1]["status"] == "resolved" and "createdAt" not in sent[-1]

    def resolved_alert() -> SocAlert | None:
        return next((a for a in alerts_of(engine, row) if a.vendor_alert_id == str(first["id"])), None)

    assert (await eventually(lambda: (a := resolved_alert()) and a.vendor_status == "resolved" and a)).deliveries >= 2
    incident = await eventually(
        lambda: next((i for i in incidents_of(engine, row.customer_number) if i.vendor_status == "resolved"), None)
    )
    assert incident.tenant_id == row.tenant_id
    cursor = cursor_of(engine, row)
    resolved_at = datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert cursor.phase == "created" and cursor.resolved_since == resolved_at - OVERLAP


def test_cursor_keeps_the_scan_filter_and_moves_forward_only():
    t0, t1, t2 = (datetime(2026, 11, 20, h, tzinfo=UTC) for h in (8, 9, 10))
    start = PollCursor(since=t1, high_water=t1)
    mid = start.advance(t2, next_cursor="c2", seen={"d-new": t2, "d-old": t1})
    assert (mid.since, mid.cursor, mid.high_water) == (t1, "c2", t2)
    done = mid.advance(t0)  # an older page never moves it back
    assert (done.since, done.high_water, done.cursor) == (t2 - OVERLAP, t2, None)
    assert set(done.seen) == {"d-new"}  # only what the next scan's overlap can return again
    assert done.is_seen("d-new") and not done.is_seen("d-old")
    assert start.advance(None, next_page=2).page == 2
    assert start.advance(None).since == t1  # the overlap never moves the filter back
    assert PollCursor.first(t0).watch_start == t0


def test_resolution_scan_follows_the_creation_scan_and_keeps_its_own_high_water():
    t0, t1, t2 = (datetime(2026, 11, 20, h, tzinfo=UTC) for h in (8, 9, 10))
    done = PollCursor(since=t1, high_water=t1).to_resolved_scan(fallback_since=t0)
    assert (done.phase, done.resolved_since, done.resolved_page, done.since) == ("resolved", t0, 1, t1)
    paging = done.advance_resolved(t1, next_page=2)
    assert (paging.phase, paging.resolved_page, paging.resolved_high_water) == ("resolved", 2, t1)
    back = paging.advance_resolved(t2)
    assert (back.phase, back.resolved_since, back.resolved_page, back.since) == ("created", t2 - OVERLAP, 1, t1)
    # The next resolution scan starts where this one ended, not at the fallback.
    assert back.advance(None).to_resolved_scan(fallback_since=t0).resolved_since == t2 - OVERLAP


async def test_ensure_poll_schedule_creates_then_updates_on_the_dev_server():
    """The time-skipping server has no schedules (CreateSchedule is unimplemented), so a dev server it is."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=pydantic_data_converter
    )
    try:
        await register_search_attributes(env.client)
        integration_id = uuid.uuid4()
        sid = await ensure_poll_schedule(
            env.client, integration_id, timedelta(minutes=2), source="sentinelone", customer_number="K10001"
        )
        assert sid == "soc-poll-sentinelone-K10001"
        again = await ensure_poll_schedule(
            env.client, integration_id, timedelta(minutes=5), source="sentinelone", customer_number="K10001"
        )
        assert again == sid
        desc = await env.client.get_schedule_handle(sid).describe()
        action = desc.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "SocPoller" and action.id == sid and action.task_queue == "soc"
        assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=5)]
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        arg = await env.client.data_converter.decode(action.args, [SocPollInput])
        assert arg[0].integration_id == integration_id
    finally:
        await env.shutdown()
