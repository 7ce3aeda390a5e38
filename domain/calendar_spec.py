"""Business calendars as data (`CalendarSpec`): opening hours per weekday, public holidays of a DACH country and
state/canton, half days and closures, validated and normalised for the API and the SLA engine. The arithmetic over
a spec is `domain.business_calendar.BusinessCalendar`; conventions are described there."""

from __future__ import annotations

import re
from datetime import date, time
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


def to_minute(value: Any, *, allow_24: bool) -> int:
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
    start = to_minute(value[0], allow_24=False)
    end = to_minute(value[1], allow_24=True)
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
    return _fmt_minute(to_minute(value, allow_24=True))


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


# Christmas Eve and New Year's Eve close at noon in DACH offices unless a calendar says otherwise.
DEFAULT_HALF_DAY_RULES = {"12-24": "12:00", "12-31": "12:00"}


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
            intervals = sorted(value[day], key=lambda iv: to_minute(iv[0], allow_24=False))
            for previous, current in zip(intervals, intervals[1:], strict=False):
                if to_minute(current[0], allow_24=False) < to_minute(previous[1], allow_24=True):
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
        return f"{country}-{holiday_subdivision(country, value)}"  # canonical "DE-BY"

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
        half_day_closes: str | time | None = None,
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
            half_day_rules={md: half_day_closes or noon for md, noon in DEFAULT_HALF_DAY_RULES.items()},
        )


# Read once at import: instantiating a holidays calendar touches gettext/locale, which decoding every CalendarSpec
# (each ticket's SLA context) need not repeat.
_SUPPORTED_SUBDIVISIONS: dict[str, tuple[str, ...]] = {
    country: tuple(subdivs)
    for country, subdivs in holidays.list_supported_countries().items()
    if country in DEFAULT_TIME_ZONES
}


def holiday_subdivision(country: str, subdivision: str) -> str:
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
