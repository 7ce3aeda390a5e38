"""Calendar quarters as the QBR reports them: `2026-Q4`, its previous quarter (Q1 → the previous year's Q4) and its
bounds as instants in the customer's time zone (a quarter starts at local midnight, not at UTC midnight)."""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# ASCII digits only (int() would also read full-width digits); "2026-Q4" and "2026Q4" are both accepted.
_QUARTER = re.compile(r"([0-9]{4})-?[Qq]([1-4])")


def local_days(first: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """[local midnight of `first`, local midnight of `end`) in `zone`, as UTC instants: a report period's bounds."""
    tz = ZoneInfo(zone)
    start, stop = (datetime.combine(day, datetime.min.time(), tz) for day in (first, end))
    return start.astimezone(UTC), stop.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 2000 <= self.year <= 2999:
            raise ValueError(f"{self.year}-Q{self.number} is not a quarter")

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = _QUARTER.fullmatch(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a quarter; expected YYYY-Qn, e.g. 2026-Q4")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def month_spans(self) -> list[tuple[date, date]]:
        """(first day, last day) of each of the quarter's months."""
        months = range(3 * self.number - 2, 3 * self.number + 1)
        return [(date(self.year, m, 1), date(self.year, m, calendar.monthrange(self.year, m)[1])) for m in months]

    @property
    def months(self) -> list[str]:
        """The quarter's months as YYYY-MM."""
        return [f"{self.year}-{m:02d}" for m in range(3 * self.number - 2, 3 * self.number + 1)]

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight of the next quarter's first day."""
        return local_days(self.first_day, self.next().first_day, zone)

    def label(self) -> str:
        """German label for documents: "Q4 2026"."""
        return f"Q{self.number} {self.year}"

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def quarter_before(at: datetime, zone: str) -> Quarter:
    """The quarter a run started at `at` reports on: the one before the quarter `at` falls in, in `zone`."""
    return Quarter.of(at.astimezone(ZoneInfo(zone)).date()).previous()


def parse_quarter(text: str) -> str:
    """'2026Q4' or '2026-Q4' as the canonical '2026-Q4'; ValueError otherwise."""
    return str(Quarter.parse(text))


def first_working_day(quarter: Quarter, is_holiday: Callable[[date], bool]) -> date:
    """The quarter's first Monday-to-Friday day that is no public holiday (1 January 2026 is a holiday, so Q1 2026
    starts working on Friday 2 January)."""
    day = quarter.first_day
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return day


def quarter_due(today: date, is_holiday: Callable[[date], bool]) -> Quarter | None:
    """The quarter whose QBRs a schedule tick on `today` (a local day) starts: the one before, on the first working
    day of a quarter; None on any other day."""
    quarter = Quarter.of(today)
    return quarter.previous() if today == first_working_day(quarter, is_holiday) else None
