"""The MSP's estimated replacement cost per device type, which prices the replacements due in every customer's QBR
budget outlook (domain/qbr/lifecycle.py). One set for the installation (a customer's own prices override it:
customer_costs.py): MSP staff read and set it (the vCIO work of msp_admin and msp_tech, like the roadmap);
customers never see it (403): it is the MSP's price estimate. Each change leaves an audit event."""

from decimal import Decimal

from fastapi import APIRouter
from sqlmodel import select

from api.deps import MspReader, MspStaff, SessionDep
from api.schemas.common import audit_event
from api.schemas.qbr import ReplacementCostPublic, ReplacementCostsIn
from domain.qbr.lifecycle import DEFAULT_REPLACEMENT_COSTS
from models import ReplacementCost
from models.asset import AssetType
from models.base import utcnow

router = APIRouter(prefix="/qbr/replacement-costs", tags=["quarterly business review"])
ENTITY = "qbr_replacement_cost"
CENT = Decimal("0.01")


def _listing(session) -> list[ReplacementCostPublic]:  # noqa: ANN001
    stored = {row.asset_type: row.cost for row in session.exec(select(ReplacementCost))}
    return [ReplacementCostPublic(asset_type=t, cost=stored.get(t.value, DEFAULT_REPLACEMENT_COSTS[t.value]),
                                  default=t.value not in stored) for t in AssetType]  # fmt: skip


@router.get("", response_model=list[ReplacementCostPublic], summary="Replacement cost per device type (MSP staff)")
def list_costs(principal: MspReader, session: SessionDep):
    return _listing(session)


@router.put("", response_model=list[ReplacementCostPublic],
            summary="Set replacement costs; null resets a type to its default (MSP admins, technicians)")  # fmt: skip
def set_costs(body: ReplacementCostsIn, principal: MspStaff, session: SessionDep):
    for asset_type, amount in body.costs.items():
        cost = None if amount is None else amount.quantize(CENT)
        row = session.get(ReplacementCost, asset_type.value)
        before = str(row.cost) if row else None
        if cost is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(ReplacementCost(asset_type=asset_type.value, cost=cost))
        elif row.cost != cost:
            row.cost, row.updated_at = cost, utcnow()
        after = None if cost is None else str(cost)
        if before != after:
            session.add(audit_event(principal, None, ENTITY, asset_type.value, "updated",
                                    {"cost": [before, after]}))  # fmt: skip
    session.flush()
    return _listing(session)
