"""Tenants (the MSP's customers) and their sites. MSP staff see every tenant, customers only their own."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, col, or_, select

from api.crud import apply_patch, ensure_unique, get_or_422, patch_changes
from api.deps import CurrentUser, MspAdmin, MspStaff, Principal, SessionDep
from api.pagination import Page, PageDep, paginate
from api.problems import not_found
from api.schemas.common import SearchText, audit_event, contains, field_error, region_problem
from api.schemas.tenants import (
    CountryCode,
    SiteCreate,
    SitePublic,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
)
from domain.calendar_spec import CalendarSpec
from domain.regions import RegionError, default_time_zone, normalise_postal_code, validate_region
from models import BusinessCalendarRow, Site, Tenant
from models.sla_context import tenant_calendar

router = APIRouter(prefix="/tenants", tags=["tenants"])


def load_tenant(session: Session, tenant_id: UUID, principal: Principal) -> Tenant:
    """The tenant, if the caller may see it; another customer's tenant is reported as missing."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not principal.can_see_tenant(tenant.id):
        raise not_found("tenant", tenant_id)
    return tenant


def require_tenant(session: Session, tenant_id: UUID) -> None:
    """For writes naming a tenant_id in the body: an unknown tenant is a bad field, not a missing resource."""
    get_or_422(session, Tenant, tenant_id, "tenant_id", "tenant")


def check_site(session: Session, tenant_id: UUID, site_id: UUID | None) -> None:
    """A site reference must point at a site of the same tenant (foreign sites look like unknown ones)."""
    if site_id is None:
        return
    site = session.get(Site, site_id)
    if site is None or site.tenant_id != tenant_id:
        raise field_error("site_id", f"{site_id} is not a site of tenant {tenant_id}")


def _check_customer_number(session: Session, number: str, own_id: UUID | None = None) -> None:
    message = f"customer number {number} is already taken by another tenant"
    ensure_unique(session, Tenant, "customer_number", message, Tenant.customer_number == number, own_id=own_id)


def _region(country: str, subdivision: str | None, vat_id: str | None) -> tuple[str, str | None, str | None]:
    try:
        return validate_region(country, subdivision, vat_id)
    except RegionError as err:
        raise region_problem(err) from None


def _public(tenant: Tenant) -> TenantPublic:
    return TenantPublic.model_validate(tenant, from_attributes=True)


@router.get("", response_model=Page[TenantPublic], summary="List tenants (customers: only their own)")
def list_tenants(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    q: Annotated[SearchText | None, Query(description="Part of name or customer number")] = None,
    country: CountryCode | None = None,
    customer_number: Annotated[str | None, Query(max_length=32, description="Exact customer number")] = None,
):
    query = select(Tenant).order_by(Tenant.name, Tenant.id)
    if customer_number:
        query = query.where(Tenant.customer_number == customer_number)
    if not principal.is_msp:
        query = query.where(Tenant.id == principal.tenant_id)
    if q:
        pattern = contains(q)
        query = query.where(
            or_(col(Tenant.name).ilike(pattern, escape="\\"), col(Tenant.customer_number).ilike(pattern, escape="\\"))
        )
    if country:
        query = query.where(Tenant.country == country)
    return paginate(session, query, page, _public)


@router.get("/{tenant_id}", response_model=TenantPublic, summary="One tenant")
def get_tenant(tenant_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(load_tenant(session, tenant_id, principal))


@router.post("", status_code=201, response_model=TenantPublic, summary="Create a tenant (MSP admins)")
def create_tenant(body: TenantCreate, principal: MspAdmin, session: SessionDep):
    country, subdivision, vat_id = _region(body.country, body.subdivision, body.vat_id)
    _check_customer_number(session, body.customer_number)
    tenant = Tenant(
        name=body.name,
        customer_number=body.customer_number,
        country=country,
        subdivision=subdivision,
        time_zone=body.time_zone or default_time_zone(country),
        vat_id=vat_id,
        calendar_id=_check_calendar(session, body.calendar_id),
    )
    session.add(tenant)
    session.flush()
    data = _public(tenant).model_dump(mode="json", exclude={"id", "created_at"})
    session.add(audit_event(principal, tenant.id, "tenant", tenant.id, "created", data))
    session.flush()
    return _public(tenant)


def _check_calendar(session: Session, calendar_id: UUID | None) -> UUID | None:
    if calendar_id is not None:
        get_or_422(session, BusinessCalendarRow, calendar_id, "calendar_id", "calendar")
    return calendar_id


@router.patch("/{tenant_id}", response_model=TenantPublic, summary="Change a tenant (MSP admins)")
def update_tenant(tenant_id: UUID, body: TenantUpdate, principal: MspAdmin, session: SessionDep):
    tenant = load_tenant(session, tenant_id, principal)
    changes = patch_changes(body)
    region_fields = {"country", "subdivision", "vat_id"} & changes.keys()
    if region_fields:
        merged = {"country": tenant.country, "subdivision": tenant.subdivision, "vat_id": tenant.vat_id} | changes
        country, subdivision, vat_id = _region(merged["country"], merged["subdivision"], merged["vat_id"])
        normalised = {"country": country, "subdivision": subdivision, "vat_id": vat_id}
        changes |= {name: normalised[name] for name in region_fields}
    if "customer_number" in changes:
        _check_customer_number(session, changes["customer_number"], own_id=tenant.id)
    if changes.get("calendar_id") is not None:
        _check_calendar(session, changes["calendar_id"])
    apply_patch(session, principal, tenant.id, "tenant", tenant, changes)
    return _public(tenant)


class EffectiveCalendar(BaseModel):
    tenant_id: UUID
    calendar_id: UUID | None = Field(description="The tenant's calendar; null: derived from its country and region")
    name: str
    spec: CalendarSpec


@router.get(
    "/{tenant_id}/calendar",
    response_model=EffectiveCalendar,
    summary="The business calendar the tenant's SLA clocks use",
    description="The tenant's own calendar if one is set, else Mon-Fri 08:00-17:00 with the public holidays of its "
    "country and state/canton and 24.12./31.12. as half days. A contract may name a calendar of its own.",
)
def get_tenant_calendar(tenant_id: UUID, principal: CurrentUser, session: SessionDep):
    tenant = load_tenant(session, tenant_id, principal)
    row = session.get(BusinessCalendarRow, tenant.calendar_id) if tenant.calendar_id else None
    region = tenant.subdivision or tenant.country
    name = row.name if row is not None else f"Standard {region} Mo-Fr 08:00-17:00"
    return EffectiveCalendar(
        tenant_id=tenant.id, calendar_id=row.id if row else None, name=name, spec=tenant_calendar(session, tenant)
    )


@router.get("/{tenant_id}/sites", response_model=Page[SitePublic], summary="Sites of a tenant")
def list_sites(tenant_id: UUID, principal: CurrentUser, session: SessionDep, page: PageDep):
    load_tenant(session, tenant_id, principal)
    query = select(Site).where(Site.tenant_id == tenant_id).order_by(Site.name, Site.id)
    return paginate(session, query, page, lambda s: SitePublic.model_validate(s, from_attributes=True))


@router.post(
    "/{tenant_id}/sites",
    status_code=201,
    response_model=SitePublic,
    summary="Add a site to a tenant (MSP admins and technicians)",
)
def create_site(tenant_id: UUID, body: SiteCreate, principal: MspStaff, session: SessionDep):
    tenant = load_tenant(session, tenant_id, principal)
    country, subdivision, _ = _region(body.country or tenant.country, body.subdivision, None)
    try:
        postal_code = normalise_postal_code(country, body.postal_code) if body.postal_code else None
    except RegionError as err:
        raise region_problem(err) from None
    site = Site(
        tenant_id=tenant.id,
        name=body.name,
        street=body.street,
        postal_code=postal_code,
        city=body.city,
        country=country,
        subdivision=subdivision,
    )
    session.add(site)
    session.flush()
    public = SitePublic.model_validate(site, from_attributes=True)
    data = public.model_dump(mode="json", exclude={"id", "tenant_id", "created_at"})
    session.add(audit_event(principal, tenant.id, "site", site.id, "created", data))
    session.flush()
    return public
