"""SOC intake: integrations (one per customer and source) and the signed webhook the platforms push to.

The webhook does no enrichment: it verifies, normalises and commits each alert to the SOC inbox together with the
delivery log (the durable step), answers 202 and wakes the inbox dispatcher, which hands the alerts to their
incident workflows (hub/soc_inbox.py); a redelivery of an alert already stored unchanged needs no hand-over. Every
delivery, also a rejected one, is logged. Database calls run in worker threads, never on the event loop that every
delivery in flight shares."""

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import NowDep, Principal, SessionDep, TemporalDep, get_engine, get_scoped, require_roles
from api.middleware import MAX_BODY_BYTES
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import Body, apply_changes, audit_event, field_error, not_null, text
from domain.roles import Role
from domain.soc.alerts import AlertFormatError, NormalizedAlert, Source, incident_workflow_id
from domain.soc.barracuda import DEFAULT_MAPPING, FieldMapping, normalize_barracuda
from domain.soc.generic import normalize_generic
from domain.soc.incident_flow import ContainmentDecision, ContainmentProposal, IncidentAlert
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.signatures import SignatureError, verify
from hub import soc_inbox
from hub.db import session_scope
from hub.logging import get_logger
from hub.soc_schedules import PollSchedule, PollTarget, ScheduleStatus, is_pollable, sync_poll_schedule
from models import SocAlert, SocIncident, SocIntegration, Tenant, WebhookDelivery
from workflows.incident import IncidentWorkflow

log = get_logger(__name__)
router = APIRouter(tags=["soc"])
Admin = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN))]
Staff = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.MSP_TECH))]
# URL path names of the sources.
SOURCES = {
    "sentinelone": Source.SENTINELONE,
    "rocketcyber": Source.ROCKETCYBER,
    "barracuda-xdr": Source.BARRACUDA_XDR,
    "generic": Source.GENERIC,
}


PollMinutes = Annotated[int, Field(ge=1, le=1440, description="Poll interval of the schedule in minutes")]


class IntegrationCreate(Body):
    tenant_id: UUID
    source: Source
    name: text(100)
    field_mapping: FieldMapping | None = Field(default=None, description="Barracuda XDR: where the fields sit")
    credentials_ref: text(100) | None = Field(default=None, description="Name of the API credentials in the config")
    poll_interval_minutes: PollMinutes | None = Field(
        default=None, description="SentinelOne/RocketCyber with credentials_ref: poll interval (default 5)"
    )


class IntegrationUpdate(Body):
    """Omitted fields stay; `credentials_ref: null` stops polling, `field_mapping: null` restores the default."""

    name: text(100) | None = None
    is_active: bool | None = Field(default=None, description="false: webhooks are refused and polling pauses")
    credentials_ref: text(100) | None = None
    field_mapping: FieldMapping | None = None
    poll_interval_minutes: PollMinutes | None = Field(
        default=None, description="Stored with the integration; the poll schedule follows it"
    )

    _required = field_validator("name", "is_active", "poll_interval_minutes")(not_null)


class IntegrationPublic(BaseModel):
    id: UUID
    tenant_id: UUID
    source: str
    name: str
    webhook_url: str
    field_mapping: dict[str, Any] | None
    credentials_ref: str | None
    poll_interval_minutes: int | None = Field(description="Minutes between polls; null: the default (5)")
    is_active: bool
    previous_secret_accepted: bool = Field(description="A rotation is in its grace period: the old secret works")
    created_at: datetime


class IntegrationSaved(IntegrationPublic):
    poll_schedule: PollSchedule


class IntegrationCreated(IntegrationSaved):
    webhook_secret: str = Field(description="Shown once: configure it as the signing secret at the platform")


class SecretRotated(IntegrationPublic):
    webhook_secret: str = Field(description="Shown once: the new signing secret; the old one works until revoked")


def _public(row: SocIntegration, cls=IntegrationPublic, **extra) -> IntegrationPublic:  # noqa: ANN001
    slug = next(k for k, v in SOURCES.items() if v.value == row.source)
    return cls(
        id=row.id,
        tenant_id=row.tenant_id,
        source=row.source,
        name=row.name,
        is_active=row.is_active,
        webhook_url=f"/api/v1/webhooks/{slug}/{row.id}",
        field_mapping=row.field_mapping,
        credentials_ref=row.credentials_ref,
        poll_interval_minutes=row.poll_interval_minutes,
        previous_secret_accepted=row.previous_webhook_secret is not None,
        created_at=row.created_at,
        **extra,
    )


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32).replace("-", "A").replace("_", "B")


def _integration(session: Session, integration_id: UUID, principal: Principal) -> SocIntegration:
    return get_scoped(session, SocIntegration, integration_id, principal, "integration")


def _check_poll_interval(minutes: int | None, source: str, credentials_ref: str | None) -> None:
    if minutes is not None and not is_pollable(source, credentials_ref):
        raise field_error(
            "poll_interval_minutes", "only SentinelOne and RocketCyber integrations with a credentials_ref are polled"
        )


async def _sync_schedule(session: Session, row: SocIntegration, temporal: Client | None) -> PollSchedule:
    """After the commit: a failed schedule call must not undo the saved integration (it reports `pending`)."""
    return await sync_poll_schedule(temporal, PollTarget.of(row, session.get(Tenant, row.tenant_id)))


def _optional_temporal(request: Request) -> Client | None:
    return request.app.state.temporal


# Writes that only follow up with Temporal must not fail when it is away (unlike TemporalDep's 503).
OptionalTemporal = Annotated[Client | None, Depends(_optional_temporal)]


@router.post(
    "/soc/integrations",
    status_code=201,
    response_model=IntegrationCreated,
    summary="Connect a security platform for a customer (MSP admins); returns the webhook secret once",
    description="SentinelOne and RocketCyber with a credentials_ref also get a poll schedule; if Temporal is not "
    "reachable the integration is saved anyway and poll_schedule.status says pending (`psa soc sync-schedules`).",
)
async def create_integration(
    body: IntegrationCreate, principal: Admin, session: SessionDep, temporal: OptionalTemporal
):
    if session.get(Tenant, body.tenant_id) is None:
        raise field_error("tenant_id", f"no tenant {body.tenant_id}")
    _check_poll_interval(body.poll_interval_minutes, body.source.value, body.credentials_ref)
    secret = _new_secret()
    row = SocIntegration(
        tenant_id=body.tenant_id,
        source=body.source.value,
        name=body.name,
        webhook_secret=secret,
        field_mapping=body.field_mapping.model_dump() if body.field_mapping else None,
        credentials_ref=body.credentials_ref,
        poll_interval_minutes=body.poll_interval_minutes,
    )
    session.add(row)
    session.flush()
    session.add(
        audit_event(
            principal, row.tenant_id, "soc_integration", row.id, "created", {"source": row.source, "name": row.name}
        )
    )
    session.commit()
    if is_pollable(row.source, row.credentials_ref):
        schedule = await _sync_schedule(session, row, temporal)
    else:  # webhook only: a new integration has no schedule to create or pause
        schedule = PollSchedule(status=ScheduleStatus.NONE)
    return _public(row, IntegrationCreated, webhook_secret=secret, poll_schedule=schedule)


@router.get("/soc/integrations", response_model=Page[IntegrationPublic], summary="Integrations (MSP staff)")
def list_integrations(principal: Staff, session: SessionDep, page: PageDep, tenant_id: UUID | None = None):
    query = select(SocIntegration).order_by(SocIntegration.created_at, SocIntegration.id)
    if tenant_id:
        query = query.where(SocIntegration.tenant_id == tenant_id)
    return paginate(session, query, page, _public)


@router.get("/soc/integrations/{integration_id}", response_model=IntegrationPublic)
def get_integration(integration_id: UUID, principal: Staff, session: SessionDep):
    return _public(_integration(session, integration_id, principal))


@router.patch(
    "/soc/integrations/{integration_id}",
    response_model=IntegrationSaved,
    summary="Change an integration (MSP admins); the poll schedule follows (paused while inactive)",
)
async def update_integration(
    integration_id: UUID, body: IntegrationUpdate, principal: Admin, session: SessionDep, temporal: OptionalTemporal
):
    row = _integration(session, integration_id, principal)
    changes = body.model_dump(exclude_unset=True, exclude={"field_mapping"})
    if "field_mapping" in body.model_fields_set:  # stored whole, defaults included, exactly as on create
        changes["field_mapping"] = body.field_mapping.model_dump() if body.field_mapping else None
    _check_poll_interval(body.poll_interval_minutes, row.source, changes.get("credentials_ref", row.credentials_ref))
    changed = apply_changes(row, changes)
    if changed:
        session.add(audit_event(principal, row.tenant_id, "soc_integration", row.id, "updated", changed))
    session.commit()
    schedule = await _sync_schedule(session, row, temporal)
    return _public(row, IntegrationSaved, poll_schedule=schedule)


@router.post(
    "/soc/integrations/{integration_id}/rotate-secret",
    response_model=SecretRotated,
    summary="New webhook secret (MSP admins), shown once; the old one is accepted until the grace period ends",
    description="Deliveries signed with the new or the current secret verify until "
    "`DELETE .../previous-secret`; a second rotation replaces the previous secret.",
)
def rotate_secret(integration_id: UUID, principal: Admin, session: SessionDep):
    row = _integration(session, integration_id, principal)
    replaced = row.previous_webhook_secret is not None
    secret = _new_secret()
    row.previous_webhook_secret, row.webhook_secret = row.webhook_secret, secret
    session.add(row)
    session.add(
        audit_event(
            principal, row.tenant_id, "soc_integration", row.id, "secret_rotated", {"replaced_previous": replaced}
        )
    )
    return _public(row, SecretRotated, webhook_secret=secret)


@router.delete(
    "/soc/integrations/{integration_id}/previous-secret",
    status_code=204,
    summary="End the rotation's grace period (MSP admins): the previous secret is refused from now on",
)
def revoke_previous_secret(integration_id: UUID, principal: Admin, session: SessionDep) -> Response:
    row = _integration(session, integration_id, principal)
    if row.previous_webhook_secret is not None:  # idempotent: a second call changes and records nothing
        row.previous_webhook_secret = None
        session.add(row)
        session.add(audit_event(principal, row.tenant_id, "soc_integration", row.id, "previous_secret_revoked", {}))
    return Response(status_code=204)


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
            partial(_accept, source=source, row=row, tenant=tenant, alerts=alerts, remote_addr=remote, body=body,
                    webhook_id=webhook_id)
        )
    except (SQLAlchemyError, TimeoutError) as err:  # rolled back: nothing of this delivery is stored
        log.warning("webhook delivery not stored", source=source, integration_id=integration_id, error=repr(err))
        raise Problem(503, "the hub could not store the delivery right now; deliver it again later") from None
    if handed_over:
        request.app.state.soc_inbox.wake()
    incidents = [incident_workflow_id(a, tenant.customer_number) for a in alerts]
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


class ContainmentBody(Body):
    approve: bool
    reason: text(2_000) | None = None


class IncidentPublic(BaseModel):
    key: str
    tenant_id: UUID
    ticket_id: UUID | None
    status: str
    priority: str
    title: str
    alert_count: int
    first_alert_at: datetime
    last_alert_at: datetime
    vendor_status: str | None = Field(default=None, description="The vendor's view: new ... resolved, over all alerts")
    vendor_resolved_at: datetime | None = None
    paged_level: int | None = Field(default=None, description="P1: the on-call level paged last")
    acknowledged_by: UUID | None = None
    acknowledged_at: datetime | None = None
    containment: ContainmentProposal | None = None


def _incident(session: Session, key: str) -> SocIncident:
    row = session.get(SocIncident, key)
    if row is None:
        raise not_found("incident", key)
    return row


@router.get("/soc/incidents/{key}", response_model=IncidentPublic, summary="An incident (MSP staff)")
async def get_incident(key: str, principal: Staff, session: SessionDep, temporal: TemporalDep):
    row = _incident(session, key)
    try:
        state = await temporal.get_workflow_handle(f"incident-{key}").query(IncidentWorkflow.state)
        containment = state.containment
    except RPCError:
        containment = None  # the incident has closed; its decisions are in the ticket's history
    return IncidentPublic.model_validate(row, from_attributes=True).model_copy(update={"containment": containment})


@router.post(
    "/soc/incidents/{key}/containment",
    response_model=ContainmentProposal,
    summary="Approve or reject the proposed containment (MSP admins and technicians)",
    description="Approval runs the action at the vendor (e.g. SentinelOne: disconnect from network); "
    "who decided and when is kept in the workflow history and in the ticket.",
)
async def decide_containment(
    key: str, body: ContainmentBody, principal: Staff, session: SessionDep, temporal: TemporalDep
):
    _incident(session, key)
    session.commit()
    decision = ContainmentDecision(
        actor_user_id=principal.user_id, actor_role=principal.role, approve=body.approve, reason=body.reason
    )
    handle = temporal.get_workflow_handle(f"incident-{key}")
    try:
        return await handle.execute_update(
            IncidentWorkflow.decide_containment, decision, rpc_timeout=timedelta(seconds=90)
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise Problem(409, cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(409, "the incident is closed; nothing to decide") from None
        raise
