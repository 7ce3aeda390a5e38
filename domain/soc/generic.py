"""The hub's own ``generic`` alert shape, for tools without a dedicated normalizer (scripts, SIEM rules, ...).

A sender posts one JSON object per alert (signed like every inbound webhook, see `domain.soc.signatures`)::

    {
      "id": "evt-20261120-0042",                      required: the sender's stable alert id
      "title": "Mimikatz detected",                   required
      "detected_at": "2026-11-20T08:15:42Z",          required: ISO-8601 with zone, or Unix seconds
      "updated_at": "2026-11-20T09:00:00Z",           optional: last change (orders status updates)
      "severity": "high",                             OCSF name (unknown .. fatal) or severity_id 0..6
      "confidence": 85,                               0..100
      "verdict": "malicious",                         malicious | suspicious | benign | unknown
      "status": "new",                                new | in_progress | mitigated | resolved | suppressed
      "device": {"hostname": "MUC-DC01", "ip": "10.1.2.3", "id": "agent-77", "serial": "CZ123ABC"},
      "user": "CONTOSO\\\\admin",
      "file": {"name": "m.exe", "path": "C:\\\\Temp\\\\m.exe", "sha256": "...", "sha1": "..."},
      "classification": "Credential Theft",
      "mitre_techniques": ["T1003.001"],
      "url": "https://siem.example/alerts/42",
      "description": "...", "remediation": "...",
      "tenant": {"id": "contoso", "name": "Contoso GmbH"}
    }

Unknown keys are ignored (they stay in ``raw``); a missing or invalid known key raises ``AlertFormatError``
naming it (``device.ip``, ``mitre_techniques.0``). Hashes and IPs are validated strictly here, because
the sender controls the format; so are ids and keys (``id``, ``device.*``, ``user``, ``tenant.id``): a control
character refuses the alert. Control characters in free text are dropped.
"""

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    ValidationError,
    model_validator,
)

from domain.soc.alerts import (
    AlertStatus,
    FreeText,
    NormalizedAlert,
    Severity,
    Sha1,
    Sha256,
    Source,
    TechniqueId,
    Verdict,
    no_control_characters,
)
from domain.soc.normalize import build_alert, format_error, require_mapping


def _severity(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return Severity.from_id(value)
    return value.strip().lower() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


_Text = Annotated[FreeText, Field(min_length=1, max_length=65_536)]
_Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_control_characters)]
_Key = Annotated[str, Field(min_length=1, max_length=65_536), AfterValidator(no_control_characters)]
_Hostname = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(no_control_characters)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)


class _Device(_Part):
    hostname: _Hostname | None = None
    ip: IPvAnyAddress | None = None
    id: _Key | None = None
    serial: Annotated[_Key, Field(max_length=100)] | None = None


class _File(_Part):
    name: _Text | None = None
    path: _Text | None = None
    sha256: Annotated[Sha256, BeforeValidator(_lower)] | None = None
    sha1: Annotated[Sha1, BeforeValidator(_lower)] | None = None


class _Tenant(_Part):
    id: _Key | None = None
    name: _Text | None = None


class GenericAlert(_Part):
    """The generic inbound shape (see the module docstring); ``null`` counts as absent."""

    id: _Id
    title: _Text
    detected_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    severity: Annotated[Severity, BeforeValidator(_severity)] = Severity.UNKNOWN
    confidence: int | None = Field(default=None, ge=0, le=100)
    verdict: Annotated[Verdict, BeforeValidator(_lower)] = Verdict.UNKNOWN
    status: Annotated[AlertStatus, BeforeValidator(_lower)] = AlertStatus.NEW
    device: _Device = Field(default_factory=_Device)
    user: _Key | None = None
    file: _File = Field(default_factory=_File)
    classification: _Text | None = None
    mitre_techniques: list[Annotated[TechniqueId, BeforeValidator(_upper)]] = Field(
        default_factory=list, max_length=100
    )
    url: _Text | None = None
    description: _Text | None = None
    remediation: _Text | None = None
    tenant: _Tenant = Field(default_factory=_Tenant)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


def normalize_generic(payload: Any, integration_id: str) -> NormalizedAlert:
    payload = require_mapping(payload, "$", "a generic alert")
    try:
        alert = GenericAlert.model_validate(payload)
    except ValidationError as exc:
        raise format_error(exc) from exc
    return build_alert(
        source=Source.GENERIC,
        integration_id=integration_id,
        vendor_alert_id=alert.id,
        title=alert.title,
        severity=alert.severity,
        confidence=alert.confidence,
        verdict=alert.verdict,
        status=alert.status,
        detected_at=alert.detected_at,
        vendor_updated_at=alert.updated_at,
        device_hostname=alert.device.hostname,
        device_ip=str(alert.device.ip) if alert.device.ip else None,
        device_external_id=alert.device.id,
        device_serial=alert.device.serial,
        user=alert.user,
        file_name=alert.file.name,
        file_path=alert.file.path,
        file_sha256=alert.file.sha256,
        file_sha1=alert.file.sha1,
        classification=alert.classification,
        mitre_techniques=list(dict.fromkeys(alert.mitre_techniques)),
        vendor_url=alert.url,
        description=alert.description,
        remediation=alert.remediation,
        vendor_tenant_id=alert.tenant.id,
        vendor_tenant_name=alert.tenant.name,
        raw=dict(payload),
    )
