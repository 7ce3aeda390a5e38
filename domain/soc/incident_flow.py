"""What crosses the boundaries of the incident workflow: its input, the alert signal and activity payloads."""

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from domain.roles import Role
from domain.soc.alerts import AlertStatus, NormalizedAlert
from domain.soc.triage import TriagePolicy
from domain.tickets import NewTicket, Priority, SystemNote


class SocActivity:
    RECORD_ALERT = "soc.record_alert"
    RECORD_ALERTS = "soc.record_alerts"  # several alerts of one incident in one transaction (incident-lean-v1)
    RECORD_INCIDENT = "soc.record_incident"
    CONTAIN = "soc.contain"
    PAGE = "soc.page"
    # incident-direct-v1: the incident opens its ticket and writes its notes through local activities
    OPEN_TICKET = "soc.open_ticket"
    NOTE_TICKET = "soc.note_ticket"


ContainmentStatus = Literal["pending", "approved", "rejected", "expired", "executed", "failed"]
CONTAINMENT_ROLES = frozenset({Role.MSP_ADMIN, Role.MSP_TECH})
ACKNOWLEDGE_ROLES = frozenset({Role.MSP_ADMIN, Role.MSP_TECH})
PagingStatus = Literal["pending", "acknowledged", "unacknowledged"]


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
    # Since patch incident-lifecycle-v1 only until the first alert is recorded: then the triage policy's window
    # (hub setting PSA_SOC_QUIET_WINDOW_HOURS or the integration's override) applies.
    quiet_window_hours: int = 24
    # How long a containment proposal waits for a decision before it expires.
    containment_expiry_minutes: int = 60


class RecordAlert(BaseModel):
    incident_key: str
    item: IncidentAlert
    # The vendor status this incident already knows for the alert; None: the alert is new to the incident.
    known_status: AlertStatus | None = None
    # The policy is pinned from the first alert; later results leave it out to keep the history small.
    with_policy: bool = True


class RecordedAlert(BaseModel):
    is_new: bool
    asset_id: UUID | None = None
    asset_type: str | None = None
    asset_tags: list[str] = []
    asset_hostname: str | None = None
    # A status update: False when the delivery is older than the stored one (nothing changed).
    applied: bool = True
    # The triage policy (hub defaults + integration override); None in histories from before it existed.
    policy: TriagePolicy | None = None
    # With the policy: whether an LLM writes the summary (else the template, at once); None before it was reported.
    llm_summary: bool | None = None


class RecordAlerts(BaseModel):
    """The alerts of one incident that were pending at one wake-up, each with distinct dedupe key."""

    alerts: list[RecordAlert]


class RecordedAlerts(BaseModel):
    results: list[RecordedAlert]  # in the order of RecordAlerts.alerts


class OpenTicket(BaseModel):
    """The incident's ticket, opened at the incident's time `at` (the ticket's created_at and SLA start)."""

    ticket: NewTicket
    at: AwareDatetime
    incident_key: str


class OpenedTicket(BaseModel):
    number: str


class TicketNote(BaseModel):
    ticket_id: UUID
    note: SystemNote


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
    vendor_status: str | None = None
    vendor_resolved_at: AwareDatetime | None = None
    paged_level: int | None = None
    acknowledged_by: UUID | None = None
    acknowledged_at: AwareDatetime | None = None


class PagingState(BaseModel):
    """P1 paging: level n of the on-call chain is paged; without an acknowledgement by `ack_due_at`, level n+1."""

    levels: int
    level: int = 0  # the level paged last (1-based); 0: not paged yet
    paged_at: AwareDatetime | None = None
    ack_due_at: AwareDatetime | None = None
    status: PagingStatus = "pending"
    acknowledged_by: UUID | None = None
    acknowledged_at: AwareDatetime | None = None
    failed_levels: list[int] = []


class Acknowledgement(BaseModel):
    actor_user_id: UUID
    actor_role: Role
    actor_name: str | None = Field(default=None, max_length=200)


class PageRequest(BaseModel):
    key: str = Field(description="Idempotency key: the same page is never sent twice")
    url: str
    level: int
    levels: int
    incident_key: str
    tenant_id: UUID
    customer_number: str
    ticket_id: UUID
    title: str
    priority: Priority
    ack_due_at: AwareDatetime


class IncidentState(BaseModel):
    key: str
    tenant_id: UUID | None = None
    ticket_id: UUID | None = None
    priority: Priority | None = None
    alert_count: int = 0
    status: str = "open"
    containment: ContainmentProposal | None = None
    vendor_status: AlertStatus | None = None  # of the whole incident: resolved only when every alert is
    vendor_resolved_at: AwareDatetime | None = None
    paging: PagingState | None = None
