"""The device health KPIs and the MFA coverage against hand counts of two snapshots; k. A. for a quarter without one,
and for MFA the reason when Microsoft 365 refused the report."""

from datetime import date
from decimal import Decimal

import pytest

from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage, MfaUnavailable
from domain.qbr.facts import HealthFact
from domain.qbr.kpis import compute_kpis
from domain.qbr.kpis_health import HEALTH_KPIS
from domain.qbr.measure import NA
from tests.domain.qbr.facts import current, previous

D = Decimal
# Q4: 40 known, 36 managed; 33 AV ok; 30 Windows, 28 under a policy, 21 fully patched; 30 online; 4 reboots;
# 27 members, 23 of them registered for MFA.
Q4 = HealthCounts(devices_known=40, devices_managed=36, av_up_to_date=33, windows_devices=30, windows_with_policy=28,
                  windows_fully_patched=21, online=30, reboot_pending=4,
                  mfa=MfaCoverage(members=27, registered=23))  # fmt: skip
# Q3: 30 known, 24 managed; 18 AV ok; 20 Windows, 0 under a policy; 12 online; 0 reboots; 20 members, 20 MFA.
Q3 = HealthCounts(devices_known=30, devices_managed=24, av_up_to_date=18, windows_devices=20, windows_with_policy=0,
                  windows_fully_patched=0, online=12, reboot_pending=0,
                  mfa=MfaCoverage(members=20, registered=20))  # fmt: skip


@pytest.fixture(scope="module")
def kpis():
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=Q4)})
    before = previous().model_copy(update={"health": HealthFact(day=date(2026, 9, 29), counts=Q3)})
    return compute_kpis(now, before, "K10001", "Muster GmbH")


@pytest.mark.parametrize(
    ("key", "now", "before"),
    [
        ("rmm_coverage", D("90.0"), D("80.0")),  # 36/40; 24/30
        ("antivirus_coverage", D("91.7"), D("75.0")),  # 33/36 = 91.67; 18/24
        ("patch_compliance", D("75.0"), NA),  # 21/28; no Windows device under a policy in Q3
        ("availability", D("83.3"), D("50.0")),  # 30/36; 12/24
        ("reboot_pending", D("11.1"), D("0.0")),  # 4/36; 0/24
        ("mfa_coverage", D("85.2"), D("100.0")),  # 23/27 = 85.185; 20/20
    ],
)
def test_health_kpi_by_hand(kpis, key, now, before):
    kpi = kpis.kpi(key)
    assert (kpi.current, kpi.previous) == (now, before)


def test_without_a_snapshot_every_health_kpi_is_k_a():
    kpis = compute_kpis(current(), previous(), "K10001", "Muster GmbH")
    assert {(kpis.kpi(h.key).current, kpis.kpi(h.key).previous) for h in HEALTH_KPIS} == {(NA, NA)}


def test_each_health_kpi_documents_its_formula_and_has_a_unique_key(kpis):
    assert all(h.compute.__doc__ and "100 ×" in h.compute.__doc__ for h in HEALTH_KPIS)
    assert len({k.key for k in kpis.kpis}) == len(kpis.kpis)
    assert kpis.kpi("reboot_pending").better == "lower"


def test_mfa_coverage_is_k_a_with_the_reason_when_the_report_was_refused_or_missing():
    refused = Q4.model_copy(update={"mfa": MfaCoverage(unavailable=MfaUnavailable.NO_LICENCE)})
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=refused)})
    before = previous().model_copy(update={"health": HealthFact(day=date(2026, 9, 29), counts=Q3.model_copy(
        update={"mfa": None}))})  # fmt: skip
    kpi = compute_kpis(now, before, "K10001", "Muster GmbH").kpi("mfa_coverage")
    assert (kpi.current, kpi.current_reason, kpi.previous, kpi.previous_reason) == (NA, "no_licence", NA, None)
    assert (kpi.label, kpi.unit, kpi.source, kpi.better) == ("MFA-Abdeckung", "%", "Microsoft 365", "higher")
    # Members but none registered is a real 0 %, no members at all is k. A. (nothing to measure).
    zero = Q4.model_copy(update={"mfa": MfaCoverage(members=3, registered=0)})
    empty = Q3.model_copy(update={"mfa": MfaCoverage(members=0, registered=0)})
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=zero)})
    before = previous().model_copy(update={"health": HealthFact(day=date(2026, 9, 29), counts=empty)})
    kpi = compute_kpis(now, before, "K10001", "Muster GmbH").kpi("mfa_coverage")
    assert (kpi.current, kpi.previous) == (D("0.0"), NA)
