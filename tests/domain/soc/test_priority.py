"""The priority matrix: the default table row by row, asset classes, confidence bands, custom matrices."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.soc.alerts import AlertStatus, NormalizedAlert, Severity, Source, Verdict
from domain.soc.priority import (
    DEFAULT_MATRIX,
    AssetClass,
    ConfidenceBand,
    PriorityMatrix,
    PriorityRule,
    asset_class,
    confidence_band,
    prioritize,
    reachable_priority,
)
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.tickets import Priority

M, S, B, U = Verdict.MALICIOUS, Verdict.SUSPICIOUS, Verdict.BENIGN, Verdict.UNKNOWN


def alert(verdict: Verdict, severity: Severity = Severity.MEDIUM, confidence: int | None = None, **fields):
    base = {"device_hostname": "muc-dc01"}
    return NormalizedAlert(
        source=Source.GENERIC,
        integration_id="int-1",
        vendor_alert_id="a-1",
        title="t",
        detected_at=datetime(2026, 11, 20, tzinfo=UTC),
        verdict=verdict,
        severity=severity,
        confidence=confidence,
        **{**base, **fields},
    )


SERVER, WORKSTATION, UNKNOWN = ("server", []), ("workstation", []), (None, [])


@pytest.mark.parametrize(
    ("verdict", "severity", "confidence", "asset", "expected"),
    [
        # 1: malicious on a server (or a critical-tagged asset) -> P1, whatever the confidence
        (M, Severity.LOW, None, SERVER, Priority.P1),
        (M, Severity.HIGH, 90, ("laptop", ["Critical"]), Priority.P1),
        # 2/3: malicious on a workstation -> P2; P1 when critical severity with high confidence
        (M, Severity.CRITICAL, 90, WORKSTATION, Priority.P1),
        (M, Severity.CRITICAL, 60, WORKSTATION, Priority.P2),
        (M, Severity.HIGH, 90, WORKSTATION, Priority.P2),
        (M, Severity.FATAL, 80, WORKSTATION, Priority.P1),
        # 4/5: unknown device -> one step less urgent
        (M, Severity.CRITICAL, 95, UNKNOWN, Priority.P2),
        (M, Severity.HIGH, 90, UNKNOWN, Priority.P3),
        # 6/7/8/9: suspicious; on an unknown device P3 only when the vendor rates it high or critical
        (S, Severity.HIGH, 50, SERVER, Priority.P2),
        (S, Severity.MEDIUM, 50, SERVER, Priority.P3),
        (S, Severity.CRITICAL, 99, WORKSTATION, Priority.P3),
        (S, Severity.HIGH, 50, UNKNOWN, Priority.P3),
        (S, Severity.MEDIUM, 50, UNKNOWN, Priority.P4),
        # 10: unknown verdict, at least high severity
        (U, Severity.HIGH, None, SERVER, Priority.P3),
        (U, Severity.CRITICAL, None, WORKSTATION, Priority.P3),
        (U, Severity.HIGH, None, UNKNOWN, Priority.P4),
        (U, Severity.MEDIUM, None, SERVER, Priority.P4),
        # fallback: benign / informational
        (B, Severity.CRITICAL, 99, SERVER, Priority.P4),
        (U, Severity.INFORMATIONAL, None, SERVER, Priority.P4),
    ],
)
def test_default_table(verdict, severity, confidence, asset, expected):
    asset_type, tags = asset
    assert prioritize(alert(verdict, severity, confidence), asset_type, tags) is expected


def test_alert_without_any_device_never_ranks_above_a_host_missing_from_the_inventory():
    no_device = alert(S, device_hostname=None)
    assert asset_class(no_device, None, [], DEFAULT_MATRIX) is AssetClass.UNKNOWN
    assert prioritize(no_device, None, []) is Priority.P4
    assert prioritize(no_device, None, [], PriorityMatrix(no_device_asset=AssetClass.STANDARD)) is Priority.P3
    for verdict in Verdict:
        for severity in Severity:
            for confidence in (None, 40, 60, 95):
                bare = prioritize(alert(verdict, severity, confidence, device_hostname=None), None, [])
                missing = prioritize(alert(verdict, severity, confidence), None, [])
                assert int(bare.value[1]) >= int(missing.value[1]), (verdict, severity, confidence)


def test_vendor_examples(s1_webhook, s1_page, rc_page):
    trojan = normalize_sentinelone(s1_webhook, "int-s1")  # malicious, high, 90
    assert prioritize(trojan, "workstation", []) is Priority.P2
    assert prioritize(trojan, "server", []) is Priority.P1
    s1_webhook["threatInfo"]["classification"] = "Ransomware"
    assert prioritize(normalize_sentinelone(s1_webhook, "int-s1"), "workstation", []) is Priority.P1
    suspicious_on_server = normalize_sentinelone(s1_page["data"][1], "int-s1")  # suspicious, medium, 50
    assert prioritize(suspicious_on_server, "server", []) is Priority.P3
    # The page's RocketCyber incidents state no severity: suspicious, no device -> P4.
    assert prioritize(normalize_rocketcyber(rc_page["data"][0], "int-rc"), None, []) is Priority.P4


def test_a_rule_can_name_the_vendor_status():
    matrix = PriorityMatrix(rules=[PriorityRule(statuses=[AlertStatus.RESOLVED], priority=Priority.P4)], fallback="P2")
    assert prioritize(alert(M, status=AlertStatus.RESOLVED), "server", [], matrix) is Priority.P4
    assert prioritize(alert(M, status=AlertStatus.NEW), "server", [], matrix) is Priority.P2


def test_asset_classes_are_case_insensitive_and_configurable():
    a = alert(M)
    matrix = PriorityMatrix(critical_asset_types=["Server", "network"], critical_tags=["KRITIS", "vip"])
    assert asset_class(a, "SERVER", [], matrix) is AssetClass.CRITICAL
    assert asset_class(a, "network", [], matrix) is AssetClass.CRITICAL
    assert asset_class(a, "workstation", ["Vip"], matrix) is AssetClass.CRITICAL
    assert asset_class(a, "workstation", ["critical"], matrix) is AssetClass.STANDARD
    assert asset_class(a, None, ["kritis"], matrix) is AssetClass.UNKNOWN


@pytest.mark.parametrize(
    ("confidence", "band"),
    [
        (None, ConfidenceBand.UNKNOWN),
        (0, ConfidenceBand.LOW),
        (49, ConfidenceBand.LOW),
        (50, ConfidenceBand.MEDIUM),
        (79, ConfidenceBand.MEDIUM),
        (80, ConfidenceBand.HIGH),
        (100, ConfidenceBand.HIGH),
    ],
)
def test_confidence_bands(confidence, band):
    assert confidence_band(confidence, DEFAULT_MATRIX) is band


def test_custom_matrix_first_match_wins_and_fallback():
    matrix = PriorityMatrix.model_validate(
        {
            "rules": [
                {"min_severity": "critical", "priority": "P1"},
                {"verdicts": ["suspicious"], "confidence": ["high"], "priority": "P2"},
            ],
            "fallback": "P3",
        }
    )
    assert prioritize(alert(B, Severity.CRITICAL), "workstation", [], matrix) is Priority.P1
    assert prioritize(alert(S, Severity.LOW, 85), None, [], matrix) is Priority.P2
    assert prioritize(alert(S, Severity.LOW, 40), None, [], matrix) is Priority.P3


@pytest.mark.parametrize(
    "bad",
    [
        {"medium_confidence": 90, "high_confidence": 80},
        {"high_confidence": 101},
        {"rules": [{"priority": "P0"}]},
        {"rules": [{"verdicts": ["evil"], "priority": "P1"}]},
        {"unknown": True},
    ],
)
def test_matrix_validation(bad):
    with pytest.raises(ValidationError):
        PriorityMatrix.model_validate(bad)


def test_default_matrix_round_trips_as_json():
    assert PriorityMatrix.model_validate_json(DEFAULT_MATRIX.model_dump_json()) == DEFAULT_MATRIX
    assert all(isinstance(rule, PriorityRule) for rule in DEFAULT_MATRIX.rules)


@pytest.mark.parametrize(
    ("verdict", "severity", "expected"),
    [
        (M, Severity.LOW, Priority.P1),  # may be on a server: handed over first when the hub is behind
        (S, Severity.HIGH, Priority.P2),
        (S, Severity.MEDIUM, Priority.P3),
    ],
)
def test_reachable_priority_assumes_a_critical_device(verdict, severity, expected):
    a = alert(verdict, severity, 50)
    assert reachable_priority(a) == expected
    assert reachable_priority(a) == prioritize(a, *SERVER)
    # Never less urgent than the priority the alert gets on any real asset.
    ranks = [int(prioritize(a, *asset).value[1]) for asset in (SERVER, WORKSTATION, UNKNOWN)]
    assert int(reachable_priority(a).value[1]) <= min(ranks)


def test_reachable_priority_puts_a_threat_the_vendor_handled_last():
    for update in ({"status": AlertStatus.RESOLVED}, {"status": AlertStatus.MITIGATED}, {"verdict": B}):
        assert reachable_priority(alert(M, Severity.CRITICAL, 95).model_copy(update=update)) is Priority.P4
    assert reachable_priority(alert(M, Severity.CRITICAL, 95, status=AlertStatus.IN_PROGRESS)) is Priority.P1
