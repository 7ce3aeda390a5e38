"""Contacts of a tenant. Everybody reads within their scope; MSP staff and the customer's IT write."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from api.crud import apply_patch, ensure_unique, patch_changes
from api.deps import CurrentUser, MspStaffOrCustomerIt, Principal, SessionDep, get_scoped, resolve_tenant_id
from api.pagination import Page, PageDep, paginate
from api.routes.tenants import check_site, require_tenant
from api.schemas.common import SearchText, audit_event, contains
from api.schemas.contacts import ContactCreate, ContactPublic, ContactUpdate
from models import Contact

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _public(contact: Contact) -> ContactPublic:
    return ContactPublic.model_validate(contact, from_attributes=True)


def _check_email(session: Session, tenant_id: UUID, email: str, own_id: UUID | None = None) -> None:
    same = (Contact.tenant_id == tenant_id, func.lower(Contact.email) == email.lower())
    message = f"a contact with email {email} already exists for this tenant"
    ensure_unique(session, Contact, "email", message, *same, own_id=own_id)


def _load(session: Session, contact_id: UUID, principal: Principal) -> Contact:
    return get_scoped(session, Contact, contact_id, principal, "contact")


@router.get("", response_model=Page[ContactPublic], summary="List contacts (customers: their tenant's)")
def list_contacts(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    q: Annotated[SearchText | None, Query(description="Part of name or email")] = None,
):
    query = select(Contact).order_by(Contact.last_name, Contact.first_name, Contact.id)
    if not principal.is_msp:
        query = query.where(Contact.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(Contact.tenant_id == tenant_id)
    if q:
        pattern = contains(q)
        full_name = col(Contact.first_name) + " " + col(Contact.last_name)
        query = query.where(or_(full_name.ilike(pattern, escape="\\"), col(Contact.email).ilike(pattern, escape="\\")))
    return paginate(session, query, page, _public)


@router.get("/{contact_id}", response_model=ContactPublic, summary="One contact")
def get_contact(contact_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(_load(session, contact_id, principal))


@router.post("", status_code=201, response_model=ContactPublic, summary="Create a contact")
def create_contact(body: ContactCreate, principal: MspStaffOrCustomerIt, session: SessionDep):
    tenant_id = resolve_tenant_id(principal, body.tenant_id)
    require_tenant(session, tenant_id)
    check_site(session, tenant_id, body.site_id)
    _check_email(session, tenant_id, body.email)
    contact = Contact(tenant_id=tenant_id, **body.model_dump(exclude={"tenant_id"}))
    session.add(contact)
    session.flush()
    data = _public(contact).model_dump(mode="json", exclude={"id", "tenant_id", "created_at"})
    session.add(audit_event(principal, tenant_id, "contact", contact.id, "created", data))
    session.flush()
    return _public(contact)


@router.patch("/{contact_id}", response_model=ContactPublic, summary="Change a contact")
def update_contact(contact_id: UUID, body: ContactUpdate, principal: MspStaffOrCustomerIt, session: SessionDep):
    contact = _load(session, contact_id, principal)
    changes = patch_changes(body)
    if "site_id" in changes:
        check_site(session, contact.tenant_id, changes["site_id"])
    if "email" in changes:
        _check_email(session, contact.tenant_id, changes["email"], own_id=contact.id)
    apply_patch(session, principal, contact.tenant_id, "contact", contact, changes)
    return _public(contact)


@router.delete("/{contact_id}", status_code=204, response_class=Response, summary="Delete a contact")
def delete_contact(contact_id: UUID, principal: MspStaffOrCustomerIt, session: SessionDep) -> Response:
    contact = _load(session, contact_id, principal)
    data = _public(contact).model_dump(mode="json", include={"first_name", "last_name", "email"})
    session.add(audit_event(principal, contact.tenant_id, "contact", contact.id, "deleted", data))
    session.delete(contact)
    session.flush()
    return Response(status_code=204)
