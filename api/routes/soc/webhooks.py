"""The signed webhook the security platforms push alerts to. It verifies, normalises and commits each alert to the
SOC inbox together with the delivery log (the durable step), answers 202 and wakes the inbox dispatcher
(api/routes/soc/inbox.py); every delivery, also a refused one, is logged. What the hub could not carry to the end
(a body over the limit, JSON it cannot parse, a time it cannot store, a control character in an id) is refused
here with its reason, so no accepted alert wedges its incident. Database calls run in worker threads, never on the
event loop that every delivery in flight shares."""

import codecs
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
from api.json_guard import json_refusal
from api.middleware import MAX_BODY_BYTES
from api.problems import Problem, not_found
from api.routes.soc import inbox as soc_inbox
from domain.contracts.soc import IncidentAlert
from domain.processes import incident_workflow_id
from domain.soc.alerts import (
    AlertFormatError,
    AlertOutOfWindow,
    NormalizedAlert,
    Source,
    check_alert_times,
    correlation_key,
)
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
    size: int | None = None,
) -> WebhookDelivery:
    """`size`: of a body refused unread (over the limit); it has no hash then."""
    log.info("webhook delivery", source=source, integration_id=str(integration_id), accepted=accepted, reason=reason)
    return WebhookDelivery(
        source=source,
        integration_id=integration_id,
        accepted=accepted,
        reason=reason,
        webhook_id=(webhook_id or "")[:200] or None,
        body_bytes=len(body) if size is None else size,
        remote_addr=remote_addr,
        body_sha256=hashlib.sha256(body).hexdigest() if body and size is None else None,
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
    size: int | None = None,
) -> None:
    """A rejected delivery, in its own transaction: it is on record although nothing else is written."""
    with session_scope(engine) as s:
        s.add(_delivery(source, integration_id, remote_addr, body, accepted, reason, webhook_id, size))


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


def _normalize(source: Source, payload: Any, row: SocIntegration, now: datetime) -> list[NormalizedAlert]:
    """The delivery's alerts, each within the hub's time window; an AlertFormatError names the field, in a list
    under `data.<index>.`."""
    listed = isinstance(payload, dict) and isinstance(payload.get("data"), list)
    items = payload["data"] if listed else [payload]
    if not items or len(items) > 500:
        raise AlertFormatError("$", "expected one alert or a list of 1 to 500 alerts under 'data'")
    iid = str(row.id)
    mapping = DEFAULT_MAPPING
    if source == Source.BARRACUDA_XDR and row.field_mapping:
        mapping = FieldMapping.model_validate(row.field_mapping)
    alerts = []
    for index, item in enumerate(items):
        try:
            if source == Source.SENTINELONE:
                alert = normalize_sentinelone(item, iid)
            elif source == Source.ROCKETCYBER:
                alert = normalize_rocketcyber(item, iid)
            elif source == Source.BARRACUDA_XDR:
                alert = normalize_barracuda(item, mapping, iid)
            else:
                alert = normalize_generic(item, iid)
            alerts.append(check_alert_times(alert, now))
        except AlertFormatError as err:
            if not listed:
                raise
            raise type(err)(f"data.{index}.{err.field}", err.message) from err
    return alerts


async def _read_body(request: Request) -> tuple[bytes | None, int]:
    """The body and its size; None (and the size announced or read so far) once it passes the limit: reading stops
    there, also for a body sent without Content-Length (chunked) or with a false one."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None, int(declared)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None, size
        chunks.append(chunk)
    return b"".join(chunks), size


def _parse(body: bytes) -> Any:
    """The JSON of a body (UTF-8, a leading byte order mark ignored); ValueError saying what is wrong and where."""
    raw = body.removeprefix(codecs.BOM_UTF8)
    try:
        return json.loads(raw.decode())
    except UnicodeDecodeError as err:
        line, column = raw.count(b"\n", 0, err.start) + 1, err.start - raw.rfind(b"\n", 0, err.start)
        raise ValueError(f"it is not UTF-8 (line {line} column {column}: {err.reason})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{err.msg} at line {err.lineno} column {err.colno}") from None


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
    kind = SOURCES.get(source)
    if kind is None:
        raise Problem(404, f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    body, size = await _read_body(request)
    remote = request.client.host if request.client else None
    # Database work in worker threads: on the event loop it would stall every delivery in flight.
    checked = await run_in_threadpool(
        _check, engine, kind, source, integration_id, request.headers, body, size, now, remote
    )
    row, tenant, alerts, webhook_id, body = checked
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
    body: bytes | None,
    size: int,
    now: datetime,
    remote: str | None,
) -> tuple[SocIntegration, Tenant, list[NormalizedAlert], str, bytes]:
    """Integration, size, signature (on the raw bytes, whatever they hold), JSON, alerts; a refused delivery is
    logged (nothing else written) and raised as a Problem. `body` is None when it passed the limit unread."""
    try:
        iid = UUID(integration_id)
    except ValueError:
        iid = None

    def refuse(reason: str, problem: Problem, webhook_id: str | None = None) -> Problem:
        _log(engine, source, iid, remote, body or b"", False, reason, webhook_id, None if body is not None else size)
        return problem

    def unprocessable(reason: str, field: str, message: str, webhook_id: str) -> Problem:
        return refuse(reason, Problem(422, message, errors=[{"field": field, "message": message}]), webhook_id)

    row, tenant = _lookup(engine, iid)
    if row is None or row.source != kind.value:
        raise refuse("unknown_integration", not_found("integration", integration_id))
    if not row.is_active:  # 404 as before, but saying why, so the platform's admin knows what to fix
        raise refuse(
            "inactive_integration",
            Problem(404, f"integration {integration_id} is deactivated in the hub; deliveries are refused"),
        )
    if body is None:
        raise refuse("too_large", Problem(413, f"request body exceeds {MAX_BODY_BYTES} bytes"))
    try:
        webhook_id = verify([x for x in (row.webhook_secret, row.previous_webhook_secret) if x], headers, body, now)
    except SignatureError as err:
        raise refuse(err.code.value, Problem(401, err.message, reason=err.code.value)) from None
    # Before parsing: a deep body makes the parser recurse, a long number makes it fail; the incident could not
    # carry either.
    if (reason := json_refusal(body)) is not None:
        raise unprocessable("json_limits", "body", reason, webhook_id)
    try:
        payload = _parse(body)
    except ValueError as err:
        raise unprocessable("malformed_json", "body", f"the body is not valid JSON: {err}", webhook_id) from None
    try:
        alerts = _normalize(kind, payload, row, now)
    except AlertOutOfWindow as err:
        raise unprocessable("out_of_window", err.field, str(err), webhook_id) from None
    except AlertFormatError as err:
        raise unprocessable("bad_alert", err.field, str(err), webhook_id) from None
    return row, tenant, alerts, webhook_id, body
