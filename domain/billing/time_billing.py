"""Billable time: rounding per the contract, the rate of the activity type, and surcharges by the customer's calendar.

An entry's minutes are split by when they were worked, in the customer's business calendar (its time zone, hours,
half days and the public holidays of its state or canton):

* ``business_hours``: inside the opening hours, no surcharge;
* ``after_hours``: a working day outside the opening hours (evenings, mornings, the afternoon of 24.12.);
* ``weekend``: a Saturday or Sunday outside any opening hours the calendar gives it;
* ``holiday``: a public holiday of the customer's region.

The contract rounds each entry up to its block (e.g. every started 15 minutes) after an optional minimum; the minutes
added by rounding are billed like the entry's last minute (the block that was started). Each class's share is priced
at the activity type's hourly rate plus the class's surcharge in percent. All amounts are `Decimal`, rounded half-up
to the cent per entry and class, so every invoice line is reproducible by hand.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.billing.money import money
from domain.business_calendar import BusinessCalendar


class TimeClass(StrEnum):
    BUSINESS_HOURS = "business_hours"
    AFTER_HOURS = "after_hours"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class TimeRules:
    """The contract's terms for time: rounding, rates per activity type, surcharges in percent per time class."""

    rates: dict[str, Decimal]  # activity type -> net price per hour
    default_rate: Decimal | None = None  # for activity types without their own rate; None: such entries are errors
    round_up_minutes: int = 1  # bill every started block of this many minutes
    minimum_minutes: int = 0  # an entry is billed at least this long (e.g. a call-out)
    surcharges: dict[TimeClass, Decimal] = field(default_factory=dict)  # percent on top of the rate

    def __post_init__(self) -> None:
        if self.round_up_minutes < 1 or self.minimum_minutes < 0:
            raise ValueError("round_up_minutes must be at least 1 and minimum_minutes not negative")
        if any(rate < 0 for rate in self.rates.values()) or any(p < 0 for p in self.surcharges.values()):
            raise ValueError("rates and surcharges must not be negative")

    def rate(self, activity_type: str) -> Decimal:
        rate = self.rates.get(activity_type, self.default_rate)
        if rate is None:
            raise BillingRuleError(f"no hourly rate for the activity type {activity_type!r} in the contract")
        return rate


class BillingRuleError(ValueError):
    """The contract cannot price this input (a missing rate, a negative duration): the draft names it."""


@dataclass(frozen=True)
class WorkedTime:
    entry_id: UUID
    started_at: datetime
    minutes: int
    activity_type: str


@dataclass(frozen=True)
class BilledTime:
    entry_id: UUID
    activity_type: str
    worked_minutes: int
    billed_minutes: int
    minutes_by_class: dict[TimeClass, int]  # billed minutes, rounding included
    rate: Decimal  # per hour

    def base_amount(self, minutes: int | None = None) -> Decimal:
        """Net price of `minutes` (default: all billed minutes) at the plain rate."""
        return money(self.rate * Decimal(self.billed_minutes if minutes is None else minutes) / Decimal(60))


def rounded_minutes(minutes: int, rules: TimeRules) -> int:
    """Minutes billed for `minutes` worked: at least the minimum, then every started block in full."""
    if minutes <= 0:
        raise BillingRuleError(f"a time entry of {minutes} minutes cannot be billed")
    minutes = max(minutes, rules.minimum_minutes)
    block = rules.round_up_minutes
    return -(-minutes // block) * block


def classify(calendar: BusinessCalendar, start: datetime, minutes: int) -> list[tuple[TimeClass, int]]:
    """The worked minutes of [start, start + minutes) by time class, in the order they were worked."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    end = start + timedelta(minutes=minutes)
    parts: list[tuple[TimeClass, int]] = []  # seconds first, minutes at the end
    cursor = start
    while cursor < end:
        local = cursor.astimezone(calendar.zone)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), calendar.zone)
        day_end = min(end, next_midnight)
        outside = _outside_class(calendar, local)
        # Walk the day's opening intervals: inside them business hours, between them the day's outside class.
        for open_at, close_at in calendar.opening_intervals(local.date()):
            lo, hi = max(open_at, cursor), min(close_at, day_end)
            if lo >= hi:
                continue
            _add(parts, outside, lo - cursor)
            _add(parts, TimeClass.BUSINESS_HOURS, hi - lo)
            cursor = hi
        _add(parts, outside, day_end - cursor)
        cursor = day_end
    return _in_minutes(parts, minutes)


def _outside_class(calendar: BusinessCalendar, local: datetime) -> TimeClass:
    if calendar.is_holiday(local.date()):
        return TimeClass.HOLIDAY
    return TimeClass.WEEKEND if local.weekday() >= 5 else TimeClass.AFTER_HOURS


def _add(parts: list[tuple[TimeClass, int]], time_class: TimeClass, span: timedelta) -> None:
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return
    if parts and parts[-1][0] == time_class:
        parts[-1] = (time_class, parts[-1][1] + seconds)
    else:
        parts.append((time_class, seconds))


def _in_minutes(parts: list[tuple[TimeClass, int]], total: int) -> list[tuple[TimeClass, int]]:
    """Seconds per class as whole minutes that add up to `total` (an entry starting at hh:mm:30 splits a minute)."""
    result, given, elapsed = [], 0, 0
    for time_class, seconds in parts:
        elapsed += seconds
        minutes = round(elapsed / 60) - given  # cumulative rounding: the sum stays exact
        if minutes:
            result.append((time_class, minutes))
            given += minutes
    if given != total and result:
        result[-1] = (result[-1][0], result[-1][1] + total - given)
    return result


def bill_time(entry: WorkedTime, rules: TimeRules, calendar: BusinessCalendar) -> BilledTime:
    """The entry as billed: rounded, split by time class, at its activity type's rate."""
    billed = rounded_minutes(entry.minutes, rules)
    parts = classify(calendar, entry.started_at, entry.minutes)
    by_class: dict[TimeClass, int] = {}
    for time_class, minutes in parts:
        by_class[time_class] = by_class.get(time_class, 0) + minutes
    extra = billed - entry.minutes  # the rest of the started block, billed like the last worked minute
    last_class = parts[-1][0] if parts else TimeClass.BUSINESS_HOURS
    by_class[last_class] = by_class.get(last_class, 0) + extra
    return BilledTime(
        entry_id=entry.entry_id,
        activity_type=entry.activity_type,
        worked_minutes=entry.minutes,
        billed_minutes=billed,
        minutes_by_class={k: v for k, v in by_class.items() if v},
        rate=rules.rate(entry.activity_type),
    )


def surcharge_amounts(billed: BilledTime, rules: TimeRules) -> dict[TimeClass, Decimal]:
    """The surcharge of each time class that has one (net, cents half-up): rate x minutes / 60 x percent."""
    amounts = {}
    for time_class, minutes in billed.minutes_by_class.items():
        percent = rules.surcharges.get(time_class, Decimal(0))
        if percent:
            amounts[time_class] = money(billed.rate * Decimal(minutes) / Decimal(60) * percent / Decimal(100))
    return amounts
