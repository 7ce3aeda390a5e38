"""The device health and MFA recommendations, each rule with counts on both sides of its threshold (hand-computed in
the comments), none for a KPI that is k. A., German and English."""

from datetime import date

import pytest

from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage, MfaUnavailable
from domain.qbr.facts import HealthFact
from domain.qbr.health_rules import (
    ANTIVIRUS_TARGET,
    MFA_TARGET,
    PATCH_TARGET,
    REBOOT_PENDING_LIMIT,
    REBOOT_PENDING_MIN,
    RMM_COVERAGE_TARGET,
    health_recommendations,
)
from domain.qbr.kpis import compute_kpis
from domain.qbr.recommendations import recommendations
from tests.domain.qbr.facts import current, previous

# Nothing to recommend: 40 of 40 devices managed, antivirus and patches on all, no reboot, 10 of 10 members with MFA.
GOOD = HealthCounts(devices_known=40, devices_managed=40, av_up_to_date=40, windows_devices=20, windows_with_policy=20,
                    windows_fully_patched=20, online=40, reboot_pending=0,
                    mfa=MfaCoverage(members=10, registered=10))  # fmt: skip


def _recommend(language: str = "de", **changes) -> list[str]:  # noqa: ANN003
    counts = GOOD.model_copy(update=changes)
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=counts)})
    return health_recommendations(compute_kpis(now, previous(), "K10001", "Muster GmbH"), language)


def test_the_thresholds_are_the_documented_ones():
    assert (RMM_COVERAGE_TARGET, ANTIVIRUS_TARGET, PATCH_TARGET, MFA_TARGET) == (95, 95, 90, 100)
    assert (REBOOT_PENDING_LIMIT, REBOOT_PENDING_MIN) == (10, 3)


def test_a_healthy_quarter_gets_none():
    assert _recommend() == []


def test_rmm_coverage_below_95_percent():
    assert _recommend(devices_managed=38, av_up_to_date=38) == []  # 38 / 40 = 95 %: on target
    assert _recommend(devices_managed=37, av_up_to_date=37) == [  # 37 / 40 = 92.5 %
        "3 Geräte ohne RMM-Agent (von 40 im Inventar): Agenten installieren oder ausgemusterte Geräte aus dem "
        "Inventar nehmen."]  # fmt: skip
    assert _recommend(devices_known=10, devices_managed=9, av_up_to_date=9) == [  # 9 / 10 = 90 %
        "1 Gerät ohne RMM-Agent (von 10 im Inventar): den Agenten installieren oder das Gerät aus dem Inventar "
        "nehmen."]  # fmt: skip


def test_antivirus_coverage_below_95_percent():
    assert _recommend(av_up_to_date=38) == []  # 38 / 40 = 95 %
    assert _recommend(av_up_to_date=37) == [  # 37 / 40 = 92.5 %
        "3 Geräte ohne aktiven Virenschutz (von 40 verwalteten): den Virenschutz auf diesen Geräten prüfen und "
        "aktualisieren."]  # fmt: skip


def test_windows_patch_compliance_below_90_percent():
    assert _recommend(windows_fully_patched=18) == []  # 18 / 20 = 90 %
    assert _recommend(windows_fully_patched=17) == [  # 17 / 20 = 85 %
        "3 von 20 Windows-Geräten sind nicht vollständig gepatcht: ausstehende Updates einspielen und "
        "fehlgeschlagene Installationen klären."]  # fmt: skip


def test_reboot_pending_on_many_devices():
    assert _recommend(reboot_pending=4) == []  # 4 / 40 = 10 %: not more than 10 %
    assert _recommend(reboot_pending=5) == [  # 5 / 40 = 12.5 %
        "5 Geräte warten auf einen Neustart (von 40 verwalteten): Neustarts in einem Wartungsfenster einplanen, "
        "damit Updates wirksam werden."]  # fmt: skip
    small = {"devices_known": 10, "devices_managed": 10, "av_up_to_date": 10}
    assert _recommend(reboot_pending=2, **small) == []  # 20 %, but only 2 devices
    assert len(_recommend(reboot_pending=3, **small)) == 1  # 30 %, 3 devices


def test_mfa_below_100_percent_names_the_accounts_without_it():
    assert _recommend(mfa=MfaCoverage(members=10, registered=10)) == []
    assert _recommend(mfa=MfaCoverage(members=10, registered=8)) == [
        "2 Benutzerkonten ohne MFA (von 10): MFA für alle Konten verbindlich machen (Sicherheitsstandards oder "
        "bedingter Zugriff)."]  # fmt: skip
    # 9 999 / 10 000 shows as 100,0 %, but one account without MFA is still one too many.
    assert _recommend("en", mfa=MfaCoverage(members=10_000, registered=9_999)) == [
        "1 user account without MFA (of 10000): make MFA mandatory for every account (security defaults or "
        "conditional access)."]  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [
        {"mfa": MfaCoverage(unavailable=MfaUnavailable.NO_LICENCE)},  # refused: k. A., not 0 %
        {"mfa": None},  # no Microsoft 365
        {"mfa": MfaCoverage(members=0, registered=0)},  # no members
        {"windows_with_policy": 0, "windows_fully_patched": 0},  # no Windows device under a policy
    ],
)
def test_no_recommendation_for_a_kpi_that_is_k_a(changes):
    assert _recommend(**changes) == []


def test_no_snapshot_no_health_recommendation_and_the_rules_join_the_others():
    assert health_recommendations(compute_kpis(current(), previous(), "K10001", "Muster GmbH")) == []
    bad = GOOD.model_copy(update={"av_up_to_date": 30, "mfa": MfaCoverage(members=10, registered=9)})
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=bad)})
    lines = recommendations(compute_kpis(now, previous(), "K10001", "Muster GmbH"), "en")
    assert ("10 devices without active antivirus (of 40 managed): check and update the antivirus on these "
            "devices.") in lines
    assert any(line.startswith("1 user account without MFA (of 10)") for line in lines)
