"""The webhook security platforms and automation tools push alerts to. It verifies the delivery by the integration's
method (domain/soc/signatures.py), normalises each item and commits the good ones to the SOC inbox, the refused ones
to the quarantine and the delivery to the log, in one transaction (the durable step); then it answers 202 with each
item's outcome and wakes the inbox dispatcher (api/routes/soc/inbox.py). Every delivery, also a refused one, is
logged. What the hub could not carry to the end (a body over the limit, JSON it cannot parse) refuses the delivery;
an item it cannot carry (a time it cannot store, a control character in an id) or that names a vendor site not
mapped to the integration's customer (domain/soc/sites.py) is refused alone, so one bad item neither takes down
its batch nor wedges an incident. Database calls run in worker threads, never on the event loop that every
delivery in flight shares."""

import asyncio
import codecs
import contextvars
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial, wraps
from typing import Any, TypeVar
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, bindparam, event, insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from api.json_guard import json_refusal
from api.middleware import MAX_BODY_BYTES
from api.problems import Problem, not_found
from api.routes.soc import inbox as soc_inbox
from api.routes.soc.webhook_schema import DESCRIPTION, MAX_ITEMS, OPENAPI_EXTRA, DeliveryResult, ItemOutcome
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
from domain.soc.intake import Route, route
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.signatures import SignatureError, WebhookAuth, verify_delivery
from domain.soc.sites import allowed_ids, site_refusal
from hub.db import session_scope
from hub.logging import get_logger
from models import SocAlert, SocIncident, SocIntegration, SocQuarantineItem, SocQuarantineKind, Tenant, WebhookDelivery
from models.soc import record_without_incident

log = get_logger(__name__)
router = APIRouter(tags=["soc"])
T = TypeVar("T")
# The webhook's checks (verification, parsing; database calls only for an integration not in `_lookups` and for a
# refusal's log) in threads of their own: a hop through asyncio's executor costs a fraction of AnyIO's
# `run_in_threadpool` per delivery, and other work's threads do not queue in front of them.
_CHECK_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="webhook-check")


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    context = contextvars.copy_context()  # the request's log context, as AnyIO passes it
    return await asyncio.get_running_loop().run_in_executor(_CHECK_THREADS, partial(context.run, fn, *args))


# URL path names of the sources.
SOURCES = {
    "sentinelone": Source.SENTINELONE,
    "rocketcyber": Source.ROCKETCYBER,
    "barracuda-xdr": Source.BARRACUDA_XDR,
    "generic": Source.GENERIC,
}


def webhook_url(row: SocIntegration, public_base_url: str = "") -> str:
    """Where the platform of an integration delivers to: the path of `receive_webhook`, absolute under the hub's
    public base URL (PSA_PUBLIC_BASE_URL) when one is set."""
    slug = next(k for k, v in SOURCES.items() if v.value == row.source)
    return f"{public_base_url.rstrip('/')}/api/v1/webhooks/{slug}/{row.id}"


def _delivery(
    source: str,
    integration_id: UUID | None,
    remote_addr: str | None,
    body: bytes,
    accepted: bool,
    reason: str | None,
    webhook_id: str | None,
    size: int | None = None,
) -> dict[str, Any]:
    """The delivery log's row, for `_INSERT_DELIVERY`. `size`: of a body refused unread (over the limit); it has no
    hash then. Logged once, by `deliver`, with the request's outcome."""
    return {
        "id": uuid4(),
        "received_at": soc_inbox.utcnow(),
        "source": source,
        "integration_id": integration_id,
        "accepted": accepted,
        "reason": reason,
        "webhook_id": (webhook_id or "")[:200] or None,
        "body_bytes": len(body) if size is None else size,
        "remote_addr": remote_addr,
        "body_sha256": hashlib.sha256(body).hexdigest() if body and size is None else None,
    }


# Core statements, compiled once: a redelivery is a select and an insert, without the ORM's unit of work.
_INSERT_DELIVERY = insert(WebhookDelivery.__table__)


def _write_delivery(session: Session, row: dict[str, Any]) -> None:
    session.connection().execute(_INSERT_DELIVERY, row)


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
        _write_delivery(s, _delivery(source, integration_id, remote_addr, body, accepted, reason, webhook_id, size))


# The integration and its tenant, kept briefly per process by integration id (so never across tenants): a storm
# looks them up once in a while, not once a delivery. A write to either through a session of this process clears
# them (`_forget`); one by another process (another API worker) is seen within LOOKUP_TTL_S.
LOOKUP_TTL_S = 2.0
_lookups: dict[UUID, tuple[float, SocIntegration, Tenant]] = {}
_lookup_generation = [0]


def forget_lookups() -> None:
    _lookup_generation[0] += 1
    _lookups.clear()


@event.listens_for(OrmSession, "after_flush")
def _forget_on_flush(session: OrmSession, _context: object) -> None:
    if any(isinstance(o, SocIntegration | Tenant) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["soc_lookup_stale"] = True
        forget_lookups()


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_on_end(session: OrmSession, *_args: object) -> None:
    if session.info.pop("soc_lookup_stale", False):  # a lookup between the flush and the commit read the old row
        forget_lookups()


def _lookup(engine: Engine, iid: UUID | None) -> tuple[SocIntegration | None, Tenant | None]:
    if iid is None:
        return None, None
    now = time.monotonic()
    if (hit := _lookups.get(iid)) is not None and now - hit[0] < LOOKUP_TTL_S:
        return hit[1], hit[2]
    generation = _lookup_generation[0]
    with Session(engine, expire_on_commit=False) as s:  # one query for both (the tenant is a foreign key)
        found = s.exec(
            select(SocIntegration, Tenant)
            .join(Tenant, Tenant.id == SocIntegration.tenant_id)
            .where(SocIntegration.id == iid)
        ).first()
    row, tenant = found if found is not None else (None, None)
    if row is not None and tenant is not None and generation == _lookup_generation[0]:
        _lookups[iid] = (now, row, tenant)
    return row, tenant


_alert_table, _incident_table = SocAlert.__table__, SocIncident.__table__
_alerts, _incidents = _alert_table.c, _incident_table.c
_STORED = (
    sa_select(
        _alerts.dedupe_key, _alerts.vendor_status, _alerts.vendor_updated_at, _alerts.incident_key, _incidents.status
    )
    .select_from(_alert_table.outerjoin(_incident_table, _incidents.key == _alerts.incident_key))
    .where(_alerts.tenant_id == bindparam("tenant_id"), _alerts.dedupe_key.in_(bindparam("keys", expanding=True)))
)


def _stored(session: Session, tenant_id: UUID, alerts: list[NormalizedAlert]) -> tuple[set[str], dict[str, str | None]]:
    """What `soc_alerts` holds of the alerts: the dedupe keys of those stored with the same vendor status and no
    older vendor time whose incident is open or that were recorded without one (a redelivery changes nothing and
    needs no signal; an alert whose incident has closed is not among them: a new run records a repeat), and the
    incident key of each stored one (None: recorded without an incident)."""
    by_key = {a.dedupe_key: a for a in alerts}
    rows = session.connection().execute(_STORED, {"tenant_id": tenant_id, "keys": list(by_key)}).all()
    unchanged, known = set(), {}
    for key, status, stored_at, incident_key, incident_status in rows:
        alert = by_key[key]
        known[key] = incident_key
        newer = alert.vendor_updated_at is not None and (stored_at is None or alert.vendor_updated_at > stored_at)
        if status == alert.status.value and not newer and incident_status != "closed":
            unchanged.add(key)
    return unchanged, known


@dataclass(frozen=True)
class Refusal:
    """An item of a delivery that is not filed: why (`reason` a code, `message` for people), and the item as
    received, for the quarantine."""

    index: int
    reason: str  # bad_alert, out_of_window, foreign_site
    field: str
    message: str
    item: dict[str, Any]
    vendor_alert_id: str | None = None

    @property
    def sha256(self) -> str:
        """Of the item as canonical JSON: a redelivered refused item is quarantined once."""
        canonical = json.dumps(self.item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Checked:
    row: SocIntegration
    tenant: Tenant
    alerts: list[tuple[int, NormalizedAlert]]  # with their index in the delivery
    refused: list[Refusal]
    webhook_id: str | None
    body: bytes


def _quarantine(
    session: Session, row: SocIntegration, refused: list[Refusal], webhook_id: str | None
) -> dict[int, UUID]:
    """Refused items are kept for review under the integration (MSP staff only: the data may be another
    customer's), with the reason; nothing else of them is stored. An item already held and not released (the sender
    delivered it again) is not added twice. Returns the quarantine id of each refused item, by its index."""
    if not refused:
        return {}
    hashes = {r.sha256 for r in refused}
    held = dict(
        session.exec(
            select(SocQuarantineItem.item_sha256, SocQuarantineItem.id).where(
                SocQuarantineItem.integration_id == row.id,
                SocQuarantineItem.kind == SocQuarantineKind.WEBHOOK.value,
                SocQuarantineItem.released_at.is_(None),
                SocQuarantineItem.item_sha256.in_(list(hashes)),
            )
        ).all()
    )
    ids = {}
    for r in refused:
        if r.sha256 not in held:
            reason = f"{r.reason}: {r.field}: {r.message}" + (f" (delivery {webhook_id})" if webhook_id else "")
            new = SocQuarantineItem(
                tenant_id=row.tenant_id,
                integration_id=row.id,
                kind=SocQuarantineKind.WEBHOOK,
                item=r.item,
                item_sha256=r.sha256,
                reason=reason[:2000],
                received_at=soc_inbox.utcnow(),
            )
            session.add(new)
            held[r.sha256] = new.id
        ids[r.index] = held[r.sha256]
    return ids


@dataclass(frozen=True)
class Accepted:
    handed_over: int  # alerts put into the inbox for their incidents
    quarantined: dict[int, UUID]  # quarantine id of each refused item, by index
    recorded: frozenset[str]  # dedupe keys recorded on their alert rows without an incident (domain.soc.intake)
    reason: str | None  # the delivery log's


def _accept(session: Session, source: str, checked: Checked, remote_addr: str | None) -> Accepted:
    """In the transaction of a batch of deliveries (`GroupCommit`): the alerts that are news go into the inbox, or,
    where the poller's rule says so (an old threat's update, `domain.soc.intake`), onto their alert rows; the
    refused items into the quarantine, the delivery into the log. A redelivery of an alert that is stored and
    unchanged needs none (half of a storm's deliveries); one still on its way to its incident is handed over again,
    and the incident drops the repeat."""
    row, tenant = checked.row, checked.tenant
    alerts = [a for _, a in checked.alerts]
    unchanged, known = _stored(session, row.tenant_id, alerts)
    news, recorded = [], set()
    for a in alerts:
        if a.dedupe_key in unchanged:
            continue
        if route(a, a.dedupe_key in known, known.get(a.dedupe_key), row.created_at) == Route.RECORD:
            record_without_incident(session, row.tenant_id, a)
            recorded.add(a.dedupe_key)
        else:
            news.append(IncidentAlert(alert=a, tenant_id=row.tenant_id, customer_number=tenant.customer_number))
    soc_inbox.put(session, news)
    quarantined = _quarantine(session, row, checked.refused, checked.webhook_id)
    if checked.refused:
        reason = "partly_refused"
    elif recorded:
        reason = "recorded"
    else:
        reason = "duplicate" if not news else ("partly_duplicate" if unchanged else None)
    _write_delivery(session, _delivery(source, row.id, remote_addr, checked.body, True, reason, checked.webhook_id))
    return Accepted(len(news), quarantined, frozenset(recorded), reason)


def _item_of(raw: Any) -> dict[str, Any]:
    """The item as the quarantine keeps it: an object as received, anything else wrapped."""
    return raw if isinstance(raw, dict) else {"value": raw}


def _vendor_id(raw: Any) -> str | None:
    """The vendor's id of a refused item, when it has a plain one (for the answer)."""
    if isinstance(raw, dict):
        for key in ("id", "alarmId", "alertId"):
            if isinstance(raw.get(key), str | int) and not isinstance(raw.get(key), bool):
                return str(raw[key])[:200]
    return None


def normalize_items(
    source: Source, payload: Any, row: SocIntegration, now: datetime
) -> tuple[list[tuple[int, NormalizedAlert]], list[Refusal]]:
    """Each item of the delivery, normalised and within the hub's time window and of a site mapped to the
    integration's customer, or refused with its reason (its field under `data.<index>.` in a list). An
    AlertFormatError only for a body that is neither one alert nor a list of 1 to 500."""
    listed = isinstance(payload, dict) and isinstance(payload.get("data"), list)
    items = payload["data"] if listed else [payload]
    if not items or len(items) > MAX_ITEMS:
        raise AlertFormatError("$", f"expected one alert or a list of 1 to {MAX_ITEMS} alerts under 'data'")
    iid = str(row.id)
    mapping = DEFAULT_MAPPING
    if source == Source.BARRACUDA_XDR and row.field_mapping:
        mapping = FieldMapping.model_validate(row.field_mapping)
    sites = allowed_ids(row.vendor_tenant_ids)
    alerts, refused = [], []
    for index, item in enumerate(items):
        where = f"data.{index}." if listed else ""
        try:
            if source == Source.SENTINELONE:
                alert = normalize_sentinelone(item, iid)
            elif source == Source.ROCKETCYBER:
                alert = normalize_rocketcyber(item, iid)
            elif source == Source.BARRACUDA_XDR:
                alert = normalize_barracuda(item, mapping, iid)
            else:
                alert = normalize_generic(item, iid)
            alert = check_alert_times(alert, now)
        except AlertFormatError as err:
            code = "out_of_window" if isinstance(err, AlertOutOfWindow) else "bad_alert"
            refused.append(Refusal(index, code, where + err.field, err.message, _item_of(item), _vendor_id(item)))
            continue
        except ValueError as err:  # a model's own check (pydantic): the item cannot be an alert either
            message = " ".join(str(err).split())[:500]
            refused.append(Refusal(index, "bad_alert", where + "$", message, _item_of(item), _vendor_id(item)))
            continue
        if (why := site_refusal(alert, sites)) is not None:
            field_name = where + "vendor_tenant_id"
            refused.append(Refusal(index, "foreign_site", field_name, why, _item_of(item), alert.vendor_alert_id))
            continue
        alerts.append((index, alert))
    return alerts, refused


async def _read_body(headers: Mapping[str, str], stream: AsyncIterator[bytes]) -> tuple[bytes | None, int]:
    """The body and its size; None (and the size announced or read so far) once it passes the limit: reading stops
    there, also for a body sent without Content-Length (chunked) or with a false one."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None, int(declared)
    chunks, size = [], 0
    async for chunk in stream:
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


def _outcomes(
    checked: Checked, quarantined: dict[int, UUID], recorded: frozenset[str] = frozenset()
) -> list[ItemOutcome]:
    customer_number = checked.tenant.customer_number
    accepted = [
        ItemOutcome(index=i, status="accepted", vendor_alert_id=a.vendor_alert_id, recorded=True)
        if a.dedupe_key in recorded
        else ItemOutcome(
            index=i,
            status="accepted",
            vendor_alert_id=a.vendor_alert_id,
            incident=incident_workflow_id(correlation_key(a, customer_number)),
        )
        for i, a in checked.alerts
    ]
    refused = [
        ItemOutcome(
            index=r.index,
            status="refused",
            vendor_alert_id=r.vendor_alert_id,
            reason=r.reason,
            field=r.field,
            message=r.message,
            quarantine_id=quarantined.get(r.index),
        )
        for r in checked.refused
    ]
    return sorted(accepted + refused, key=lambda o: o.index)


class RefusedDelivery(Problem):
    """A delivery the hub refused, with the delivery log's reason (for the log line; not part of the answer)."""

    def __init__(self, reason: str, problem: Problem) -> None:
        super().__init__(problem.status, problem.detail, problem.title, **problem.extra)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    reason: str | None  # the delivery log's


def _one_log_line(handle: Callable[..., Awaitable[Answer]]) -> Callable[..., Awaitable[Answer]]:
    """One log line per delivery, with its outcome and the caller's `log_fields` (the front's request id)."""

    @wraps(handle)
    async def logged(state: Any, source: str, integration_id: str, *request: Any, **log_fields: Any) -> Answer:
        started, status, reason = time.perf_counter(), 500, None
        try:
            answer = await handle(state, source, integration_id, *request)
            status, reason = answer.status, answer.reason
            return answer
        except Problem as err:
            status, reason = err.status, getattr(err, "reason", None)
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "webhook delivery",
                source=source,
                integration_id=integration_id,
                status=status,
                accepted=status == 202,
                reason=reason,
                duration_ms=duration_ms,
                **log_fields,
            )

    return logged


@_one_log_line
async def deliver(
    state: Any,
    source: str,
    integration_id: str,
    headers: Mapping[str, str],
    stream: AsyncIterator[bytes],
    remote: str | None,
) -> Answer:
    """The webhook, whichever way the request came (`api.routes.soc.webhook_front` or the FastAPI route): the
    answer, or a Problem to answer with. `state` is the app's."""
    kind = SOURCES.get(source)
    if kind is None:
        raise RefusedDelivery("unknown_source", Problem(404, f"unknown source {source!r}; known: {', '.join(SOURCES)}"))
    body, size = await _read_body(headers, stream)
    now, engine = await state.clock(), state.engine
    # Database work in worker threads: on the event loop it would stall every delivery in flight. With no other
    # deliveries to commit with (none batched, none committing alone), the check's thread commits the delivery too:
    # a delivery at a time, as at a low rate, takes one hop instead of two; the others of a storm are batched.
    args = (engine, kind, source, integration_id, headers, body, size, now, remote)
    if state.soc_accepts.idle and not _alone[0]:
        _alone[0] = True
        try:
            checked, accepted = await _off_loop(_check_and_accept, *args)
        finally:
            _alone[0] = False
    else:
        checked, accepted = await _off_loop(_check, *args), None
    if not checked.alerts:  # every item refused: kept for review, and the sender hears why
        items = _outcomes(checked, await _off_loop(_refuse_all, engine, source, checked, remote))
        first = checked.refused[0]
        raise RefusedDelivery(
            first.reason,
            Problem(
                422,
                f"{first.field}: {first.message}"
                if len(checked.refused) == 1
                else f"all {len(checked.refused)} alerts were refused; first: {first.field}: {first.message}",
                errors=[{"field": r.field, "message": r.message} for r in checked.refused],
                items=[o.model_dump(mode="json", exclude_none=True) for o in items],
            ),
        )
    # Committed before the answer, with the other deliveries of the moment; Temporal may be away meanwhile: the
    # dispatcher hands over once it is back.
    if accepted is None:
        try:
            accepted = await state.soc_accepts.run(partial(_accept, source=source, checked=checked, remote_addr=remote))
        except (SQLAlchemyError, TimeoutError) as err:  # rolled back: nothing of this delivery is stored
            raise _not_stored(source, integration_id, err) from None
    if accepted.handed_over:
        state.soc_inbox.wake()
    items = _outcomes(checked, accepted.quarantined, accepted.recorded)
    result = DeliveryResult(
        accepted=len(checked.alerts),
        refused=len(checked.refused),
        incidents=[o.incident for o in items if o.incident is not None],
        items=items,
    )
    return Answer(202, result.model_dump(mode="json", exclude_none=True), accepted.reason)


@router.post(
    "/webhooks/{source}/{integration_id}",
    status_code=202,
    response_model=DeliveryResult,
    summary="Alert delivery from a security platform or automation tool (verified by the integration's method)",
    description=DESCRIPTION,
    openapi_extra=OPENAPI_EXTRA,
    responses={
        401: {"description": "Verification failed (`reason`: missing_header, bad_signature, stale_timestamp, ...)"},
        404: {"description": "Unknown source or integration, or the integration is deactivated"},
        413: {"description": "Body over the limit"},
        422: {"description": "Not JSON, not one alert or a list of 1 to 500, or every item refused (`items`)"},
        503: {"description": "The hub could not store the delivery; deliver it again later"},
    },
)
async def receive_webhook(source: str, integration_id: str, request: Request):
    """The OpenAPI entry of the webhook, and its way in for what `webhook_front` passes on (a request with a query
    string, which the app refuses). Served by `deliver`, as the front does."""
    remote = request.client.host if request.client else None
    answer = await deliver(request.app.state, source, integration_id, request.headers, request.stream(), remote)
    return JSONResponse(answer.body, status_code=answer.status)


_alone = [False]  # a delivery is committing in its check's thread (only the event loop reads and sets it)


def _not_stored(source: str, integration_id: str, err: Exception) -> RefusedDelivery:
    log.warning("webhook delivery not stored", source=source, integration_id=integration_id, error=repr(err))
    problem = Problem(503, "the hub could not store the delivery right now; deliver it again later")
    return RefusedDelivery("not_stored", problem)


def _check_and_accept(
    engine: Engine,
    kind: Source,
    source: str,
    integration_id: str,
    headers: Mapping[str, str],
    body: bytes | None,
    size: int,
    now: datetime,
    remote: str | None,
) -> tuple[Checked, Accepted | None]:
    """`_check`, then, when it leaves alerts, `_accept` in a transaction of its own, as `GroupCommit` runs a batch of
    one (so also with its write lock on SQLite); None: every item was refused."""
    checked = _check(engine, kind, source, integration_id, headers, body, size, now, remote)
    if not checked.alerts:
        return checked, None
    try:
        with session_scope(engine) as session:
            return checked, _accept(session, source=source, checked=checked, remote_addr=remote)
    except (SQLAlchemyError, TimeoutError) as err:  # rolled back: nothing of this delivery is stored
        raise _not_stored(source, integration_id, err) from None


def _refuse_all(engine: Engine, source: str, checked: Checked, remote: str | None) -> dict[int, UUID]:
    """The delivery log and the quarantined items in one transaction (their ids by index); a 503 when the database
    fails (the sender delivers again)."""
    first = checked.refused[0].reason
    try:
        with session_scope(engine) as s:
            quarantined = _quarantine(s, checked.row, checked.refused, checked.webhook_id)
            _write_delivery(
                s, _delivery(source, checked.row.id, remote, checked.body, False, first, checked.webhook_id)
            )
    except SQLAlchemyError as err:
        log.warning("webhook refusal not stored", source=source, integration_id=str(checked.row.id), error=repr(err))
        problem = Problem(503, "the hub could not store the delivery right now; deliver it again later")
        raise RefusedDelivery("not_stored", problem) from None
    return quarantined


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
) -> Checked:
    """Integration, size, verification (on the raw bytes, whatever they hold), JSON, and each item; a refused
    delivery is logged (nothing else written) and raised as a Problem. `body` is None when it passed the limit
    unread. Refused items are returned, for the quarantine."""
    try:
        iid = UUID(integration_id)
    except ValueError:
        iid = None

    def refuse(reason: str, problem: Problem, webhook_id: str | None = None) -> Problem:
        _log(engine, source, iid, remote, body or b"", False, reason, webhook_id, None if body is not None else size)
        return RefusedDelivery(reason, problem)

    def unprocessable(reason: str, field_name: str, message: str, webhook_id: str | None) -> Problem:
        return refuse(reason, Problem(422, message, errors=[{"field": field_name, "message": message}]), webhook_id)

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
    method = WebhookAuth(row.webhook_auth)
    secrets = [x for x in (row.webhook_secret, row.previous_webhook_secret) if x]
    try:
        webhook_id = verify_delivery(method, secrets, headers, body, now, row.webhook_auth_header)
    except SignatureError as err:
        raise refuse(err.code.value, Problem(401, err.message, reason=err.code.value)) from None
    if webhook_id is None:  # the other methods: the sender's request id, if it names one, for the log
        webhook_id = next((headers[h] for h in ("webhook-id", "x-request-id") if headers.get(h)), None)
    # Before parsing: a deep body makes the parser recurse, a long number makes it fail; the incident could not
    # carry either.
    if (reason := json_refusal(body)) is not None:
        raise unprocessable("json_limits", "body", reason, webhook_id)
    try:
        payload = _parse(body)
    except ValueError as err:
        raise unprocessable("malformed_json", "body", f"the body is not valid JSON: {err}", webhook_id) from None
    try:
        alerts, refused = normalize_items(kind, payload, row, now)
    except AlertFormatError as err:
        raise unprocessable("bad_alert", err.field, str(err), webhook_id) from None
    return Checked(row, tenant, alerts, refused, webhook_id, body)
