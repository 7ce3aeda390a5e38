"""Temporal down or slow: the API acknowledges (2xx) only what Temporal holds, answers 503 with Retry-After for every
change it could not hand over, and keeps answering reads from the database. Two real ways of being down: a client
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

import hub.temporal.tickets
from api.app import create_app
from domain.processes import ticket_workflow_id
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from hub.temporal import register_search_attributes
from models import SocIncident, Ticket
from tests.conftest import auth, binary
from tests.factories import make_tenant, make_user
from worker import build_workers

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


async def test_a_ticket_is_acknowledged_only_once_temporal_holds_it(engine, offline, api, worker_settings, monkeypatch):
    """Temporal unreachable: 503, nothing stored, and the retry with the same Idempotency-Key makes one ticket.
    Temporal holds the workflow but no worker runs (down, overloaded): 202, and the ticket appears once one does."""
    monkeypatch.setattr(hub.temporal.tickets, "UPDATE_WAIT", timedelta(seconds=1))
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    body = {"title": "Server antwortet nicht", "priority": "P2"}

    lost = auth(key) | {"Idempotency-Key": f"mail-{uuid.uuid4()}"}
    _assert_503(await offline.post("/api/v1/tickets", json=body, headers=lost))
    assert _tickets_with_key(engine, lost["Idempotency-Key"]) == []
    again = await api.post("/api/v1/tickets", json=body, headers=lost)  # Temporal is back (the shared server)
    assert again.status_code == 201, again.text
    replay = await api.post("/api/v1/tickets", json=body, headers=lost)
    assert replay.status_code == 201 and replay.json()["id"] == again.json()["id"]
    assert [str(t.id) for t in _tickets_with_key(engine, lost["Idempotency-Key"])] == [again.json()["id"]]

    slow = auth(key) | {"Idempotency-Key": f"mail-{uuid.uuid4()}"}
    env = await _new_server()  # no worker on it yet
    try:
        await register_search_attributes(env.client)
        async for http in _http(engine, env.client):
            first = await http.post("/api/v1/tickets", json=body, headers=slow)
            assert first.status_code == 202, first.text
            ticket_id = first.json()["id"]
            assert first.headers["location"] == f"/api/v1/tickets/{ticket_id}"
            described = await env.client.get_workflow_handle(ticket_workflow_id(uuid.UUID(ticket_id))).describe()
            assert described.status == WorkflowExecutionStatus.RUNNING
            second = await http.post("/api/v1/tickets", json=body, headers=slow)  # attaches to the same workflow
            assert second.status_code == 202 and second.json()["id"] == ticket_id
            with ThreadPoolExecutor(max_workers=4) as executor:
                async with AsyncExitStack() as stack:
                    for w in build_workers(env.client, engine, executor, worker_settings):
                        await stack.enter_async_context(w)
                    for _ in range(100):
                        got = await http.get(f"/api/v1/tickets/{ticket_id}", headers=auth(key))
                        if got.status_code == 200:
                            break
                        await asyncio.sleep(0.1)
                    assert got.status_code == 200, got.text
                    replay = await http.post("/api/v1/tickets", json=body, headers=slow)
                    assert replay.status_code == 201 and replay.json()["id"] == ticket_id
    finally:
        await env.shutdown()
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
