"""Tests for domain.business_calendar: hand-computed SLA cases (DST, holidays, half days) plus properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import MAX_CLOSED_DAYS, CalendarSpec

BERLIN = ZoneInfo("Europe/Berlin")
VIENNA = ZoneInfo("Europe/Vienna")
ZURICH = ZoneInfo("Europe/Zurich")

SPLIT = [("08:00", "12:00"), ("13:00", "17:00")]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def dach(subdivision: str, **kwargs) -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec.standard_dach(subdivision[:2], subdivision, **kwargs))


def split_by() -> BusinessCalendar:
    spec = CalendarSpec(
        time_zone="Europe/Berlin",
        country="DE",
        subdivision="DE-BY",
        hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SPLIT),
        half_day_rules={"12-24": "12:00", "12-31": "12:00"},
    )
    return BusinessCalendar(spec)


# ---- hand-computed cases --------------------------------------------------------------------------------------


def test_p3_example_across_spring_dst_change() -> None:
    cal = dach("DE-BY")
    # Friday 16:55: 5 minutes left on Friday, weekend incl. 29 March (23 h day) skipped, 235 minutes from 08:00.
    result = cal.add_business_minutes(berlin(2026, 3, 27, 16, 55), 240)
    assert result == berlin(2026, 3, 30, 11, 55)
    assert result.tzinfo is UTC
    assert result.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert cal.business_minutes_between(berlin(2026, 3, 27, 16, 55), result) == 240


def test_across_autumn_dst_change() -> None:
    cal = dach("DE-BY")
    start = berlin(2026, 10, 23, 16, 0)  # Friday, CEST
    result = cal.add_business_minutes(start, 120)
    assert result == berlin(2026, 10, 26, 9, 0)  # Monday, CET
    assert result.astimezone(BERLIN).utcoffset() == timedelta(hours=1)
    assert cal.business_minutes_between(start, result) == 120


def test_business_hours_on_dst_days_are_wall_clock_hours() -> None:
    every_day = BusinessCalendar(
        CalendarSpec(time_zone="Europe/Berlin", hours={day: [("08:00", "17:00")] for day in range(7)})
    )
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(day, time(0), tzinfo=BERLIN)
        assert every_day.business_minutes_between(start, start + timedelta(days=1)) == 9 * 60


def test_ends_exactly_at_closing_time_not_next_opening() -> None:
    cal = dach("DE-BY")
    assert cal.add_business_minutes(berlin(2026, 3, 27, 16, 0), 60) == berlin(2026, 3, 27, 17, 0)
    assert not cal.is_open(berlin(2026, 3, 27, 17, 0))  # intervals are half-open


def test_zero_minutes_returns_next_opening() -> None:
    cal = dach("DE-BY")
    assert cal.add_business_minutes(berlin(2026, 3, 25, 10, 30), 0) == berlin(2026, 3, 25, 10, 30)
    assert cal.add_business_minutes(berlin(2026, 3, 25, 17, 0), 0) == berlin(2026, 3, 26, 8, 0)
    assert cal.add_business_minutes(berlin(2026, 3, 28, 12, 0), 0) == berlin(2026, 3, 30, 8, 0)


def test_start_outside_hours_starts_clock_at_next_opening() -> None:
    cal = dach("DE-BY")
    assert cal.add_business_minutes(berlin(2026, 3, 25, 6, 0), 30) == berlin(2026, 3, 25, 8, 30)
    assert cal.add_business_minutes(berlin(2026, 3, 25, 20, 0), 30) == berlin(2026, 3, 26, 8, 30)


def test_seconds_are_kept_exactly() -> None:
    cal = dach("DE-BY")
    start = berlin(2026, 3, 25, 16, 59, 30)
    assert cal.add_business_minutes(start, 1) == berlin(2026, 3, 26, 8, 0, 30)
    assert cal.business_seconds_between(start, berlin(2026, 3, 26, 8, 0, 30)) == 60
    assert cal.business_minutes_between(start, berlin(2026, 3, 26, 8, 0, 29)) == 0  # 59 s floor to 0 minutes
    exact = timedelta(seconds=30, microseconds=500)
    assert cal.business_time_between(start, berlin(2026, 3, 26, 8, 0, 0, 500)) == exact


def test_between_is_zero_for_reversed_or_closed_ranges() -> None:
    cal = dach("DE-BY")
    assert cal.business_minutes_between(berlin(2026, 3, 27, 12, 0), berlin(2026, 3, 27, 11, 0)) == 0
    assert cal.business_minutes_between(berlin(2026, 3, 28, 8, 0), berlin(2026, 3, 29, 20, 0)) == 0  # weekend


def test_inputs_in_other_time_zones() -> None:
    cal = dach("DE-BY")
    start = datetime(2026, 3, 27, 15, 55, tzinfo=UTC)  # 16:55 Berlin
    assert cal.add_business_minutes(start, 240) == berlin(2026, 3, 30, 11, 55)


# ---- public holidays ------------------------------------------------------------------------------------------


def test_corpus_christi_in_bavaria_not_in_berlin() -> None:
    by, be = dach("DE-BY"), dach("DE-BE")
    assert by.is_holiday(date(2026, 6, 4)) and not be.is_holiday(date(2026, 6, 4))
    start = berlin(2026, 6, 3, 16, 0)  # Wednesday
    assert by.add_business_minutes(start, 120) == berlin(2026, 6, 5, 9, 0)
    assert be.add_business_minutes(start, 120) == berlin(2026, 6, 4, 9, 0)


def test_repentance_day_only_in_saxony() -> None:
    sn, by = dach("DE-SN"), dach("DE-BY")
    at = berlin(2026, 11, 18, 10, 0)  # Buss- und Bettag, Wednesday
    assert not sn.is_open(at)
    assert sn.next_opening(at) == berlin(2026, 11, 19, 8, 0)
    assert by.is_open(at)


def test_immaculate_conception_in_vienna() -> None:
    cal = dach("AT-9")
    assert cal.spec.time_zone == "Europe/Vienna"
    at = datetime(2026, 12, 8, 10, 0, tzinfo=VIENNA)
    assert not cal.is_open(at)
    assert cal.next_opening(at) == datetime(2026, 12, 9, 8, 0, tzinfo=VIENNA)
    assert cal.is_holiday(date(2026, 12, 8))
    assert not dach("DE-BY").is_holiday(date(2026, 12, 8))


def test_swiss_cantons() -> None:
    zh, ge = dach("CH-ZH"), dach("CH-GE")
    # Labour Day is a public holiday in Zurich but not in Geneva; Jeune genevois only in Geneva.
    assert not zh.is_open(datetime(2026, 5, 1, 10, 0, tzinfo=ZURICH))
    assert ge.is_open(datetime(2026, 5, 1, 10, 0, tzinfo=ZURICH))
    assert ge.is_holiday(date(2026, 9, 10)) and not zh.is_holiday(date(2026, 9, 10))
    # 31.12. is a half day in Zurich but Restoration Day (holiday, closed all day) in Geneva: holiday wins.
    new_years_eve, new_year = datetime(2026, 12, 31, tzinfo=ZURICH), datetime(2027, 1, 1, tzinfo=ZURICH)
    assert zh.business_minutes_between(new_years_eve, new_year) == 240
    assert ge.business_minutes_between(new_years_eve, new_year) == 0


def test_no_country_means_no_holidays() -> None:
    cal = BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", hours={"mon": ["08:00-17:00"]}))
    assert not cal.is_holiday(date(2026, 1, 1))
    assert cal.is_open(berlin(2027, 5, 17, 9, 0))  # Whit Monday 2027 would be a holiday with a country


# ---- split hours, weekends, half days, closures ---------------------------------------------------------------


def test_split_hours_lunch_break() -> None:
    cal = split_by()
    lunch = berlin(2026, 3, 3, 12, 30)
    assert not cal.is_open(lunch)
    assert cal.next_opening(lunch) == berlin(2026, 3, 3, 13, 0)
    assert cal.add_business_minutes(lunch, 30) == berlin(2026, 3, 3, 13, 30)
    assert cal.add_business_minutes(berlin(2026, 3, 3, 11, 30), 60) == berlin(2026, 3, 3, 13, 30)
    assert cal.business_minutes_between(berlin(2026, 3, 3, 11, 0), berlin(2026, 3, 3, 14, 0)) == 120
    assert cal.is_open(berlin(2026, 3, 3, 12, 0) - timedelta(microseconds=1))
    assert not cal.is_open(berlin(2026, 3, 3, 12, 0))


def test_sunday() -> None:
    cal = split_by()
    sunday = berlin(2026, 3, 1, 10, 0)
    assert not cal.is_open(sunday)
    assert cal.next_opening(sunday) == berlin(2026, 3, 2, 8, 0)
    assert cal.add_business_minutes(sunday, 300) == berlin(2026, 3, 2, 14, 0)


def test_christmas_half_day_and_holidays() -> None:
    cal = dach("DE-BY")
    # Thu 24.12. open until 12:00; 25./26. holidays (Fri/Sat), Sunday; continue Monday 28.12.
    assert cal.add_business_minutes(berlin(2026, 12, 24, 11, 0), 120) == berlin(2026, 12, 28, 9, 0)
    assert not cal.is_open(berlin(2026, 12, 24, 12, 0))
    assert cal.is_open(berlin(2026, 12, 24, 11, 59))
    # Thu 31.12. half day, Fri 1.1.2027 New Year.
    assert cal.add_business_minutes(berlin(2026, 12, 31, 11, 0), 120) == berlin(2027, 1, 4, 9, 0)


def test_explicit_half_day_overrides_rule_and_split_hours_are_cut() -> None:
    spec = CalendarSpec(
        time_zone="Europe/Berlin",
        hours=dict.fromkeys(range(5), SPLIT),
        half_days={date(2026, 12, 24): "14:00"},
        half_day_rules={"12-24": "12:00"},
    )
    cal = BusinessCalendar(spec)
    day_start, day_end = berlin(2026, 12, 24), berlin(2026, 12, 25)
    assert cal.business_minutes_between(day_start, day_end) == 4 * 60 + 60
    assert cal.business_minutes_between(berlin(2027, 12, 24), berlin(2027, 12, 25)) == 4 * 60  # rule, Friday


def test_closure_day() -> None:
    cal = dach("DE-BY", closures=[date(2026, 12, 28)])
    assert not cal.is_open(berlin(2026, 12, 28, 10, 0))
    assert cal.add_business_minutes(berlin(2026, 12, 24, 11, 0), 120) == berlin(2026, 12, 29, 9, 0)


# ---- 24/7 -----------------------------------------------------------------------------------------------------


def test_always_open_counts_real_time_across_dst() -> None:
    cal = BusinessCalendar.twenty_four_seven("Europe/Berlin")
    assert cal.business_minutes_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * 60
    assert cal.business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * 60
    assert cal.add_business_minutes(berlin(2026, 3, 28, 12, 0), 24 * 60) == berlin(2026, 3, 29, 13, 0)
    assert cal.is_open(berlin(2026, 12, 25, 3, 0))
    assert cal.next_opening(berlin(2026, 12, 25, 3, 0)) == berlin(2026, 12, 25, 3, 0)
    assert sum((e - s for s, e in cal.opening_intervals(date(2026, 3, 29))), timedelta()) == timedelta(hours=23)


def test_midnight_hours_calendar_matches_24_7_across_dst() -> None:
    # 00:00-24:00 every day (not always_open) is the same set of instants as 24/7, DST days included.
    full = BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", hours={d: [("00:00", "24:00")] for d in range(7)}))
    always = BusinessCalendar.twenty_four_seven()
    for start in (berlin(2026, 3, 28, 22, 15), berlin(2026, 10, 24, 23, 59), berlin(2026, 10, 25, 2, 30)):
        for minutes in (0, 59, 61, 180, 24 * 60, 10_000):
            assert full.add_business_minutes(start, minutes) == always.add_business_minutes(start, minutes)


def test_hours_inside_dst_gap_and_repeated_hour() -> None:
    cal = BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", hours={6: ["01:00-02:30", "02:30-04:00"]}))
    # 29.03.: wall clock 02:00-03:00 does not exist -> 3 wall hours are 2 real hours, nothing counted twice.
    assert cal.business_minutes_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 120
    # 25.10.: 02:00-03:00 happens twice -> 4 real hours.
    assert cal.business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 240
    assert cal.business_minutes_between(berlin(2026, 3, 22), berlin(2026, 3, 23)) == 180


# ---- validation -----------------------------------------------------------------------------------------------


def test_bad_time_zone() -> None:
    with pytest.raises(ValidationError, match="time_zone"):
        CalendarSpec(time_zone="Europe/Nowhere", hours={0: ["08:00-17:00"]})


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [("DE", "DE-XX"), ("AT", "AT-10"), ("CH", "CH-XY"), ("DE", "AT-9"), (None, "DE-BY")],
)
def test_bad_subdivision(country: str | None, subdivision: str) -> None:
    with pytest.raises(ValidationError, match="subdivision"):
        CalendarSpec(time_zone="Europe/Berlin", country=country, subdivision=subdivision, hours={0: ["08:00-17:00"]})


def test_subdivision_is_normalised() -> None:
    assert CalendarSpec.standard_dach("DE", "de-by").subdivision == "DE-BY"
    assert CalendarSpec.standard_dach("AT", "9").subdivision == "AT-9"
    assert CalendarSpec.standard_dach("CH", "CH-zh").subdivision == "CH-ZH"


@pytest.mark.parametrize(
    "hours",
    [
        {0: [("08:00", "12:00"), ("11:00", "17:00")]},  # overlap
        {0: [("13:00", "17:00"), ("08:00", "13:30")]},  # overlap, given unsorted
        {0: [("12:00", "08:00")]},  # start after end
        {0: [("08:00", "08:00")]},  # empty
        {0: [("24:00", "24:00")]},  # 24:00 only as end
        {0: [("08:00", "25:00")]},
        {0: ["8-17"]},
        {7: [("08:00", "17:00")]},  # no such weekday
        {"mon": [("08:00", "12:00")], 0: [("13:00", "17:00")]},  # Monday twice
        {},
        {0: []},
    ],
)
def test_bad_hours(hours: dict) -> None:
    with pytest.raises(ValidationError):
        CalendarSpec(time_zone="Europe/Berlin", hours=hours)


def test_no_hours_message() -> None:
    with pytest.raises(ValueError, match="calendar has no opening hours"):
        CalendarSpec(time_zone="Europe/Berlin")
    with pytest.raises(ValueError, match="calendar has no opening hours"):
        BusinessCalendar(CalendarSpec.model_construct(time_zone="Europe/Berlin", hours={}, always_open=False))


def test_hours_normalisation_and_json_round_trip() -> None:
    spec = CalendarSpec(
        time_zone="Europe/Berlin",
        country="DE",
        subdivision="DE-BY",
        hours={"Monday": [(time(13), "24:00"), "08:00-12:00"], "6": [("9:30", "12:00")]},
        closures=[date(2026, 12, 28), date(2026, 12, 28), date(2026, 8, 14)],
        half_days={date(2026, 12, 24): time(12)},
        half_day_rules={"12-31": "12:00"},
    )
    assert spec.hours == {0: [("08:00", "12:00"), ("13:00", "24:00")], 6: [("09:30", "12:00")]}
    assert spec.closures == [date(2026, 8, 14), date(2026, 12, 28)]
    assert spec.half_days == {date(2026, 12, 24): "12:00"}
    assert CalendarSpec.model_validate_json(spec.model_dump_json()) == spec


@pytest.mark.parametrize("rules", [{"13-01": "12:00"}, {"02-30": "12:00"}, {"12-24": "noon"}, {"24.12.": "12:00"}])
def test_bad_half_day_rules(rules: dict) -> None:
    with pytest.raises(ValidationError):
        CalendarSpec(time_zone="Europe/Berlin", hours={0: ["08:00-17:00"]}, half_day_rules=rules)


def test_naive_datetimes_rejected() -> None:
    cal = dach("DE-BY")
    naive = datetime(2026, 3, 27, 16, 55)
    aware = berlin(2026, 3, 27, 16, 55)
    for call in (
        lambda: cal.add_business_minutes(naive, 10),
        lambda: cal.business_minutes_between(naive, aware),
        lambda: cal.business_minutes_between(aware, naive),
        lambda: cal.is_open(naive),
        lambda: cal.next_opening(naive),
        lambda: BusinessCalendar.twenty_four_seven().add_business_minutes(naive, 10),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_negative_minutes_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        dach("DE-BY").add_business_minutes(berlin(2026, 3, 27, 12, 0), -1)


def test_safety_bound_when_never_open() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=w) for w in range(MAX_CLOSED_DAYS // 7 + 10)]
    cal = BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", hours={0: ["08:00-17:00"]}, closures=mondays))
    with pytest.raises(ValueError, match="no opening hours within"):
        cal.next_opening(berlin(2026, 1, 1))


def test_large_minute_counts_are_fast() -> None:
    cal = dach("DE-BY")
    start = berlin(2026, 1, 2, 9, 0)
    end = cal.add_business_minutes(start, 1_000_000)  # ~7 years of business time
    assert cal.business_minutes_between(start, end) == 1_000_000


# ---- properties -----------------------------------------------------------------------------------------------

CALENDARS = {
    "DE-BY split": split_by(),
    "AT-9": dach("AT-9"),
    "CH-ZH": dach("CH-ZH"),
    "24/7": BusinessCalendar.twenty_four_seven(),
    # Boundaries inside the DST gap / repeated hour stress the wall-clock -> instant mapping.
    "night shift": BusinessCalendar(
        CalendarSpec(
            time_zone="Europe/Berlin",
            hours={d: ["00:00-02:30", "02:30-03:30", "22:00-24:00"] for d in range(7)},
            country="DE",
            subdivision="DE-BE",
        )
    ),
}
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None)

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2028, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) - 1
_ZONES = [UTC, BERLIN, VIENNA, ZURICH]

# Europe-wide DST changes (01:00 UTC) in 2026/2027; a third of the instants lands within three days of one.
_DST_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC),
    datetime(2027, 10, 31, 1, tzinfo=UTC),
]
_near_dst = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(_DST_CHANGES),
    st.integers(-3 * 24 * 3600, 3 * 24 * 3600),
)
_anywhere = st.one_of(
    st.integers(0, _SPAN_SECONDS // 60).map(lambda m: _EPOCH + timedelta(minutes=m)),
    st.integers(0, _SPAN_SECONDS).map(lambda s: _EPOCH + timedelta(seconds=s)),
)
instants = st.builds(lambda utc, zone: utc.astimezone(zone), st.one_of(_anywhere, _near_dst), st.sampled_from(_ZONES))
minute_counts = st.integers(0, 20_000)
calendar_names = pytest.mark.parametrize("name", list(CALENDARS))


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants, a=minute_counts, b=minute_counts)
def test_add_is_associative(name: str, t: datetime, a: int, b: int) -> None:
    cal = CALENDARS[name]
    intermediate = cal.add_business_minutes(t, a)
    if b > 0:
        assert cal.add_business_minutes(intermediate, b) == cal.add_business_minutes(t, a + b)
    else:
        # minutes == 0 means "next opening", so a chain ending on a closing instant moves on to the next opening.
        assert cal.add_business_minutes(intermediate, 0) == cal.next_opening(cal.add_business_minutes(t, a))


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants, m=minute_counts)
def test_between_inverts_add(name: str, t: datetime, m: int) -> None:
    cal = CALENDARS[name]
    t0 = cal.next_opening(t)
    end = cal.add_business_minutes(t0, m)
    assert cal.business_minutes_between(t0, end) == m
    assert cal.business_minutes_between(t, end) == m  # nothing counts before the next opening
    assert cal.business_seconds_between(t, end) == 60 * m
    assert cal.add_business_minutes(t, m) == end


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants, m=st.integers(1, 20_000))
def test_add_is_minimal(name: str, t: datetime, m: int) -> None:
    # The result is the first instant with m minutes elapsed: just before it the calendar was open.
    cal = CALENDARS[name]
    end = cal.add_business_minutes(t, m)
    assert cal.is_open(end - timedelta(microseconds=1))
    assert end.tzinfo is UTC


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants, delta=st.integers(0, 30 * 24 * 3600), a=minute_counts, b=minute_counts)
def test_monotonic(name: str, t: datetime, delta: int, a: int, b: int) -> None:
    cal = CALENDARS[name]
    later = t.astimezone(UTC) + timedelta(seconds=delta)  # real time; aware arithmetic in t's zone is wall-clock
    low, high = sorted((a, b))
    assert cal.add_business_minutes(t, low) <= cal.add_business_minutes(t, high)
    assert cal.add_business_minutes(t, a) <= cal.add_business_minutes(later, a)
    assert cal.business_minutes_between(t, later) <= cal.business_minutes_between(t, later + timedelta(hours=1))


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants, d1=st.integers(0, 20 * 24 * 3600), d2=st.integers(0, 20 * 24 * 3600))
def test_between_is_additive_and_bounded(name: str, t: datetime, d1: int, d2: int) -> None:
    cal = CALENDARS[name]
    t = t.astimezone(UTC)  # add real time, not wall-clock time, across DST changes
    mid, end = t + timedelta(seconds=d1), t + timedelta(seconds=d1 + d2)
    total = cal.business_time_between(t, end)
    assert total == cal.business_time_between(t, mid) + cal.business_time_between(mid, end)
    assert timedelta(0) <= total <= end - t


@calendar_names
@PROPERTY_SETTINGS
@given(t=instants)
def test_next_opening(name: str, t: datetime) -> None:
    cal = CALENDARS[name]
    opening = cal.next_opening(t)
    assert opening >= t
    assert cal.is_open(opening)
    assert cal.business_time_between(t, opening) == timedelta(0)
    # Compare in UTC: == between zones is always False for an ambiguous (fold) local time (PEP 495).
    assert (opening == t.astimezone(UTC)) == cal.is_open(t)
