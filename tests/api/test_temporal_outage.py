"""Temporal down or slow: a new ticket is stored and acknowledged (its workflow started by the sweep once Temporal is
back), every change the API could not hand over is answered 503 with Retry-After, and reads keep answering from the
database. Two real ways of being down: a client
whose server has stopped (RPCError UNAVAILABLE) and a lazy client to a closed port (never connected)."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

import activities.tickets.intake
import hub.temporal.tickets
from api.app import create_app
from domain.processes import TICKETS_TASK_QUEUE, ticket_workflow_id
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from hub.temporal import register_search_attributes
from models import SocIncident, Ticket
from tests.conftest import auth, binary
from tests.factories import make_tenant, make_user
from worker import build_workers
from workflows.tickets.start_sweep import TicketStartSweepWorkflow
from workflows.tickets.ticket import TicketWorkflow

# Fail fast instead of the SDK's default 10 s of retries: the same errors, sooner.
QUICK = RetryConfig(initial_interval_millis=50, max_interval_millis=100, max_elapsed_time_millis=500, max_retries=2)


async def _new_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )


@pytest.fixture(params=["stopped-server", "closed-port"])
async def down(request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """A client to a Temporal that is not there any more (connected, then the server stopped) or never was."""
    if request.param == "stopped-server":
        env = await _new_server()
        target = env.client.service_client.config.target_host
        client = await Client.connect(target, data_converter=pydantic_data_converter, retry_config=QUICK)
        await env.shutdown()
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = await Client.connect(
            f"127.0.0.1:{port}", data_converter=pydantic_data_converter, retry_config=QUICK, lazy=True
        )
    yield client


async def _http(engine, temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), engine=engine, temporal=temporal)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http


@pytest.fixture
async def offline(engine, down: Client) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _http(engine, down):
        yield http


def _tickets_with_key(engine, key: str) -> list[Ticket]:
    with Session(engine) as s:
        return list(s.exec(select(Ticket).where(Ticket.idempotency_key == key)))


def _assert_503(resp: httpx.Response) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) > 0


async def _sweep(env: WorkflowEnvironment) -> int:
    # Without skipping time: the started ticket's workflow would otherwise be run into its timeout.
    with env.auto_time_skipping_disabled():
        return await env.client.execute_workflow(
            TicketStartSweepWorkflow.run, id=f"sweep-{uuid.uuid4()}", task_queue=TICKETS_TASK_QUEUE
        )


def _started_at(engine, ticket_id: str) -> datetime | None:  # noqa: ANN001
    with Session(engine) as s:
        return s.get(Ticket, uuid.UUID(ticket_id)).workflow_started_at


async def test_a_ticket_is_durable_while_temporal_is_away_and_the_sweep_starts_its_workflow(
    engine, offline, api, env, worker_settings, monkeypatch
):
    """Temporal unreachable: 201, the ticket and its SLA clock are stored, a retry with the same Idempotency-Key is
    the same ticket; once Temporal is back, the sweep starts its workflow and the ticket takes changes. Temporal
    reachable but no worker running: 201 at once, the workflow waits for a worker."""
    monkeypatch.setattr(activities.tickets.intake, "PENDING_GRACE", timedelta(0))
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    _, tech = make_user(engine, Role.MSP_TECH)
    body = {"title": "Server antwortet nicht", "priority": "P2"}

    lost = auth(key) | {"Idempotency-Key": f"mail-{uuid.uuid4()}"}
    first = await offline.post("/api/v1/tickets", json=body, headers=lost)
    assert first.status_code == 201, first.text
    ticket_id = first.json()["id"]
    assert first.json()["number"] and first.headers["location"] == f"/api/v1/tickets/{ticket_id}"
    assert _started_at(engine, ticket_id) is None
    replay = await api.post("/api/v1/tickets", json=body, headers=lost)  # Temporal is back (the shared server)
    assert replay.status_code == 201 and replay.json()["id"] == ticket_id
    assert [str(t.id) for t in _tickets_with_key(engine, lost["Idempotency-Key"])] == [ticket_id]

    assert await _sweep(env) >= 1
    assert _started_at(engine, ticket_id) is not None
    described = await env.client.get_workflow_handle(ticket_workflow_id(uuid.UUID(ticket_id))).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    moved = await api.post(f"/api/v1/tickets/{ticket_id}/transitions", json={"to_status": "in_progress"},
                           headers=auth(tech))  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert await _sweep(env) == 0  # nothing left, nothing started twice

    slow = auth(key) | {"Idempotency-Key": f"mail-{uuid.uuid4()}"}
    server = await _new_server()  # no worker on it yet
    try:
        await register_search_attributes(server.client)
        async for http in _http(engine, server.client):
            accepted = await http.post("/api/v1/tickets", json=body, headers=slow)
            assert accepted.status_code == 201, accepted.text
            waiting = accepted.json()["id"]
            assert _started_at(engine, waiting) is not None
            handle = server.client.get_workflow_handle(ticket_workflow_id(uuid.UUID(waiting)))
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            with ThreadPoolExecutor(max_workers=4) as executor:
                async with AsyncExitStack() as stack:
                    for w in build_workers(server.client, engine, executor, worker_settings):
                        await stack.enter_async_context(w)
                    state = await handle.query(TicketWorkflow.state)
                    assert state.number == accepted.json()["number"]
    finally:
        await server.shutdown()
    assert len(_tickets_with_key(engine, slow["Idempotency-Key"])) == 1


async def test_changes_answer_503_and_reads_fall_back_to_the_database(engine, offline, api):
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, it = make_user(engine, Role.CUSTOMER_IT, tenant)
    ticket_id = (await api.post("/api/v1/tickets", json={"title": "Mail"}, headers=auth(it))).json()["id"]
    key = f"{tenant.customer_number}-host-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(
            SocIncident(
                key=key, tenant_id=tenant.id, status="open", priority="P1", title="Ransomware", alert_count=1,
                first_alert_at=now, last_alert_at=now,
            )
        )  # fmt: skip

    h = auth(admin)
    for method, path, body in [
        ("post", "/api/v1/sla/repin", {"tenant_id": str(tenant.id)}),
        ("post", f"/api/v1/soc/incidents/{key}/acknowledge", None),
        ("post", f"/api/v1/soc/incidents/{key}/containment", {"approve": True}),
        ("post", f"/api/v1/tickets/{ticket_id}/transitions", {"to_status": "in_progress"}),
        ("put", f"/api/v1/tickets/{ticket_id}/priority", {"priority": "P1"}),
    ]:
        _assert_503(await offline.request(method, path, json=body, headers=h))

    sla = await offline.get(f"/api/v1/tickets/{ticket_id}/sla", headers=h)
    assert sla.status_code == 200 and sla.json()["live"] is False, sla.text
    incident = await offline.get(f"/api/v1/soc/incidents/{key}", headers=h)
    assert incident.status_code == 200 and incident.json()["containment"] is None, incident.text
    lifecycle = await offline.get(f"/api/v1/soc/incidents/{key}/lifecycle", headers=h)
    assert lifecycle.status_code == 200 and lifecycle.json()["paging"] is None, lifecycle.text
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket).where(Ticket.id == uuid.UUID(ticket_id))).one() == 1
        assert s.get(Ticket, uuid.UUID(ticket_id)).status == "new"


@pytest.fixture
async def dev_server() -> AsyncIterator[str]:
    """A real Temporal dev server that lets one update at a time be in flight on a workflow (production allows a
    handful): what a ticket whose updates pile up meets."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["server", "start-dev", "--headless", "--port", str(port), "--log-level", "error"]
    args += ["--dynamic-config-value", "history.maxInFlightUpdates=1"]
    proc = await asyncio.create_subprocess_exec(
        binary("temporal"), *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        await proc.wait()


async def _connect(target: str) -> Client:
    for _ in range(100):
        try:
            return await Client.connect(target, data_converter=pydantic_data_converter, retry_config=QUICK)
        except RuntimeError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"no Temporal dev server at {target}")


async def test_updates_piling_up_on_a_ticket_answer_503_not_500(engine, api, dev_server, monkeypatch):
    monkeypatch.setattr(hub.temporal.tickets, "UPDATE_WAIT", timedelta(seconds=2))
    tenant = make_tenant(engine)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, it = make_user(engine, Role.CUSTOMER_IT, tenant)
    ticket_id = (await api.post("/api/v1/tickets", json={"title": "Mail"}, headers=auth(it))).json()["id"]
    client = await _connect(dev_server)
    # The ticket's workflow on a server where no worker answers: every update stays in flight until it times out.
    await client.start_workflow("TicketLifecycle", id=ticket_workflow_id(uuid.UUID(ticket_id)), task_queue="nobody")
    async for http in _http(engine, client):
        answers = await asyncio.gather(
            *(
                http.put(f"/api/v1/tickets/{ticket_id}/priority", json={"priority": p}, headers=auth(tech))
                for p in ("P1", "P2", "P4")
            )
        )
    for resp in answers:
        _assert_503(resp)
    assert any("in-flight updates" in r.json()["detail"] for r in answers), [r.json() for r in answers]
