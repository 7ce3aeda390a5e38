"""The SOC quarantine: items set aside so that they block nobody: inbox alerts whose hand-over kept failing
(api/routes/soc/inbox.py) and SOC mails that could not be read as alerts (api/routes/soc/mail_intake.py). MSP staff
list them with the reason and, after a fix, release an inbox item: it goes back into the inbox as a new row, which the
dispatcher hands over; the quarantine row stays, marked released."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from api.deps import MspStaff, Principal, SessionDep, get_engine
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.soc import inbox as soc_inbox
from api.schemas.common import audit_event
from domain.contracts.soc import IncidentAlert
from hub.db import session_scope
from models import SocQuarantineItem, SocQuarantineKind

router = APIRouter(tags=["soc"])


class QuarantinePublic(BaseModel):
    id: UUID
    tenant_id: UUID
    integration_id: UUID
    kind: SocQuarantineKind = Field(
        description="inbox: an accepted alert whose hand-over to its incident kept failing; mail: a SOC mail that "
        "could not be read as an alert"
    )
    workflow_id: str | None = Field(description="The incident workflow the item was meant for")
    item: dict[str, Any] = Field(
        description="inbox: the alert as the inbox held it (tenant, normalised alert); mail: its headers, text, the "
        "fields found and the envelope"
    )
    reason: str = Field(description="The last failure")
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


def _release(engine: Engine, item_id: UUID, principal: Principal) -> QuarantinePublic:
    """In one transaction: the quarantine row marked released, a new inbox row, the audit event; a refusal writes
    nothing. The row is locked, so two releases at once put the alert back once."""
    with session_scope(engine) as s:
        row = s.get(SocQuarantineItem, item_id, with_for_update=True)
        if row is None or not principal.can_see_tenant(row.tenant_id):
            raise not_found("quarantined item", item_id)
        if row.released_at is not None:
            raise Problem(409, f"quarantined item {item_id} was already released at {row.released_at.isoformat()}")
        if row.kind != SocQuarantineKind.INBOX:
            raise Problem(409, f"a quarantined {row.kind} item cannot be re-played; only inbox items can")
        try:
            alert = IncidentAlert.model_validate(row.item)
        except ValidationError as err:
            raise Problem(
                409, f"quarantined item {item_id} is not a valid alert, so it cannot go back into the inbox: {err}"
            ) from None
        row.released_at = soc_inbox.utcnow()
        soc_inbox.put(s, [alert])
        data = {"kind": row.kind, "workflow_id": row.workflow_id, "reason": row.reason, "attempts": row.attempts}
        s.add(audit_event(principal, row.tenant_id, "soc_quarantine", row.id, "released", data))
        s.flush()
        return _public(row)


@router.post(
    "/soc/quarantine/{item_id}/release",
    response_model=QuarantinePublic,
    summary="Re-play a quarantined SOC item after a fix (MSP admins and technicians)",
    description="The item goes back into the inbox as a new alert and is handed to its incident as if just "
    "delivered (the incident drops an alert it has already seen); the quarantine row stays, marked released. "
    "409 when it was released before or cannot be re-played.",
)
async def release_item(
    item_id: UUID, principal: MspStaff, request: Request, engine: Annotated[Engine, Depends(get_engine)]
):
    released = await run_in_threadpool(_release, engine, item_id, principal)
    request.app.state.soc_inbox.wake()  # committed: the dispatcher hands it over now, not at its next poll
    return released
