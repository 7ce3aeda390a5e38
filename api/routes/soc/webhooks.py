"""The signed webhook the security platforms push alerts to. It verifies, normalises and commits each alert to the
SOC inbox together with the delivery log (the durable step), answers 202 and wakes the inbox dispatcher
(api/routes/soc/inbox.py); every delivery, also a refused one, is logged. Database calls run in worker threads, never
on the event loop that every delivery in flight shares."""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import NowDep, get_engine
from api.middleware import MAX_BODY_BYTES
from api.problems import Problem, not_found
from api.routes.soc import inbox as soc_inbox
from domain.contracts.soc import IncidentAlert
from domain.processes import incident_workflow_id
from domain.soc.alerts import AlertFormatError, NormalizedAlert, Source, correlation_key
from domain.soc.barracuda import DEFAULT_MAPPING, FieldMapping, normalize_barracuda
from domain.soc.generic import normalize_generic
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.signatures import SignatureError, verify
from hub.db import session_scope
from hub.logging import get_logger
from models import SocAlert, SocIncident, SocIntegration, Tenant, WebhookDelivery

log = get_logger(__name__)
router = APIRouter(tags=["soc"])
# URL path names of the sources.
SOURCES = {
    "sentinelone": Source.SENTINELONE,
    "rocketcyber": Source.ROCKETCYBER,
    "barracuda-xdr": Source.BARRACUDA_XDR,
    "generic": Source.GENERIC,
}


def webhook_url(row: SocIntegration) -> str:
    """Where the platform of an integration delivers to (the path of `receive_webhook`)."""
    slug = next(k for k, v in SOURCES.items() if v.value == row.source)
    return f"/api/v1/webhooks/{slug}/{row.id}"


def _delivery(
    source: str,
    integration_id: UUID | None,
    remote_addr: str | None,
    body: bytes,
    accepted: bool,
    reason: str | None,
    webhook_id: str | None,
) -> WebhookDelivery:
    log.info("webhook delivery", source=source, integration_id=str(integration_id), accepted=accepted, reason=reason)
    return WebhookDelivery(
        source=source,
        integration_id=integration_id,
        accepted=accepted,
        reason=reason,
        webhook_id=(webhook_id or "")[:200] or None,
        body_bytes=len(body),
        remote_addr=remote_addr,
        body_sha256=hashlib.sha256(body).hexdigest() if body else None,
    )


def _log(
    engine: Engine,
    source: str,
    integration_id: UUID | None,
    remote_addr: str | None,
    body: bytes,
    accepted: bool,
    reason: str | None = None,
    webhook_id: str | None = None,
) -> None:
    """A rejected delivery, in its own transaction: it is on record although nothing else is written."""
    with session_scope(engine) as s:
        s.add(_delivery(source, integration_id, remote_addr, body, accepted, reason, webhook_id))


def _lookup(engine: Engine, iid: UUID | None) -> tuple[SocIntegration | None, Tenant | None]:
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(SocIntegration, iid) if iid else None
        tenant = s.get(Tenant, row.tenant_id) if row else None
    return row, tenant


def _stored_unchanged(session: Session, tenant_id: UUID, alerts: list[NormalizedAlert]) -> set[str]:
    """Dedupe keys of the alerts that `soc_alerts` already holds with the same vendor status and no older vendor
    time: their incident recorded and handled them, so a redelivery changes nothing and needs no signal. An alert
    whose incident has closed is not among them: a new incident run counts the repeat, as before."""
    by_key = {a.dedupe_key: a for a in alerts}
    rows = session.exec(
        select(SocAlert.dedupe_key, SocAlert.vendor_status, SocAlert.vendor_updated_at, SocIncident.status)
        .join(SocIncident, SocIncident.key == SocAlert.incident_key, isouter=True)
        .where(SocAlert.tenant_id == tenant_id, SocAlert.dedupe_key.in_(list(by_key)))
    ).all()
    known = set()
    for key, status, stored_at, incident_status in rows:
        alert = by_key[key]
        newer = alert.vendor_updated_at is not None and (stored_at is None or alert.vendor_updated_at > stored_at)
        if status == alert.status.value and not newer and incident_status != "closed":
            known.add(key)
    return known


def _accept(
    session: Session,
    source: str,
    row: SocIntegration,
    tenant: Tenant,
    alerts: list[NormalizedAlert],
    remote_addr: str | None,
    body: bytes,
    webhook_id: str,
) -> int:
    """In the transaction of a batch of deliveries (`GroupCommit`): the alerts that are news go into the inbox, the
    delivery into the log. Returns how many alerts await hand-over. A redelivery of an alert that is stored and
    unchanged needs none (half of a storm's deliveries); one still on its way to its incident is handed over
    again, and the incident drops the repeat."""
    unchanged = _stored_unchanged(session, row.tenant_id, alerts)
    news = [
        IncidentAlert(alert=a, tenant_id=row.tenant_id, customer_number=tenant.customer_number)
        for a in alerts
        if a.dedupe_key not in unchanged
    ]
    soc_inbox.put(session, news)
    reason = "duplicate" if not news else ("partly_duplicate" if unchanged else None)
    session.add(_delivery(source, row.id, remote_addr, body, True, reason, webhook_id))
    return len(news)


def _normalize(source: Source, payload: Any, row: SocIntegration) -> list[NormalizedAlert]:
    items = payload["data"] if isinstance(payload, dict) and isinstance(payload.get("data"), list) else [payload]
    if not items or len(items) > 500:
        raise AlertFormatError("$", "expected one alert or a list of 1 to 500 alerts under 'data'")
    iid = str(row.id)
    if source == Source.SENTINELONE:
        return [normalize_sentinelone(i, iid) for i in items]
    if source == Source.ROCKETCYBER:
        return [normalize_rocketcyber(i, iid) for i in items]
    if source == Source.BARRACUDA_XDR:
        mapping = FieldMapping.model_validate(row.field_mapping) if row.field_mapping else DEFAULT_MAPPING
        return [normalize_barracuda(i, mapping, iid) for i in items]
    return [normalize_generic(i, iid) for i in items]


@router.post(
    "/webhooks/{source}/{integration_id}",
    status_code=202,
    summary="Signed alert delivery from a security platform (Standard Webhooks signature)",
    description="202: the alerts are stored in the hub (the SOC inbox) and reach their incidents within moments, "
    "also when the workflow engine is briefly away; `incidents` names the incident workflow of each alert.",
)
async def receive_webhook(
    source: str,
    integration_id: str,
    request: Request,
    now: NowDep,
    engine: Annotated[Engine, Depends(get_engine)],
):
    body = await request.body()
    kind = SOURCES.get(source)
    if kind is None:
        raise Problem(404, f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    remote = request.client.host if request.client else None
    # Database work in worker threads: on the event loop it would stall every delivery in flight.
    checked = await run_in_threadpool(_check, engine, kind, source, integration_id, request.headers, body, now, remote)
    row, tenant, alerts, webhook_id = checked
    # Committed before the answer, with the other deliveries of the moment; Temporal may be away meanwhile: the
    # dispatcher hands over once it is back.
    try:
        handed_over = await request.app.state.soc_accepts.run(
            partial(
                _accept,
                source=source,
                row=row,
                tenant=tenant,
                alerts=alerts,
                remote_addr=remote,
                body=body,
                webhook_id=webhook_id,
            )
        )
    except (SQLAlchemyError, TimeoutError) as err:  # rolled back: nothing of this delivery is stored
        log.warning("webhook delivery not stored", source=source, integration_id=integration_id, error=repr(err))
        raise Problem(503, "the hub could not store the delivery right now; deliver it again later") from None
    if handed_over:
        request.app.state.soc_inbox.wake()
    incidents = [incident_workflow_id(correlation_key(a, tenant.customer_number)) for a in alerts]
    return JSONResponse({"accepted": len(alerts), "incidents": incidents}, status_code=202)


def _check(
    engine: Engine,
    kind: Source,
    source: str,
    integration_id: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    remote: str | None,
) -> tuple[SocIntegration, Tenant, list[NormalizedAlert], str]:
    """Integration, signature, alerts; a refused delivery is logged (nothing else written) and raised as a Problem."""
    try:
        iid = UUID(integration_id)
    except ValueError:
        iid = None

    def refuse(reason: str, problem: Problem, webhook_id: str | None = None) -> Problem:
        _log(engine, source, iid, remote, body, False, reason, webhook_id)
        return problem

    row, tenant = _lookup(engine, iid)
    if row is None or row.source != kind.value:
        raise refuse("unknown_integration", not_found("integration", integration_id))
    if not row.is_active:  # 404 as before, but saying why, so the platform's admin knows what to fix
        raise refuse(
            "inactive_integration",
            Problem(404, f"integration {integration_id} is deactivated in the hub; deliveries are refused"),
        )
    if len(body) > MAX_BODY_BYTES:  # also a body sent without Content-Length (BodyLimit checks the header)
        raise refuse("too_large", Problem(413, f"request body exceeds {MAX_BODY_BYTES} bytes"))
    try:
        webhook_id = verify([x for x in (row.webhook_secret, row.previous_webhook_secret) if x], headers, body, now)
    except SignatureError as err:
        raise refuse(err.code.value, Problem(401, err.message, reason=err.code.value)) from None
    try:
        alerts = _normalize(kind, json.loads(body), row)
    except json.JSONDecodeError as err:
        problem = Problem(400, f"body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}")
        raise refuse("malformed_json", problem, webhook_id) from None
    except AlertFormatError as err:
        problem = Problem(422, str(err), errors=[{"field": err.field, "message": str(err)}])
        raise refuse("bad_alert", problem, webhook_id) from None
    return row, tenant, alerts, webhook_id
