"""Triage policy of an incident: hub-wide defaults (hub/config.py, PSA_SOC_*) overlaid by the integration's
own `triage_settings` (a JSON column on soc_integrations, validated by `TriageOverride`).

The `soc.record_alert` activity resolves the policy and returns it with the alert, so the incident workflow
pins it in its history and never reads configuration itself. Pure logic: no I/O, no clock.
"""

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from domain.soc.alerts import AlertStatus
from domain.soc.priority import DEFAULT_MATRIX, PriorityMatrix

MAX_ONCALL_LEVELS = 10
# Vendor statuses that mean: nothing left to do about this alert's threat.
SETTLED = frozenset({AlertStatus.MITIGATED, AlertStatus.RESOLVED, AlertStatus.SUPPRESSED})
# Progress of a vendor alert; a delivery that goes back (resolved -> new) is a reopen and still applied.
_RANK = {
    AlertStatus.NEW: 0,
    AlertStatus.IN_PROGRESS: 1,
    AlertStatus.MITIGATED: 2,
    AlertStatus.RESOLVED: 3,
    AlertStatus.SUPPRESSED: 3,
}


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


class TriagePolicy(BaseModel):
    """The policy in force for one incident (defaults as before configuration existed)."""

    quiet_window_hours: int = 24
    auto_resolve: bool = False
    ack_timeout_minutes: int = 15
    oncall_chain: list[str] = Field(default_factory=list)
    priority_matrix: PriorityMatrix = DEFAULT_MATRIX


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
