"""vCIO planning of a customer: roadmap items, risks and decisions / next steps. MSP staff enter and update them
(each change leaves an audit event); everyone reads what they may see (customers: their own tenant's). The QBR deck
shows them."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlmodel import col, select

from api.crud import apply_patch, patch_changes
from api.deps import CurrentUser, MspStaff, SessionDep, get_scoped
from api.routes.tenants import require_tenant
from api.schemas.common import audit_event, field_error
from api.schemas.qbr import VcioCreate, VcioFields, VcioPublic
from domain.qbr.vcio import VcioKind
from models import VcioItem
from models.base import utcnow

router = APIRouter(prefix="/qbr/vcio", tags=["quarterly business review"])
ENTITY = "vcio_item"


@router.post("", status_code=201, response_model=VcioPublic, summary="Add a roadmap item, risk or decision")
def create_item(body: VcioCreate, principal: MspStaff, session: SessionDep):
    require_tenant(session, body.tenant_id)
    item = VcioItem(**body.model_dump())
    session.add(item)
    session.flush()
    data = VcioPublic.model_validate(item, from_attributes=True).model_dump(mode="json", exclude={"id", "tenant_id"})
    session.add(audit_event(principal, item.tenant_id, ENTITY, item.id, "created", data))
    session.flush()
    return item


@router.get("", response_model=list[VcioPublic], summary="vCIO entries (customers: their own)")
def list_items(
    principal: CurrentUser,
    session: SessionDep,
    tenant_id: UUID | None = None,
    kind: Annotated[VcioKind | None, Query()] = None,
):
    query = select(VcioItem).order_by(col(VcioItem.kind), col(VcioItem.created_at))
    if not principal.is_msp:
        query = query.where(VcioItem.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(VcioItem.tenant_id == tenant_id)
    if kind is not None:
        query = query.where(VcioItem.kind == kind)
    return session.exec(query.limit(1000)).all()


@router.patch("/{item_id}", response_model=VcioPublic, summary="Change a vCIO entry (e.g. mark a decision done)")
def update_item(item_id: UUID, body: VcioFields, principal: MspStaff, session: SessionDep):
    item = get_scoped(session, VcioItem, item_id, principal, "vCIO entry")
    changes = patch_changes(body)
    for field in ("title", "status"):
        if field in changes and changes[field] is None:
            raise field_error(field, f"{field} cannot be removed")
    apply_patch(session, principal, item.tenant_id, ENTITY, item, changes)
    item.updated_at = utcnow()
    session.flush()
    return item


@router.delete("/{item_id}", status_code=204, response_class=Response, summary="Remove a vCIO entry")
def delete_item(item_id: UUID, principal: MspStaff, session: SessionDep) -> Response:
    item = get_scoped(session, VcioItem, item_id, principal, "vCIO entry")
    session.add(audit_event(principal, item.tenant_id, ENTITY, item.id, "deleted", {"title": item.title}))
    session.delete(item)
    session.flush()
    return Response(status_code=204)
