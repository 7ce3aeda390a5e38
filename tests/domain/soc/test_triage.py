"""Triage policy (hub defaults + integration override), vendor status of alerts and incidents, the page body."""

import copy
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from activities.soc.incidents import _policy
from domain.contracts.soc import PageRequest
from domain.soc.alerts import AlertStatus, is_stale_update
from domain.soc.barracuda import DEFAULT_MAPPING, FieldMapping, normalize_barracuda
from domain.soc.generic import normalize_generic
from domain.soc.paging import acknowledge_path, page_body
from domain.soc.priority import DEFAULT_MATRIX, PriorityMatrix
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.triage import TriageOverride, TriagePolicy, incident_vendor_status, is_settled, resolve_policy
from domain.tickets import Priority
from hub.config import Settings, hub_defaults
from models import SocIntegration

N, P, M, R, S = (
    AlertStatus.NEW,
    AlertStatus.IN_PROGRESS,
    AlertStatus.MITIGATED,
    AlertStatus.RESOLVED,
    AlertStatus.SUPPRESSED,
)


def test_without_override_the_hub_defaults_apply():
    defaults = TriagePolicy(quiet_window_hours=12, oncall_chain=["https://pager.example/a"])
    assert resolve_policy(defaults, None) == defaults
    assert resolve_policy(defaults, TriageOverride()) == defaults


def test_override_changes_only_what_it_names():
    matrix = PriorityMatrix(fallback=Priority.P3)
    override = TriageOverride(auto_resolve=True, oncall_chain=["https://pager.example/b"], priority_matrix=matrix)
    policy = resolve_policy(TriagePolicy(quiet_window_hours=12, ack_timeout_minutes=5), override)
    assert policy.auto_resolve is True and policy.oncall_chain == ["https://pager.example/b"]
    assert policy.quiet_window_hours == 12 and policy.ack_timeout_minutes == 5
    assert policy.priority_matrix.fallback == Priority.P3


@pytest.mark.parametrize(
    "bad",
    [
        {"quiet_window_hours": 0},
        {"quiet_window_hours": 721},
        {"ack_timeout_minutes": 0},
        {"oncall_chain": ["ftp://pager"]},
        {"oncall_chain": [f"https://p{i}.example" for i in range(11)]},
        {"priority_matrix": {"medium_confidence": 90, "high_confidence": 80}},
        {"unknown": 1},
    ],
)
def test_override_rejects_bad_values(bad):
    with pytest.raises(ValidationError):
        TriageOverride.model_validate(bad)


def test_hub_settings_give_the_defaults_and_a_broken_stored_override_is_ignored():
    settings = Settings(
        soc_quiet_window_hours=6,
        soc_auto_resolve=True,
        soc_ack_timeout_minutes=10,
        soc_oncall_chain=["https://pager.example/l1"],
        soc_priority_matrix={"fallback": "P2"},
    )
    defaults = hub_defaults(settings)
    assert (defaults.quiet_window_hours, defaults.auto_resolve, defaults.ack_timeout_minutes) == (6, True, 10)
    assert defaults.oncall_chain == ["https://pager.example/l1"]
    assert defaults.priority_matrix.fallback == Priority.P2
    assert hub_defaults(Settings()).priority_matrix == DEFAULT_MATRIX

    row = SocIntegration(tenant_id=uuid.uuid4(), source="sentinelone", name="S1", webhook_secret="x")
    row.triage_settings = {"quiet_window_hours": 2}
    assert _policy(settings, row).quiet_window_hours == 2
    row.triage_settings = {"quiet_window_hours": "bald"}  # written around the API: the alert still gets a policy
    assert _policy(settings, row) == defaults


def test_bad_hub_settings_fail_at_startup():
    with pytest.raises(ValidationError):
        Settings(soc_priority_matrix={"rules": [{"priority": "P9"}]})
    with pytest.raises(ValidationError):
        Settings(soc_ack_timeout_minutes=0)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], N),
        ([N], N),
        ([R, N], N),
        ([R, P], P),
        ([R, M], M),
        ([R, R], R),
        ([R, S], R),
        ([S, S], S),
        ([M, S], M),
    ],
)
def test_incident_is_resolved_only_when_every_alert_is(statuses, expected):
    assert incident_vendor_status(statuses) == expected


def test_settled_statuses():
    assert [is_settled(s) for s in (N, P, M, R, S)] == [False, False, True, True, True]


def test_an_older_delivery_is_stale_only_when_both_times_are_known():
    t = datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert is_stale_update(t, t - timedelta(seconds=1))
    assert not is_stale_update(t, t)
    assert not is_stale_update(t, t + timedelta(minutes=1))
    assert not is_stale_update(None, t) and not is_stale_update(t, None)


def test_sentinelone_status_and_update_time(s1_webhook):
    assert normalize_sentinelone(s1_webhook, "i").status == M  # auto-mitigated by the agent
    assert normalize_sentinelone(s1_webhook, "i").vendor_updated_at == datetime(
        2026, 11, 20, 8, 16, 3, 654321, tzinfo=UTC
    )
    for info, expected in (
        ({"mitigationStatus": "not_mitigated"}, N),
        ({"incidentStatus": "in_progress"}, P),
        ({"incidentStatus": "resolved"}, R),
        ({"analystVerdict": "false_positive"}, S),
        ({"mitigationStatus": "marked_as_benign"}, S),
    ):
        threat = copy.deepcopy(s1_webhook)
        threat["threatInfo"].update(info)
        assert normalize_sentinelone(threat, "i").status == expected, info
    threat = copy.deepcopy(s1_webhook)
    threat["threatInfo"]["updatedAt"] = "yesterday"
    assert normalize_sentinelone(threat, "i").vendor_updated_at is None  # optional: never fails the alert


def test_rocketcyber_status_and_update_time(rc_page):
    open_, resolved = (normalize_rocketcyber(item, "i") for item in rc_page["data"])
    assert open_.status == N and open_.vendor_updated_at == datetime(2026, 11, 20, 9, 1, 10, tzinfo=UTC)
    assert resolved.status == R and resolved.vendor_updated_at == datetime(2026, 11, 19, 7, 45, tzinfo=UTC)


def test_barracuda_and_generic_status_updates(xdr_alarm, generic_alert):
    assert normalize_barracuda(xdr_alarm | {"status": "Mitigated"}, DEFAULT_MAPPING, "i").status == M
    assert normalize_barracuda(xdr_alarm | {"status": "False Positive"}, DEFAULT_MAPPING, "i").status == S
    assert normalize_barracuda(xdr_alarm, DEFAULT_MAPPING, "i").vendor_updated_at is None
    mapping = FieldMapping(updated_at="changedAt")
    changed = normalize_barracuda(xdr_alarm | {"changedAt": "2026-11-20T10:00:00Z"}, mapping, "i")
    assert changed.vendor_updated_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    alert = normalize_generic(generic_alert | {"status": "resolved", "updated_at": "2026-11-20T10:00:00Z"}, "i")
    assert alert.status == R and alert.vendor_updated_at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_page_body_is_a_function_of_the_request():
    req = PageRequest(
        key="incident-K1-x:run:page:2",
        url="https://pager.example/l2",
        level=2,
        levels=3,
        incident_key="K1-x",
        tenant_id=uuid.uuid4(),
        customer_number="K1",
        ticket_id=uuid.uuid4(),
        title="[SentinelOne] Trojan auf dc01",
        priority=Priority.P1,
        ack_due_at=datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
    )
    body = page_body(req)
    assert body == page_body(req.model_copy())
    assert body["event"] == "soc.page" and body["level"] == 2 and body["levels"] == 3
    assert body["acknowledge_path"] == acknowledge_path("K1-x") == "/api/v1/soc/incidents/K1-x/acknowledge"
    assert body["summary"] == (
        "[P1 Sicherheitsvorfall] K1: [SentinelOne] Trojan auf dc01 (Bereitschaft Stufe 2/3; bitte bis 09:15 UTC "
        "bestätigen)"
    )
    assert body["incident"]["ticket_id"] == str(req.ticket_id)
