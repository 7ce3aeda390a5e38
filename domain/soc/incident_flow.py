"""What crosses the boundaries of the incident workflow: its input, the alert signal and activity payloads."""

from uuid import UUID

from pydantic import AwareDatetime, BaseModel

from domain.soc.alerts import NormalizedAlert
from domain.tickets import Priority


class SocActivity:
    RECORD_ALERT = "soc.record_alert"
    RECORD_INCIDENT = "soc.record_incident"


class IncidentAlert(BaseModel):
    """The signal: one normalised alert, with the tenant taken from the integration (never from the payload)."""

    alert: NormalizedAlert
    tenant_id: UUID
    customer_number: str


class IncidentInput(BaseModel):
    key: str  # the workflow id is incident-<key>
    # How long the incident stays open without new alerts; the next alert after that opens a new incident.
    quiet_window_hours: int = 24


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
