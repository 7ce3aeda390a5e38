"""Request and response bodies of the SLA administration routes: business calendars, SLA definitions, versioned
escalation policies and the SLA simulation.

The documents themselves (``CalendarSpec``, ``SlaDefinition``, ``EscalationPolicyDocument``) are the domain's
pydantic models, so the API validates exactly what the ticket workflow later runs.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, field_validator, model_validator

from api.schemas.common import Body, not_null, text
from domain.calendar_spec import DEFAULT_HALF_DAY_RULES, CalendarSpec
from domain.escalation import EscalationPolicyDocument, TargetKind
from domain.sla import PriorityTargets, SlaDefinition
from domain.tickets import Priority

DocumentName = text(100)
MAX_PAUSES = 50

# --- business calendars ---------------------------------------------------------------------------------------


def default_half_days(spec: Any) -> Any:
    """A calendar sent without `half_day_rules` closes at noon on 24.12. and 31.12. (send `{}` for none)."""
    if isinstance(spec, dict) and "half_day_rules" not in spec and not spec.get("always_open"):
        return spec | {"half_day_rules": DEFAULT_HALF_DAY_RULES}
    return spec


SpecWithDefaults = Annotated[
    CalendarSpec,
    BeforeValidator(default_half_days),
    Field(description="Without `half_day_rules`, 24.12. and 31.12. close at 12:00 (`{}`: no half days)"),
]


class CalendarCreate(Body):
    name: DocumentName = Field(description="Unique, e.g. 'Bayern Mo-Fr 8-17'")
    spec: SpecWithDefaults


class CalendarUpdate(Body):
    name: DocumentName | None = None
    spec: SpecWithDefaults | None = Field(default=None, description="Replaces the whole calendar")

    _required = field_validator("name", "spec")(not_null)


class CalendarPublic(BaseModel):
    id: UUID
    name: str
    spec: CalendarSpec
    created_at: datetime


# --- SLA definitions ------------------------------------------------------------------------------------------


class SlaDefinitionCreate(Body):
    name: DocumentName = Field(description="Unique, e.g. 'Standard' or 'Premium 24/7'")
    document: SlaDefinition
    escalation_policy_id: UUID | None = Field(default=None, description="Its active version applies to new tickets")
    is_default: bool = Field(
        default=False,
        description="The MSP default (for tenants without a contract SLA); setting it unsets the previous default",
    )


class SlaDefinitionUpdate(Body):
    name: DocumentName | None = None
    document: SlaDefinition | None = Field(default=None, description="Replaces the whole document")
    escalation_policy_id: UUID | None = Field(default=None, description="null detaches the policy")
    is_default: bool | None = None

    _required = field_validator("name", "document", "is_default")(not_null)


class SlaDefinitionPublic(BaseModel):
    id: UUID
    name: str
    document: SlaDefinition
    escalation_policy_id: UUID | None
    is_default: bool
    created_at: datetime


# --- escalation policies --------------------------------------------------------------------------------------


# Every policy write and check takes the document under "document", as creating a policy does.
class EscalationPolicyCheck(Body):
    document: EscalationPolicyDocument


class EscalationPolicyCreate(Body):
    name: DocumentName = Field(description="Unique name of the policy (its versions share it)")
    document: EscalationPolicyDocument = Field(description="Becomes version 1; activate it to use it")


class EscalationPolicyVersionCreate(Body):
    document: EscalationPolicyDocument = Field(description="Becomes the next version; activate it to use it")
    reason: text(500) | None = Field(default=None, description="Why the policy changes (kept in the audit trail)")


class PolicyValidation(BaseModel):
    valid: bool
    levels: int


class EscalationPolicyVersionPublic(BaseModel):
    id: UUID
    policy_id: UUID
    version: int
    active: bool
    document: EscalationPolicyDocument
    created_by_user_id: UUID | None
    created_at: datetime
    activated_at: datetime | None = Field(description="When this version last became the active one")


class EscalationPolicySummary(BaseModel):
    id: UUID
    name: str
    active_version_id: UUID | None
    active_version: int | None
    latest_version: int
    created_at: datetime


class EscalationPolicyPublic(EscalationPolicySummary):
    versions: list[EscalationPolicyVersionPublic]


# --- simulation -----------------------------------------------------------------------------------------------


class Pause(Body):
    """The ticket waits for the customer from ``start`` to ``end`` (its clocks are paused)."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> "Pause":
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        return self


def _exactly_one(body: BaseModel, names: tuple[str, ...], what: str) -> None:
    given = [name for name in names if getattr(body, name) is not None]
    choices = ", ".join(names[:-1]) + f" or {names[-1]}"
    if not given:
        raise ValueError(f"{names[0]}: give {what}: {choices}")
    if len(given) > 1:
        raise ValueError(f"{given[1]}: give only one of {choices} ({what}), not {' and '.join(given)}")


class SimulationRequest(Body):
    tenant_id: UUID | None = Field(default=None, description="Use this tenant's calendar (and customer number)")
    calendar: CalendarSpec | None = Field(default=None, description="An inline calendar instead of a tenant's")
    priority: Priority
    sla_definition_id: UUID | None = Field(default=None, description="A stored SLA definition")
    definition: SlaDefinition | None = Field(default=None, description="An inline SLA definition")
    targets: PriorityTargets | None = Field(default=None, description="Explicit targets for this priority")
    escalation_policy_id: UUID | None = Field(default=None, description="A stored policy: its active version")
    policy: EscalationPolicyDocument | None = Field(default=None, description="An inline draft policy")
    created_at: AwareDatetime = Field(description="When the ticket is created (with offset, e.g. +01:00)")
    pauses: list[Pause] = Field(
        default_factory=list, max_length=MAX_PAUSES, description="Intervals the ticket waits for the customer"
    )
    first_response_at: AwareDatetime | None = Field(default=None, description="An agent's first public reply")
    customer_reply_at: AwareDatetime | None = Field(
        default=None, description="The customer answers the first response: starts the update clock"
    )
    customer_number: text(32) | None = Field(default=None, description="For level conditions; default: the tenant's")
    category: text(64) | None = Field(default=None, description="For level conditions")
    queue: text(64) | None = Field(default=None, description="For level conditions")

    @model_validator(mode="after")
    def _consistent(self) -> "SimulationRequest":
        _exactly_one(self, ("tenant_id", "calendar"), "the calendar")
        _exactly_one(self, ("sla_definition_id", "definition", "targets"), "the targets")
        if self.escalation_policy_id is not None and self.policy is not None:
            raise ValueError("policy: give escalation_policy_id or policy, not both")
        if self.targets is not None and not any(
            (self.targets.response_minutes, self.targets.resolution_minutes, self.targets.update_minutes)
        ):
            raise ValueError("targets: give at least one of response_minutes, resolution_minutes, update_minutes")
        by_start = sorted(range(len(self.pauses)), key=lambda i: self.pauses[i].start)
        for i in by_start:
            if self.pauses[i].start < self.created_at:
                raise ValueError(f"pauses.{i}.start: must not be before created_at")
        for previous, current in zip(by_start, by_start[1:], strict=False):
            if self.pauses[current].start < self.pauses[previous].end:
                raise ValueError(f"pauses.{current}.start: overlaps pause {previous}")
        if self.first_response_at is not None and self.first_response_at < self.created_at:
            raise ValueError("first_response_at: must not be before created_at")
        if self.customer_reply_at is not None:
            if self.first_response_at is None:
                raise ValueError(
                    "customer_reply_at: needs first_response_at (the update clock starts with the "
                    "customer's reply to a first response)"
                )
            if self.customer_reply_at < self.first_response_at:
                raise ValueError("customer_reply_at: must not be before first_response_at")
        return self


class SimulatedEscalation(BaseModel):
    level: str
    target: TargetKind
    action: str = Field(description="The action type, e.g. notify_email")
    fire_at: datetime = Field(description="UTC")
    fire_at_local: str = Field(description="ISO 8601 with the offset of the calendar's time zone")
    business_hours_only: bool = Field(description="Held until the customer's calendar opens")
    details: dict[str, Any] = Field(description="The action as written in the policy")


class SimulationResult(BaseModel):
    time_zone: str
    priority: Priority
    final_priority: Priority = Field(description="After raise_priority actions")
    targets: PriorityTargets
    calendar: CalendarSpec = Field(description="The calendar used")
    escalation_policy_id: UUID | None
    policy_version: int | None = Field(description="Active version of escalation_policy_id, if one was used")
    created_at: datetime
    created_at_local: str
    response_due_at: datetime | None
    response_due_at_local: str | None
    resolution_due_at: datetime | None
    resolution_due_at_local: str | None
    update_due_at: datetime | None = Field(description="Only when customer_reply_at starts the update clock")
    update_due_at_local: str | None
    escalations: list[SimulatedEscalation] = Field(description="Every action, in firing order")
    truncated: bool = Field(description="The simulation stopped early (too many steps)")
