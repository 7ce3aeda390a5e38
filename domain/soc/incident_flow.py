"""What crosses the boundaries of the incident workflow: its input, the alert signal and activity payloads."""

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from domain.roles import Role
from domain.soc.alerts import NormalizedAlert
from domain.tickets import Priority


class SocActivity:
    RECORD_ALERT = "soc.record_alert"
    RECORD_INCIDENT = "soc.record_incident"
    CONTAIN = "soc.contain"


ContainmentStatus = Literal["pending", "approved", "rejected", "expired", "executed", "failed"]
CONTAINMENT_ROLES = frozenset({Role.MSP_ADMIN, Role.MSP_TECH})


class ContainmentProposal(BaseModel):
    """A risky action (SentinelOne "disconnect from network") that runs only after a person approves it."""

    action: Literal["disconnect_from_network"] = "disconnect_from_network"
    integration_id: str
    agent_id: str
    hostname: str | None = None
    proposed_at: AwareDatetime
    expires_at: AwareDatetime
    status: ContainmentStatus = "pending"
    decided_by: UUID | None = None
    decided_at: AwareDatetime | None = None
    reason: str | None = None
    result: str | None = None


class ContainmentDecision(BaseModel):
    actor_user_id: UUID
    actor_role: Role
    approve: bool
    reason: str | None = Field(default=None, max_length=2_000)


class ContainRequest(BaseModel):
    integration_id: str
    agent_id: str
    incident_key: str


class IncidentAlert(BaseModel):
    """The signal: one normalised alert, with the tenant taken from the integration (never from the payload)."""

    alert: NormalizedAlert
    tenant_id: UUID
    customer_number: str


class IncidentInput(BaseModel):
    key: str  # the workflow id is incident-<key>
    # How long the incident stays open without new alerts; the next alert after that opens a new incident.
    quiet_window_hours: int = 24
    # How long a containment proposal waits for a decision before it expires.
    containment_expiry_minutes: int = 60


class RecordAlert(BaseModel):
    incident_key: str
    item: IncidentAlert


class RecordedAlert(BaseModel):
    is_new: bool
    asset_id: UUID | None = None
    asset_type: str | None = None
    asset_tags: list[str] = []
    asset_hostname: str | None = None


class IncidentRecord(BaseModel):
    key: str
    tenant_id: UUID
    ticket_id: UUID | None
    asset_id: UUID | None
    status: str
    priority: Priority
    title: str
    alert_count: int
    first_alert_at: AwareDatetime
    last_alert_at: AwareDatetime
    resolved_at: AwareDatetime | None = None


class IncidentState(BaseModel):
    key: str
    tenant_id: UUID | None = None
    ticket_id: UUID | None = None
    priority: Priority | None = None
    alert_count: int = 0
    status: str = "open"
    containment: ContainmentProposal | None = None
