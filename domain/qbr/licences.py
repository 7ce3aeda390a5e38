"""Software licences against the users they are assigned to, per product (vendor + product name; several licence
rows of one product, e.g. two contracts, are added up). The inventory is a snapshot like the devices: a quarter
without licence rows (every previous quarter, a customer without licence data) gives "k. A.", not 0.

The KPI functions take the KPI engine's `Period` (domain/qbr/kpis.py); they only read `p.facts`."""

from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, computed_field

from domain.qbr.facts import LicenceFact
from domain.qbr.measure import NA, Measure, share

if TYPE_CHECKING:
    from domain.qbr.kpis import Period


class LicenceLine(BaseModel):
    vendor: str
    product: str
    quantity: int
    assigned: int

    @computed_field
    @property
    def unused(self) -> int:
        return max(self.quantity - self.assigned, 0)

    @computed_field
    @property
    def over_assigned(self) -> int:
        return max(self.assigned - self.quantity, 0)


def licence_lines(licences: list[LicenceFact]) -> list[LicenceLine]:
    """One line per product (vendor, product, case as first written), by vendor and product."""
    lines: dict[tuple[str, str], LicenceLine] = {}
    for lic in licences:
        key = (lic.vendor.strip().casefold(), lic.product.strip().casefold())
        line = lines.setdefault(key, LicenceLine(vendor=lic.vendor.strip(), product=lic.product.strip(), quantity=0,
                                                 assigned=0))  # fmt: skip
        line.quantity += lic.quantity
        line.assigned += lic.assigned
    return [lines[k] for k in sorted(lines)]


def _lines(p: "Period") -> list[LicenceLine] | None:
    return licence_lines(p.facts.licences) if p.facts.licences else None


def licences_bought(p: "Period") -> Measure:
    """Σ quantity over the licence rows; k. A. without licence data."""
    lines = _lines(p)
    return NA if lines is None else Decimal(sum(ln.quantity for ln in lines))


def licences_assigned(p: "Period") -> Measure:
    """Σ assigned over the licence rows; k. A. without licence data."""
    lines = _lines(p)
    return NA if lines is None else Decimal(sum(ln.assigned for ln in lines))


def licences_unused(p: "Period") -> Measure:
    """Σ per product of max(quantity − assigned, 0); k. A. without licence data."""
    lines = _lines(p)
    return NA if lines is None else Decimal(sum(ln.unused for ln in lines))


def licences_over_assigned(p: "Period") -> Measure:
    """Σ per product of max(assigned − quantity, 0): users without a licence bought; k. A. without licence data."""
    lines = _lines(p)
    return NA if lines is None else Decimal(sum(ln.over_assigned for ln in lines))


def licence_use(p: "Period") -> Measure:
    """100 × Σ per product min(assigned, quantity) ÷ Σ quantity, one decimal; k. A. without licence data or with
    no licence bought."""
    lines = _lines(p)
    if lines is None:
        return NA
    return share(sum(min(ln.assigned, ln.quantity) for ln in lines), sum(ln.quantity for ln in lines))
