"""The normalised alert: its invariants, its OCSF view, de-duplication and incident correlation."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.processes import incident_workflow_id
from domain.soc.alerts import (
    AlertOutOfWindow,
    AlertStatus,
    NormalizedAlert,
    Severity,
    Source,
    Verdict,
    check_alert_times,
    correlation_key,
    deduplicate,
    device_key,
    host_key,
    same_incident,
)
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone

T0 = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
WORKFLOW_ID_SAFE = re.compile(r"^incident-[A-Za-z0-9-]+$")


def make(**fields) -> NormalizedAlert:
    base = {
        "source": Source.GENERIC,
        "integration_id": "int-1",
        "vendor_alert_id": "a-1",
        "title": "Trojan found",
        "detected_at": T0,
        "device_hostname": "MUC-DC01",
        "file_sha256": SHA256,
    }
    return NormalizedAlert(**{**base, **fields})


# --- model ---------------------------------------------------------------------------------------------------


def test_dedupe_key_is_derived_and_survives_a_round_trip():
    alert = make()
    assert alert.dedupe_key == "generic:int-1:a-1"
    # Temporal's pydantic converter dumps and validates again: the derived key must be accepted back.
    assert NormalizedAlert.model_validate_json(alert.model_dump_json()) == alert
    with pytest.raises(ValidationError, match="dedupe_key"):
        NormalizedAlert.model_validate({**alert.model_dump(), "dedupe_key": "generic:int-1:other"})


@pytest.mark.parametrize(
    "bad",
    [
        {"detected_at": datetime(2026, 11, 20, 8, 15)},
        {"integration_id": "a:b"},
        {"confidence": 101},
        {"file_sha256": SHA256.upper()},
        {"mitre_techniques": ["T10"]},
        {"unknown_field": 1},
    ],
)
def test_model_rejects_invalid_values(bad):
    with pytest.raises(ValidationError):
        make(**bad)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vendor_alert_id", "abc\x00def"),
        ("device_hostname", "muc-dc01\x1b"),
        ("device_hostname", "h" * 254),
        ("device_external_id", "agent\n7"),
        ("user", "CONTOSO\\jdoe\x7f"),
        ("vendor_tenant_id", "site\x85"),
    ],
)
def test_ids_and_keys_with_a_control_character_are_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        make(**{field: value})
    assert exc.value.errors()[0]["loc"] == (field,)


def test_control_characters_are_dropped_from_free_text_and_surrogates_replaced_in_raw():
    alert = make(
        title="Mimi\x00katz\x1b detected\ud800",
        description="first line\r\n\tsecond\x00 line\x9f",
        file_path="C:\\Temp\\m\x00.exe",
        raw={"note\udc00": ["a\ud800b", {"n": 1, "nul": "x\x00y"}]},
    )
    assert alert.title == "Mimikatz detected"
    assert alert.description == "first line\r\n\tsecond line"
    assert alert.file_path == "C:\\Temp\\m.exe"
    # The original stays as it was but for what no encoder takes: NUL survives as a JSON escape.
    assert alert.raw == {"note\ufffd": ["a\ufffdb", {"n": 1, "nul": "x\x00y"}]}
    assert NormalizedAlert.model_validate_json(alert.model_dump_json()) == alert
    with pytest.raises(ValidationError):
        make(title="\x00\x01")  # nothing left


def test_times_within_the_window_pass():
    now = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    earliest, latest = datetime(2000, 1, 1, tzinfo=UTC), now + timedelta(days=1)
    alert = make(detected_at=earliest, vendor_updated_at=latest)
    assert check_alert_times(alert, now) is alert
    plus_14 = timezone(timedelta(hours=14))
    assert check_alert_times(make(detected_at=datetime(2000, 1, 1, 14, tzinfo=plus_14)), now)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("detected_at", datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))),
        ("detected_at", datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("detected_at", datetime(2026, 11, 21, 8, 15, 0, 1, tzinfo=UTC)),
        ("detected_at", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("vendor_updated_at", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_times_outside_the_window_are_refused_naming_the_field_and_the_window(field, value):
    now = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    with pytest.raises(AlertOutOfWindow) as exc:
        check_alert_times(make(**{field: value}), now)
    assert exc.value.field == field
    assert "2000-01-01T00:00:00Z up to 2026-11-21T08:15:00Z" in exc.value.message


def test_severity_ids_follow_ocsf():
    assert [s.severity_id for s in Severity] == [0, 1, 2, 3, 4, 5, 6]
    assert Severity.from_id(5) is Severity.CRITICAL
    with pytest.raises(ValueError):
        Severity.from_id(99)


# --- OCSF ----------------------------------------------------------------------------------------------------


def test_to_ocsf_detection_finding(s1_webhook):
    alert = normalize_sentinelone(s1_webhook, "int-s1", console_url="https://usea1.sentinelone.net")
    ocsf = alert.to_ocsf()

    assert (ocsf["class_uid"], ocsf["category_uid"], ocsf["activity_id"], ocsf["type_uid"]) == (2004, 2, 1, 200401)
    assert ocsf["time"] == 1795162540000
    assert (ocsf["severity_id"], ocsf["severity"]) == (4, "High")
    assert (ocsf["status_id"], ocsf["status"]) == (99, "Mitigated")
    assert ocsf["confidence_score"] == 90
    assert ocsf["is_alert"] is True
    assert ocsf["finding_info"] == {
        "uid": "1798765432101234567",
        "title": "invoice_2026.exe",
        "types": ["Trojan"],
        "src_url": "https://usea1.sentinelone.net/incidents/threats/1798765432101234567/overview",
    }
    assert ocsf["device"] == {
        "type_id": 0,
        "hostname": "ACME-WS-042",
        "ip": "10.20.30.42",
        "uid": "1700000000000000001",
    }
    file, user = ocsf["evidences"]
    assert file["file"]["name"] == "invoice_2026.exe"
    assert file["file"]["hashes"] == [
        {"algorithm_id": 3, "algorithm": "SHA-256", "value": SHA256},
        {"algorithm_id": 2, "algorithm": "SHA-1", "value": "3395856ce81f2b7382dee72602f798b642f14140"},
    ]
    assert user == {"user": {"name": "CONTOSO\\jdoe"}}
    assert ocsf["metadata"]["product"] == {"vendor_name": "SentinelOne", "name": "Singularity"}
    assert ocsf["metadata"]["correlation_uid"] == "sentinelone:int-s1:1798765432101234567"
    assert ocsf["metadata"]["version"].startswith("1.")
    assert json.loads(ocsf["raw_data"]) == s1_webhook
    json.dumps(ocsf)  # plain JSON all the way down


def test_to_ocsf_leaves_out_what_the_alert_lacks(rc_page):
    ocsf = normalize_rocketcyber(rc_page["data"][0], "int-rc").to_ocsf()
    assert "device" not in ocsf and "evidences" not in ocsf and "confidence_score" not in ocsf
    assert ocsf["severity_id"] == 0 and ocsf["status_id"] == 1
    assert ocsf["finding_info"]["desc"].startswith("Encoded PowerShell")
    assert ocsf["remediation"] == {"desc": "Isolate the device and review the parent process chain."}


def test_to_ocsf_attacks_and_status_ids():
    ocsf = make(mitre_techniques=["T1003.001"], status=AlertStatus.SUPPRESSED).to_ocsf()
    assert ocsf["finding_info"]["attacks"] == [{"technique": {"uid": "T1003.001"}}]
    assert ocsf["status_id"] == 3


# --- de-duplication ------------------------------------------------------------------------------------------


def test_deduplicate_keeps_first_position_and_last_delivery():
    first = make(vendor_alert_id="a-1", status=AlertStatus.NEW)
    other = make(vendor_alert_id="a-2")
    redelivered = make(vendor_alert_id="a-1", status=AlertStatus.RESOLVED)
    assert deduplicate([first, other, redelivered]) == [redelivered, other]


# --- correlation ---------------------------------------------------------------------------------------------


def test_same_device_same_hash_correlates_across_alerts_and_vendors():
    a = make(vendor_alert_id="a-1", title="Trojan found")
    b = make(
        source=Source.SENTINELONE,
        vendor_alert_id="s1-9",
        title="invoice.exe",
        device_hostname="muc-dc01.contoso.local",
        detected_at=T0 + timedelta(hours=3),
        classification="Trojan",
    )
    key = correlation_key(a, "K10001")
    assert key == correlation_key(b, "K10001")
    assert key.startswith("K10001-muc-dc01-275a021bbfb6-")
    assert WORKFLOW_ID_SAFE.match(incident_workflow_id(correlation_key(a, "K10001")))
    assert incident_workflow_id(correlation_key(a, "K10001")) == f"incident-{key}"


@pytest.mark.parametrize(
    "change",
    [
        {"device_hostname": "MUC-DC02"},
        {"file_sha256": "0" * 64},
        {"file_sha256": None, "file_sha1": "0" * 40},
    ],
)
def test_different_device_or_threat_is_another_incident(change):
    assert correlation_key(make(**change), "K10001") != correlation_key(make(), "K10001")


def test_different_tenant_is_another_incident():
    assert correlation_key(make(), "K10001") != correlation_key(make(), "K10002")


def test_threat_falls_back_to_classification_then_title():
    by_class = [
        make(vendor_alert_id=f"a-{i}", file_sha256=None, classification=c, title=f"t{i}")
        for i, c in enumerate(["Ransomware", "ransomware "])
    ]
    assert correlation_key(by_class[0], "K1") == correlation_key(by_class[1], "K1")
    assert "-ransomware-" in correlation_key(by_class[0], "K1")
    by_title = [make(vendor_alert_id=f"a-{i}", file_sha256=None, title=t) for i, t in enumerate(["Brute force", "X"])]
    assert correlation_key(by_title[0], "K1") != correlation_key(by_title[1], "K1")
    assert "-brute-force-" in correlation_key(by_title[0], "K1")


def test_hosts_that_slug_alike_do_not_collide():
    one, two = make(device_hostname="MUC_DC01"), make(device_hostname="muc-dc01")
    assert correlation_key(one, "K1").rsplit("-", 1)[0] == correlation_key(two, "K1").rsplit("-", 1)[0]
    assert correlation_key(one, "K1") != correlation_key(two, "K1")


def test_device_key_is_the_agent_for_every_alert_of_it_with_or_without_host_name():
    uuid = "0D6E4C1A2B3F4E5D8C9B0A1F2E3D4C5B"
    with_name = make(source=Source.SENTINELONE, device_external_id="1700000000000000001", device_agent_uuid=uuid)
    without_name = make(
        source=Source.SENTINELONE,
        vendor_alert_id="a-2",
        device_hostname=None,
        device_external_id="1700000000000000001",
        device_agent_uuid=uuid.lower(),
    )
    renamed = make(source=Source.SENTINELONE, vendor_alert_id="a-3", device_hostname="NEW-NAME", device_agent_uuid=uuid)
    keys = {correlation_key(a, "K1") for a in (with_name, without_name, renamed)}
    assert len(keys) == 1 and keys.pop().startswith("K1-agent-0d6e4c1a2b3f4e5d8c9b0a1f-")
    assert device_key(with_name) == ("agent", "sentinelone:" + uuid.lower())
    # Another agent on a host of the same name is another device.
    other = make(source=Source.SENTINELONE, device_agent_uuid="f" * 32)
    assert correlation_key(other, "K1") != correlation_key(with_name, "K1")
    # Without a UUID the vendor's agent id is the agent.
    by_id = make(device_hostname=None, device_external_id="170000001")
    assert "-agent-170000001-" in correlation_key(by_id, "K1")
    assert correlation_key(by_id, "K1") == correlation_key(by_id.model_copy(update={"device_hostname": "X"}), "K1")


def test_host_names_as_devices_report_them_are_one_device():
    names = ["arvchristos MacBook Pro", "ARVCHRISTOS  MacBook Pro ", "arvchristos-macbook-pro.local"]
    assert {host_key(n) for n in names} == {"arvchristos-macbook-pro"}
    assert len({correlation_key(make(device_hostname=n), "K1") for n in names}) == 1
    assert host_key("10.1.2.3") == "10.1.2.3"


def test_subject_falls_back_to_agent_ip_user_and_finally_the_alert_itself():
    agent = make(device_hostname=None, device_external_id="170000001")
    assert "-agent-170000001-" in correlation_key(agent, "K1")
    ip = make(device_hostname=None, device_ip="10.1.2.3")
    assert "-ip-10-1-2-3-" in correlation_key(ip, "K1")
    user = make(device_hostname=None, user="jdoe@contoso.com", file_sha256=None, title="Unusual sign-in")
    assert correlation_key(user, "K1").startswith("K1-user-jdoe-contoso-com-unusual-sign-in-")
    lonely = [make(vendor_alert_id=f"rc-{i}", device_hostname=None, file_sha256=None) for i in range(2)]
    keys = {correlation_key(alert, "K1") for alert in lonely}
    assert len(keys) == 2 and all(k.startswith("K1-alert-") for k in keys)
    # ...but a redelivery of the same alert still lands in the same incident.
    assert correlation_key(lonely[0], "K1") == correlation_key(lonely[0].model_copy(), "K1")


def test_key_is_workflow_id_safe_and_bounded():
    alert = make(device_hostname="ÄÖÜ sehr/langer Name " * 10, file_sha256=None, title="💥 " + "x" * 500)
    workflow_id = incident_workflow_id(correlation_key(alert, "K 10001 / Zweigstelle"))
    assert WORKFLOW_ID_SAFE.match(workflow_id) and len(workflow_id) < 160
    with pytest.raises(ValueError):
        correlation_key(alert, " / ")


def test_same_incident_window():
    window = timedelta(hours=24)
    assert same_incident(T0, T0 + timedelta(hours=23, minutes=59), window)
    assert not same_incident(T0, T0 + window, window)
    assert same_incident(T0, T0 - timedelta(days=3), window)  # late delivery of an older alert joins
    with pytest.raises(ValueError):
        same_incident(T0, T0, timedelta(0))


def test_verdict_values():
    assert {v.value for v in Verdict} == {"malicious", "suspicious", "benign", "unknown"}
