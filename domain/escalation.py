"""Escalation policies as data: a versioned document of levels that ops staff design, validated here.

A level fires when a ticket's SLA clock reaches its trigger (a share of the target used, minutes before or
after the breach, or the breach itself), if its conditions match the ticket at that moment; it then runs its
actions. The JSON Schema of `EscalationPolicyDocument` is published by the API for policy editors.
"""

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

from domain.roles import Role
from domain.tickets import Priority


class TargetKind(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"
    UPDATE = "update"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- triggers: each maps to "business minutes used on the clock" -----------------------------------------


class PercentUsed(_Strict):
    type: Literal["percent_used"] = "percent_used"
    percent: int = Field(gt=0, le=100, description="Share of the target used, e.g. 75")


class BeforeBreach(_Strict):
    type: Literal["before_breach"] = "before_breach"
    minutes: int = Field(gt=0, le=100_000, description="Business minutes before the due time")


class OnBreach(_Strict):
    type: Literal["on_breach"] = "on_breach"


class AfterBreach(_Strict):
    type: Literal["after_breach"] = "after_breach"
    minutes: int = Field(gt=0, le=100_000, description="Business minutes after the due time")


Trigger = Annotated[PercentUsed | BeforeBreach | OnBreach | AfterBreach, Field(discriminator="type")]


def trigger_threshold_seconds(trigger: Trigger, target_minutes: int) -> int:
    """Business seconds on the clock at which the trigger is reached (never below zero)."""
    target = target_minutes * 60
    match trigger:
        case PercentUsed(percent=p):
            return target * p // 100
        case BeforeBreach(minutes=m):
            return max(0, target - m * 60)
        case OnBreach():
            return target
        case AfterBreach(minutes=m):
            return target + m * 60
    raise ValueError(f"unknown trigger {trigger!r}")


# --- recipients and actions -------------------------------------------------------------------------------


class RoleRecipient(_Strict):
    role: Role = Field(description="Everybody with this role (customer roles: of the ticket's customer)")


class UserRecipient(_Strict):
    user_id: UUID


class AddressRecipient(_Strict):
    address: EmailStr


Recipient = RoleRecipient | UserRecipient | AddressRecipient


class _Notification(_Strict):
    business_hours_only: bool = Field(
        default=False, description="Hold the notification until the customer's calendar opens"
    )


class NotifyEmail(_Notification):
    type: Literal["notify_email"] = "notify_email"
    to: list[Recipient] = Field(min_length=1, max_length=20)
    message: str | None = Field(default=None, max_length=2_000)


class NotifyWebhook(_Notification):
    type: Literal["notify_webhook"] = "notify_webhook"
    url: HttpUrl
    format: Literal["teams", "json"] = "json"


class PageOnCall(_Strict):
    type: Literal["page_on_call"] = "page_on_call"
    url: HttpUrl = Field(description="Paging webhook (on-call tool)")
    business_hours_only: Literal[False] = False


class Reassign(_Strict):
    type: Literal["reassign"] = "reassign"
    queue: str = Field(min_length=1, max_length=64)


class RaisePriority(_Strict):
    type: Literal["raise_priority"] = "raise_priority"
    to: Priority | None = Field(default=None, description="Target priority; empty raises by one step")


Action = Annotated[NotifyEmail | NotifyWebhook | PageOnCall | Reassign | RaisePriority, Field(discriminator="type")]
NOTIFYING_ACTIONS = (NotifyEmail, NotifyWebhook, PageOnCall)


class Conditions(_Strict):
    """All given lists must contain the ticket's value; an empty condition always matches."""

    priorities: list[Priority] = Field(default_factory=list)
    customer_numbers: list[str] = Field(default_factory=list, max_length=500)
    categories: list[str] = Field(default_factory=list, max_length=100)
    queues: list[str] = Field(default_factory=list, max_length=100)

    def matches(self, *, priority: Priority, customer_number: str, category: str | None, queue: str | None) -> bool:
        return (
            (not self.priorities or priority in self.priorities)
            and (not self.customer_numbers or customer_number in self.customer_numbers)
            and (not self.categories or category in self.categories)
            and (not self.queues or queue in self.queues)
        )


class Level(_Strict):
    # Shown to people (German names with umlauts welcome); ':' separates parts of the firing key.
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^:\x00-\x1f\x7f]+$")
    target: TargetKind
    trigger: Trigger
    conditions: Conditions = Field(default_factory=Conditions)
    actions: list[Action] = Field(min_length=1, max_length=10)


class EscalationPolicyDocument(_Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2_000)
    levels: list[Level] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _unique_level_names(self) -> "EscalationPolicyDocument":
        seen: set[str] = set()
        for i, level in enumerate(self.levels):
            if level.name in seen:
                raise ValueError(f"levels.{i}.name: duplicate level name {level.name!r}")
            seen.add(level.name)
        return self


def raised(priority: Priority, to: Priority | None) -> Priority:
    """The priority after a raise action: explicit target (never a lowering) or one step up."""
    order = list(Priority)  # P1 (highest) .. P4
    if to is not None:
        return to if order.index(to) < order.index(priority) else priority
    return order[max(0, order.index(priority) - 1)]
