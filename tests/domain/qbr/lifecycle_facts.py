"""Q4 2026 with an inventory, licences and a roadmap for the lifecycle, budget and licence sections, small enough to
count by hand (the counts are in test_lifecycle.py; the reference day is 31 December 2026)."""

from datetime import date
from decimal import Decimal

from domain.qbr.facts import DeviceFact, LicenceFact, QbrFacts
from domain.qbr.vcio import VcioEntry, VcioKind, VcioStatus
from tests.domain.qbr.facts import current


def device(hostname: str, asset_type: str, os: str | None, warranty_end: date | None) -> DeviceFact:
    return DeviceFact(hostname=hostname, asset_type=asset_type, managed=True, os=os, warranty_end=warranty_end)


DEVICES = [
    # expired (budget 2026), OS out of support since 2023-10-10
    device("srv-old", "server", "Microsoft Windows Server® 2012 R2 Standard", date(2025, 6, 30)),
    # due (< 90 days), Windows 10 out of support since 2025-10-14 (the build number names 22H2)
    device("pc-01", "workstation", "Microsoft Windows 10 Pro (10.0.19045)", date(2027, 2, 15)),
    # due soon; Windows 11 Enterprise 24H2 support ends 2027-10-12, within 12 months
    device("nb-01", "laptop", "Windows 11 Enterprise 24H2", date(2027, 5, 31)),
    # due soon (the horizon's last day counts); Windows 11 Pro 25H2 ends 2027-10-12
    device("nb-02", "laptop", "Win11 Pro 25H2", date(2027, 12, 31)),
    device("fw-01", "network", None, date(2028, 3, 1)),  # beyond 12 months: budget 2028 only
    device("srv-new", "server", "Windows Server 2022", date(2029, 6, 30)),  # beyond the budget's three years
    device("pr-01", "printer", None, None),  # no warranty date
    device("mob-01", "mobile", "iOS 17", date(2026, 12, 31)),  # ends on the reference day: not expired, due
]
LICENCES = [
    LicenceFact(vendor="Microsoft", product="Microsoft 365 Business Premium", quantity=20, assigned=13),
    LicenceFact(vendor="microsoft", product="microsoft 365 business premium", quantity=5, assigned=5),  # same product
    LicenceFact(vendor="Microsoft", product="Exchange Online Plan 1", quantity=3, assigned=5),
    LicenceFact(vendor="Adobe", product="Acrobat Pro", quantity=4, assigned=4),
]


def roadmap(title: str, quarter: str | None, cost: str | None, status: VcioStatus = VcioStatus.PLANNED,
            kind: VcioKind = VcioKind.ROADMAP) -> VcioEntry:  # fmt: skip
    return VcioEntry(kind=kind, title=title, quarter=quarter, status=status,
                     estimated_cost=Decimal(cost) if cost else None)  # fmt: skip


ROADMAP = [
    roadmap("M365-Migration", "2027-Q1", "5000.00"),
    roadmap("Firewall-Tausch", "2026-Q2", "3000.00", VcioStatus.OPEN),
    roadmap("Altprojekt", "2025-Q4", "1000.00", VcioStatus.IN_PROGRESS),  # not done: carried into 2026
    roadmap("Erledigt", "2026-Q3", "2000.00", VcioStatus.DONE),  # done: not budgeted
    roadmap("Ohne Quartal", None, "4000.00"),  # no quarter: not budgeted
    roadmap("Risiko", "2026-Q4", "700.00", kind=VcioKind.RISK),  # not a roadmap item
    roadmap("Später", "2029-Q1", "9000.00"),  # beyond the three years
]


def with_lifecycle() -> QbrFacts:
    return current().model_copy(update={"devices": DEVICES, "licences": LICENCES, "vcio": ROADMAP,
                                        "replacement_costs": {"laptop": Decimal("1800.00")}})  # fmt: skip
