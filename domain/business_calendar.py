"""Business-time arithmetic for SLA clocks in DACH (Germany, Austria, Switzerland).

Pure logic: no I/O beyond zoneinfo/holidays data lookups and no ``datetime.now()``, so the module can be
imported inside the Temporal workflow sandbox (via ``imports_passed_through``) as well as from activities.

Conventions (valid for the whole module):

* Opening hours are local wall-clock times in the calendar's ``time_zone``; 08:00-17:00 is 9 hours of
  business time on DST-change days as well. A 24/7 calendar (``always_open``) counts real elapsed time, so
  the local day of 29 March 2026 has 23 hours in Europe/Berlin.
* Weekdays are keyed ``0`` (Monday) .. ``6`` (Sunday), like ``date.weekday()``; "mon".."sun" (or full
  English names) are accepted on input and normalised to integers.
* Every ``datetime`` argument must be timezone-aware (any zone); every returned ``datetime`` is aware and in
  UTC. Internally all arithmetic is done in UTC because comparing/adding aware datetimes that share a
  ``ZoneInfo`` uses wall-clock semantics and silently ignores ``fold`` around DST changes.
* A business interval is half-open ``[open, close)``: the closing instant itself is not open.
* Precedence per local day: closure or public holiday -> closed; otherwise the weekday's hours, cut off at
  the half-day closing time if the day has one (explicit ``half_days`` entry wins over ``half_day_rules``).
* Wall-clock -> instant mapping on DST days: an ambiguous wall time (autumn) maps to its first occurrence,
  a non-existent wall time (spring gap) maps to the transition instant. This mapping is monotonic, so
  adjacent wall-clock intervals stay adjacent and no instant is counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.regions import DEFAULT_TIME_ZONES, Country

__all__ = [
    "BusinessCalendar",
    "CalendarSpec",
    "Country",
    "DEFAULT_TIME_ZONES",
    "MAX_CLOSED_DAYS",
]


# Safety bound: searching for the next opening gives up after this many consecutive closed days (~10 years).
MAX_CLOSED_DAYS = 3660

_MINUTES_PER_DAY = 24 * 60
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_LONG_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_MMDD = re.compile(r"^(\d{2})-(\d{2})$")


# --------------------------------------------------------------------------------------------------------------
# Parsing helpers (input normalisation for the pydantic model)
# --------------------------------------------------------------------------------------------------------------


def _to_minute(value: Any, *, allow_24: bool) -> int:
    """Minute of day for an "HH:MM" string or a ``time``; "24:00" (= 1440) only when ``allow_24``."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"{value!r}: wall-clock times must be naive and whole minutes")
        return value.hour * 60 + value.minute
    if not isinstance(value, str):
        raise ValueError(f"expected 'HH:MM' or datetime.time, got {value!r}")
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a 'HH:MM' time")
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and (hour, minute) == (24, 0):
        return _MINUTES_PER_DAY
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a valid time of day" + (" ('24:00' is allowed)" if allow_24 else ""))
    return hour * 60 + minute


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_interval(value: Any) -> tuple[str, str]:
    """Accept ("08:00", "12:00"), [time(8), time(12)] or "08:00-12:00"; return the canonical string pair."""
    if isinstance(value, str):
        parts = re.split(r"\s*[-\u2013]\s*", value.strip())
        if len(parts) != 2:
            raise ValueError(f"{value!r} is not an interval like '08:00-12:00'")
        value = parts
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"an opening interval needs exactly a start and an end, got {value!r}")
    start = _to_minute(value[0], allow_24=False)
    end = _to_minute(value[1], allow_24=True)
    if start >= end:
        raise ValueError(f"interval {_fmt_minute(start)}-{_fmt_minute(end)}: start must be before end")
    return _fmt_minute(start), _fmt_minute(end)


def _parse_weekday(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"invalid weekday {value!r}")
    if isinstance(value, int):
        day = value
    elif isinstance(value, str):
        key = value.strip().lower()
        if key.isdigit():
            day = int(key)
        elif key in _WEEKDAY_NAMES:
            day = _WEEKDAY_NAMES.index(key)
        elif key in _WEEKDAY_LONG_NAMES:
            day = _WEEKDAY_LONG_NAMES.index(key)
        else:
            raise ValueError(f"invalid weekday {value!r}: use 0 (Monday) .. 6 (Sunday) or 'mon' .. 'sun'")
    else:
        raise ValueError(f"invalid weekday {value!r}")
    if not 0 <= day <= 6:
        raise ValueError(f"invalid weekday {value!r}: use 0 (Monday) .. 6 (Sunday)")
    return day


def _parse_hours(value: Any) -> Any:
    """Normalise weekday keys to 0..6 before pydantic validates the dict (and catch duplicates like 0/'mon')."""
    if not isinstance(value, dict):
        return value
    result: dict[int, Any] = {}
    for key, intervals in value.items():
        day = _parse_weekday(key)
        if day in result:
            raise ValueError(f"weekday {_WEEKDAY_NAMES[day]!r} is given more than once")
        result[day] = intervals
    return result


def _parse_closing_time(value: Any) -> str:
    return _fmt_minute(_to_minute(value, allow_24=True))


def _parse_month_day(value: Any) -> str:
    if not isinstance(value, str) or not (match := _MMDD.match(value.strip())):
        raise ValueError(f"{value!r} is not a 'MM-DD' month-day")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2000, month, day)  # leap year, so "02-29" is accepted (applies in leap years only)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid month-day") from None
    return f"{month:02d}-{day:02d}"


WallClock = Annotated[str, BeforeValidator(_parse_closing_time)]
Interval = Annotated[tuple[str, str], BeforeValidator(_parse_interval)]
MonthDay = Annotated[str, BeforeValidator(_parse_month_day)]


# --------------------------------------------------------------------------------------------------------------
# Calendar specification (pure data, JSON round-trippable)
# --------------------------------------------------------------------------------------------------------------


class CalendarSpec(BaseModel):
    """Declarative description of a business calendar; turn it into arithmetic with ``BusinessCalendar``.

    ``hours`` maps weekday 0 (Monday) .. 6 (Sunday) to sorted, non-overlapping ``("HH:MM", "HH:MM")``
    intervals in local wall-clock time ("24:00" allowed as end). Missing weekdays are closed. Intervals
    crossing midnight must be split into two days.

    ``half_days`` (specific dates) and ``half_day_rules`` (recurring "MM-DD") give an early closing time:
    that day's regular hours are cut off there; a day without regular hours stays closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str
    country: Country | None = None
    subdivision: str | None = None
    hours: Annotated[dict[int, list[Interval]], BeforeValidator(_parse_hours)] = Field(default_factory=dict)
    closures: list[date] = Field(default_factory=list)
    half_days: dict[date, WallClock] = Field(default_factory=dict)
    half_day_rules: dict[MonthDay, WallClock] = Field(default_factory=dict)
    always_open: bool = False

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: dict[int, list[tuple[str, str]]]) -> dict[int, list[tuple[str, str]]]:
        result: dict[int, list[tuple[str, str]]] = {}
        for day in sorted(value):
            intervals = sorted(value[day], key=lambda iv: _to_minute(iv[0], allow_24=False))
            for previous, current in zip(intervals, intervals[1:], strict=False):
                if _to_minute(current[0], allow_24=False) < _to_minute(previous[1], allow_24=True):
                    raise ValueError(
                        f"{_WEEKDAY_NAMES[day]}: intervals {previous[0]}-{previous[1]} and "
                        f"{current[0]}-{current[1]} overlap"
                    )
            result[day] = intervals
        return result

    @field_validator("subdivision")
    @classmethod
    def _check_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if "country" not in info.data:
            raise ValueError("subdivision cannot be checked because country is invalid")
        country = info.data["country"]
        if country is None:
            raise ValueError("subdivision given without country")
        return f"{country}-{_holiday_subdivision(country, value)}"  # canonical "DE-BY"

    @field_validator("closures")
    @classmethod
    def _sort_closures(cls, value: list[date]) -> list[date]:
        return sorted(set(value))  # deterministic serialisation (set order of dates depends on the hash seed)

    @model_validator(mode="after")
    def _check_consistency(self) -> CalendarSpec:
        if not self.always_open and not any(self.hours.values()):
            raise ValueError("calendar has no opening hours (set hours or always_open=True)")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches instances per key

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "Europe/Berlin") -> CalendarSpec:
        """24/7 calendar (premium / P1): every instant is business time, holidays are ignored."""
        return cls(time_zone=time_zone, always_open=True)

    @classmethod
    def standard_dach(
        cls,
        country: Country,
        subdivision: str | None = None,
        time_zone: str | None = None,
        *,
        opens: str | time = "08:00",
        closes: str | time = "17:00",
        half_day_closes: str | time = "12:00",
        closures: list[date] | tuple[date, ...] = (),
    ) -> CalendarSpec:
        """Mon-Fri ``opens``-``closes`` with public holidays of country/subdivision, 24.12. and 31.12. as half
        days (closing at ``half_day_closes``) in every year; time zone defaults to the country's capital."""
        return cls(
            time_zone=time_zone or DEFAULT_TIME_ZONES[country],
            country=country,
            subdivision=subdivision,
            hours={day: [(opens, closes)] for day in range(5)},
            closures=list(closures),
            half_day_rules={"12-24": half_day_closes, "12-31": half_day_closes},
        )


# Read once at import: instantiating a holidays calendar touches gettext/locale, which the workflow sandbox
# forbids while it decodes a CalendarSpec.
_SUPPORTED_SUBDIVISIONS: dict[str, tuple[str, ...]] = {
    country: tuple(subdivs)
    for country, subdivs in holidays.list_supported_countries().items()
    if country in DEFAULT_TIME_ZONES
}


def _holiday_subdivision(country: str, subdivision: str) -> str:
    """Map "DE-BY" / "AT-9" / "CH-ZH" (or the bare code) to the code the holidays package expects."""
    supported = _SUPPORTED_SUBDIVISIONS[country]
    raw = subdivision.strip()
    prefix, sep, code = raw.partition("-")
    if not sep:
        code = raw
    elif prefix.upper() != country:
        raise ValueError(f"subdivision {subdivision!r} does not belong to country {country!r}")
    for candidate in supported:
        if candidate.casefold() == code.casefold():
            return candidate
    raise ValueError(
        f"unknown subdivision {subdivision!r} for {country}; known: {', '.join(f'{country}-{s}' for s in supported)}"
    )


# --------------------------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------------------------

_Span = tuple[datetime, datetime]  # UTC [open, close)


def _as_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


class BusinessCalendar:
    """Business-time arithmetic over a ``CalendarSpec``.

    Works interval by interval, day by day (never minute by minute). Public holidays are loaded lazily per
    year and cached on the instance together with a bounded cache of per-day intervals; instances are cheap
    and deterministic, but not meant to be shared across threads.
    """

    _DAY_CACHE_LIMIT = 4096

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = spec.zone
        self._always_open = spec.always_open
        self._hours: dict[int, tuple[tuple[int, int], ...]] = {
            day: tuple((_to_minute(start, allow_24=False), _to_minute(end, allow_24=True)) for start, end in intervals)
            for day, intervals in spec.hours.items()
            if intervals
        }
        if not self._always_open and not self._hours:
            # Also guards specs built with model_construct(), which skips validation.
            raise ValueError("calendar has no opening hours")
        self._closures = frozenset(spec.closures)
        self._half_days = {day: _to_minute(v, allow_24=True) for day, v in spec.half_days.items()}
        self._half_day_rules = {
            (int(md[:2]), int(md[3:])): _to_minute(v, allow_24=True) for md, v in spec.half_day_rules.items()
        }
        self._holiday_subdiv = (
            _holiday_subdivision(spec.country, spec.subdivision) if spec.country and spec.subdivision else None
        )
        self._holidays_by_year: dict[int, frozenset[date]] = {}
        self._day_cache: dict[date, tuple[_Span, ...]] = {}

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "Europe/Berlin") -> BusinessCalendar:
        return cls(CalendarSpec.twenty_four_seven(time_zone))

    # ---- calendar facts -------------------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        """Public holiday of the configured country/subdivision (always False without a country)."""
        if self.spec.country is None:
            return False
        dates = self._holidays_by_year.get(day.year)
        if dates is None:
            dates = frozenset(
                holidays.country_holidays(self.spec.country, subdiv=self._holiday_subdiv, years=day.year).keys()
            )
            self._holidays_by_year[day.year] = dates
        return day in dates

    def opening_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Business intervals of a local calendar day as UTC ``[open, close)`` pairs (empty when closed)."""
        if self._always_open:
            return [(self._wall_to_utc(day, 0), self._wall_to_utc(day + timedelta(days=1), 0))]
        return list(self._spans(day))

    def is_open(self, at: datetime) -> bool:
        if self._always_open:
            _as_utc(at, "at")
            return True
        t = _as_utc(at, "at")
        return any(start <= t < end for start, end in self._spans(self._local_date(t)))

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (as UTC) if the calendar is open then, otherwise the start of the next business interval."""
        t = _as_utc(at, "at")
        if self._always_open:
            return t
        return next(self._spans_from(t))[0]

    # ---- arithmetic -----------------------------------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Earliest instant at which ``duration`` of business time has elapsed on a clock that starts at
        ``next_opening(start)``. A zero duration therefore returns ``next_opening(start)``; a positive one may
        return a closing instant (e.g. Friday 17:00), never the following opening. Result is aware UTC."""
        t = _as_utc(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration!r}")
        if self._always_open:
            return t + duration
        remaining = duration
        for open_at, close_at in self._spans_from(t):
            available = close_at - open_at
            if remaining <= available:
                return open_at + remaining
            remaining -= available
        raise AssertionError("unreachable: _spans_from is infinite or raises")  # pragma: no cover

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """See ``add_business_time``; ``minutes`` must be a non-negative integer."""
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise TypeError(f"minutes must be an int, got {minutes!r}")
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        return self.add_business_time(start, timedelta(minutes=minutes))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Exact business time in ``[a, b)``; zero if ``b <= a``."""
        ta, tb = _as_utc(a, "a"), _as_utc(b, "b")
        if tb <= ta:
            return timedelta(0)
        if self._always_open:
            return tb - ta
        total = timedelta(0)
        day, last_day = self._local_date(ta), self._local_date(tb)
        while day <= last_day:
            for open_at, close_at in self._spans(day):
                lo, hi = max(open_at, ta), min(close_at, tb)
                if lo < hi:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def business_seconds_between(self, a: datetime, b: datetime) -> int:
        """Whole business seconds in ``[a, b)`` (floored; exact for whole-second inputs)."""
        return self.business_time_between(a, b) // timedelta(seconds=1)

    def business_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole business minutes in ``[a, b)`` (floored; exact for whole-minute inputs)."""
        return self.business_time_between(a, b) // timedelta(minutes=1)

    # ---- internals ------------------------------------------------------------------------------------------

    def _local_date(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()

    def _wall_minutes(self, day: date) -> list[tuple[int, int]]:
        """Opening intervals of a local day in minutes of the wall clock, after closures/holidays/half days."""
        base = self._hours.get(day.weekday())
        if not base or day in self._closures or self.is_holiday(day):
            return []
        closing = self._half_days.get(day)
        if closing is None:
            closing = self._half_day_rules.get((day.month, day.day))
        if closing is None:
            return list(base)
        return [(start, min(end, closing)) for start, end in base if start < closing]

    def _spans(self, day: date) -> tuple[_Span, ...]:
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        spans: list[_Span] = []
        for start, end in self._wall_minutes(day):
            open_at = self._wall_to_utc(day, start)
            close_at = self._wall_to_utc(day, end)
            if open_at >= close_at:
                continue  # interval lies entirely inside a DST gap
            if spans and spans[-1][1] == open_at:
                spans[-1] = (spans[-1][0], close_at)  # merge touching intervals
            else:
                spans.append((open_at, close_at))
        result = tuple(spans)
        if len(self._day_cache) >= self._DAY_CACHE_LIMIT:
            self._day_cache.clear()
        self._day_cache[day] = result
        return result

    def _spans_from(self, t: datetime) -> Iterator[_Span]:
        """Business spans clipped to start at or after ``t``, in order; raises after MAX_CLOSED_DAYS closed days."""
        day = self._local_date(t)
        closed_days = 0
        while True:
            spans = self._spans(day)
            found = False
            for open_at, close_at in spans:
                if close_at > t:
                    found = True
                    yield max(open_at, t), close_at
            if found:
                closed_days = 0
            else:
                closed_days += 1
                if closed_days > MAX_CLOSED_DAYS:
                    raise ValueError(f"no opening hours within {MAX_CLOSED_DAYS} days after {day}")
            day += timedelta(days=1)

    def _wall_to_utc(self, day: date, minute: int) -> datetime:
        """Monotonic wall-clock -> UTC mapping: ambiguous times take their first occurrence, times inside a DST
        gap map to the transition instant (the first instant whose wall time is at or after them)."""
        if minute == _MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        first = naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if first.astimezone(self.zone).replace(tzinfo=None) == naive:
            return first
        # Non-existent wall time: fold=0 used the pre-gap offset (too late), fold=1 the post-gap offset (too
        # early). Bisect for the transition between them; it lies on a whole second.
        lo = naive.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        hi = first
        if lo > hi:
            lo, hi = hi, lo
        hi_offset = hi.astimezone(self.zone).utcoffset()
        while hi - lo > timedelta(seconds=1):
            mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
            if mid.astimezone(self.zone).utcoffset() == hi_offset:
                hi = mid
            else:
                lo = mid
        return hi
