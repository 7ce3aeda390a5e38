"""A customer's co-management: whether its IT staff (customer_it) work shared tickets with the MSP, and which new
tickets are shared by default. MSP admins change it (audited); whoever sees the tenant reads it."""

from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import select, true

from api.deps import CurrentUser, MspAdmin, SessionDep
from api.problems import Problem
from api.routes.tenants import load_tenant
from api.schemas.common import audit_event
from api.schemas.tickets import CoManagementSettings
from models import Tenant, Ticket

router = APIRouter(prefix="/tenants", tags=["co-managed IT"])


def _settings(tenant: Tenant) -> CoManagementSettings:
    return CoManagementSettings(enabled=tenant.co_managed, categories=tenant.co_managed_categories)


@router.get("/{tenant_id}/co-management", response_model=CoManagementSettings, summary="The customer's co-management")
def get_co_management(tenant_id: UUID, principal: CurrentUser, session: SessionDep):
    return _settings(load_tenant(session, tenant_id, principal))


@router.put(
    "/{tenant_id}/co-management",
    response_model=CoManagementSettings,
    summary="Enable or disable co-management; disabling hides every shared ticket from the customer's IT at once",
)
def put_co_management(tenant_id: UUID, body: CoManagementSettings, principal: MspAdmin, session: SessionDep):
    tenant = load_tenant(session, tenant_id, principal)
    if not body.enabled and tenant.co_managed:
        held = session.exec(
            select(func.count()).where(Ticket.tenant_id == tenant.id, Ticket.customer_it_holds == true())
        ).one()
        if held:
            raise Problem(409, f"the customer's IT holds {held} open ticket(s): escalate them to the MSP first")
    before = _settings(tenant)
    categories = sorted(set(body.categories)) if body.categories is not None else None
    tenant.co_managed, tenant.co_managed_categories = body.enabled, categories
    after = _settings(tenant)
    if after != before:
        data = {"before": before.model_dump(), "after": after.model_dump()}
        session.add(audit_event(principal, tenant.id, "co_management", tenant.id, "updated", data))
    return after
