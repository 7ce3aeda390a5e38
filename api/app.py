"""The FastAPI application: thin; it validates, checks tenant and role, then talks to Temporal or the DB."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI, Request
from sqlalchemy import Engine
from temporalio.client import Client

from api import problems
from api.routes import assets, contacts, health, sla_admin, sla_repin, soc, soc_incidents, tenants, tickets
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.logging import get_logger
from hub.temporal import connect

log = get_logger(__name__)
MAX_BODY_BYTES = 1024 * 1024


async def _connect_forever(app: FastAPI, settings: Settings) -> None:
    while app.state.temporal is None:
        try:
            app.state.temporal = await connect(settings.temporal_address, settings.temporal_namespace)
            log.info("connected to temporal", address=settings.temporal_address)
        except Exception as err:  # noqa: BLE001 - keep serving reads; /healthz reports the outage
            log.warning("temporal not reachable, retrying", address=settings.temporal_address, error=str(err))
            await asyncio.sleep(2)


async def wall_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    temporal: Client | None = None,
    clock: Callable[[], Awaitable[datetime]] = wall_clock,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_engine = app.state.engine is None
        if own_engine:
            app.state.engine = make_engine(settings.effective_database_url)
        task = None
        if app.state.temporal is None:
            task = asyncio.create_task(_connect_forever(app, settings))
        yield
        if task:
            task.cancel()
        if own_engine:
            app.state.engine.dispose()

    app = FastAPI(
        title="MSP Automation Hub",
        version="0.1.0",
        description="Tickets with SLA, SOC triage, billing, true-up and QBRs for managed service providers (DACH).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.temporal = temporal
    # "Now" for live SLA figures; tests pass the time-skipping server's clock.
    app.state.clock = clock
    problems.install(app)

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["X-Request-ID"] = request_id
        log.info(
            "request",
            request_id=request_id,
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

    @app.middleware("http")
    async def limit_body_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return problems.problem_response(413, "Content Too Large", f"request body exceeds {MAX_BODY_BYTES} bytes")
        return await call_next(request)

    app.include_router(health.router)
    for module in (tenants, contacts, assets, tickets, sla_admin, sla_repin, soc, soc_incidents):
        app.include_router(module.router, prefix="/api/v1")
    return app
