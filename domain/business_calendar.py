"""Business-time arithmetic for SLA clocks in DACH (Germany, Austria, Switzerland).

Pure logic: no I/O beyond zoneinfo/holidays data lookups and no ``datetime.now()``, so the module can be
run by workflows (checked by tests/architecture/determinism.py) as well as by activities.

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

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import holidays

from domain.calendar_spec import MAX_CLOSED_DAYS, CalendarSpec, holiday_subdivision, to_minute

__all__ = ["BusinessCalendar"]

_MINUTES_PER_DAY = 24 * 60


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
            day: tuple((to_minute(start, allow_24=False), to_minute(end, allow_24=True)) for start, end in intervals)
            for day, intervals in spec.hours.items()
            if intervals
        }
        if not self._always_open and not self._hours:
            # Also guards specs built with model_construct(), which skips validation.
            raise ValueError("calendar has no opening hours")
        self._closures = frozenset(spec.closures)
        self._half_days = {day: to_minute(v, allow_24=True) for day, v in spec.half_days.items()}
        self._half_day_rules = {
            (int(md[:2]), int(md[3:])): to_minute(v, allow_24=True) for md, v in spec.half_day_rules.items()
        }
        self._holiday_subdiv = (
            holiday_subdivision(spec.country, spec.subdivision) if spec.country and spec.subdivision else None
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
