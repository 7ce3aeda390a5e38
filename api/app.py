"""The FastAPI application: thin; it validates, checks tenant and role, then talks to Temporal or the DB."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send
from temporalio.client import Client

from api import portal, problems
from api.deps import reject_unknown_query
from api.middleware import BodyLimit, RequestLog, RequireCredentials
from api.routes import (
    assets,
    billing,
    co_management,
    contacts,
    health,
    inventory,
    kb,
    keys,
    metrics,
    qbr,
    queues,
    raci,
    reports,
    service_reports,
    sla,
    soc,
    tenants,
    tickets,
    users,
)
from api.routes.billing import branding
from api.routes.soc.inbox import InboxDispatcher, InboxSettings
from api.routes.soc.mail_intake import MailReceiver
from api.routes.soc.webhook_front import WebhookFront
from hub.config import Settings, get_settings
from hub.db import GroupCommit, make_engine
from hub.logging import get_logger
from hub.temporal import connect

log = get_logger(__name__)


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


class HubApp(FastAPI):
    """The app, with the webhook's lean way in (`webhook_front`) ahead of FastAPI's own stack: a delivery is served
    without the middlewares, routing and dependency solving that were most of an unchanged redelivery's CPU."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._front = WebhookFront(super().__call__, self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._front(scope, receive, send)


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
        app.state.soc_inbox.start()  # alerts a stopped API left in the inbox go on at once
        await app.state.soc_mail.start()  # only with PSA_SOC_MAIL_LISTEN
        yield
        await app.state.soc_mail.stop()  # first: a mail stored after this would wait for the next start's dispatcher
        await app.state.soc_inbox.stop()
        if task:
            task.cancel()
        if own_engine:
            app.state.engine.dispose()

    app = HubApp(
        title="MSP Automation Hub",
        version="0.1.0",
        description="Tickets with SLA, SOC triage, billing, true-up and QBRs for managed service providers (DACH).",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.temporal = temporal
    # "Now" for live SLA figures; tests pass the time-skipping server's clock.
    app.state.clock = clock
    app.state.soc_accepts = GroupCommit(lambda: app.state.engine)  # the webhook's commits, batched
    app.state.soc_inbox = InboxDispatcher(
        lambda: app.state.engine,
        lambda: app.state.temporal,
        InboxSettings.of(settings),
    )
    app.state.soc_mail = MailReceiver(
        settings, lambda: app.state.engine, lambda: app.state.clock(), lambda: app.state.soc_inbox.wake()
    )
    problems.install(app)

    # The last added runs first: every request, also one refused for its size, gets an id and a log line; one
    # without a key is refused before its body is read. The webhooks are signed, not keyed, and apply the body
    # limit themselves (logging each refusal).
    webhooks = ("/api/v1/webhooks/",)
    uploads = {branding.TEMPLATE_PATH: branding.template_allowance(settings)}  # larger bodies on these paths only
    app.add_middleware(BodyLimit, exempt_prefixes=webhooks, allowances=uploads)
    app.add_middleware(RequireCredentials, exempt_prefixes=webhooks)
    app.add_middleware(RequestLog)

    # Paths are matched in order and most requests of an alert storm are webhook deliveries: their route first
    # (its paths, /api/v1/webhooks/..., are no other route's).
    app.include_router(soc.webhook_router, prefix="/api/v1")
    app.include_router(health.router)
    app.include_router(metrics.router)
    for module in (
        tenants,
        contacts,
        assets,
        tickets,
        sla,
        soc,
        billing,
        users,
        keys,
        co_management,
        queues,
        kb,
        qbr,
        raci,
        reports,
        inventory,
        service_reports,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(portal.router)  # the web portal's pages (HTML, session cookie instead of a key)
    app.mount("/portal/static", portal.STATIC, name="portal-static")
    return app
