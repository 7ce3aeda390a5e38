"""The SOC processes (`incident-<key>`, `soc-poll-<source>-<customer>`): activity names, workflow inputs, state
and update requests, and the payloads of their activities. Pure: nothing here does I/O."""

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from domain.contracts.tickets import NewTicket, SystemNote
from domain.roles import Role
from domain.soc.alerts import AlertStatus, NormalizedAlert
from domain.soc.triage import TriagePolicy
from domain.tickets import Priority


class SocActivity:
    """Activity names of the SOC processes (incident, poller)."""

    RECORD_ALERTS = "soc.record_alerts"  # the alerts of one wake-up in one transaction, with enrichment
    RECORD_INCIDENT = "soc.record_incident"
    OPEN_TICKET = "soc.open_ticket"  # row, SLA clock, then the ticket workflow started with them
    NOTE_TICKET = "soc.note_ticket"
    CONTAIN = "soc.contain"
    PAGE = "soc.page"
    SUMMARIZE = "soc.summarize"
    POLL_PAGE = "soc.poll_page"


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
    # Only until the first alert is recorded: then the triage policy's window
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


class EarlierIncident(BaseModel):
    """A new vendor status of an alert that an earlier, closed incident run handled: where the note goes and what the
    vendor status of that incident's alerts is now. Recorded on the alert and the incident row by the activity;
    never a new incident."""

    ticket_id: UUID | None  # None: that incident opened no ticket (handled threat, policy "none")
    before: AlertStatus
    alert_count: int  # alerts of that incident
    overall: AlertStatus  # their vendor status after this update (`domain.soc.triage.incident_vendor_status`)
    now_settled: bool = False  # this update settled the last of them


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
    # Not new, from an earlier incident run that has closed, with another vendor status now.
    earlier: EarlierIncident | None = None


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
    device_keys: list[str] = []


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
    # Every device its alerts name (`domain.soc.alerts.device_keys`), in the order they came.
    devices: list[str] = []


class PollPageRequest(BaseModel):
    integration_id: UUID
    # Where the very first scan starts (no cursor persisted yet): this many hours before now.
    initial_lookback_hours: int = Field(default=24, ge=1, le=24 * 90)
    page_size: int = Field(default=100, ge=1, le=1000)


class PollCounts(BaseModel):
    """Where the fetched items went; every one ends in exactly one of the other counts (skipped excepted)."""

    fetched: int = 0
    handed_over: int = 0  # to their incident workflows
    recorded: int = 0  # updates of old threats: on their alert rows, no new incident
    refused: int = 0  # of another vendor account/site than the integration's (logged with the reason)
    quarantined: int = 0  # unreadable: in the SOC quarantine with the raw item and the reason
    repeats: int = 0  # read again in the scan overlap, or twice in one page
    skipped: int = 0  # refused + quarantined

    def add(self, other: "PollCounts") -> None:
        for name in PollCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class PollPageResult(PollCounts):
    """Counts only: the alerts themselves went to their incident workflows inside the activity."""

    source: str
    tenant_id: UUID
    customer_number: str
    has_more: bool = False
    inactive: bool = False


class SocPollInput(BaseModel):
    integration_id: UUID
    max_pages: int = Field(default=10, ge=1, le=100)
    initial_lookback_hours: int = Field(default=24, ge=1, le=24 * 90)
    page_size: int = Field(default=100, ge=1, le=1000)


class SocPollResult(PollCounts):
    integration_id: UUID
    customer_number: str | None = None
    pages: int = 0
    has_more: bool = False  # stopped at max_pages: the next run continues from the persisted cursor
    inactive: bool = False


class SummaryRequest(BaseModel):
    incident_key: str
    tenant_id: UUID
    priority: Priority
    alerts: list[NormalizedAlert]
    asset_hostname: str | None = None  # the asset found in our inventory; None: the device is unknown to us
    asset_type: str | None = None
    asset_tags: list[str] = []

    @field_validator("alerts")
    @classmethod
    def _drop_raw_payloads(cls, alerts: list[NormalizedAlert]) -> list[NormalizedAlert]:
        # The summary never reads vendor payloads; dropping them keeps workflow history small and makes sure
        # no raw payload can reach the model by accident.
        return [a.model_copy(update={"raw": {}}) if a.raw else a for a in alerts]


class SummaryResult(BaseModel):
    text: str
    source: Literal["llm", "template"]
    model: str | None = None
