"""Barracuda XDR alarms, read through a field mapping that is configured per integration.

Barracuda publishes no alarm/webhook schema for XDR (see the connector research), so the hub receives XDR
alarms as a signed inbound webhook and reads them with a `FieldMapping`: one dotted JSON path per normalised
field (``"alarm.asset.hostname"``; list items by index, ``"hosts.0.name"``; keys containing dots cannot be
addressed) plus value maps for severity, status and verdict strings (matched case-insensitively).

The default mapping fits the *synthetic* alarm of the connector research (flat camelCase keys; every name is
invented, none is the vendor's)::

    vendor_alert_id <- alarmId        title <- title          detected_at <- createdAt
    severity        <- severity       status <- status        description <- description
    remediation     <- recommendation vendor_tenant_name <- customerName
    and, invented here for the device side: device_hostname <- hostname, device_ip <- ipAddress,
    device_external_id <- deviceId, user <- userName, file_name <- fileName, file_path <- filePath,
    file_sha256 <- sha256, file_sha1 <- sha1, classification <- threatType,
    mitre_techniques <- mitreTechniques, vendor_url <- alarmUrl, vendor_tenant_id <- customerId

Severity strings: critical, high, medium, low, info(rmational) -> the OCSF names; unmapped -> unknown.
Status strings: open/new -> new, in progress/investigating -> in_progress, closed/resolved -> resolved,
mitigated -> mitigated, false positive -> suppressed; unmapped -> new. Last change (``updated_at``): no path
by default. Verdict: no path by default, so every alarm gets ``default_verdict`` (suspicious: an XDR alarm
is a SOC analyst's escalation, not a raw sensor hit). Confidence: a number 0..100 at its path, if any.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.soc.alerts import AlertFormatError, AlertStatus, NormalizedAlert, Severity, Source, Verdict
from domain.soc.normalize import (
    basename,
    build_alert,
    file_hash,
    get_path,
    ip_address,
    mitre_techniques,
    optional_timestamp,
    require_mapping,
    required_text,
    required_timestamp,
    text,
)

DottedPath = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^.\s]+(\.[^.\s]+)*$")]

DEFAULT_SEVERITY_VALUES = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFORMATIONAL,
    "informational": Severity.INFORMATIONAL,
}
DEFAULT_STATUS_VALUES = {
    "open": AlertStatus.NEW,
    "new": AlertStatus.NEW,
    "in progress": AlertStatus.IN_PROGRESS,
    "in_progress": AlertStatus.IN_PROGRESS,
    "investigating": AlertStatus.IN_PROGRESS,
    "closed": AlertStatus.RESOLVED,
    "resolved": AlertStatus.RESOLVED,
    "mitigated": AlertStatus.MITIGATED,
    "false positive": AlertStatus.SUPPRESSED,
    "false_positive": AlertStatus.SUPPRESSED,
}


class FieldMapping(BaseModel):
    """Where each normalised field sits in the integration's alarm JSON; None: the alarm does not carry it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor_alert_id: DottedPath = "alarmId"
    title: DottedPath = "title"
    detected_at: DottedPath = "createdAt"
    updated_at: DottedPath | None = None  # last change of the alarm, if the integration sends one
    severity: DottedPath | None = "severity"
    confidence: DottedPath | None = None
    verdict: DottedPath | None = None
    status: DottedPath | None = "status"
    device_hostname: DottedPath | None = "hostname"
    device_ip: DottedPath | None = "ipAddress"
    device_external_id: DottedPath | None = "deviceId"
    user: DottedPath | None = "userName"
    file_name: DottedPath | None = "fileName"
    file_path: DottedPath | None = "filePath"
    file_sha256: DottedPath | None = "sha256"
    file_sha1: DottedPath | None = "sha1"
    classification: DottedPath | None = "threatType"
    mitre_techniques: DottedPath | None = "mitreTechniques"
    vendor_url: DottedPath | None = "alarmUrl"
    description: DottedPath | None = "description"
    remediation: DottedPath | None = "recommendation"
    vendor_tenant_id: DottedPath | None = "customerId"
    vendor_tenant_name: DottedPath | None = "customerName"

    severity_values: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_VALUES))
    status_values: dict[str, AlertStatus] = Field(default_factory=lambda: dict(DEFAULT_STATUS_VALUES))
    verdict_values: dict[str, Verdict] = Field(default_factory=lambda: {v.value: v for v in Verdict})
    default_verdict: Verdict = Verdict.SUSPICIOUS

    @field_validator("severity_values", "status_values", "verdict_values")
    @classmethod
    def _lower_keys(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {key.strip().lower(): value for key, value in values.items()}


DEFAULT_MAPPING = FieldMapping()


def normalize_barracuda(payload: Any, mapping: FieldMapping, integration_id: str) -> NormalizedAlert:
    """One Barracuda XDR alarm as a NormalizedAlert, read with the integration's field mapping."""
    payload = require_mapping(payload, "$", "a Barracuda XDR alarm")

    def read(path: str | None) -> str | None:
        return text(get_path(payload, path)) if path else None

    def lookup(path: str | None, values: dict[str, Any], default: Any) -> Any:
        value = read(path)
        return values.get(value.lower(), default) if value else default

    return build_alert(
        source=Source.BARRACUDA_XDR,
        integration_id=integration_id,
        vendor_alert_id=required_text(payload, mapping.vendor_alert_id),
        title=required_text(payload, mapping.title),
        severity=lookup(mapping.severity, mapping.severity_values, Severity.UNKNOWN),
        confidence=_confidence(payload, mapping.confidence),
        verdict=lookup(mapping.verdict, mapping.verdict_values, mapping.default_verdict),
        status=lookup(mapping.status, mapping.status_values, AlertStatus.NEW),
        detected_at=required_timestamp(payload, mapping.detected_at),
        vendor_updated_at=optional_timestamp(payload, mapping.updated_at) if mapping.updated_at else None,
        device_hostname=read(mapping.device_hostname),
        device_ip=ip_address(read(mapping.device_ip)),
        device_external_id=read(mapping.device_external_id),
        user=read(mapping.user),
        file_name=basename(read(mapping.file_name)) or basename(read(mapping.file_path)),
        file_path=read(mapping.file_path),
        file_sha256=file_hash(read(mapping.file_sha256), 64),
        file_sha1=file_hash(read(mapping.file_sha1), 40),
        classification=read(mapping.classification),
        mitre_techniques=mitre_techniques(get_path(payload, mapping.mitre_techniques))
        if mapping.mitre_techniques
        else [],
        vendor_url=read(mapping.vendor_url),
        description=read(mapping.description),
        remediation=read(mapping.remediation),
        vendor_tenant_id=read(mapping.vendor_tenant_id),
        vendor_tenant_name=read(mapping.vendor_tenant_name),
        raw=dict(payload),
    )


def _confidence(payload: Any, path: str | None) -> int | None:
    if not path:
        return None
    value = get_path(payload, path)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AlertFormatError(path, f"confidence must be a number 0..100, got {value!r}") from None
    if isinstance(value, bool) or not 0 <= number <= 100:
        raise AlertFormatError(path, f"confidence must be a number 0..100, got {value!r}")
    return round(number)
