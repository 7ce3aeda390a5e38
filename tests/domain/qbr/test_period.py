"""Months as report periods next to quarters: parsing, the month before across a year, bounds at local midnight in
the customer's zone (also across the change from summer to winter time), and the KPI engine over two months."""

from datetime import UTC, datetime

import pytest

from domain.qbr.aggregate import facts_from_rows
from domain.qbr.facts import TicketFact
from domain.qbr.kpis import compute_kpis
from domain.qbr.period import Month, month_before, parse_month, parse_report_period, report_period
from domain.qbr.quarter import Quarter


def test_a_month_parses_and_steps_across_years():
    assert Month.parse("2026-11") == Month(2026, 11) and str(Month(2026, 1)) == "2026-01"
    assert Month(2026, 1).previous() == Month(2025, 12) and Month(2025, 12).next() == Month(2026, 1)
    assert Month(2024, 2).last_day.day == 29 and Month(2026, 11).label() == "November 2026"
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "2026-１１"):
        with pytest.raises(ValueError):
            parse_month(bad)


def test_report_period_tells_months_from_quarters():
    assert report_period("2026Q4") == Quarter(2026, 4) and report_period("2026-11") == Month(2026, 11)
    assert parse_report_period("2026q4") == "2026-Q4" and parse_report_period(" 2026-03 ") == "2026-03"
    with pytest.raises(ValueError, match="YYYY-Qn .* or YYYY-MM"):
        report_period("November")


def test_bounds_are_local_midnights():
    # 1 November 2026 is in winter time (UTC+1), 1 October in summer time (UTC+2).
    assert Month(2026, 10).bounds("Europe/Berlin") == (
        datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC))  # fmt: skip
    assert Month(2026, 11).bounds("America/New_York")[0] == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_month_before_a_run_in_the_schedules_zone():
    # 1 December 00:30 in Berlin is still 30 November in UTC: the month before is November.
    assert month_before(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Europe/Berlin") == Month(2026, 11)
    assert month_before(datetime(2027, 1, 2, 5, tzinfo=UTC), "Europe/Berlin") == Month(2026, 12)


def test_kpis_over_two_months():
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    tickets = [TicketFact(priority="P1", created_at=at("2026-10-31T23:30"), resolved_at=at("2026-11-02T10:00")),
               TicketFact(priority="P2", created_at=at("2026-10-31T22:30"))]  # fmt: skip
    contingents = [{"included_minutes": 600, "start_date": "2026-01-01"}]
    now = facts_from_rows("2026-11", "Europe/Berlin", tickets=tickets, contingents=contingents)
    before = facts_from_rows("2026-10", "Europe/Berlin", tickets=tickets, contingents=contingents)
    kpis = compute_kpis(now, before, "K1", "Muster")
    # 31 Oct 23:30 UTC is 1 Nov 00:30 in Berlin; 22:30 UTC is still October.
    assert (kpis.kpi("tickets_opened").current, kpis.kpi("tickets_opened").previous) == (1, 1)
    assert kpis.kpi("contingent_hours").current == 10  # one month of 600 minutes, not a quarter's three
    assert [m.month for m in kpis.months] == ["2026-10", "2026-11"]
    with pytest.raises(ValueError):
        compute_kpis(now, now.model_copy(update={"quarter": "2026-09"}), "K1", "Muster")
