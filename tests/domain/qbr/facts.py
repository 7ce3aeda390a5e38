"""Two quarters of one customer's facts, small enough to count by hand (the counts are in test_kpis.py); the rows
are counted as the facts activity counts them (domain/qbr/aggregate.py)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.qbr.aggregate import facts_from_rows
from domain.qbr.facts import (
    ContingentFact,
    ContractLineFact,
    DeviceFact,
    IncidentFact,
    QbrFacts,
    SlaFact,
    TicketFact,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


LINES = [
    ContractLineFact(quantity=Decimal(10), unit_price=Decimal("50.00"), billing_cycle="monthly",
                     start_date=date(2026, 1, 1)),  # 500.00 a month
    ContractLineFact(quantity=Decimal(1), unit_price=Decimal("2400.00"), billing_cycle="yearly",
                     start_date=date(2026, 10, 1)),  # 200.00 a month, from Q4 on
    ContractLineFact(quantity=Decimal(3), unit_price=Decimal("30.00"), billing_cycle="quarterly",
                     start_date=date(2026, 1, 1)),  # 30.00 a month
    ContractLineFact(quantity=Decimal(1), unit_price=Decimal("999.00"), billing_cycle="one_time",
                     start_date=date(2026, 10, 1)),  # not recurring
    ContractLineFact(quantity=Decimal(1), unit_price=Decimal("100.00"), billing_cycle="monthly",
                     start_date=date(2026, 1, 1), end_date=date(2026, 11, 30)),  # ended before Q4's last day
]  # fmt: skip


def current() -> QbrFacts:
    return facts_from_rows(
        quarter="2026-Q4",
        time_zone="Europe/Berlin",
        tickets=[
            TicketFact(priority="P1", category="Netzwerk", created_at=at("2026-10-05T08:00"),
                       resolved_at=at("2026-10-05T12:00"), resolutions=[at("2026-10-05T12:00")]),  # 4 h
            TicketFact(priority="P2", category="Netzwerk", created_at=at("2026-11-10T09:00"),
                       resolved_at=at("2026-11-11T09:00"), resolutions=[at("2026-11-10T15:00"), at("2026-11-11T09:00")],
                       reopens=[at("2026-11-10T16:00")]),  # 24 h, reopened once
            TicketFact(priority="P3", category="Drucker", created_at=at("2026-12-01T10:00")),  # open
            # 00:30 on 1 October in Berlin (22:30 UTC on 30 September): Q4 for this customer, resolved after 12 h
            TicketFact(priority="P3", created_at=at("2026-09-30T22:30"), resolved_at=at("2026-10-01T10:30"),
                       resolutions=[at("2026-10-01T10:30")]),
        ],
        sla=[
            SlaFact(kind="response", met=True, stopped_at=at("2026-10-05T08:10")),
            SlaFact(kind="response", met=True, stopped_at=at("2026-11-10T09:30")),
            SlaFact(kind="response", met=True, stopped_at=at("2026-12-01T11:00")),
            SlaFact(kind="response", met=False, stopped_at=at("2026-10-01T09:00")),
            SlaFact(kind="resolution", met=True, stopped_at=at("2026-10-05T12:00")),
            SlaFact(kind="resolution", met=False, stopped_at=at("2026-11-11T09:00")),
        ],
        security_source=True,
        incidents=[
            IncidentFact(severity="high", first_alert_at=at("2026-10-10T08:00"),
                         acknowledged_at=at("2026-10-10T08:30")),
            IncidentFact(severity="medium", first_alert_at=at("2026-11-11T08:00")),
        ],
        devices_source=True,
        devices=[
            DeviceFact(asset_type="server", managed=True, warranty_end=date(2027, 6, 30)),
            DeviceFact(asset_type="workstation", managed=True, warranty_end=date(2026, 12, 31)),
            DeviceFact(asset_type="laptop", managed=True, warranty_end=date(2026, 11, 1)),
            DeviceFact(asset_type="laptop", managed=False),
        ],
        contract_lines=LINES,
        contingents=[ContingentFact(included_minutes=600, start_date=date(2026, 11, 15))],
        billable_minutes=750,
    )  # fmt: skip


def previous() -> QbrFacts:
    return facts_from_rows(
        quarter="2026-Q3",
        time_zone="Europe/Berlin",
        tickets=[
            TicketFact(priority="P2", category="Netzwerk", created_at=at("2026-07-01T10:00"),
                       resolved_at=at("2026-07-01T12:00"), resolutions=[at("2026-07-01T12:00")]),
        ],
        sla=[
            SlaFact(kind="response", met=True, stopped_at=at("2026-07-01T10:05")),
            SlaFact(kind="response", met=True, stopped_at=at("2026-08-01T10:05")),
            SlaFact(kind="resolution", met=True, stopped_at=at("2026-07-01T12:00")),
        ],
        contract_lines=LINES,
        billable_minutes=90,
    )  # fmt: skip
