"""Recurring contract lines in a billing month: which are due, for which span, and their pro-rata share.

A billing run covers one calendar month. Lines are billed in advance for their cycle:

* ``monthly``: every month, for the days of the month the line runs;
* ``quarterly``: in the first month of each calendar quarter for the quarter, and in the month a line starts for the
  rest of its first quarter;
* ``yearly``: in the month of each anniversary of the line's start, for the year from there;
* ``one_time``: in the month the line starts, once, in full.

A line that starts or ends inside its span is billed pro rata by days: quantity x unit price x days running / days
of the span, rounded half-up to the cent once, on the line (the invoice shows the days so it can be checked).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import money


class Cycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONE_TIME = "one_time"


@dataclass(frozen=True)
class BillingMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "BillingMonth":
        """'2026-11' -> BillingMonth(2026, 11); ValueError naming the expected form otherwise."""
        try:
            year, month = (int(part) for part in text.split("-"))
            date(year, month, 1)
        except ValueError:
            raise ValueError(f"{text!r} is not a billing month; expected YYYY-MM, e.g. 2026-11") from None
        return cls(year, month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class RecurringCharge:
    span_start: date  # the cycle's span this month bills
    span_end: date
    billed_from: date  # the days of the span the line runs
    billed_to: date
    factor: Decimal  # days running / days of the span (1 when the whole span runs)
    amount: Decimal

    @property
    def days(self) -> int:
        return (self.billed_to - self.billed_from).days + 1

    @property
    def span_days(self) -> int:
        return (self.span_end - self.span_start).days + 1


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _span(cycle: Cycle, line_start: date, month: BillingMonth) -> tuple[date, date] | None:
    """The cycle span this month bills in advance, or None when nothing of this line is due this month."""
    if cycle == Cycle.MONTHLY:
        return month.first, month.last
    if cycle == Cycle.ONE_TIME:
        return (line_start, line_start) if month.first <= line_start <= month.last else None
    if cycle == Cycle.QUARTERLY:
        quarter_first = date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)
        quarter_last = BillingMonth(quarter_first.year, quarter_first.month + 2).last
        # In advance in the quarter's first month for lines running by then; a line starting later in the quarter
        # is billed in its start month (never both: that would bill the quarter twice).
        due = line_start <= month.last if month.first == quarter_first else month.first <= line_start <= month.last
        return (quarter_first, quarter_last) if due else None
    years = month.year - line_start.year
    anniversary = _add_years(line_start, years)
    if years < 0 or not (month.first <= anniversary <= month.last):
        return None
    return anniversary, _add_years(line_start, years + 1) - timedelta(days=1)


def recurring_charge(
    cycle: Cycle,
    quantity: Decimal,
    unit_price: Decimal,
    line_start: date,
    line_end: date | None,
    month: BillingMonth,
) -> RecurringCharge | None:
    """What a recurring line costs in `month`, or None when it is not due or does not run in its span."""
    if quantity < 0:
        raise ValueError(f"quantity {quantity} is negative; a credit is its own line")
    if line_end is not None and line_end < line_start:
        raise ValueError(f"the line ends ({line_end}) before it starts ({line_start})")
    span = _span(cycle, line_start, month)
    if span is None:
        return None
    span_start, span_end = span
    billed_from = max(span_start, line_start)
    billed_to = span_end if line_end is None else min(span_end, line_end)
    if billed_to < billed_from:
        return None
    days = Decimal((billed_to - billed_from).days + 1)
    span_days = Decimal((span_end - span_start).days + 1)
    factor = days / span_days
    return RecurringCharge(span_start, span_end, billed_from, billed_to, factor, money(quantity * unit_price * factor))
