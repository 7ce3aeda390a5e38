"""A contract's billing terms as stored on the contract (two JSON documents) and their mapping to the pure billing
classes. The billing run builds `TimeRules` and `ContingentTerms` only through `time_rules()` and `contingent_terms()`,
so what the API accepted is exactly what gets billed: no defaults are guessed later.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints, field_validator

from domain.billing.contingent import CarryOver, ContingentTerms
from domain.billing.money import money
from domain.billing.time_billing import TimeClass, TimeRules

# Net amounts in JSON as strings with two decimals ("95.00"): exact, and the same everywhere in the billing API.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    PlainSerializer(lambda v: str(money(v)), return_type=str, when_used="json"),
]
Percent = Annotated[
    Decimal,
    Field(ge=0, le=1000, max_digits=6, decimal_places=2),
    PlainSerializer(lambda v: str(money(v)), return_type=str, when_used="json"),
]
# Single-line text without control characters (PostgreSQL refuses NUL), as a time entry's activity type.
ActivityType = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
# Time outside business hours is what carries a surcharge; business hours are the plain rate.
SURCHARGE_CLASSES = frozenset({TimeClass.AFTER_HOURS, TimeClass.WEEKEND, TimeClass.HOLIDAY})


class TimeTerms(BaseModel):
    """How a contract prices time: rounding, minimum, rates per activity type, surcharges in percent."""

    model_config = ConfigDict(extra="forbid")

    round_up_minutes: int = Field(default=15, ge=1, le=240, description="Bill every started block of N minutes")
    minimum_minutes: int = Field(default=0, ge=0, le=480, description="An entry is billed at least this long")
    rates: dict[ActivityType, Amount] = Field(
        default_factory=dict, max_length=50, description="Net hourly rate per activity type"
    )
    default_rate: Amount | None = Field(
        default=None, description="For activity types without their own rate (else the price list by code)"
    )
    surcharges: dict[TimeClass, Percent] = Field(
        default_factory=dict, description="Percent on top of the rate: after_hours, weekend, holiday"
    )

    @field_validator("surcharges")
    @classmethod
    def _surcharge_classes(cls, value: dict[TimeClass, Decimal]) -> dict[TimeClass, Decimal]:
        wrong = sorted(set(value) - SURCHARGE_CLASSES)
        if wrong:
            allowed = ", ".join(sorted(SURCHARGE_CLASSES))
            raise ValueError(f"no surcharge for {', '.join(wrong)}; surcharges apply to {allowed}")
        return value


class ContingentDocument(BaseModel):
    """An hour contingent: included minutes per month, overage rate, carry-over rule, covered activity types."""

    model_config = ConfigDict(extra="forbid")

    included_minutes: int = Field(ge=0, le=100_000, description="Included per month, e.g. 600 for 10 hours")
    overage_rate: Amount | None = Field(default=None, description="Net per hour beyond; null: the activity's rate")
    carry_over: CarryOver = CarryOver.NONE
    carry_over_cap_minutes: int | None = Field(default=None, ge=0, le=100_000, description="null: no cap")
    activity_types: list[ActivityType] = Field(default_factory=list, max_length=50, description="empty: all")

    @field_validator("carry_over_cap_minutes")
    @classmethod
    def _cap_needs_carry_over(cls, value: int | None, info) -> int | None:  # noqa: ANN001
        if value is not None and info.data.get("carry_over") == CarryOver.NONE:
            raise ValueError("a cap needs carry_over next_month")
        return value


def time_rules(terms: TimeTerms, price_list: dict[str, Decimal] | None = None) -> TimeRules:
    """The contract's `TimeRules`; hourly prices of the price list (by product code = activity type) fill in the
    activity types the contract names no rate for, the contract's own rates win."""
    rates = dict(price_list or {}) | dict(terms.rates)
    return TimeRules(
        rates=rates,
        default_rate=terms.default_rate,
        round_up_minutes=terms.round_up_minutes,
        minimum_minutes=terms.minimum_minutes,
        surcharges=dict(terms.surcharges),
    )


def contingent_terms(document: ContingentDocument | None) -> ContingentTerms | None:
    """The contract's `ContingentTerms`, or None when it has no hour contingent."""
    if document is None:
        return None
    return ContingentTerms(
        included_minutes=document.included_minutes,
        overage_rate=document.overage_rate,
        carry_over=document.carry_over,
        carry_over_cap_minutes=document.carry_over_cap_minutes,
        activity_types=frozenset(document.activity_types),
    )


class RevenueType(StrEnum):
    """What a product earns: the seller maps each type and tax rate to a revenue account (SKR03/SKR04)."""

    MANAGED_SERVICES = "managed_services"
    LICENCES = "licences"
    LABOUR = "labour"
    HARDWARE = "hardware"
    OTHER = "other"
