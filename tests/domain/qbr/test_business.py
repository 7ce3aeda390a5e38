"""The MSP's business KPIs against a hand count over two quarters (2026-Q3, 2026-Q4, Europe/Berlin)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.qbr.business import BusinessFacts, InvoiceFact, TimeFact, business_kpis
from domain.qbr.measure import NA

D = Decimal


def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


CURRENT = BusinessFacts(
    quarter="2026-Q4",
    invoices=[
        InvoiceFact(tenant_id="a", issue_date=date(2026, 10, 1), net_total=D("1000.00")),
        InvoiceFact(tenant_id="a", issue_date=date(2026, 11, 1), net_total=D("1000.00")),
        InvoiceFact(tenant_id="b", issue_date=date(2026, 12, 31), net_total=D("600.00")),
        InvoiceFact(tenant_id="b", issue_date=date(2026, 12, 15), net_total=D("100.00"), credit_note=True),
        InvoiceFact(tenant_id="c", issue_date=date(2027, 1, 1), net_total=D("999.00")),  # next quarter
    ],
    contract_values={"a": D("1000.00"), "b": D("600.00"), "c": D("0")},
    technicians=2,
    available_minutes=30000,
    time_entries=[
        TimeFact(started_at=_at(10, 5), minutes=600, billable=True, billed=True),
        TimeFact(started_at=_at(11, 5), minutes=300, billable=True, billed=False),
        TimeFact(started_at=_at(12, 5), minutes=120, billable=False, billed=False),
        TimeFact(started_at=datetime(2026, 9, 30, 22, 30, tzinfo=UTC), minutes=60, billable=True, billed=True),
    ],  # the last one: 00:30 on 1 October in Berlin, so Q4
    tickets_opened={"a": 7, "b": 2},
)
PREVIOUS = BusinessFacts(
    quarter="2026-Q3",
    invoices=[InvoiceFact(tenant_id="a", issue_date=date(2026, 7, 1), net_total=D("2000.00"))],
    contract_values={"a": D("1000.00")},
    technicians=1,
    available_minutes=30000,
    time_entries=[TimeFact(started_at=_at(8, 3), minutes=3000, billable=True, billed=True)],
    tickets_opened={"a": 4},
)


@pytest.mark.parametrize(
    ("key", "now", "before"),
    [
        ("revenue", D("2500.00"), D("2000.00")),  # 1000 + 1000 + 600 - 100; the January invoice is not Q4
        ("customers_billed", D(2), D(1)),  # a and b
        ("revenue_per_customer", D("1250.00"), D("2000.00")),  # 2500 / 2
        ("revenue_growth", D("25.0"), NA),  # 100 x (2500 - 2000) / 2000
        ("average_contract_value", D("800.00"), D("1000.00")),  # (1000 + 600) / 2; c has none
        ("revenue_per_technician", D("1250.00"), D("2000.00")),  # 2500 / 2
        ("utilisation", D("1.6"), D("10.0")),  # (600 + 300 + 60) / (2 x 30000); 3000 / 30000
        ("tickets_per_customer", D("4.5"), D("4.0")),  # 9 / 2; 4 / 1
        ("billed_hours", D("11.00"), D("50.00")),  # (600 + 60) / 60; 3000 / 60
    ],
)
def test_business_kpi_by_hand(key, now, before):
    kpi = next(k for k in business_kpis(CURRENT, PREVIOUS) if k.key == key)
    assert (kpi.current, kpi.previous) == (now, before)


def test_without_technicians_or_customers_it_is_k_a():
    empty = business_kpis(BusinessFacts(quarter="2026-Q4"), BusinessFacts(quarter="2026-Q3"))
    by = {k.key: k.current for k in empty}
    assert by["revenue"] == D("0.00") and by["revenue_growth"] == NA
    assert by["revenue_per_customer"] == by["utilisation"] == by["tickets_per_customer"] == NA


def test_the_previous_quarter_must_be_the_one_before():
    with pytest.raises(ValueError, match="not the quarter before"):
        business_kpis(CURRENT, CURRENT)
