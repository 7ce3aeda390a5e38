"""What the lifecycle, budget and licence parts of the QBR read, for the QBR's facts activity and the API's
lifecycle view: a tenant's devices and licence rows and the replacement costs per device type (the MSP's estimate,
overridden by the tenant's own costs). Reads only; everything of a customer scoped by its tenant."""

from uuid import UUID

from sqlmodel import Session, col, or_, select

from domain.qbr.facts import DeviceFact, LicenceFact
from domain.qbr.lifecycle import configured_costs
from models.asset import Asset, Licence
from models.qbr import CustomerReplacementCost, ReplacementCost


def device_facts(session: Session, tenant_id: UUID) -> list[DeviceFact]:
    """The tenant's devices; not those the RMM no longer lists (retired: the inventory sync keeps their rows)."""
    in_use = select(Asset).where(Asset.tenant_id == tenant_id, col(Asset.rmm_gone_at).is_(None))
    return [
        DeviceFact(asset_type=a.asset_type.value, managed=bool(a.agent_uuid or a.agent_id), warranty_end=a.warranty_end,
                   hostname=a.hostname, os=a.os)
        for a in session.exec(in_use.order_by(col(Asset.hostname)))
    ]  # fmt: skip


def lifecycle_facts(session: Session, tenant_id: UUID) -> dict:
    """`QbrFacts` fields: licences (not the subscriptions Microsoft 365 reports deleted), replacement_costs (the
    customer's own where set, else the MSP's)."""
    current = or_(col(Licence.capability_status).is_(None), col(Licence.capability_status) != "Deleted")
    ordered = (col(Licence.vendor), col(Licence.product))
    licences = session.exec(select(Licence).where(Licence.tenant_id == tenant_id, current).order_by(*ordered)).all()
    msp = {c.asset_type: c.cost for c in session.exec(select(ReplacementCost))}
    own = select(CustomerReplacementCost).where(CustomerReplacementCost.tenant_id == tenant_id)
    return {
        "licences": [LicenceFact(vendor=lic.vendor, product=lic.product, quantity=lic.quantity, assigned=lic.assigned)
                     for lic in licences],  # fmt: skip
        "replacement_costs": configured_costs(msp, {c.asset_type: c.cost for c in session.exec(own)}),
    }
