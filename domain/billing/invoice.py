"""An invoice's lines and totals as EN 16931 computes them (BR-CO-10 to BR-CO-17), whatever format it is sent in.

Each line carries its net amount (cents), its tax class and where it came from (contract line, time entries, one-off
item, credit), so a person can trace every figure. Lines are grouped by VAT category and rate (BG-23); each group's
tax is its taxable amount times the rate, rounded half-up to the cent once per group, never per line, so the
breakdown, the PDF, the e-invoice and the DATEV export agree to the cent.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.billing.money import ZERO, money, percent_of
from domain.billing.tax import TaxCase, TaxClass, VatCategory
from domain.billing.terms import RevenueType


@dataclass(frozen=True)
class LineSource:
    kind: str  # contract_line, time_entry, one_off, credit
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit: str  # UN/ECE Recommendation 20 code, as EN 16931 wants it: C62 piece, HUR hour, MON month
    unit_price: Decimal  # net
    net_amount: Decimal  # cents; quantity x unit price, or the pro-rata share of it
    tax_class: TaxClass
    source: LineSource
    period_start: date | None = None
    period_end: date | None = None
    revenue_type: RevenueType = RevenueType.OTHER  # which revenue account DATEV/BMD book it to

    def __post_init__(self) -> None:
        if self.net_amount != money(self.net_amount):
            raise ValueError(f"net amount {self.net_amount} of {self.description!r} is not in whole cents")


@dataclass(frozen=True)
class VatGroup:
    category: VatCategory
    rate: Decimal
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    note_de: str | None
    note_en: str | None
    exemption_code: str | None


@dataclass(frozen=True)
class InvoiceTotals:
    line_total: Decimal  # BT-106: sum of line net amounts
    tax_exclusive: Decimal  # BT-109 (no document-level allowances or charges: credits are lines)
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    amount_due: Decimal  # BT-115 (nothing prepaid)
    groups: tuple[VatGroup, ...]


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return money(quantity * unit_price)


def invoice_totals(lines: Sequence[InvoiceLine], tax_case_for: Callable[[TaxClass], TaxCase]) -> InvoiceTotals:
    """Totals and VAT breakdown of `lines`; `tax_case_for` gives the tax case of a tax class for this buyer."""
    grouped: dict[tuple[VatCategory, Decimal], tuple[TaxCase, Decimal]] = {}
    for line in lines:
        case = tax_case_for(line.tax_class)
        key = (case.category, case.rate)
        _, taxable = grouped.get(key, (case, ZERO))
        grouped[key] = (case, taxable + line.net_amount)
    groups = tuple(
        VatGroup(
            category=case.category,
            rate=case.rate,
            taxable_amount=taxable,
            tax_amount=percent_of(taxable, case.rate),
            note_de=case.note_de,
            note_en=case.note_en,
            exemption_code=case.exemption_code,
        )
        for (_, _), (case, taxable) in sorted(grouped.items(), key=lambda item: (item[0][0].value, -item[0][1]))
    )
    line_total = sum((line.net_amount for line in lines), ZERO)
    tax_total = sum((group.tax_amount for group in groups), ZERO)
    inclusive = line_total + tax_total
    return InvoiceTotals(line_total, line_total, tax_total, inclusive, inclusive, groups)
