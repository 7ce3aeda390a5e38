"""Hour contingents: included hours per month used by billable time in the order it was worked.

Minutes carried over from the month before are used first (they expire first), then the month's own. What the
contingent covers costs nothing at the base rate; surcharges (evening, weekend, holiday) are billed on top all the
same, as most MSP contracts say. Time beyond the contingent is billed at the contract's overage rate, or at the
activity's rate when the contract names none. With ``CarryOver.NEXT_MONTH`` the unused part of the month's own
minutes (up to a cap) moves to the next month and expires there; carried-in minutes never carry twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.billing.time_billing import BilledTime


class CarryOver(StrEnum):
    NONE = "none"
    NEXT_MONTH = "next_month"


@dataclass(frozen=True)
class ContingentTerms:
    included_minutes: int
    overage_rate: Decimal | None = None  # net per hour; None: the activity type's rate
    carry_over: CarryOver = CarryOver.NONE
    carry_over_cap_minutes: int | None = None  # None: no cap
    activity_types: frozenset[str] = frozenset()  # the types the contingent covers; empty: all

    def __post_init__(self) -> None:
        if self.included_minutes < 0 or (self.carry_over_cap_minutes or 0) < 0:
            raise ValueError("contingent minutes must not be negative")

    def covers(self, activity_type: str) -> bool:
        return not self.activity_types or activity_type in self.activity_types


@dataclass(frozen=True)
class ContingentUse:
    covered: dict[UUID, int]  # entry id -> billed minutes the contingent covers
    carried_in_minutes: int
    used_minutes: int
    carried_out_minutes: int


def apply_contingent(
    entries: Sequence[BilledTime], terms: ContingentTerms, carried_in_minutes: int = 0
) -> ContingentUse:
    """Which minutes of `entries` (in the order worked) the contingent covers, and what carries to next month."""
    if carried_in_minutes < 0:
        raise ValueError("carried-in minutes must not be negative")
    carried_left, own_left = carried_in_minutes, terms.included_minutes
    covered: dict[UUID, int] = {}
    for entry in entries:
        if not terms.covers(entry.activity_type):
            continue
        need = entry.billed_minutes
        from_carried = min(need, carried_left)
        from_own = min(need - from_carried, own_left)
        carried_left -= from_carried
        own_left -= from_own
        if from_carried + from_own:
            covered[entry.entry_id] = from_carried + from_own
    carried_out = 0
    if terms.carry_over == CarryOver.NEXT_MONTH:
        cap = terms.carry_over_cap_minutes
        carried_out = own_left if cap is None else min(own_left, cap)
    used = sum(covered.values())
    return ContingentUse(covered, carried_in_minutes, used, carried_out)
