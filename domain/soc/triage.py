"""Triage policy of an incident: hub-wide defaults (hub/config.py, PSA_SOC_*) overlaid by the integration's
own `triage_settings` (a JSON column on soc_integrations, validated by `TriageOverride`).

The `soc.record_alert` activity resolves the policy and returns it with the alert, so the incident workflow
pins it in its history and never reads configuration itself. Pure logic: no I/O, no clock.

`decide` is the triage of an incident's first alert: ticket or not, priority, paging, containment.

Threats the vendor already handled. An alert whose vendor status is mitigated, resolved or suppressed (false
positive, marked benign), or whose verdict is benign, is always recorded (alert and incident rows: reports and
the QBR count it). What else happens is the policy's ``handled_threats`` (hub: PSA_SOC_HANDLED_THREATS; per
integration in its triage settings):

* ``informational`` (default): a ticket at the lowest priority (P4) whose title and description say the vendor
  already handled it; nobody is paged, no containment is proposed.
* ``none``: no ticket; the incident row is written and closed.
* ``normal``: like any other alert (the priority matrix decides, P1 pages and proposes containment).

Whatever the policy, a device whose agent the vendor reports decommissioned is never proposed for containment.
Only the first alert decides: a later alert of an open incident becomes a note on its ticket.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from domain.soc.alerts import AlertStatus, NormalizedAlert, Source
from domain.soc.priority import DEFAULT_MATRIX, HANDLED_STATUSES, PriorityMatrix, is_handled, prioritize
from domain.tickets import Priority

MAX_ONCALL_LEVELS = 10
# Vendor statuses that mean: nothing left to do about this alert's threat.
SETTLED = HANDLED_STATUSES
# Progress of a vendor alert; a delivery that goes back (resolved -> new) is a reopen and still applied.
_RANK = {
    AlertStatus.NEW: 0,
    AlertStatus.IN_PROGRESS: 1,
    AlertStatus.MITIGATED: 2,
    AlertStatus.RESOLVED: 3,
    AlertStatus.SUPPRESSED: 3,
}


class HandledThreats(StrEnum):
    """What an alert the vendor already handled opens (see the module docstring)."""

    NONE = "none"
    INFORMATIONAL = "informational"
    NORMAL = "normal"


# The priority of an informational ticket: the lowest there is.
INFORMATIONAL_PRIORITY = list(Priority)[-1]


class TriageOverride(BaseModel):
    """What one integration changes; an absent (null) field keeps the hub's default."""

    model_config = ConfigDict(extra="forbid")

    quiet_window_hours: int | None = Field(default=None, ge=1, le=720, description="Correlation window")
    auto_resolve: bool | None = Field(default=None, description="Resolve the ticket once the vendor resolved all")
    ack_timeout_minutes: int | None = Field(default=None, ge=1, le=1440, description="P1 page acknowledgement")
    oncall_chain: list[HttpUrl] | None = Field(
        default=None, max_length=MAX_ONCALL_LEVELS, description="Paging webhook URLs, level 1 first"
    )
    priority_matrix: PriorityMatrix | None = None
    handled_threats: HandledThreats | None = Field(
        default=None,
        description="Alerts the vendor already mitigated, resolved or closed as benign: none, "
        "informational (P4 ticket, no paging, no containment) or normal",
    )


class TriagePolicy(BaseModel):
    """The policy in force for one incident (defaults as before configuration existed)."""

    quiet_window_hours: int = 24
    auto_resolve: bool = False
    ack_timeout_minutes: int = 15
    oncall_chain: list[str] = Field(default_factory=list)
    priority_matrix: PriorityMatrix = DEFAULT_MATRIX
    handled_threats: HandledThreats = HandledThreats.INFORMATIONAL


class TriageDecision(BaseModel):
    """What the first alert of an incident opens."""

    model_config = ConfigDict(frozen=True)

    priority: Priority
    ticket: bool = True  # False: the incident is recorded only
    handled: bool = False  # the vendor already handled the threat (see `is_handled`)
    page: bool = False  # page the on-call chain
    contain: bool = False  # propose disconnecting the device


def resolve_policy(defaults: TriagePolicy, override: TriageOverride | None) -> TriagePolicy:
    if override is None:
        return defaults
    changes = {k: v for k, v in override.model_dump(exclude_none=True).items() if k != "priority_matrix"}
    if "oncall_chain" in changes:
        changes["oncall_chain"] = [str(url) for url in override.oncall_chain or []]
    if override.priority_matrix is not None:
        changes["priority_matrix"] = override.priority_matrix
    return defaults.model_copy(update=changes)


def is_settled(status: AlertStatus) -> bool:
    return status in SETTLED


def incident_vendor_status(statuses: list[AlertStatus]) -> AlertStatus:
    """The least advanced status of the incident's alerts: it is resolved only when all of them are."""
    if not statuses:
        return AlertStatus.NEW
    lowest = min(statuses, key=_RANK.__getitem__)
    if _RANK[lowest] == _RANK[AlertStatus.RESOLVED] and any(s == AlertStatus.RESOLVED for s in statuses):
        return AlertStatus.RESOLVED  # resolved and suppressed alerts together: the incident is resolved
    return lowest


def can_contain(alert: NormalizedAlert) -> bool:
    """Only SentinelOne agents can be disconnected (by their agent id), and never one that was decommissioned."""
    return alert.source == Source.SENTINELONE and bool(alert.device_external_id) and not alert.agent_decommissioned


def decide(
    alert: NormalizedAlert, asset_type: str | None, asset_tags: list[str], policy: TriagePolicy
) -> TriageDecision:
    """The triage of an incident's first alert; `asset_type`/`asset_tags` as for `prioritize`."""
    handled = is_handled(alert)
    if handled and policy.handled_threats != HandledThreats.NORMAL:
        return TriageDecision(
            priority=INFORMATIONAL_PRIORITY, ticket=policy.handled_threats == HandledThreats.INFORMATIONAL, handled=True
        )
    priority = prioritize(alert, asset_type, asset_tags, policy.priority_matrix)
    urgent = priority == Priority.P1
    return TriageDecision(
        priority=priority,
        handled=handled,
        page=urgent and bool(policy.oncall_chain),
        contain=urgent and can_contain(alert),
    )
