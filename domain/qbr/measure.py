"""A KPI value that may be unknown: a Decimal, or `NA` ("k. A.", keine Angabe) when the hub has no source for it.
`NA` is a value of its own, so an unknown never turns into a zero in a sum or a chart by accident."""

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class NotAvailable(StrEnum):
    NA = "k. A."


NA = NotAvailable.NA
Measure = Decimal | NotAvailable


def rounded(value: Decimal, places: int = 1) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def share(part: int, whole: int, places: int = 1) -> Measure:
    """`part` of `whole` in percent; NA for an empty whole (no case to measure is not 0 % nor 100 %)."""
    if whole == 0:
        return NA
    return rounded(Decimal(100) * part / whole, places)


def mean(values: list[Decimal], places: int = 1) -> Measure:
    return rounded(sum(values, Decimal(0)) / len(values), places) if values else NA


def change(current: Measure, previous: Measure) -> Measure:
    """current - previous, NA if either is unknown."""
    if isinstance(current, NotAvailable) or isinstance(previous, NotAvailable):
        return NA
    return current - previous
