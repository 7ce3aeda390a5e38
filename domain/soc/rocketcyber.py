"""RocketCyber (Kaseya) incidents (API v3 ``GET /v3/incidents`` items) as `NormalizedAlert`s.

Verified incident fields: ``id``, ``title``, ``status`` (``open`` | ``resolved``), ``createdAt``, ``updatedAt``,
``resolvedAt``, ``publishedAt``; very likely: ``accountId``, ``description``, ``remediation``; from public client
libraries of the API (not from RocketCyber's own text): ``accountName``, ``severity``, ``eventCount`` (a number),
``affectedDevices`` (the host names of the devices the incident is about); ``events`` (the app events behind the
incident) is named in community documentation without a shape. Only these are read. Mapping decisions:

* An incident is what the RocketCyber SOC published after reviewing the underlying events: verdict suspicious,
  confidence unknown (RocketCyber states none).
* severity: ``severity`` as RocketCyber states it (kept verbatim in ``vendor_severity`` for the ticket); the
  labels informational/info, low, medium, high, critical (any case) feed the priority matrix, any other label
  or none -> unknown.
* event_count: ``eventCount``, a non-negative integer; else the length of an ``events`` list; else None.
* devices: ``affectedDevices``, host names as RocketCyber spells them (an entry that is an object gives its
  ``hostname`` or ``name``; blank and unreadable entries are left out, the payload keeps them). The first is the
  alert's device (correlation, inventory, ticket title), all of them are ``affected_devices`` (the incident keeps a
  device key for each; the ticket lists them). Without it the incident names no device, user or hash, so
  correlation falls back to the alert itself (each incident is its own hub incident) and the priority matrix
  treats it as an alert without a device (see `domain.soc.priority`).
* status: ``open`` -> new, ``resolved`` / ``closed`` -> resolved, anything else -> new.
* vendor_updated_at: ``updatedAt``, else ``resolvedAt`` (orders repeated deliveries); unreadable -> None.
* detected_at: ``createdAt``; vendor tenant: ``accountId`` (the customer's RocketCyber account).
"""

from collections.abc import Mapping
from typing import Any

from domain.soc.alerts import _CONTROL, AlertStatus, NormalizedAlert, Severity, Source, Verdict
from domain.soc.normalize import (
    build_alert,
    optional_timestamp,
    require_mapping,
    required_text,
    required_timestamp,
    text,
)

_STATUS = {"open": AlertStatus.NEW, "resolved": AlertStatus.RESOLVED, "closed": AlertStatus.RESOLVED}
_SEVERITY = {
    "info": Severity.INFORMATIONAL,
    "informational": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def normalize_rocketcyber(incident: Any, integration_id: str) -> NormalizedAlert:
    """One item of the incidents list's ``data[]`` as a NormalizedAlert."""
    incident = require_mapping(incident, "$", "a RocketCyber incident")
    severity = text(incident.get("severity"))
    devices = _devices(incident.get("affectedDevices"))
    return build_alert(
        source=Source.ROCKETCYBER,
        integration_id=integration_id,
        vendor_alert_id=required_text(incident, "id"),
        title=required_text(incident, "title"),
        verdict=Verdict.SUSPICIOUS,
        severity=_SEVERITY.get((severity or "").lower(), Severity.UNKNOWN),
        vendor_severity=severity[:50] if severity else None,
        event_count=_event_count(incident),
        device_hostname=devices[0] if devices else None,
        affected_devices=devices,
        status=_STATUS.get((text(incident.get("status")) or "").lower(), AlertStatus.NEW),
        detected_at=required_timestamp(incident, "createdAt"),
        vendor_updated_at=optional_timestamp(incident, "updatedAt", "resolvedAt"),
        description=text(incident.get("description")),
        remediation=text(incident.get("remediation")),
        vendor_tenant_id=text(incident.get("accountId")),
        vendor_tenant_name=text(incident.get("accountName")),
        raw=dict(incident),
    )


def _event_count(incident: Mapping[str, Any]) -> int | None:
    value, events = incident.get("eventCount"), incident.get("events")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return len(events) if isinstance(events, list) else None


def _devices(value: Any) -> list[str]:
    """The host names of ``affectedDevices``, in RocketCyber's order, each once (case as first spelled)."""
    names: dict[str, str] = {}
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, Mapping):
            entry = entry.get("hostname") or entry.get("name")
        name = text(entry) if isinstance(entry, str) else None
        if name and not _CONTROL.search(name):
            names.setdefault(name.casefold(), name[:253])
    return list(names.values())
