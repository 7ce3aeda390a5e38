"""The period a report covers: a calendar quarter (`Quarter`, the QBR) or a calendar month (`Month`, the monthly
service report). Both answer the same questions (previous period, first and last day, the months in it, bounds as
instants in the customer's zone), so the KPI engine (domain/qbr/kpis.py) computes either without knowing which."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.qbr.quarter import Quarter, local_days

# ASCII digits only (int() would also read full-width digits).
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    number: int  # 1..12

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12 or not 2000 <= self.year <= 2999:
            raise ValueError(f"{self.year}-{self.number:02d} is not a month")

    @classmethod
    def parse(cls, text: str) -> "Month":
        match = _MONTH.fullmatch(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a month; expected YYYY-MM, e.g. 2026-11")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    def previous(self) -> "Month":
        return Month(self.year - 1, 12) if self.number == 1 else Month(self.year, self.number - 1)

    def next(self) -> "Month":
        return Month(self.year + 1, 1) if self.number == 12 else Month(self.year, self.number + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])

    def month_spans(self) -> list[tuple[date, date]]:
        return [(self.first_day, self.last_day)]

    @property
    def months(self) -> list[str]:
        return [str(self)]

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the 1st to local midnight of the next month's 1st."""
        return local_days(self.first_day, self.next().first_day, zone)

    def label(self) -> str:
        """German label for documents: "November 2026"."""
        return f"{MONTH_NAMES[self.number - 1]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year}-{self.number:02d}"


MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
               "November", "Dezember")  # fmt: skip

ReportPeriod = Quarter | Month


def report_period(text: str) -> ReportPeriod:
    """'2026-Q4' / '2026Q4' → a Quarter, '2026-11' → a Month; ValueError naming both forms otherwise."""
    try:
        return Month.parse(text) if _MONTH.fullmatch(text.strip()) else Quarter.parse(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a report period; expected YYYY-Qn (2026-Q4) or YYYY-MM (2026-11)") from None


def parse_report_period(text: str) -> str:
    """The canonical text of a quarter or a month."""
    return str(report_period(text))


def parse_month(text: str) -> str:
    """'2026-11' as the canonical month; ValueError otherwise."""
    return str(Month.parse(text))


def month_before(at: datetime, zone: str) -> Month:
    """The month a run started at `at` reports on: the one before the month `at` falls in, in `zone`."""
    return Month.of(at.astimezone(ZoneInfo(zone)).date()).previous()
