"""Assets (devices) of a tenant. Everybody reads within their scope; MSP staff and the customer's IT write."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from api.crud import apply_patch, ensure_unique, patch_changes
from api.deps import CurrentUser, MspStaffOrCustomerIt, Principal, SessionDep, get_scoped, resolve_tenant_id
from api.pagination import Page, PageDep, paginate
from api.routes.tenants import check_site, require_tenant
from api.schemas.assets import AssetCreate, AssetPublic, AssetUpdate
from api.schemas.common import SearchText, audit_event, contains
from models import Asset, AssetType

router = APIRouter(prefix="/assets", tags=["assets"])


def _public(asset: Asset) -> AssetPublic:
    return AssetPublic.model_validate(asset, from_attributes=True)


def _check_hostname(session: Session, tenant_id: UUID, hostname: str, own_id: UUID | None = None) -> None:
    # Regardless of case: "Jane MacBook Pro" and "jane macbook pro" are one device to the SOC lookup.
    same = (Asset.tenant_id == tenant_id, func.lower(Asset.hostname) == hostname.lower())
    message = f"an asset with host name {hostname} already exists for this tenant"
    ensure_unique(session, Asset, "hostname", message, *same, own_id=own_id)


def _check_agent(session: Session, tenant_id: UUID, agent_uuid: str | None, own_id: UUID | None = None) -> None:
    if agent_uuid is not None:
        same = (Asset.tenant_id == tenant_id, Asset.agent_uuid == agent_uuid)
        message = f"another asset of this tenant has the agent UUID {agent_uuid}: one agent is one device"
        ensure_unique(session, Asset, "agent_uuid", message, *same, own_id=own_id)


def _load(session: Session, asset_id: UUID, principal: Principal) -> Asset:
    return get_scoped(session, Asset, asset_id, principal, "asset")


@router.get("", response_model=Page[AssetPublic], summary="List assets (customers: their tenant's)")
def list_assets(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    asset_type: AssetType | None = None,
    q: Annotated[
        SearchText | None, Query(description="Part of host name or serial number, or the agent UUID or id")
    ] = None,
    warranty_before: Annotated[date | None, Query(description="Warranty ends before this day")] = None,
):
    query = select(Asset).order_by(Asset.hostname, Asset.id)
    if not principal.is_msp:
        query = query.where(Asset.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(Asset.tenant_id == tenant_id)
    if asset_type is not None:
        query = query.where(Asset.asset_type == asset_type)
    if q:
        pattern = contains(q)
        query = query.where(
            or_(
                col(Asset.hostname).ilike(pattern, escape="\\"),
                col(Asset.serial).ilike(pattern, escape="\\"),
                Asset.agent_uuid == q.lower(),
                Asset.agent_id == q,
            )
        )
    if warranty_before is not None:
        query = query.where(col(Asset.warranty_end) < warranty_before)
    return paginate(session, query, page, _public)


@router.get("/{asset_id}", response_model=AssetPublic, summary="One asset")
def get_asset(asset_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(_load(session, asset_id, principal))


@router.post("", status_code=201, response_model=AssetPublic, summary="Create an asset")
def create_asset(body: AssetCreate, principal: MspStaffOrCustomerIt, session: SessionDep):
    tenant_id = resolve_tenant_id(principal, body.tenant_id)
    require_tenant(session, tenant_id)
    check_site(session, tenant_id, body.site_id)
    _check_hostname(session, tenant_id, body.hostname)
    _check_agent(session, tenant_id, body.agent_uuid)
    asset = Asset(tenant_id=tenant_id, **body.model_dump(exclude={"tenant_id"}))
    session.add(asset)
    session.flush()
    data = _public(asset).model_dump(mode="json", exclude={"id", "tenant_id", "created_at"})
    session.add(audit_event(principal, tenant_id, "asset", asset.id, "created", data))
    session.flush()
    return _public(asset)


@router.patch("/{asset_id}", response_model=AssetPublic, summary="Change an asset")
def update_asset(asset_id: UUID, body: AssetUpdate, principal: MspStaffOrCustomerIt, session: SessionDep):
    asset = _load(session, asset_id, principal)
    changes = patch_changes(body)
    if "site_id" in changes:
        check_site(session, asset.tenant_id, changes["site_id"])
    if "hostname" in changes:
        _check_hostname(session, asset.tenant_id, changes["hostname"], own_id=asset.id)
    if "agent_uuid" in changes:
        _check_agent(session, asset.tenant_id, changes["agent_uuid"], own_id=asset.id)
    apply_patch(session, principal, asset.tenant_id, "asset", asset, changes)
    return _public(asset)


@router.delete("/{asset_id}", status_code=204, response_class=Response, summary="Delete an asset")
def delete_asset(asset_id: UUID, principal: MspStaffOrCustomerIt, session: SessionDep) -> Response:
    asset = _load(session, asset_id, principal)
    data = _public(asset).model_dump(mode="json", include={"hostname", "asset_type", "serial"})
    session.add(audit_event(principal, asset.tenant_id, "asset", asset.id, "deleted", data))
    session.delete(asset)
    session.flush()
    return Response(status_code=204)
