"""A customer's own replacement cost per device type, overriding the MSP's (api/routes/qbr/replacement_costs.py)
in that customer's QBR budget outlook only (domain/qbr/lifecycle.py `configured_costs`). The same roles as the
MSP's costs: MSP staff read them, msp_admin and msp_tech set them, customers never see them (403); every query is
scoped by the tenant in the path (an unknown one is 404). Each change leaves an audit event on the customer."""

from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Response
from sqlmodel import Session, select

from api.deps import MspReader, MspStaff, Principal, SessionDep
from api.problems import not_found
from api.schemas.common import audit_event
from api.schemas.qbr import CustomerReplacementCostPublic, ReplacementCostsIn
from domain.qbr.lifecycle import DEFAULT_REPLACEMENT_COSTS
from models import CustomerReplacementCost, ReplacementCost, Tenant
from models.asset import AssetType
from models.base import utcnow

router = APIRouter(prefix="/qbr/replacement-costs/customers/{tenant_id}", tags=["quarterly business review"])
ENTITY = "qbr_customer_replacement_cost"
CENT = Decimal("0.01")


def _tenant(session: Session, principal: Principal, tenant_id: UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id) if principal.can_see_tenant(tenant_id) else None
    if tenant is None:
        raise not_found("tenant", tenant_id)
    return tenant


def _listing(session: Session, tenant_id: UUID) -> list[CustomerReplacementCostPublic]:
    msp = {row.asset_type: row.cost for row in session.exec(select(ReplacementCost))}
    own_rows = select(CustomerReplacementCost).where(CustomerReplacementCost.tenant_id == tenant_id)
    own = {row.asset_type: row.cost for row in session.exec(own_rows)}
    listing = []
    for t in AssetType:
        if t.value in own:
            cost, source = own[t.value], "customer"
        elif t.value in msp:
            cost, source = msp[t.value], "msp"
        else:
            cost, source = DEFAULT_REPLACEMENT_COSTS[t.value], "default"
        listing.append(CustomerReplacementCostPublic(asset_type=t, cost=cost, source=source))
    return listing


def _set(session: Session, principal: Principal, tenant_id: UUID, asset_type: AssetType, cost: Decimal | None) -> None:
    row = session.get(CustomerReplacementCost, (tenant_id, asset_type.value))
    before = str(row.cost) if row else None
    if cost is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(CustomerReplacementCost(tenant_id=tenant_id, asset_type=asset_type.value, cost=cost))
    elif row.cost != cost:
        row.cost, row.updated_at = cost, utcnow()
    after = None if cost is None else str(cost)
    if before != after:
        session.add(audit_event(principal, tenant_id, ENTITY, tenant_id, "updated",
                                {"asset_type": asset_type.value, "cost": [before, after]}))  # fmt: skip


@router.get("", response_model=list[CustomerReplacementCostPublic],
            summary="A customer's replacement cost per device type and its source (MSP staff)")  # fmt: skip
def list_customer_costs(tenant_id: UUID, principal: MspReader, session: SessionDep):
    _tenant(session, principal, tenant_id)
    return _listing(session, tenant_id)


@router.put("", response_model=list[CustomerReplacementCostPublic],
            summary="Set a customer's own replacement costs; null removes its own cost of a type (MSP admins, "
                    "technicians)")  # fmt: skip
def set_customer_costs(tenant_id: UUID, body: ReplacementCostsIn, principal: MspStaff, session: SessionDep):
    _tenant(session, principal, tenant_id)
    for asset_type, amount in body.costs.items():
        _set(session, principal, tenant_id, asset_type, None if amount is None else amount.quantize(CENT))
    session.flush()
    return _listing(session, tenant_id)


@router.delete("/{asset_type}", status_code=204, response_class=Response,
               summary="Remove a customer's own cost of a device type: the MSP's applies again")  # fmt: skip
def delete_customer_cost(tenant_id: UUID, asset_type: AssetType, principal: MspStaff, session: SessionDep) -> Response:
    _tenant(session, principal, tenant_id)
    _set(session, principal, tenant_id, asset_type, None)
    return Response(status_code=204)
