"""Each vendor normalizer on payloads shaped like the connector research (tests/fixtures/soc)."""

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.soc.alerts import AlertFormatError, AlertStatus, Severity, Source, Verdict
from domain.soc.barracuda import DEFAULT_MAPPING, FieldMapping, normalize_barracuda
from domain.soc.generic import normalize_generic
from domain.soc.normalize import get_path
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone

S1_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
S1_SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
S1_PATH = "\\Device\\HarddiskVolume3\\Users\\jdoe\\Downloads\\invoice_2026.exe"


# --- SentinelOne ---------------------------------------------------------------------------------------------


def test_sentinelone_webhook_threat_maps_every_field(s1_webhook):
    alert = normalize_sentinelone(s1_webhook, "int-s1-acme", console_url="https://usea1.sentinelone.net/")

    assert alert.source is Source.SENTINELONE
    assert alert.integration_id == "int-s1-acme"
    assert alert.vendor_alert_id == "1798765432101234567"
    assert alert.dedupe_key == "sentinelone:int-s1-acme:1798765432101234567"
    assert alert.title == "invoice_2026.exe"
    assert alert.severity is Severity.HIGH
    assert alert.confidence == 90
    assert alert.verdict is Verdict.MALICIOUS
    assert alert.status is AlertStatus.MITIGATED
    assert alert.detected_at == datetime(2026, 11, 20, 8, 15, 40, tzinfo=UTC)
    assert alert.device_hostname == "ACME-WS-042"
    assert alert.device_ip == "10.20.30.42"
    assert alert.device_external_id == "1700000000000000001"
    assert alert.user == "CONTOSO\\jdoe"
    assert alert.file_name == "invoice_2026.exe"
    assert alert.file_path == S1_PATH
    assert alert.file_sha256 == S1_SHA256
    assert alert.file_sha1 == S1_SHA1
    assert alert.classification == "Trojan"
    assert alert.mitre_techniques == []
    assert alert.vendor_url == "https://usea1.sentinelone.net/incidents/threats/1798765432101234567/overview"
    assert alert.vendor_tenant_id == "1650000000000000001"
    assert alert.vendor_tenant_name == "Contoso GmbH"
    assert alert.description is None and alert.remediation is None
    assert alert.raw == s1_webhook


def test_sentinelone_same_threat_by_webhook_and_list_api_is_one_alert(s1_webhook, s1_page):
    pushed = normalize_sentinelone(s1_webhook, "int-s1-acme")
    polled = normalize_sentinelone(s1_page["data"][0], "int-s1-acme")

    assert pushed.dedupe_key == polled.dedupe_key
    # The later poll carries the analyst's work: newer state, same alert.
    assert polled.status is AlertStatus.IN_PROGRESS and polled.verdict is Verdict.MALICIOUS
    other_account = normalize_sentinelone(s1_webhook, "int-s1-other-console")
    assert other_account.dedupe_key != pushed.dedupe_key


def test_sentinelone_suspicious_threat_without_sha256(s1_page):
    alert = normalize_sentinelone(s1_page["data"][1], "int-s1-acme")

    assert (alert.verdict, alert.severity, alert.confidence) == (Verdict.SUSPICIOUS, Severity.MEDIUM, 50)
    assert alert.status is AlertStatus.NEW
    assert alert.file_sha256 is None and alert.file_sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert alert.file_name == "update_helper.ps1"
    assert alert.device_hostname == "CONTOSO-SRV-01" and alert.device_ip == "10.20.30.5"
    assert alert.vendor_url is None


@pytest.mark.parametrize(
    ("changes", "verdict", "status", "severity"),
    [
        ({"analystVerdict": "false_positive"}, Verdict.BENIGN, AlertStatus.SUPPRESSED, Severity.HIGH),
        ({"mitigationStatus": "marked_as_benign"}, Verdict.BENIGN, AlertStatus.SUPPRESSED, Severity.HIGH),
        ({"incidentStatus": "resolved"}, Verdict.MALICIOUS, AlertStatus.RESOLVED, Severity.HIGH),
        ({"mitigationStatus": "not_mitigated"}, Verdict.MALICIOUS, AlertStatus.NEW, Severity.HIGH),
        ({"classification": "Ransomware"}, Verdict.MALICIOUS, AlertStatus.MITIGATED, Severity.CRITICAL),
        ({"confidenceLevel": "n/a"}, Verdict.UNKNOWN, AlertStatus.MITIGATED, Severity.UNKNOWN),
        (
            {"confidenceLevel": "n/a", "analystVerdict": "suspicious"},
            Verdict.SUSPICIOUS,
            AlertStatus.MITIGATED,
            Severity.UNKNOWN,
        ),
    ],
)
def test_sentinelone_verdict_status_severity(s1_webhook, changes, verdict, status, severity):
    s1_webhook["threatInfo"].update(changes)
    alert = normalize_sentinelone(s1_webhook, "int-1")
    assert (alert.verdict, alert.status, alert.severity) == (verdict, status, severity)


def test_sentinelone_fallbacks(s1_webhook):
    info = s1_webhook["threatInfo"]
    del info["identifiedAt"]
    info["processUser"] = "CONTOSO\\svc-print"
    info["sha256"] = ""
    del s1_webhook["id"]
    s1_webhook["agentDetectionInfo"]["agentIpV4"] = "not-an-ip, 192.168.7.9"
    s1_webhook["indicators"] = [
        {
            "category": "Injection",
            "tactics": [
                {
                    "name": "Defense Evasion",
                    "techniques": [
                        {"name": "T1055", "link": "https://attack.mitre.org/techniques/T1055/"},
                        {"name": "Process Hollowing", "link": "https://attack.mitre.org/techniques/T1055/012/"},
                    ],
                }
            ],
        }
    ]
    alert = normalize_sentinelone(s1_webhook, "int-1")

    assert alert.vendor_alert_id == "1798765432101234567"  # threatInfo.threatId
    assert alert.detected_at == datetime(2026, 11, 20, 8, 15, 42, 123456, tzinfo=UTC)  # createdAt
    assert alert.user == "CONTOSO\\svc-print"
    assert alert.file_sha256 is None
    assert alert.device_ip == "192.168.7.9"
    assert alert.mitre_techniques == ["T1055", "T1055.012"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda t: (t.pop("id"), t["threatInfo"].pop("threatId")), "id"),
        (lambda t: t.pop("threatInfo"), "threatInfo"),
        (lambda t: t.update(threatInfo="nope"), "threatInfo"),
        (lambda t: (t["threatInfo"].pop("identifiedAt"), t["threatInfo"].pop("createdAt")), "threatInfo.identifiedAt"),
        (lambda t: t["threatInfo"].update(identifiedAt="2026-11-20T08:15:40"), "threatInfo.identifiedAt"),
        (lambda t: (t["threatInfo"].pop("threatName"), t["threatInfo"].pop("classification")), "threatInfo.threatName"),
    ],
)
def test_sentinelone_bad_payload_names_the_field(s1_webhook, mutate, field):
    mutate(s1_webhook)
    with pytest.raises(AlertFormatError) as exc:
        normalize_sentinelone(s1_webhook, "int-1")
    assert exc.value.field == field


def test_sentinelone_id_and_threat_id_that_differ_are_read_top_level_id_first(s1_webhook):
    # Published samples carry different values: not a reason to lose the threat.
    s1_webhook["threatInfo"]["threatId"] = "999"
    alert = normalize_sentinelone(s1_webhook, "int-1")
    assert alert.vendor_alert_id == s1_webhook["id"] == "1798765432101234567"
    assert alert.raw["threatInfo"]["threatId"] == "999"
    s1_webhook.pop("id")
    assert normalize_sentinelone(s1_webhook, "int-1").vendor_alert_id == "999"


def test_sentinelone_agent_uuid_and_macos_name_with_blanks(s1_webhook):
    s1_webhook["agentRealtimeInfo"].update(agentComputerName="arvchristos MacBook Pro", agentOsType="macos")
    s1_webhook["agentDetectionInfo"]["agentUuid"] = "0d6e4c1a2b3f4e5d8c9b0a1f2e3d4c5b"
    alert = normalize_sentinelone(s1_webhook, "int-1")
    assert alert.device_hostname == "arvchristos MacBook Pro"  # as the device reports it
    assert alert.device_agent_uuid == "0d6e4c1a2b3f4e5d8c9b0a1f2e3d4c5b"  # the detection snapshot's, no realtime one
    s1_webhook["agentRealtimeInfo"]["agentUuid"] = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert normalize_sentinelone(s1_webhook, "int-1").device_agent_uuid == "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda t: t.update(id="1" * 201) or t["threatInfo"].update(threatId="1" * 201), "vendor_alert_id"),
        (lambda t: t.update(id="17\x00") or t["threatInfo"].update(threatId="17\x00"), "vendor_alert_id"),
        (lambda t: t["agentRealtimeInfo"].update(agentComputerName="ACME\x00WS"), "device_hostname"),
        (lambda t: t["agentRealtimeInfo"].update(agentComputerName="a" * 254), "device_hostname"),
    ],
)
def test_sentinelone_value_the_alert_cannot_hold_is_a_format_error_naming_it(s1_webhook, mutate, field):
    """Not a bare pydantic error: the webhook answers AlertFormatError with a 422 naming the field."""
    mutate(s1_webhook)
    with pytest.raises(AlertFormatError) as exc:
        normalize_sentinelone(s1_webhook, "int-s1-acme")
    assert exc.value.field == field


def test_free_text_of_every_vendor_loses_its_control_characters(s1_webhook, rc_page, xdr_alarm):
    s1_webhook["threatInfo"]["threatName"] = "invoice\x00.exe"
    rc = rc_page["data"][0] | {"title": "Suspicious\x00 PowerShell", "description": "a\x1bb"}
    xdr_alarm["title"] = "Brute\x07 force"
    assert normalize_sentinelone(s1_webhook, "int-s1").title == "invoice.exe"
    rc_alert = normalize_rocketcyber(rc, "int-rc")
    assert (rc_alert.title, rc_alert.description) == ("Suspicious PowerShell", "ab")
    assert normalize_barracuda(xdr_alarm, DEFAULT_MAPPING, "int-xdr").title == "Brute force"


def test_sentinelone_list_envelope_is_refused_with_a_hint(s1_page):
    with pytest.raises(AlertFormatError, match="data"):
        normalize_sentinelone(s1_page, "int-1")
    with pytest.raises(AlertFormatError) as exc:
        normalize_sentinelone(["not", "an", "object"], "int-1")
    assert exc.value.field == "$"


# --- RocketCyber ---------------------------------------------------------------------------------------------


def test_rocketcyber_incidents_map_every_field(rc_page):
    open_incident, resolved = (normalize_rocketcyber(item, "int-rc") for item in rc_page["data"])

    assert open_incident.source is Source.ROCKETCYBER
    assert open_incident.vendor_alert_id == "184233"
    assert open_incident.dedupe_key == "rocketcyber:int-rc:184233"
    assert open_incident.title == "Suspicious PowerShell Execution"
    assert open_incident.description == "Encoded PowerShell command launched by winword.exe on ACME-WS-042."
    assert open_incident.remediation == "Isolate the device and review the parent process chain."
    assert open_incident.status is AlertStatus.NEW
    assert open_incident.verdict is Verdict.SUSPICIOUS
    assert (open_incident.severity, open_incident.confidence) == (Severity.UNKNOWN, None)
    assert open_incident.detected_at == datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)
    assert open_incident.vendor_tenant_id == "1234567" and open_incident.vendor_tenant_name is None
    assert not open_incident.has_device and open_incident.user is None
    assert open_incident.raw == rc_page["data"][0]

    assert resolved.vendor_alert_id == "184101" and resolved.status is AlertStatus.RESOLVED
    assert resolved.detected_at == datetime(2026, 11, 18, 22, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize("field", ["id", "title", "createdAt"])
def test_rocketcyber_missing_field(rc_page, field):
    incident = rc_page["data"][0]
    incident[field] = None
    with pytest.raises(AlertFormatError) as exc:
        normalize_rocketcyber(incident, "int-rc")
    assert exc.value.field == field


# --- Barracuda XDR -------------------------------------------------------------------------------------------


def test_barracuda_default_mapping_maps_every_field(xdr_alarm):
    alert = normalize_barracuda(xdr_alarm, DEFAULT_MAPPING, "int-xdr")

    assert alert.source is Source.BARRACUDA_XDR
    assert alert.vendor_alert_id == "XDR-2026-000123"
    assert alert.dedupe_key == "barracuda_xdr:int-xdr:XDR-2026-000123"
    assert alert.title == "Brute force login attempts detected"
    assert alert.severity is Severity.HIGH
    assert alert.status is AlertStatus.NEW
    assert alert.verdict is Verdict.SUSPICIOUS
    assert alert.confidence is None
    assert alert.detected_at == datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)
    assert alert.description == "Multiple failed sign-ins for jdoe@contoso.com from 198.51.100.23"
    assert alert.remediation == "Reset the user's password and enforce MFA."
    assert alert.device_hostname == "MUC-DC01.contoso.local"
    assert alert.device_ip == "10.1.2.3"
    assert alert.device_external_id == "xdr-asset-991"
    assert alert.user == "jdoe@contoso.com"
    assert alert.classification == "Brute Force"
    assert alert.mitre_techniques == ["T1110", "T1110.003"]
    assert alert.vendor_url == "https://xdr.example.invalid/alarms/XDR-2026-000123"
    assert (alert.vendor_tenant_id, alert.vendor_tenant_name) == ("CUST-0042", "Contoso GmbH")
    assert (alert.file_name, alert.file_sha256, alert.file_sha1) == (None, None, None)
    assert alert.raw == xdr_alarm


def test_barracuda_custom_nested_mapping_and_value_maps():
    payload = {
        "alarm": {
            "id": 77,
            "name": "Ransomware behaviour",
            "sev": "P1",
            "state": "Triage",
            "ts": 1795162542,
            "score": "92.4",
            "verdict": "True Positive",
        },
        "assets": [{"hostname": "muc-fs01", "ip": "10.1.2.20"}],
        "file": {
            "path": "D:\\share\\locker.exe",
            "hash": "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
        },
    }
    mapping = FieldMapping.model_validate(
        {
            "vendor_alert_id": "alarm.id",
            "title": "alarm.name",
            "detected_at": "alarm.ts",
            "severity": "alarm.sev",
            "status": "alarm.state",
            "confidence": "alarm.score",
            "verdict": "alarm.verdict",
            "device_hostname": "assets.0.hostname",
            "device_ip": "assets.0.ip",
            "file_path": "file.path",
            "file_name": None,
            "file_sha256": "file.hash",
            "severity_values": {"P1": "critical", "P2": "high"},
            "status_values": {"TRIAGE": "in_progress"},
            "verdict_values": {"True Positive": "malicious"},
        }
    )
    alert = normalize_barracuda(payload, mapping, "int-xdr")

    assert alert.vendor_alert_id == "77" and alert.title == "Ransomware behaviour"
    assert alert.detected_at == datetime.fromtimestamp(1795162542, tz=UTC)
    assert (alert.severity, alert.status, alert.verdict, alert.confidence) == (
        Severity.CRITICAL,
        AlertStatus.IN_PROGRESS,
        Verdict.MALICIOUS,
        92,
    )
    assert (alert.device_hostname, alert.device_ip) == ("muc-fs01", "10.1.2.20")
    assert alert.file_name == "locker.exe" and alert.file_path == "D:\\share\\locker.exe"
    assert alert.file_sha256 == S1_SHA256
    assert alert.user is None and alert.vendor_tenant_name is None


def test_barracuda_unmapped_values_fall_back(xdr_alarm):
    xdr_alarm.update(severity="Apocalyptic", status="Snoozed", ipAddress="n/a")
    alert = normalize_barracuda(xdr_alarm, DEFAULT_MAPPING, "int-xdr")
    assert (alert.severity, alert.status, alert.device_ip) == (Severity.UNKNOWN, AlertStatus.NEW, None)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("alarmId", None, "alarmId"),
        ("title", "  ", "title"),
        ("createdAt", None, "createdAt"),
        ("createdAt", "20.11.2026 08:15", "createdAt"),
    ],
)
def test_barracuda_missing_required_field(xdr_alarm, path, value, field):
    xdr_alarm[path] = value
    with pytest.raises(AlertFormatError) as exc:
        normalize_barracuda(xdr_alarm, DEFAULT_MAPPING, "int-xdr")
    assert exc.value.field == field


def test_barracuda_bad_confidence_names_the_path(xdr_alarm):
    xdr_alarm["score"] = "very"
    with pytest.raises(AlertFormatError) as exc:
        normalize_barracuda(xdr_alarm, FieldMapping(confidence="score"), "int-xdr")
    assert exc.value.field == "score"


@pytest.mark.parametrize("bad", [{"title": "a..b"}, {"title": ""}, {"severity_values": {"x": "severe"}}, {"nope": "x"}])
def test_field_mapping_rejects_bad_configuration(bad):
    with pytest.raises(ValueError):
        FieldMapping.model_validate(bad)


# --- generic -------------------------------------------------------------------------------------------------


def test_generic_maps_every_field(generic_alert):
    alert = normalize_generic(generic_alert, "int-gen")

    assert alert.source is Source.GENERIC
    assert alert.vendor_alert_id == "evt-20261120-0042"
    assert alert.dedupe_key == "generic:int-gen:evt-20261120-0042"
    assert alert.title == "Mimikatz detected"
    assert alert.detected_at == datetime(2026, 11, 20, 9, 15, 42, tzinfo=timezone(timedelta(hours=1)))
    assert (alert.severity, alert.confidence, alert.verdict, alert.status) == (
        Severity.CRITICAL,
        85,
        Verdict.MALICIOUS,
        AlertStatus.NEW,
    )
    assert (alert.device_hostname, alert.device_ip, alert.device_external_id) == ("MUC-DC01", "10.1.2.3", "agent-77")
    assert alert.user == "CONTOSO\\admin"
    assert (alert.file_name, alert.file_path) == ("m.exe", "C:\\Temp\\m.exe")
    assert alert.file_sha256 == "92f3c3a0c1a3e1c0f4b0ae1a1c5d2b7e0f3f4c1e6a7b8c9d0e1f2a3b4c5d6e7f"
    assert alert.file_sha1 == "0123456789abcdef0123456789abcdef01234567"
    assert alert.classification == "Credential Theft"
    assert alert.mitre_techniques == ["T1003.001"]
    assert alert.vendor_url == "https://siem.example.invalid/alerts/42"
    assert alert.description == "LSASS memory access by an unsigned binary."
    assert alert.remediation == "Isolate the host, reset privileged credentials."
    assert (alert.vendor_tenant_id, alert.vendor_tenant_name) == ("contoso", "Contoso GmbH")
    assert alert.raw == generic_alert


def test_generic_minimal_and_numeric_forms():
    payload = {"id": 42, "title": "t", "detected_at": 1795162542, "severity": 4, "verdict": None, "device": None}
    alert = normalize_generic(payload, "int-gen")
    assert alert.vendor_alert_id == "42" and alert.severity is Severity.HIGH
    assert alert.detected_at == datetime.fromtimestamp(1795162542, tz=UTC)
    assert not alert.has_device and alert.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("id", None, "id"),
        ("title", "", "title"),
        ("detected_at", "2026-11-20T09:15:42", "detected_at"),
        ("severity", "severe", "severity"),
        ("severity", 9, "severity"),
        ("verdict", "evil", "verdict"),
        ("confidence", 101, "confidence"),
        ("device.ip", "10.1.2", "device.ip"),
        ("file.sha256", "abc", "file.sha256"),
        ("mitre_techniques", ["T1003", "Credential Dumping"], "mitre_techniques.1"),
        ("id", "evt\x0042", "id"),
        ("device.hostname", "MUC-DC01\x00", "device.hostname"),
        ("device.hostname", "h" * 254, "device.hostname"),
        ("device.id", "agent\x1b77", "device.id"),
        ("user", "CONTOSO\\admin\x00", "user"),
        ("tenant.id", "contoso\x00", "tenant.id"),
    ],
)
def test_generic_bad_field_is_named(generic_alert, path, value, field):
    payload = copy.deepcopy(generic_alert)
    *parents, leaf = path.split(".")
    target = get_path(payload, ".".join(parents)) if parents else payload
    target[leaf] = value
    with pytest.raises(AlertFormatError) as exc:
        normalize_generic(payload, "int-gen")
    assert exc.value.field == field
