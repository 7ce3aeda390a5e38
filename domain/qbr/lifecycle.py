"""Asset lifecycle and budget outlook of a QBR, from the inventory snapshot and the vCIO roadmap.

The reference day is the reported quarter's last day (`as_of`), the same day `warranty_coverage` uses. A device's
warranty end is its default end of life: its replacement is
* overdue when the warranty ended before `as_of`,
* due when it ends within 90 days (as_of <= end < as_of + 90 days),
* due soon from 90 days to 12 months ahead (as_of + 90 days <= end <= as_of + 12 months).
The lifecycle list holds every device whose warranty ends on or before as_of + 12 months (expired included) or whose
operating system is out of vendor support by then (domain/qbr/os_support.py)."""

import calendar
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, computed_field

from domain.qbr.facts import DeviceFact
from domain.qbr.os_support import os_support
from domain.qbr.quarter import Quarter
from domain.qbr.vcio import VcioEntry, VcioKind, VcioStatus

DUE_DAYS = 90
HORIZON_MONTHS = 12
SOON_MONTHS = 6  # the recommendation's "in den nächsten 6 Monaten"
BUDGET_YEARS = 3  # the current year and the next two

# Estimated replacement cost per device type, net EUR, German market 2026 for business hardware incl. set-up
# (an MSP overrides them through PUT /api/v1/qbr/replacement-costs, and per customer through
# PUT /api/v1/qbr/replacement-costs/customers/<tenant>):
# server: a 1-socket rack/tower server with Windows Server licence; workstation: business desktop with monitor;
# laptop: 14" business notebook with docking station; network: firewall or managed switch of a small office;
# mobile: business smartphone; printer: office multifunction printer; other: a small device (NAS, access point).
DEFAULT_REPLACEMENT_COSTS: dict[str, Decimal] = {
    "server": Decimal("8000.00"),
    "workstation": Decimal("1200.00"),
    "laptop": Decimal("1500.00"),
    "network": Decimal("1500.00"),
    "mobile": Decimal("700.00"),
    "printer": Decimal("600.00"),
    "other": Decimal("500.00"),
}


class Replacement(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    DUE_SOON = "due_soon"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, the month's last day where it has fewer days (31 Oct + 4 → 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def replacement(end: date | None, as_of: date) -> Replacement | None:
    if end is None or end > add_months(as_of, HORIZON_MONTHS):
        return None
    if end < as_of:
        return Replacement.OVERDUE
    return Replacement.DUE if end < as_of + timedelta(days=DUE_DAYS) else Replacement.DUE_SOON


class LifecycleDevice(BaseModel):
    hostname: str
    asset_type: str
    os: str | None = None
    warranty_end: date | None = None
    replacement: Replacement | None = None
    os_name: str | None = None  # the OS as the support table names it, when its support ends within the horizon
    os_end_of_support: date | None = None

    @property
    def first_date(self) -> date:
        """The earlier of warranty end and OS end of support that brought the device on the list."""
        dates = [d for d in (self.warranty_end if self.replacement else None, self.os_end_of_support) if d]
        return min(dates)


class Lifecycle(BaseModel):
    as_of: date
    devices_total: int
    warranty_unknown: int  # devices without a warranty end
    warranty_expired: int  # warranty end < as_of
    warranty_ending_6_months: int  # as_of <= warranty end <= as_of + 6 months
    warranty_ending_12_months: int  # as_of <= warranty end <= as_of + 12 months
    os_unsupported: int  # OS support ended before as_of
    os_ending_12_months: int  # as_of <= OS end of support <= as_of + 12 months
    devices: list[LifecycleDevice]  # on the list, the earliest date first


def _within(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def lifecycle(devices: list[DeviceFact], as_of: date) -> Lifecycle:
    horizon, soon = add_months(as_of, HORIZON_MONTHS), add_months(as_of, SOON_MONTHS)
    listed = []
    os_ended = os_ending = 0
    for d in devices:
        support = os_support(d.os)
        ending_os = support if support and support.end_of_support <= horizon else None
        if ending_os:
            os_ended += ending_os.end_of_support < as_of
            os_ending += ending_os.end_of_support >= as_of
        state = replacement(d.warranty_end, as_of)
        if state or ending_os:
            listed.append(LifecycleDevice(
                hostname=d.hostname, asset_type=d.asset_type, os=d.os, warranty_end=d.warranty_end, replacement=state,
                os_name=ending_os.name if ending_os else None,
                os_end_of_support=ending_os.end_of_support if ending_os else None,
            ))  # fmt: skip
    return Lifecycle(
        as_of=as_of,
        devices_total=len(devices),
        warranty_unknown=sum(d.warranty_end is None for d in devices),
        warranty_expired=sum(d.warranty_end is not None and d.warranty_end < as_of for d in devices),
        warranty_ending_6_months=sum(_within(d.warranty_end, as_of, soon) for d in devices),
        warranty_ending_12_months=sum(_within(d.warranty_end, as_of, horizon) for d in devices),
        os_unsupported=os_ended,
        os_ending_12_months=os_ending,
        devices=sorted(listed, key=lambda x: (x.first_date, x.hostname)),
    )


# ---- budget outlook ---------------------------------------------------------------------------------------------


class BudgetYear(BaseModel):
    year: int
    roadmap: Decimal  # Σ estimated cost of the open roadmap items planned in the year
    replacements: Decimal  # Σ replacement cost of the devices whose warranty ends in the year
    replacement_devices: int

    @computed_field
    @property
    def total(self) -> Decimal:
        return self.roadmap + self.replacements


def replacement_costs(configured: dict[str, Decimal]) -> dict[str, Decimal]:
    """The defaults, overridden by what was configured (`configured_costs`)."""
    return DEFAULT_REPLACEMENT_COSTS | configured


def configured_costs(msp: dict[str, Decimal], customer: dict[str, Decimal]) -> dict[str, Decimal]:
    """The costs configured for one customer, per device type: the customer's own where set, else the MSP's (a type
    with neither takes its default in `replacement_costs`)."""
    return msp | customer


def budget_outlook(devices: list[DeviceFact], roadmap: list[VcioEntry], configured: dict[str, Decimal],
                   as_of: date) -> list[BudgetYear]:  # fmt: skip
    """Per year from as_of's year on (BUDGET_YEARS years), net:
    * roadmap: Σ estimated_cost of the roadmap items not done, by the year of their planned quarter; an item planned
      before as_of's year and not done counts in as_of's year (it is still to be paid); items without a quarter or
      cost are not budgeted;
    * replacements: Σ replacement cost (by device type) of the devices whose warranty ends in the year; an expired
      warranty counts in as_of's year (overdue). Devices without a warranty end are not budgeted."""
    first = as_of.year
    years = range(first, first + BUDGET_YEARS)
    costs = replacement_costs(configured)
    roadmap_sum = {y: Decimal("0.00") for y in years}
    for e in roadmap:
        if e.kind != VcioKind.ROADMAP or e.status == VcioStatus.DONE or e.quarter is None or e.estimated_cost is None:
            continue
        year = max(Quarter.parse(e.quarter).year, first)
        if year in roadmap_sum:
            roadmap_sum[year] += e.estimated_cost
    replaced = {y: (Decimal("0.00"), 0) for y in years}
    for d in devices:
        if d.warranty_end is None:
            continue
        year = max(d.warranty_end.year, first)
        if year in replaced:
            total, count = replaced[year]
            replaced[year] = (total + costs.get(d.asset_type, costs["other"]), count + 1)
    return [BudgetYear(year=y, roadmap=roadmap_sum[y], replacements=replaced[y][0], replacement_devices=replaced[y][1])
            for y in years]  # fmt: skip
