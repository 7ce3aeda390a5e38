"""SentinelOne threats (Management API v2.1 threat objects) as `NormalizedAlert`s.

One threat object has the same shape whether the list API returns it inside ``data[]``
(``GET /web/api/v2.1/threats``) or a webhook delivers it, so both paths give the same ``dedupe_key``.
Field names follow the v2.1 threat schema (``threatInfo.*``, ``agentRealtimeInfo.*``, ``agentDetectionInfo.*``,
top-level ``id``, ``indicators``, ``mitigationStatus``). Mapping decisions:

* id: top-level ``id``, else ``threatInfo.threatId``. Both are the threat id, but published samples carry
  different values; the top-level ``id`` wins (the list API and the webhook both send the whole object, so the
  dedupe key does not depend on the delivery path) and ``raw`` keeps the other.
* verdict: the analyst's verdict wins (``true_positive`` -> malicious, ``false_positive`` -> benign,
  ``suspicious``); else ``mitigationStatus == marked_as_benign`` -> benign; else ``confidenceLevel``.
* confidence: S1 gives no score, only ``confidenceLevel``; we map malicious -> 90, suspicious -> 50,
  ``n/a`` -> None, so the priority matrix can use the same bands for every vendor. The ticket shows S1's own
  word (``vendor_confidence``), never the number.
* severity: S1 threats carry none; malicious -> high (critical for the classification Ransomware),
  suspicious -> medium, otherwise unknown (``vendor_severity`` stays empty: the ticket says it is derived).
* status: benign/false positive -> suppressed; ``incidentStatus`` resolved / in_progress; an unresolved
  threat that is ``mitigated`` -> mitigated; else new.
* vendor_updated_at: ``threatInfo.updatedAt`` (orders a late poll behind a newer webhook); unreadable -> None.
* agent_decommissioned: ``agentRealtimeInfo.agentIsDecommissioned`` is true (the agent was removed from the
  console's inventory: its device is never proposed for containment).
* device: ``agentRealtimeInfo.agentComputerName`` as the device reports it (macOS names have blanks), ``agentId``
  (the id the disconnect action takes) and ``agentUuid`` (realtime, else detection snapshot: the incident's
  device key and the inventory's first match),
  ``agentDetectionInfo.agentIpV4`` (else ``agentIpV6``); user: ``threatInfo.processUser``, else
  ``agentDetectionInfo.agentLastLoggedInUserName``; vendor tenant: the site (detection-time snapshot first).
* MITRE techniques: collected from ``indicators`` wherever they appear (ids or attack.mitre.org links); the
  exact nesting of ``indicators`` is not in our verified sources.
* vendor_url: only with ``console_url`` (the integration's ``https://<tenant>.sentinelone.net``); the path
  ``/incidents/threats/<id>/overview`` is the console's threat page as we know it, not verified.
"""

from collections.abc import Mapping
from typing import Any

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

_ANALYST_VERDICT = {
    "true_positive": Verdict.MALICIOUS,
    "false_positive": Verdict.BENIGN,
    "suspicious": Verdict.SUSPICIOUS,
}
_CONFIDENCE_VERDICT = {"malicious": Verdict.MALICIOUS, "suspicious": Verdict.SUSPICIOUS}
_CONFIDENCE_SCORE = {"malicious": 90, "suspicious": 50}
_CRITICAL_CLASSIFICATIONS = {"ransomware"}


def normalize_sentinelone(threat: Any, integration_id: str, *, console_url: str | None = None) -> NormalizedAlert:
    """One S1 threat object (an item of the list API's ``data[]``, or a webhook body) as a NormalizedAlert."""
    threat = require_mapping(threat, "$", "a SentinelOne threat")
    if "threatInfo" not in threat:
        hint = "this is the list envelope: normalize each item of data[]" if "data" in threat else "missing"
        raise AlertFormatError("threatInfo", hint)
    info = require_mapping(threat["threatInfo"], "threatInfo", "threatInfo")
    threat_id = _threat_id(threat)
    realtime = threat.get("agentRealtimeInfo") or {}
    detection = threat.get("agentDetectionInfo") or {}

    confidence_level = (text(info.get("confidenceLevel")) or "").lower()
    analyst = (text(info.get("analystVerdict")) or "").lower()
    mitigation = (text(info.get("mitigationStatus")) or "").lower()
    verdict = _ANALYST_VERDICT.get(analyst) or (
        Verdict.BENIGN if mitigation == "marked_as_benign" else _CONFIDENCE_VERDICT.get(confidence_level)
    )
    classification = text(info.get("classification"))
    file_path = text(info.get("filePath"))
    site = detection if text(get_path(detection, "siteId")) else realtime

    return build_alert(
        source=Source.SENTINELONE,
        integration_id=integration_id,
        vendor_alert_id=threat_id,
        title=text(info.get("threatName")) or classification or required_text(threat, "threatInfo.threatName"),
        severity=_severity(confidence_level, classification),
        confidence=_CONFIDENCE_SCORE.get(confidence_level),
        vendor_confidence=confidence_level if confidence_level in _CONFIDENCE_SCORE else None,
        verdict=verdict or Verdict.UNKNOWN,
        status=_status(info, analyst, mitigation),
        detected_at=required_timestamp(threat, "threatInfo.identifiedAt", "threatInfo.createdAt"),
        vendor_updated_at=optional_timestamp(threat, "threatInfo.updatedAt"),
        device_hostname=text(get_path(realtime, "agentComputerName")),
        device_ip=ip_address(get_path(detection, "agentIpV4")) or ip_address(get_path(detection, "agentIpV6")),
        device_external_id=text(get_path(realtime, "agentId")),
        agent_decommissioned=_is_true(get_path(realtime, "agentIsDecommissioned")),
        device_agent_uuid=text(get_path(realtime, "agentUuid")) or text(get_path(detection, "agentUuid")),
        user=text(info.get("processUser")) or text(get_path(detection, "agentLastLoggedInUserName")),
        file_name=basename(file_path),
        file_path=file_path,
        file_sha256=file_hash(info.get("sha256"), 64),
        file_sha1=file_hash(info.get("sha1"), 40),
        classification=classification,
        mitre_techniques=mitre_techniques(threat.get("indicators")),
        vendor_url=f"{console_url.rstrip('/')}/incidents/threats/{threat_id}/overview" if console_url else None,
        vendor_tenant_id=text(get_path(site, "siteId")),
        vendor_tenant_name=text(get_path(site, "siteName")),
        raw=dict(threat),
    )


def _threat_id(threat: Mapping[str, Any]) -> str:
    top, inner = text(threat.get("id")), text(get_path(threat, "threatInfo.threatId"))
    if not (top or inner):
        raise AlertFormatError("id", "missing threat id (id or threatInfo.threatId)")
    return top or inner or ""


def _severity(confidence_level: str, classification: str | None) -> Severity:
    if confidence_level == "malicious":
        critical = (classification or "").lower() in _CRITICAL_CLASSIFICATIONS
        return Severity.CRITICAL if critical else Severity.HIGH
    return Severity.MEDIUM if confidence_level == "suspicious" else Severity.UNKNOWN


def _status(info: Mapping[str, Any], analyst: str, mitigation: str) -> AlertStatus:
    incident = (text(info.get("incidentStatus")) or "").lower()
    if analyst == "false_positive" or mitigation == "marked_as_benign":
        return AlertStatus.SUPPRESSED
    if incident == "resolved":
        return AlertStatus.RESOLVED
    if incident == "in_progress":
        return AlertStatus.IN_PROGRESS
    return AlertStatus.MITIGATED if mitigation == "mitigated" else AlertStatus.NEW


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
