"""The parts of a quarter's snapshot the lifecycle, budget and licence sections of the QBR read: the tenant's
licence rows and the MSP's replacement costs per device type. Reads only; licences scoped by the tenant (the
replacement costs are the MSP's own estimate, one set for every customer)."""

from uuid import UUID

from sqlmodel import Session, col, select

from domain.qbr.facts import LicenceFact
from models import Licence, ReplacementCost


def lifecycle_facts(session: Session, tenant_id: UUID) -> dict:
    """`QbrFacts` fields: licences, replacement_costs."""
    licences = session.exec(
        select(Licence).where(Licence.tenant_id == tenant_id).order_by(col(Licence.vendor), col(Licence.product))
    ).all()
    costs = session.exec(select(ReplacementCost)).all()
    return {
        "licences": [LicenceFact(vendor=lic.vendor, product=lic.product, quantity=lic.quantity, assigned=lic.assigned)
                     for lic in licences],  # fmt: skip
        "replacement_costs": {c.asset_type: c.cost for c in costs},
    }
