"""The SOC quarantine: items set aside so that they block nobody: inbox alerts whose hand-over kept failing
(api/routes/soc/inbox.py), webhook items refused at the door (unreadable, outside the time window, a site not
mapped to the integration's customer: api/routes/soc/webhooks.py), polled vendor items the poller could not read
(activities/soc/poll_items.py) and SOC mails that could not be read as alerts (api/routes/soc/mail_intake.py). MSP
staff list them with the reason and, after a fix, release one: it goes back into the inbox as a new row, which the
dispatcher hands over; the quarantine row stays, marked released. A webhook item is checked again on release, against
the integration as it is now (its site mapping, say), and a poll item is read again by the vendor's normaliser: each
is released only if it passes. A mail cannot be released (it is kept for a person to read)."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import MspStaff, Principal, SessionDep, get_engine
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.soc import inbox as soc_inbox
from api.routes.soc import webhooks as soc_webhooks
from api.schemas.common import audit_event
from domain.contracts.soc import IncidentAlert
from domain.soc.alerts import AlertFormatError, Source
from domain.soc.polling import read_poll_item
from domain.soc.sites import allowed_ids, site_refusal
from hub.db import session_scope
from models import SocIntegration, SocQuarantineItem, SocQuarantineKind, Tenant

router = APIRouter(tags=["soc"])
utcnow = soc_inbox.utcnow


class QuarantinePublic(BaseModel):
    id: UUID
    tenant_id: UUID
    integration_id: UUID
    kind: SocQuarantineKind = Field(
        description="inbox: an accepted alert whose hand-over to its incident kept failing; webhook: an item of a "
        "delivery that was refused (reason bad_alert, out_of_window or foreign_site); poll: a polled vendor item "
        "that could not be read; mail: a SOC mail that could not be read as an alert"
    )
    workflow_id: str | None = Field(description="The incident workflow the item was meant for")
    item: dict[str, Any] = Field(
        description="inbox: the alert as the inbox held it (tenant, normalised alert); webhook: the item as "
        "received (a non-object item under `value`), possibly another customer's data; poll: the vendor item as "
        "polled; mail: its headers, text, the fields found and the envelope"
    )
    reason: str = Field(description="The last failure; webhook: `<reason>: <field>: <why>`")
    attempts: int = Field(description="Hand-overs tried before the item was set aside")
    received_at: datetime | None = Field(description="When the hub first had the item")
    created_at: datetime = Field(description="When the item was set aside")
    released_at: datetime | None = Field(description="When it was released back into the inbox; null: still here")


def _public(row: SocQuarantineItem) -> QuarantinePublic:
    return QuarantinePublic.model_validate(row, from_attributes=True)


@router.get(
    "/soc/quarantine",
    response_model=Page[QuarantinePublic],
    summary="SOC items set aside because they kept failing (MSP admins and technicians), newest first",
)
def list_quarantine(
    principal: MspStaff,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    integration_id: UUID | None = None,
    kind: SocQuarantineKind | None = None,
    released: Annotated[bool | None, Query(description="true: released ones only; false: those still held")] = None,
):
    query = select(SocQuarantineItem).order_by(SocQuarantineItem.created_at.desc(), SocQuarantineItem.id)
    if not principal.is_msp:
        query = query.where(SocQuarantineItem.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(SocQuarantineItem.tenant_id == tenant_id)
    if integration_id is not None:
        query = query.where(SocQuarantineItem.integration_id == integration_id)
    if kind is not None:
        query = query.where(SocQuarantineItem.kind == kind.value)
    if released is not None:
        held = SocQuarantineItem.released_at.is_(None)
        query = query.where(~held if released else held)
    return paginate(session, query, page, _public)


def _recheck(session: Session, row: SocQuarantineItem) -> IncidentAlert:
    """A refused webhook item as the webhook would take it now, or a 409 saying why it is still refused."""
    integration = session.get(SocIntegration, row.integration_id)
    tenant = session.get(Tenant, integration.tenant_id) if integration else None
    if integration is None or tenant is None or not integration.is_active:
        raise Problem(409, f"quarantined item {row.id}: its integration is deactivated; activate it first")
    try:
        alerts, refused = soc_webhooks.normalize_items(Source(integration.source), row.item, integration, utcnow())
    except AlertFormatError as err:
        raise Problem(409, f"quarantined item {row.id} is still refused: {err}") from None
    if refused:
        first = refused[0]
        raise Problem(
            409, f"quarantined item {row.id} is still refused: {first.reason}: {first.field}: {first.message}"
        )
    ((_, alert),) = alerts
    return IncidentAlert(alert=alert, tenant_id=integration.tenant_id, customer_number=tenant.customer_number)


def _release(engine: Engine, item_id: UUID, principal: Principal) -> QuarantinePublic:
    """In one transaction: the quarantine row marked released, a new inbox row, the audit event; a refusal writes
    nothing. The row is locked, so two releases at once put the alert back once."""
    with session_scope(engine) as s:
        row = s.get(SocQuarantineItem, item_id, with_for_update=True)
        if row is None or not principal.can_see_tenant(row.tenant_id):
            raise not_found("quarantined item", item_id)
        if row.released_at is not None:
            raise Problem(409, f"quarantined item {item_id} was already released at {row.released_at.isoformat()}")
        if row.kind == SocQuarantineKind.WEBHOOK:
            alert = _recheck(s, row)
        elif row.kind == SocQuarantineKind.POLL:
            alert = _polled_alert(s, row)
        elif row.kind == SocQuarantineKind.INBOX:
            try:
                alert = IncidentAlert.model_validate(row.item)
            except ValidationError as err:
                raise Problem(
                    409, f"quarantined item {item_id} is not a valid alert, so it cannot go back into the inbox: {err}"
                ) from None
        else:
            raise Problem(
                409, f"a quarantined {row.kind} item cannot be re-played; only inbox, webhook and poll items can"
            )
        row.released_at = utcnow()
        soc_inbox.put(s, [alert])
        data = {"kind": row.kind, "workflow_id": row.workflow_id, "reason": row.reason, "attempts": row.attempts}
        s.add(audit_event(principal, row.tenant_id, "soc_quarantine", row.id, "released", data))
        s.flush()
        return _public(row)


def _polled_alert(s: Session, row: SocQuarantineItem) -> IncidentAlert:
    """A polled item read again, as the poller reads it (after a fix of the normaliser it reads); 409 naming what is
    still wrong otherwise. The tenant is the integration's, as for every polled alert."""
    integration, tenant = s.get(SocIntegration, row.integration_id), s.get(Tenant, row.tenant_id)
    if integration is None or tenant is None or integration.tenant_id != row.tenant_id:
        raise Problem(409, f"quarantined item {row.id}: its integration no longer belongs to its tenant")
    try:
        alert = read_poll_item(Source(integration.source), row.item, str(integration.id), soc_inbox.utcnow())
    except ValueError as err:
        raise Problem(409, f"quarantined item {row.id} still cannot be read, so it stays held: {err}") from None
    # A site the poller refused goes out only once it is mapped to this customer (as for webhook items).
    if (refusal := site_refusal(alert, allowed_ids(integration.vendor_tenant_ids))) is not None:
        raise Problem(409, f"quarantined item {row.id} is still refused: foreign_site: {refusal}")
    return IncidentAlert(alert=alert, tenant_id=row.tenant_id, customer_number=tenant.customer_number)


@router.post(
    "/soc/quarantine/{item_id}/release",
    response_model=QuarantinePublic,
    summary="Re-play a quarantined SOC item after a fix (MSP admins and technicians)",
    description="The item goes back into the inbox as a new alert and is handed to its incident as if just "
    "delivered (the incident drops an alert it has already seen); the quarantine row stays, marked released. "
    "A webhook item is checked again against its integration as it is now (e.g. after its site was mapped), a "
    "polled item is read again first. 409 when it was released before, is still refused or unreadable (the "
    "reason), or cannot be re-played.",
)
async def release_item(
    item_id: UUID, principal: MspStaff, request: Request, engine: Annotated[Engine, Depends(get_engine)]
):
    released = await run_in_threadpool(_release, engine, item_id, principal)
    request.app.state.soc_inbox.wake()  # committed: the dispatcher hands it over now, not at its next poll
    return released
