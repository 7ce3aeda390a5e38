"""Prometheus metrics of the API process in the text format: the SOC inbox (pending, failing, the oldest alert's
age, quarantined; read from the database at each scrape, so every API process reports the same figures), the
dispatcher's hand-over counters of this process, and the standard process and Python metrics."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.routes.soc.inbox import InboxBacklog, backlog
from hub.logging import get_logger

log = get_logger(__name__)
router = APIRouter(tags=["health"])


class InboxCollector(Collector):
    def __init__(self, inbox: InboxBacklog | None) -> None:
        self.inbox = inbox  # None: the database did not answer

    def collect(self):  # noqa: ANN201 - prometheus_client's interface
        inbox = self.inbox
        yield GaugeMetricFamily(
            "psa_database_up", "1 when the database answered this scrape", value=int(inbox is not None)
        )
        if inbox is None:
            return
        for name, doc, value in (
            ("psa_soc_inbox_pending", "Webhook alerts in the SOC inbox, not yet with their incidents", inbox.pending),
            ("psa_soc_inbox_failing", "SOC inbox alerts whose last hand-over failed", inbox.failing),
            (
                "psa_soc_inbox_oldest_age_seconds",
                "How long the oldest SOC inbox alert has waited (0: empty)",
                inbox.oldest_age_seconds,
            ),
            (
                "psa_soc_inbox_failing_age_seconds",
                "How long the oldest SOC inbox alert whose hand-over failed has waited (0: none)",
                inbox.failing_age_seconds,
            ),
            ("psa_soc_quarantine_items", "SOC items in the quarantine, not released", inbox.quarantined),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    try:
        inbox = await asyncio.to_thread(backlog, request.app.state.engine)
    except Exception as err:  # noqa: BLE001 - the process metrics still help while the database is away
        log.warning("metrics: soc inbox not readable", error=f"{type(err).__name__}: {err}")
        inbox = None
    figures = CollectorRegistry(auto_describe=False)
    figures.register(InboxCollector(inbox))
    # The process-wide registry (process, platform, GC, the dispatcher's counters) and this scrape's figures.
    body = generate_latest(REGISTRY) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
