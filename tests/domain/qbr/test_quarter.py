from datetime import UTC, date, datetime

import pytest

from domain.qbr.quarter import Quarter, parse_quarter, quarter_before, quarter_due


@pytest.mark.parametrize("text", ["2026-Q1", "2026Q1", "2026-q1", " 2026-Q1 "])
def test_spellings_of_a_quarter(text):
    assert Quarter.parse(text) == Quarter(2026, 1) and parse_quarter(text) == "2026-Q1"


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026-13", "２０２６-Q1", "26-Q1", "", "1999-Q4"])
def test_bad_quarters_are_refused(text):
    with pytest.raises(ValueError):
        Quarter.parse(text)


def test_previous_of_q1_is_q4_of_the_year_before():
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2026, 3).previous() == Quarter(2026, 2)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)


def test_bounds_are_local_midnights():
    start, end = Quarter(2026, 1).bounds("Europe/Berlin")
    assert start == datetime(2025, 12, 31, 23, tzinfo=UTC)  # CET
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)  # CEST since 29 March
    assert Quarter(2026, 1).last_day == date(2026, 3, 31)
    assert Quarter(2026, 4).month_spans()[1] == (date(2026, 11, 1), date(2026, 11, 30))


def test_quarter_before_uses_the_local_day():
    new_year_berlin = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Berlin
    assert quarter_before(new_year_berlin, "Europe/Berlin") == Quarter(2025, 4)
    assert quarter_before(new_year_berlin, "UTC") == Quarter(2025, 3)


def _german_holidays(day: date) -> bool:
    from domain.business_calendar import BusinessCalendar
    from domain.calendar_spec import CalendarSpec

    return BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", country="DE", always_open=True)).is_holiday(day)


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 1, 1), None),  # Neujahr
        (date(2026, 1, 2), Quarter(2025, 4)),  # Friday: the first working day of Q1 2026
        (date(2026, 1, 5), None),
        (date(2026, 10, 1), Quarter(2026, 3)),  # Thursday
        (date(2027, 4, 1), Quarter(2027, 1)),  # Thursday after Easter Monday
        (date(2026, 11, 2), None),  # not a quarter's first month
    ],
)
def test_the_tick_runs_on_the_first_working_day_of_a_quarter(today, due):
    assert quarter_due(today, _german_holidays) == due
