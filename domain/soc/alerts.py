"""One model for every SOC vendor's alert, its OCSF view, and the keys that de-duplicate and correlate alerts.

Pure logic: no I/O and no clock (times are passed in), so Temporal workflows and activities can both use it.

De-duplication. ``dedupe_key`` is ``"<source>:<integration_id>:<vendor_alert_id>"``. The vendor's own alert id
(SentinelOne threat id, RocketCyber incident id, ...) is the same whether the alert arrives by webhook, by the
poller or as a retry, but it is unique only within one vendor account, so the integration id (our record of
that account) is part of the key. Equal keys mean one alert; a later delivery may carry a newer status.

Correlation (decision). ``correlation_key(alert, tenant)`` names *what* an incident is about, never *when*:
``<tenant>-<subject>-<threat>-<digest>``, e.g. ``K10001-muc-dc01-275a021bbfb6-3f9c0a1d2e``, where

* subject: the device, by the identity that is the same in every alert of it: the vendor's agent (its UUID,
  else its agent id), else the host name (first DNS label, case-insensitive, runs of blanks as one hyphen, so
  "Jane MacBook Pro" and "jane-macbook-pro.local" are one device), else the IP; else the user for identity
  alerts; an alert naming neither is its own incident (``<tenant>-alert-<digest of its dedupe key>``). The agent
  comes first because the host name is optional in vendor payloads: preferring it would split one agent into two
  incidents whenever a payload lacks it;
* threat: the file's SHA-256 (else SHA-1), else the classification, else the title (case-insensitive);
* digest: a short SHA-256 over the un-slugged parts, so two hosts whose names slug alike never collide.

The time window is enforced by the incident workflow ``incident-<key>`` (``incident_workflow_id``), not by the
key: the webhook and the poller signal-with-start that id; the workflow stays open while alerts keep coming
and closes once resolved or after ``window`` without a new alert (``same_incident``). A later alert with the
same key then starts a new run under the same id (the workflow layer sets an id-reuse policy that allows
a duplicate after close), i.e. a new incident, told apart by run id and first-alert time. Rejected
alternatives: fixed time buckets in the key split one burst at a bucket edge (23:59 and 00:01 become two
incidents); a first-alert time or sequence number in the key cannot be computed from one alert without
reading state, which would race between webhook and poller.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

OCSF_VERSION = "1.4.0"
DEFAULT_CORRELATION_WINDOW = timedelta(hours=24)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MITRE_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")
# The window of vendor times the hub accepts (see `check_alert_times`).
EARLIEST_ALERT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
ALERT_CLOCK_LEAD = timedelta(days=1)
# Control characters (C0, DEL, C1) and lone surrogates: PostgreSQL cannot store NUL, no database driver can
# encode a lone surrogate, and neither belongs in a title or an id. Free text keeps tab and line breaks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class AlertFormatError(ValueError):
    """A vendor payload lacks a field we need, or has one we cannot read; `field` names it (dotted path)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class AlertOutOfWindow(AlertFormatError):
    """A vendor time outside the window the hub accepts (`check_alert_times`)."""


class Source(StrEnum):
    SENTINELONE = "sentinelone"
    ROCKETCYBER = "rocketcyber"
    BARRACUDA_XDR = "barracuda_xdr"
    GENERIC = "generic"


class Severity(StrEnum):
    """OCSF severity names; `severity_id` is the OCSF number (0 unknown .. 6 fatal), also used for ordering."""

    UNKNOWN = "unknown"
    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    FATAL = "fatal"

    @property
    def severity_id(self) -> int:
        return list(Severity).index(self)

    @classmethod
    def from_id(cls, severity_id: int) -> "Severity":
        members = list(cls)
        if not 0 <= severity_id < len(members):
            raise ValueError(f"OCSF severity_id must be 0..{len(members) - 1}, got {severity_id}")
        return members[severity_id]


class Verdict(StrEnum):
    """The threat level: what the vendor (or its analyst) concluded about the detection."""

    MALICIOUS = "malicious"
    SUSPICIOUS = "suspicious"
    BENIGN = "benign"
    UNKNOWN = "unknown"


class AlertStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    MITIGATED = "mitigated"  # the threat was stopped (killed, quarantined) but nobody has closed the alert yet
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"  # closed as benign / false positive


# OCSF finding status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 99 Other (label in `status`).
_OCSF_STATUS = {
    AlertStatus.NEW: (1, "New"),
    AlertStatus.IN_PROGRESS: (2, "In Progress"),
    AlertStatus.SUPPRESSED: (3, "Suppressed"),
    AlertStatus.RESOLVED: (4, "Resolved"),
    AlertStatus.MITIGATED: (99, "Mitigated"),
}
_PRODUCTS = {
    Source.SENTINELONE: ("SentinelOne", "Singularity"),
    Source.ROCKETCYBER: ("Kaseya", "RocketCyber"),
    Source.BARRACUDA_XDR: ("Barracuda", "Barracuda XDR"),
    Source.GENERIC: ("Unknown", "Generic webhook"),
}


def no_control_characters(value: str) -> str:
    """The value, if it has no control character (see `_CONTROL`); ValueError naming the first otherwise."""
    if match := _CONTROL.search(value):
        raise ValueError(f"contains the control character U+{ord(match.group()):04X} at position {match.start()}")
    return value


def strip_control_characters(value: Any) -> Any:
    """Free text without control characters (tab and line breaks stay); anything but a string as it is."""
    return _CONTROL_IN_TEXT.sub("", value) if isinstance(value, str) else value


def replace_surrogates(value: Any) -> Any:
    """A JSON value whose strings (keys too) have U+FFFD for each lone surrogate (a JSON escape such as \\ud800 that
    no UTF-8 encoder takes: the payload could reach neither the database nor Temporal)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_surrogates(v) for v in value]
    return value


# Ids and the values incidents are keyed by: a control character refuses the alert (dropping it could merge ids).
Identifier = Annotated[str, AfterValidator(no_control_characters)]
Hostname = Annotated[str, Field(max_length=253), AfterValidator(no_control_characters)]  # DNS's limit, the column's
# Free text (titles, descriptions, paths): control characters are dropped.
FreeText = Annotated[str, BeforeValidator(strip_control_characters)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sha1 = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
TechniqueId = Annotated[str, Field(pattern=MITRE_TECHNIQUE.pattern)]


class NormalizedAlert(BaseModel):
    """A vendor alert in our terms; `raw` keeps the original payload for the analyst and for re-parsing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    integration_id: Identifier = Field(min_length=1, max_length=100, pattern=r"^[^:\s]+$")
    vendor_alert_id: Identifier = Field(min_length=1, max_length=200)
    dedupe_key: str = Field(description="Derived: <source>:<integration_id>:<vendor_alert_id>")
    title: FreeText = Field(min_length=1)
    severity: Severity = Severity.UNKNOWN
    confidence: int | None = Field(default=None, ge=0, le=100)
    # The vendor's own words where the fields above are our mapping (S1 confidenceLevel, RocketCyber severity).
    vendor_severity: FreeText | None = Field(default=None, max_length=50)
    vendor_confidence: FreeText | None = Field(default=None, max_length=50)
    verdict: Verdict = Verdict.UNKNOWN
    status: AlertStatus = AlertStatus.NEW
    detected_at: AwareDatetime
    # When the vendor last changed the alert (status updates); orders deliveries of the same alert.
    vendor_updated_at: AwareDatetime | None = None
    device_hostname: Hostname | None = None
    # Every device the vendor names for the alert (RocketCyber `affectedDevices`), as the vendor spells them; the
    # first is `device_hostname`. Empty for vendors that name one device.
    affected_devices: list[Hostname] = Field(default_factory=list, max_length=500)
    device_ip: str | None = None
    device_external_id: Identifier | None = Field(default=None, description="The vendor's agent/device id")
    agent_decommissioned: bool = Field(default=False, description="The vendor's agent was decommissioned")
    device_agent_uuid: Identifier | None = Field(
        default=None, max_length=100, description="The vendor's agent UUID (SentinelOne agentUuid), when it has one"
    )
    device_serial: Identifier | None = Field(default=None, max_length=100, description="The device's serial number")
    user: Identifier | None = None
    file_name: FreeText | None = None
    file_path: FreeText | None = None
    file_sha256: Sha256 | None = None
    file_sha1: Sha1 | None = None
    classification: FreeText | None = None
    mitre_techniques: list[TechniqueId] = Field(default_factory=list)
    description: FreeText | None = None
    remediation: FreeText | None = None
    event_count: int | None = Field(default=None, ge=0, description="Vendor events behind the alert")
    vendor_url: FreeText | None = None
    vendor_tenant_id: Identifier | None = Field(default=None, description="Vendor's customer id (S1 site, RC account)")
    vendor_tenant_name: FreeText | None = None
    raw: Annotated[dict[str, Any], BeforeValidator(replace_surrogates)] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _derive_dedupe_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and "dedupe_key" not in data:
            parts = (data.get("source"), data.get("integration_id"), data.get("vendor_alert_id"))
            if all(part is not None for part in parts):
                data = {**data, "dedupe_key": make_dedupe_key(*parts)}
        return data

    @model_validator(mode="after")
    def _check_dedupe_key(self) -> "NormalizedAlert":
        expected = make_dedupe_key(self.source, self.integration_id, self.vendor_alert_id)
        if self.dedupe_key != expected:
            raise ValueError(f"dedupe_key must be {expected!r}, got {self.dedupe_key!r}")
        return self

    @property
    def has_device(self) -> bool:
        return bool(self.device_hostname or self.device_external_id or self.device_agent_uuid or self.device_ip)

    def to_ocsf(self) -> dict[str, Any]:
        """The alert as an OCSF Detection Finding (class 2004, activity Create); empty attributes are left out."""
        vendor_name, product_name = _PRODUCTS[self.source]
        status_id, status = _OCSF_STATUS[self.status]
        hashes = [{"algorithm_id": 3, "algorithm": "SHA-256", "value": self.file_sha256}] if self.file_sha256 else []
        if self.file_sha1:
            hashes.append({"algorithm_id": 2, "algorithm": "SHA-1", "value": self.file_sha1})
        file = _compact({"name": self.file_name, "path": self.file_path, "hashes": hashes})
        device = _compact({"hostname": self.device_hostname, "ip": self.device_ip, "uid": self.device_external_id})
        evidences = ([{"file": {"type_id": 1, **file}}] if file else []) + (
            [{"user": {"name": self.user}}] if self.user else []
        )
        finding_info = {
            "uid": self.vendor_alert_id,
            "title": self.title,
            "types": [self.classification] if self.classification else None,
            "desc": self.description,
            "src_url": self.vendor_url,
            "attacks": [{"technique": {"uid": t}} for t in self.mitre_techniques],
        }
        return _compact(
            {
                "class_uid": 2004,
                "category_uid": 2,
                "activity_id": 1,
                "type_uid": 200401,
                "time": (self.detected_at - _EPOCH) // timedelta(milliseconds=1),
                "severity_id": self.severity.severity_id,
                "severity": self.severity.value.capitalize(),
                "status_id": status_id,
                "status": status,
                "is_alert": True,
                "confidence_score": self.confidence,
                "finding_info": _compact(finding_info),
                "device": {"type_id": 0, **device} if device else None,
                "evidences": evidences,
                "remediation": {"desc": self.remediation} if self.remediation else None,
                "metadata": {
                    "version": OCSF_VERSION,
                    "product": {"vendor_name": vendor_name, "name": product_name},
                    "correlation_uid": self.dedupe_key,
                },
                "unmapped": {"source": self.source.value, "verdict": self.verdict.value},
                "raw_data": json.dumps(self.raw, ensure_ascii=False),
            }
        )


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def make_dedupe_key(source: Any, integration_id: Any, vendor_alert_id: Any) -> str:
    return f"{Source(source).value}:{integration_id}:{vendor_alert_id}"


def deduplicate(alerts: Iterable[NormalizedAlert]) -> list[NormalizedAlert]:
    """One alert per dedupe key, in first-seen order; the last delivery wins (it may carry a newer status)."""
    latest: dict[str, NormalizedAlert] = {}
    for alert in alerts:
        latest[alert.dedupe_key] = alert
    return list(latest.values())


def in_alert_window(value: datetime, now: datetime) -> bool:
    """Whether a vendor time lies in the window of `check_alert_times`."""
    return EARLIEST_ALERT_TIME <= value <= now + ALERT_CLOCK_LEAD


def check_alert_times(alert: NormalizedAlert, now: datetime) -> NormalizedAlert:
    """The alert, if its vendor times lie between 2000-01-01Z and a day after `now` (vendor clocks drift, but not
    by days); AlertOutOfWindow naming the field and the window otherwise. Outside it the hub cannot store or
    compute with a time (year 1 with a positive offset has no UTC time; 9999-12-31 none in local time), and a
    time far ahead would order every later status update of the alert before it."""
    for field, value in (("detected_at", alert.detected_at), ("vendor_updated_at", alert.vendor_updated_at)):
        if value is not None and not in_alert_window(value, now):
            window = f"{_iso(EARLIEST_ALERT_TIME)} up to {_iso(now + ALERT_CLOCK_LEAD)} (now + 1 day)"
            raise AlertOutOfWindow(field, f"{value.isoformat()} is outside the accepted window {window}")
    return alert


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def is_stale_update(stored_updated_at: datetime | None, updated_at: datetime | None) -> bool:
    """A delivery older than the one already stored (a late poll after the resolving webhook) changes nothing;
    without both vendor times we cannot tell, and the later delivery wins."""
    return stored_updated_at is not None and updated_at is not None and updated_at < stored_updated_at


# --- correlation ------------------------------------------------------------------------------------------

_SLUG_OUT = re.compile(r"[^a-z0-9]+")


def _slug(value: str, limit: int = 40) -> str:
    return _SLUG_OUT.sub("-", value.casefold()).strip("-")[:limit].strip("-") or "x"


def host_key(hostname: str) -> str:
    """A host name as devices report it, reduced to what names one device: case-folded, the first DNS label
    (an IP stays whole), runs of blanks as one hyphen ("Jane MacBook Pro" -> "jane-macbook-pro")."""
    host = re.sub(r"\s+", "-", hostname.strip().casefold())
    return host if re.fullmatch(r"[\d.]+", host) else host.split(".")[0]


def device_key(alert: NormalizedAlert) -> tuple[str, str] | None:
    """(kind, value) of the device the alert is about, the same for every alert of one agent: the vendor's agent
    UUID, else its agent id, else the host name (`host_key`), else the IP; None without a device."""
    agent = alert.device_agent_uuid or alert.device_external_id
    if agent:
        return "agent", f"{alert.source.value}:{agent.strip().casefold()}"
    if alert.device_hostname:
        return "host", host_key(alert.device_hostname)
    if alert.device_ip:
        return "ip", alert.device_ip
    return None


def device_keys(alert: NormalizedAlert) -> list[str]:
    """`<kind>:<value>` of every device the alert names (`device_key` of its own device, then the host key of each
    further affected device), without repeats, in the vendor's order."""
    keys = []
    if (own := device_key(alert)) is not None:
        keys.append(f"{own[0]}:{own[1]}")
    keys.extend(f"host:{host_key(name)}" for name in alert.affected_devices)
    return list(dict.fromkeys(keys))


def _subject(alert: NormalizedAlert) -> tuple[str, str, str] | None:
    """(kind, canonical value, readable slug) of what the alert is about, or None."""
    device = device_key(alert)
    if device is not None:
        kind, value = device
        readable = value.split(":", 1)[1] if kind == "agent" else value
        return kind, value, _slug(readable) if kind == "host" else f"{kind}-{_slug(readable, 24)}"
    if alert.user:
        return "user", alert.user.strip().casefold(), "user-" + _slug(alert.user)
    return None


def _threat(alert: NormalizedAlert) -> tuple[str, str, str]:
    if alert.file_sha256:
        return "sha256", alert.file_sha256, alert.file_sha256[:12]
    if alert.file_sha1:
        return "sha1", alert.file_sha1, alert.file_sha1[:12]
    if alert.classification:
        return "class", alert.classification.strip().casefold(), _slug(alert.classification)
    return "title", alert.title.strip().casefold(), _slug(alert.title)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:10]


def correlation_key(alert: NormalizedAlert, tenant: str) -> str:
    """Deterministic, workflow-id-safe key ([A-Za-z0-9-]) of the incident this alert belongs to.

    `tenant` is our customer (e.g. the customer number "K10001") that the alert's integration/site maps to.
    """
    tenant_slug = re.sub(r"[^A-Za-z0-9]+", "-", tenant).strip("-")[:32]
    if not tenant_slug:
        raise ValueError(f"tenant {tenant!r} gives an empty key part")
    subject = _subject(alert)
    if subject is None:
        return f"{tenant_slug}-alert-{_digest(tenant, alert.dedupe_key)}"
    threat = _threat(alert)
    digest = _digest(tenant, subject[0], subject[1], threat[0], threat[1])
    return f"{tenant_slug}-{subject[2]}-{threat[2]}-{digest}"


def same_incident(last_alert_at: datetime, alert_at: datetime, window: timedelta = DEFAULT_CORRELATION_WINDOW) -> bool:
    """Whether an alert at `alert_at` joins an incident whose latest alert was at `last_alert_at`.

    The incident workflow uses it with arrival times (workflow.now()); an alert older than the latest one
    (late poll, retry) always joins.
    """
    if window <= timedelta(0):
        raise ValueError("the correlation window must be positive")
    return alert_at - last_alert_at < window
