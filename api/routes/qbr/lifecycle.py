"""A customer's asset lifecycle, budget outlook and licences as of today, between two QBRs: the same rules as the
deck (domain/qbr/lifecycle.py, licences.py), today in the customer's time zone as the reference day. Everyone reads
what they may see: customers their own tenant's (another tenant's is missing, 404); MSP staff every customer's."""

from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import CurrentUser, NowDep, SessionDep
from api.problems import not_found
from domain.qbr.licences import LicenceLine, licence_lines
from domain.qbr.lifecycle import BudgetYear, Lifecycle, budget_outlook, lifecycle
from domain.qbr.vcio import VcioEntry, VcioKind
from models import Tenant, VcioItem
from models.qbr_lifecycle import device_facts, lifecycle_facts

router = APIRouter(prefix="/qbr/lifecycle", tags=["quarterly business review"])


class LifecycleView(BaseModel):
    tenant_id: UUID
    as_of: date
    lifecycle: Lifecycle
    budget: list[BudgetYear]
    licences: list[LicenceLine]  # per product; empty: no licence data


@router.get("/{tenant_id}", response_model=LifecycleView,
            summary="Devices needing action, budget by year and licences of a customer, as of today")  # fmt: skip
def get_lifecycle(tenant_id: UUID, principal: CurrentUser, session: SessionDep, now: NowDep):
    tenant = session.get(Tenant, tenant_id) if principal.can_see_tenant(tenant_id) else None
    if tenant is None:
        raise not_found("tenant", tenant_id)
    today = now.astimezone(ZoneInfo(tenant.time_zone)).date()
    devices = device_facts(session, tenant_id)
    snapshot = lifecycle_facts(session, tenant_id)
    roadmap = [VcioEntry.model_validate(row, from_attributes=True) for row in session.exec(
        select(VcioItem).where(VcioItem.tenant_id == tenant_id, VcioItem.kind == VcioKind.ROADMAP)
        .order_by(col(VcioItem.created_at)))]  # fmt: skip
    return LifecycleView(
        tenant_id=tenant_id,
        as_of=today,
        lifecycle=lifecycle(devices, today),
        budget=budget_outlook(devices, roadmap, snapshot["replacement_costs"], today),
        licences=licence_lines(snapshot["licences"]),
    )
