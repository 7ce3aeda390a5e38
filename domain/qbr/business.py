"""The MSP's own business KPIs for its management (roles msp_admin, finance): pure functions from `BusinessFacts`
of a quarter to `Kpi` rows (the same shape as a customer's QBR), current quarter beside the previous one. Each
formula is in its function's docstring; a KPI without a source or with an empty denominator is "k. A.".

An activity or route loads the facts: issued invoices and credit notes, each customer's monthly contract value at
the quarter's end (in total and per product), the technicians and the business minutes of the MSP's calendar in the
quarter, time entries and opened tickets."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, field_validator

from domain.qbr.business_growth import growth_kpis
from domain.qbr.kpis import Kpi
from domain.qbr.measure import NA, Measure, NotAvailable, rounded, share
from domain.qbr.quarter import Quarter, parse_quarter


class InvoiceFact(BaseModel):
    tenant_id: str
    issue_date: date
    net_total: Decimal  # as printed: positive also on a credit note
    credit_note: bool = False


class TimeFact(BaseModel):
    started_at: datetime
    minutes: int
    billable: bool
    billed: bool  # on an issued invoice


class BusinessFacts(BaseModel):
    quarter: str
    time_zone: str = "Europe/Berlin"
    currency: str = "EUR"
    invoices: list[InvoiceFact] = []
    contract_values: dict[str, Decimal] = {}  # customer -> monthly contract value on the quarter's last day
    # customer -> product code -> the part of its monthly contract value that product's lines make (domain/qbr/
    # business_growth.py); product code -> its name in the price list
    product_values: dict[str, dict[str, Decimal]] = {}
    product_names: dict[str, str] = {}
    technicians: int = 0  # MSP users who log time (msp_tech, msp_admin)
    available_minutes: int = 0  # business minutes of the MSP's calendar in the quarter, per technician
    time_entries: list[TimeFact] = []
    tickets_opened: dict[str, int] = {}  # customer -> tickets opened in the quarter

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


@dataclass(frozen=True)
class _Period:
    facts: BusinessFacts
    start: datetime
    end: datetime

    @classmethod
    def of(cls, facts: BusinessFacts) -> "_Period":
        return cls(facts, *Quarter.parse(facts.quarter).bounds(facts.time_zone))

    def has_day(self, day: date) -> bool:
        return Quarter.of(day) == Quarter.parse(self.facts.quarter)

    def entries(self) -> list[TimeFact]:
        return [e for e in self.facts.time_entries if self.start <= e.started_at < self.end]


def _ratio(part: Decimal, whole: int | Decimal, places: int = 2) -> Measure:
    return rounded(part / whole, places) if whole else NA


def revenue(p: _Period) -> Measure:
    """Σ net totals of the invoices issued in the quarter minus Σ net totals of its credit notes."""
    return sum((-i.net_total if i.credit_note else i.net_total for i in p.facts.invoices if p.has_day(i.issue_date)),
               Decimal("0.00"))  # fmt: skip


def customers_billed(p: _Period) -> Measure:
    """Count of distinct customers with an invoice (not a credit note) issued in the quarter."""
    return Decimal(len({i.tenant_id for i in p.facts.invoices if not i.credit_note and p.has_day(i.issue_date)}))


def revenue_per_customer(p: _Period) -> Measure:
    """revenue ÷ customers billed, two decimals; k. A. without a customer billed."""
    return _ratio(revenue(p), customers_billed(p))  # type: ignore[arg-type]


def average_contract_value(p: _Period) -> Measure:
    """Mean of the customers' monthly contract values above zero on the quarter's last day, two decimals."""
    values = [v for v in p.facts.contract_values.values() if v > 0]
    return _ratio(sum(values, Decimal(0)), len(values))


def revenue_per_technician(p: _Period) -> Measure:
    """revenue ÷ technicians, two decimals; k. A. without a technician."""
    return _ratio(revenue(p), p.facts.technicians)  # type: ignore[arg-type]


def utilisation(p: _Period) -> Measure:
    """100 × billable minutes of time entries started in the quarter ÷ (technicians × business minutes of the
    quarter), one decimal."""
    billable = sum(e.minutes for e in p.entries() if e.billable)
    return share(billable, p.facts.technicians * p.facts.available_minutes)


def tickets_per_customer(p: _Period) -> Measure:
    """Tickets opened in the quarter ÷ customers with a contract value above zero, one decimal."""
    customers = sum(v > 0 for v in p.facts.contract_values.values())
    return _ratio(Decimal(sum(p.facts.tickets_opened.values())), customers, 1)


def billed_hours(p: _Period) -> Measure:
    """Minutes of time entries started in the quarter and billed on an invoice ÷ 60, two decimals."""
    return rounded(Decimal(sum(e.minutes for e in p.entries() if e.billed)) / 60, 2)


DEFINITIONS = (
    ("revenue", "Umsatz (netto)", "EUR", "Rechnungen", revenue),
    ("customers_billed", "Abgerechnete Kunden", "", "Rechnungen", customers_billed),
    ("revenue_per_customer", "Umsatz je Kunde", "EUR", "Rechnungen", revenue_per_customer),
    (
        "average_contract_value",
        "Ø Vertragswert (monatlich)",
        "EUR",
        "Verträge",
        average_contract_value,
    ),
    ("revenue_per_technician", "Umsatz je Techniker", "EUR", "Rechnungen, Benutzer", revenue_per_technician),
    ("utilisation", "Auslastung der Techniker", "%", "Zeiterfassung, Geschäftskalender", utilisation),
    ("tickets_per_customer", "Tickets je Kunde", "", "Tickets, Verträge", tickets_per_customer),
    ("billed_hours", "Abgerechnete Stunden", "h", "Zeiterfassung, Rechnungen", billed_hours),
)


def growth(current: Measure, previous: Measure) -> Measure:
    """100 × (current - previous) ÷ previous, one decimal; k. A. if either is unknown or previous is zero."""
    if isinstance(current, NotAvailable) or isinstance(previous, NotAvailable) or previous == 0:
        return NA
    return rounded(Decimal(100) * (current - previous) / previous, 1)


def business_kpis(current: BusinessFacts, previous: BusinessFacts) -> list[Kpi]:
    """Every business KPI of `current` beside `previous` (the quarter before), the revenue growth and where the
    recurring revenue grew from (domain/qbr/business_growth.py)."""
    if Quarter.parse(previous.quarter) != Quarter.parse(current.quarter).previous():
        raise ValueError(f"{previous.quarter} is not the quarter before {current.quarter}")
    now, before = _Period.of(current), _Period.of(previous)
    rows = [Kpi(key=key, label=label, unit=unit, source=source, better="none", current=f(now), previous=f(before))
            for key, label, unit, source, f in DEFINITIONS]  # fmt: skip
    by_key = {k.key: k for k in rows}
    rows.insert(3, Kpi(key="revenue_growth", label="Umsatzwachstum zum Vorquartal", unit="%", source="Rechnungen",
                       better="higher", current=growth(by_key["revenue"].current, by_key["revenue"].previous),
                       previous=NA))  # fmt: skip
    return rows + growth_kpis(current, previous)
