"""The KPI engine of the quarterly business review: pure functions from `QbrFacts` (domain/qbr/facts.py) to
`KpiSet`, current quarter and previous quarter side by side. One definition per KPI: its German label, unit, source
and, in the docstring of its function, the formula a person can check by hand against the rows. Tickets, SLA clocks
and incidents reach it counted per period (domain/qbr/aggregate.py says which rows each count holds).

A period is [start, end) of the quarter (the monthly service report: the month, domain/qbr/period.py) in the
customer's time zone (`Quarter.bounds`); "in the period" below always means start <= timestamp < end."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from domain.inventory.health import HealthCounts
from domain.qbr.facts import MonthStats, QbrFacts
from domain.qbr.kpis_health import HEALTH_KPIS
from domain.qbr.licences import (
    LicenceLine,
    licence_lines,
    licence_use,
    licences_assigned,
    licences_bought,
    licences_over_assigned,
    licences_unused,
)
from domain.qbr.lifecycle import BudgetYear, Lifecycle, budget_outlook, lifecycle
from domain.qbr.measure import NA, Measure, NotAvailable, rounded, share
from domain.qbr.period import ReportPeriod, report_period
from domain.qbr.vcio import VcioEntry
from domain.raci import RaciRow

SLA_KINDS = ("response", "resolution")
TOP_CATEGORIES = 3
NO_CATEGORY = "ohne Kategorie"
# Months a billing cycle's price covers: a line's monthly value is its price divided by these.
CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True)
class Period:
    facts: QbrFacts
    start: datetime
    end: datetime

    @classmethod
    def of(cls, facts: QbrFacts) -> "Period":
        start, end = report_period(facts.quarter).bounds(facts.time_zone)
        return cls(facts, start, end)

    @property
    def quarter(self) -> ReportPeriod:  # a quarter (QBR) or a month (service report)
        return report_period(self.facts.quarter)

    @property
    def last_day(self) -> date:
        return self.quarter.last_day


# ---- the KPIs -------------------------------------------------------------------------------------------------


def _opened(p: Period) -> int:
    return sum(m.opened for m in p.facts.tickets.months)


def _closed(p: Period) -> int:
    return sum(m.closed for m in p.facts.tickets.months)


def tickets_opened(p: Period) -> Measure:
    """Count of tickets with created_at in the period (Σ of the months' opened)."""
    return Decimal(_opened(p))


def tickets_closed(p: Period) -> Measure:
    """Count of tickets whose latest resolution (resolved_at) lies in the period (Σ of the months' closed)."""
    return Decimal(_closed(p))


def _sla_share(months: list[MonthStats], kind: str) -> Measure:
    return share(sum(m.sla_met.get(kind, 0) for m in months), sum(m.sla_stopped.get(kind, 0) for m in months))


def _sla(p: Period, kind: str) -> Measure:
    return _sla_share(p.facts.tickets.months, kind)


def sla_response(p: Period) -> Measure:
    """100 × (response SLA clocks stopped in the period with met = true) ÷ (response clocks stopped in the period),
    one decimal; k. A. when no response clock stopped."""
    return _sla(p, "response")


def sla_resolution(p: Period) -> Measure:
    """100 × (resolution SLA clocks stopped in the period with met = true) ÷ (resolution clocks stopped in the
    period), one decimal; k. A. when no resolution clock stopped."""
    return _sla(p, "resolution")


def mean_time_to_resolve(p: Period) -> Measure:
    """Mean of (resolved_at − created_at) in hours over the tickets resolved in the period (wall-clock time, not
    business hours): Σ of those hours ÷ tickets closed, one decimal; k. A. when none was resolved."""
    closed = _closed(p)
    return rounded(p.facts.tickets.resolve_hours / closed) if closed else NA


def reopen_rate(p: Period) -> Measure:
    """100 × (tickets with a change back from resolved/closed to open in the period) ÷ (tickets with a change to
    resolved in the period), one decimal; k. A. when no ticket was resolved."""
    return share(p.facts.tickets.reopened, p.facts.tickets.resolved)


def security_incidents(p: Period) -> Measure:
    """Count of SOC incidents whose first alert lies in the period (Σ over the severities); k. A. without a SOC
    integration (no source)."""
    return Decimal(sum(p.facts.incidents.by_severity.values())) if p.facts.security_source else NA


def time_to_acknowledge(p: Period) -> Measure:
    """Mean of (acknowledged_at − first_alert_at) in minutes over the period's incidents that were acknowledged
    (paged incidents): Σ of those minutes ÷ acknowledged incidents, one decimal; k. A. without a SOC integration or
    when none was acknowledged."""
    incidents = p.facts.incidents
    if not p.facts.security_source or not incidents.acknowledged:
        return NA
    return rounded(incidents.acknowledge_minutes / incidents.acknowledged)


def hours_used(p: Period) -> Measure:
    """Sum of billable time-entry minutes started in the period ÷ 60, two decimals."""
    return rounded(Decimal(p.facts.billable_minutes) / 60, 2)


def _months_active(p: Period, start: date, end: date | None) -> int:
    return sum(start <= last and (end is None or end >= first) for first, last in p.quarter.month_spans())


def contingent_hours(p: Period) -> Measure:
    """Σ over the contracts with an hour contingent: included minutes per month × months of the quarter in which
    the contract runs (a month counts when the contract runs on any day of it) ÷ 60, two decimals; k. A. when no
    contract has a contingent."""
    if not p.facts.contingents:
        return NA
    minutes = sum(c.included_minutes * _months_active(p, c.start_date, c.end_date) for c in p.facts.contingents)
    return rounded(Decimal(minutes) / 60, 2)


def contingent_use(p: Period) -> Measure:
    """100 × hours used ÷ contingent hours, one decimal; k. A. without a contingent (or one of 0 hours). Counts all
    billable time, also activity types a contingent does not cover."""
    included = contingent_hours(p)
    if isinstance(included, NotAvailable) or included == 0:
        return NA
    return rounded(Decimal(100) * hours_used(p) / included, 1)


def monthly_contract_value(p: Period) -> Measure:
    """Σ over the recurring contract lines running on the quarter's last day: quantity × unit price ÷ months of its
    cycle (monthly 1, quarterly 3, yearly 12; one-time lines are not recurring), net, in cents; k. A. when no
    recurring line runs then."""
    day = p.last_day
    lines = [
        ln
        for ln in p.facts.contract_lines
        if ln.billing_cycle in CYCLE_MONTHS and ln.start_date <= day and (ln.end_date is None or ln.end_date >= day)
    ]
    if not lines:
        return NA
    return rounded(sum((ln.quantity * ln.unit_price / CYCLE_MONTHS[ln.billing_cycle] for ln in lines), Decimal(0)), 2)


def device_coverage(p: Period) -> Measure:
    """100 × (devices with an EDR agent known to the hub) ÷ (devices in the inventory), one decimal; k. A. without
    an inventory for the period (it is a snapshot: only the reported quarter has one) or with no device in it."""
    if not p.facts.devices_source:
        return NA
    return share(sum(d.managed for d in p.facts.devices), len(p.facts.devices))


def warranty_coverage(p: Period) -> Measure:
    """100 × (devices whose warranty ends on or after the quarter's last day) ÷ (devices with a known warranty
    end), one decimal; k. A. without an inventory or when no device has a warranty end."""
    if not p.facts.devices_source:
        return NA
    known = [d for d in p.facts.devices if d.warranty_end is not None]
    return share(sum(d.warranty_end >= p.last_day for d in known), len(known))


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: str  # German, as the deck shows it
    unit: str  # "", "%", "h", "min", "EUR"
    source: str
    better: Literal["higher", "lower", "none"]
    compute: Callable[[Period], Measure]


DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition("tickets_opened", "Tickets eröffnet", "", "Tickets", "none", tickets_opened),
    KpiDefinition("tickets_closed", "Tickets gelöst", "", "Tickets", "none", tickets_closed),
    KpiDefinition("sla_response", "SLA-Erfüllung Reaktion", "%", "SLA-Ergebnisse", "higher", sla_response),
    KpiDefinition("sla_resolution", "SLA-Erfüllung Lösung", "%", "SLA-Ergebnisse", "higher", sla_resolution),
    KpiDefinition("mttr_hours", "Mittlere Lösungszeit", "h", "Tickets", "lower", mean_time_to_resolve),
    KpiDefinition("reopen_rate", "Wiedereröffnungsquote", "%", "Ticket-Verlauf", "lower", reopen_rate),
    KpiDefinition("security_incidents", "Sicherheitsvorfälle", "", "SOC", "lower", security_incidents),
    KpiDefinition("time_to_acknowledge", "Zeit bis zur Bestätigung", "min", "SOC", "lower", time_to_acknowledge),
    KpiDefinition("hours_used", "Geleistete Stunden", "h", "Zeiterfassung", "none", hours_used),
    KpiDefinition("contingent_hours", "Stundenkontingent", "h", "Verträge", "none", contingent_hours),
    KpiDefinition("contingent_use", "Kontingent-Auslastung", "%", "Zeiterfassung, Verträge", "none", contingent_use),
    KpiDefinition(
        "monthly_contract_value", "Monatlicher Vertragswert", "EUR", "Verträge", "none", monthly_contract_value
    ),  # fmt: skip
    KpiDefinition("device_coverage", "Geräteabdeckung (EDR)", "%", "Inventar", "higher", device_coverage),
    KpiDefinition("warranty_coverage", "Garantieabdeckung", "%", "Inventar", "higher", warranty_coverage),
)
# Licences by product against the users they are assigned to (domain/qbr/licences.py).
LICENCE_DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition("licences_bought", "Lizenzen gekauft", "", "Lizenzen", "none", licences_bought),
    KpiDefinition("licences_assigned", "Lizenzen zugewiesen", "", "Lizenzen", "none", licences_assigned),
    KpiDefinition("licences_unused", "Lizenzen ungenutzt", "", "Lizenzen", "lower", licences_unused),
    KpiDefinition("licences_over_assigned", "Lizenzen überzählig zugewiesen", "", "Lizenzen", "lower",
                  licences_over_assigned),  # fmt: skip
    KpiDefinition("licence_use", "Lizenznutzung", "%", "Lizenzen", "higher", licence_use),
)


# ---- the result -------------------------------------------------------------------------------------------------


class Kpi(BaseModel):
    key: str
    label: str
    unit: str
    source: str
    better: str
    current: Measure
    previous: Measure
    # Why a k. A. value is not known, where its source said so (a domain.inventory.mfa.MfaUnavailable value).
    current_reason: str | None = None
    previous_reason: str | None = None


class Breakdown(BaseModel):
    key: str
    label: str
    current: dict[str, int]
    previous: dict[str, int]


class MonthPoint(BaseModel):
    month: str  # YYYY-MM
    opened: int
    closed: int
    sla_response: Measure
    sla_resolution: Measure


class KpiSet(BaseModel):
    customer_number: str
    customer_name: str
    quarter: str
    previous_quarter: str
    currency: str = "EUR"
    language: str = "de"  # of the deck and its executive summary: the customer's (its billing profile's)
    kpis: list[Kpi]
    breakdowns: list[Breakdown]
    top_categories: list[tuple[str, int]]
    months: list[MonthPoint]  # the previous quarter's three months, then the current quarter's
    vcio: list[VcioEntry] = []
    raci: list[RaciRow] = []
    lifecycle: Lifecycle | None = None  # None: no inventory snapshot (k. A.)
    budget: list[BudgetYear] = []
    licences: list[LicenceLine] = []  # per product; empty: no licence data
    health: HealthCounts | None = None  # the reported quarter's last health snapshot (the recommendations' counts)

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted((k, n) for k, n in counts.items() if n))


def _breakdowns(p: Period) -> dict[str, dict[str, int]]:
    t = p.facts.tickets
    return {
        "opened_by_priority": _sorted(t.opened_by_priority),
        "closed_by_priority": _sorted(t.closed_by_priority),
        "opened_by_category": _sorted(t.opened_by_category),
        "closed_by_category": _sorted(t.closed_by_category),
        "incidents_by_severity": _sorted(p.facts.incidents.by_severity) if p.facts.security_source else {},
    }


BREAKDOWN_LABELS = {
    "opened_by_priority": "Eröffnete Tickets nach Priorität",
    "closed_by_priority": "Gelöste Tickets nach Priorität",
    "opened_by_category": "Eröffnete Tickets nach Kategorie",
    "closed_by_category": "Gelöste Tickets nach Kategorie",
    "incidents_by_severity": "Sicherheitsvorfälle nach Schweregrad",
}


def _months(p: Period) -> list[MonthPoint]:
    """One point per month of the period: its opened and closed tickets and SLA shares (as the KPIs, per month)."""
    stats = {m.month: m for m in p.facts.tickets.months}
    points = []
    for month in p.quarter.months:
        m = stats.get(month, MonthStats(month=month))
        points.append(MonthPoint(month=month, opened=m.opened, closed=m.closed,
                                 sla_response=_sla_share([m], "response"),
                                 sla_resolution=_sla_share([m], "resolution")))  # fmt: skip
    return points


def _health_kpis(current: QbrFacts, previous: QbrFacts) -> list[Kpi]:
    """The device health KPIs (domain/qbr/kpis_health.py), each quarter from its own last snapshot."""
    return [
        Kpi(key=h.key, label=h.label, unit=h.unit, source=h.source, better=h.better,
            current=h.measure(current), previous=h.measure(previous),
            current_reason=h.reason(current), previous_reason=h.reason(previous))  # fmt: skip
        for h in HEALTH_KPIS
    ]


def compute_kpis(current: QbrFacts, previous: QbrFacts, customer_number: str, customer_name: str) -> KpiSet:
    """Every KPI of `current` with the value of `previous` beside it (previous must be the quarter before)."""
    if report_period(previous.quarter) != report_period(current.quarter).previous():
        raise ValueError(f"{previous.quarter} is not the quarter before {current.quarter}")
    now, before = Period.of(current), Period.of(previous)
    kpis = [
        Kpi(
            key=d.key,
            label=d.label,
            unit=d.unit,
            source=d.source,
            better=d.better,
            current=d.compute(now),
            previous=d.compute(before),
        )  # fmt: skip
        for d in (*DEFINITIONS, *LICENCE_DEFINITIONS)
    ] + _health_kpis(current, previous)
    cur, prev = _breakdowns(now), _breakdowns(before)
    breakdowns = [Breakdown(key=k, label=BREAKDOWN_LABELS[k], current=cur[k], previous=prev[k]) for k in cur]
    top = sorted(cur["opened_by_category"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES]
    return KpiSet(
        customer_number=customer_number,
        customer_name=customer_name,
        quarter=current.quarter,
        previous_quarter=previous.quarter,
        currency=current.currency,
        language=current.language,
        kpis=kpis,
        breakdowns=breakdowns,
        top_categories=top,
        months=_months(before) + _months(now),
        vcio=current.vcio,
        raci=current.raci,
        lifecycle=lifecycle(current.devices, now.last_day) if current.devices_source else None,
        budget=budget_outlook(current.devices, current.vcio, current.replacement_costs, now.last_day)
        if current.devices_source
        else [],
        licences=licence_lines(current.licences),
        health=current.health.counts if current.health is not None else None,
    )
