"""The vendor's own status, verdict and fields in triage (issue #12): threats SentinelOne already mitigated,
resolved or closed as false positive, decommissioned agents, RocketCyber severities; the ticket's texts.
Fixtures: tests/fixtures/soc/threat_states/, shaped like the vendors' API answers."""

import pytest

from domain.soc.alerts import AlertStatus, Severity, Verdict, device_keys
from domain.soc.notes import alert_note, ticket_title
from domain.soc.priority import prioritize
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.triage import HandledThreats, TriagePolicy, decide
from domain.tickets import Priority
from tests.domain.soc.conftest import load

PAGER = ["https://pager.example.net/hooks/level-1"]
SERVER = ("server", ["critical"])


def s1(name: str, **kwargs):
    return normalize_sentinelone(load(f"threat_states/{name}.json"), "int-s1", **kwargs)


def policy(handled: HandledThreats = HandledThreats.INFORMATIONAL) -> TriagePolicy:
    return TriagePolicy(oncall_chain=PAGER, handled_threats=handled)


def resolved_page():
    page = load("threat_states/sentinelone_resolved_on_decommissioned_agent.json")
    return [normalize_sentinelone(t, "int-s1") for t in page["data"]]


def test_resolved_threats_on_a_decommissioned_agent_open_an_informational_ticket_by_default():
    alerts = resolved_page()
    assert [a.status for a in alerts] == [AlertStatus.RESOLVED] * 4
    assert all(a.agent_decommissioned and a.verdict is Verdict.MALICIOUS for a in alerts)
    assert TriagePolicy().handled_threats is HandledThreats.INFORMATIONAL
    for alert in alerts:
        # The matrix alone would make it P1 on a critical server: the vendor's status comes first.
        assert prioritize(alert, *SERVER) is Priority.P1
        decision = decide(alert, *SERVER, policy())
        assert decision.ticket and decision.handled and decision.priority is Priority.P4
        assert not decision.page and not decision.contain


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("sentinelone_false_positive", AlertStatus.SUPPRESSED),
        ("sentinelone_mitigated_unresolved", AlertStatus.MITIGATED),
    ],
)
def test_false_positive_and_mitigated_threats_are_handled(name, status):
    alert = s1(name)
    assert alert.status is status
    for handled, ticket in ((HandledThreats.INFORMATIONAL, True), (HandledThreats.NONE, False)):
        decision = decide(alert, *SERVER, policy(handled))
        assert decision.ticket is ticket and decision.priority is Priority.P4
        assert not decision.page and not decision.contain


def test_policy_none_records_only_and_normal_triages_like_any_alert_but_never_contains_a_decommissioned_agent():
    alert = resolved_page()[0]
    assert not decide(alert, *SERVER, policy(HandledThreats.NONE)).ticket
    normal = decide(alert, *SERVER, policy(HandledThreats.NORMAL))
    assert normal.ticket and normal.handled and normal.priority is Priority.P1 and normal.page
    assert not normal.contain  # decommissioned
    live = alert.model_copy(update={"agent_decommissioned": False})
    assert decide(live, *SERVER, policy(HandledThreats.NORMAL)).contain


def test_an_open_ransomware_threat_on_a_decommissioned_agent_pages_but_is_never_contained():
    alert = s1("sentinelone_open_on_decommissioned_agent")
    assert alert.status is AlertStatus.NEW and alert.agent_decommissioned
    decision = decide(alert, *SERVER, policy())
    assert decision.priority is Priority.P1 and decision.page and not decision.handled
    assert not decision.contain
    assert decide(alert.model_copy(update={"agent_decommissioned": False}), *SERVER, policy()).contain
    assert not decide(alert, *SERVER, TriagePolicy()).page  # no on-call chain configured: nobody to page


def test_rocketcyber_severity_event_count_and_texts_as_the_vendor_states_them():
    page = load("threat_states/rocketcyber_incidents_severities.json")
    alerts = [normalize_rocketcyber(i, "int-rc") for i in page["data"]]
    assert [a.vendor_severity for a in alerts] == ["Critical", "High", "Medium", "Low"]
    assert [a.severity for a in alerts] == [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    assert [a.event_count for a in alerts] == [412, 7, 2, 1]
    assert [a.affected_devices for a in alerts] == [
        ["FIN-FS-01", "CONTOSO-WS-017", "CONTOSO-WS-023"],
        ["CONTOSO-WS-042"],
        [],
        ["CONTOSO-WS-011"],
    ]
    assert [a.device_hostname for a in alerts] == ["FIN-FS-01", "CONTOSO-WS-042", None, "CONTOSO-WS-011"]
    # No device in the inventory: the vendor's severity decides between P3 and P4; the resolved one is informational.
    decisions = [decide(a, None, [], policy()) for a in alerts]
    assert [d.priority for d in decisions] == [Priority.P3, Priority.P3, Priority.P4, Priority.P4]
    assert [d.handled for d in decisions] == [False, False, False, True]
    assert not any(d.page or d.contain for d in decisions)

    note = alert_note(alerts[0])
    assert "Schweregrad: Critical, Einstufung: suspicious\n" in note
    assert "Ereignisse: 412" in note and "\nGerät:" not in note
    assert "Betroffene Geräte: FIN-FS-01, CONTOSO-WS-017, CONTOSO-WS-023" in note
    assert "Beschreibung: Mass file renames" in note
    assert "Empfehlung des Herstellers: Disconnect the affected devices" in note
    assert "Status bei RocketCyber: offen" in note
    assert (
        ticket_title(alerts[0], alerts[0].device_hostname) == "[RocketCyber] Ransomware Behavior Detected auf FIN-FS-01"
    )
    assert "Gerät: CONTOSO-WS-042" in alert_note(alerts[1]) and "Betroffene" not in alert_note(alerts[1])


def test_rocketcyber_unknown_or_odd_severity_labels_do_not_refuse_the_incident():
    incident = load("threat_states/rocketcyber_incidents_severities.json")["data"][1]
    for label, expected in (("SEVERE", Severity.UNKNOWN), (None, Severity.UNKNOWN), ("critical", Severity.CRITICAL)):
        alert = normalize_rocketcyber({**incident, "severity": label, "eventCount": "many"}, "int-rc")
        assert alert.severity is expected and alert.vendor_severity == label and alert.event_count is None


def test_sentinelone_note_shows_the_vendors_words_and_the_console_link():
    alert = s1("sentinelone_open_on_decommissioned_agent", console_url="https://euce1-contoso.sentinelone.net/")
    note = alert_note(alert)
    assert "Konfidenz: malicious" in note and "90 %" not in note
    assert "Schweregrad: keine Angabe des Herstellers (vom Hub abgeleitet: critical)" in note
    assert "Agent: außer Betrieb genommen (decommissioned)" in note
    assert (
        "Link (SentinelOne-Konsole): https://euce1-contoso.sentinelone.net/incidents/threats/1801234567890000777/overview"
        in note
    )
    # The title spells the host as the vendor does, whatever our inventory has.
    assert ticket_title(alert, alert.device_hostname) == "[SentinelOne] locker.exe auf CONTOSO-SRV-02"
    handled = resolved_page()[0]
    assert ticket_title(handled, handled.device_hostname, handled=True) == (
        "[SentinelOne] setup_crack.exe auf CONTOSO-NB-017 (SentinelOne: bereits behoben)"
    )
    long = ticket_title(handled.model_copy(update={"title": "x" * 300}), "CONTOSO-NB-017", handled=True)
    assert long.endswith("x auf CONTOSO-NB-017 (SentinelOne: bereits behoben)") and len(long) == 200


def test_the_setting_comes_from_the_hub_and_an_integration_may_override_it():
    from domain.soc.triage import TriageOverride, resolve_policy
    from hub.config import Settings, hub_defaults

    hub = hub_defaults(Settings(soc_handled_threats="normal"))
    assert hub.handled_threats is HandledThreats.NORMAL
    assert resolve_policy(hub, TriageOverride(handled_threats="none")).handled_threats is HandledThreats.NONE
    assert resolve_policy(hub, TriageOverride()).handled_threats is HandledThreats.NORMAL
    with pytest.raises(ValueError, match="handled_threats"):
        TriageOverride.model_validate({"handled_threats": "ignore"})


def test_rocketcyber_devices_as_client_libraries_show_them_and_events_count_when_no_count_is_given():
    incident = load("threat_states/rocketcyber_incidents_severities.json")["data"][0]
    odd = {
        **incident,
        "affectedDevices": ["FIN-FS-01", {"hostname": "Jane MacBook Pro"}, "fin-fs-01", "", 7, "bad\x00name"],
        "eventCount": None,
        "events": [{"id": 1}, {"id": 2}],
    }
    alert = normalize_rocketcyber(odd, "int-rc")
    assert alert.affected_devices == ["FIN-FS-01", "Jane MacBook Pro"] and alert.event_count == 2
    assert device_keys(alert) == ["host:fin-fs-01", "host:jane-macbook-pro"]
    # A count instead of names (an older guess of the field): no device, nothing refused.
    counted = normalize_rocketcyber({**incident, "affectedDevices": 3}, "int-rc")
    assert counted.affected_devices == [] and counted.device_hostname is None and device_keys(counted) == []
