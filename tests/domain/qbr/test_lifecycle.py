"""Lifecycle, budget outlook and licence KPIs against hand counts over tests/domain/qbr/lifecycle_facts.py."""

import json
from datetime import date
from decimal import Decimal

import pytest

from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.qbr.lifecycle import DEFAULT_REPLACEMENT_COSTS, Replacement, add_months, replacement
from domain.qbr.measure import NA
from domain.qbr.recommendations import recommendations
from domain.qbr.summary import build_messages, invented_numbers
from tests.domain.qbr.facts import previous
from tests.domain.qbr.lifecycle_facts import with_lifecycle

D = Decimal


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(with_lifecycle(), previous(), "K10001", "Muster GmbH")


def test_lifecycle_counts(kpis):
    life = kpis.lifecycle
    assert life.as_of == date(2026, 12, 31)
    assert life.devices_total == 8
    assert life.warranty_unknown == 1  # pr-01
    assert life.warranty_expired == 1  # srv-old
    assert life.warranty_ending_6_months == 3  # mob-01 (the day itself), pc-01, nb-01; not nb-02 (Dec 2027)
    assert life.warranty_ending_12_months == 4  # ... and nb-02 on the horizon's last day
    assert life.os_unsupported == 2  # Server 2012 R2, Windows 10 22H2
    assert life.os_ending_12_months == 2  # Windows 11 Enterprise 24H2, Windows 11 Pro 25H2


def test_lifecycle_list_is_ordered_by_the_earliest_date(kpis):
    listed = [(d.hostname, d.replacement, d.os_name) for d in kpis.lifecycle.devices]
    assert listed == [
        ("srv-old", Replacement.OVERDUE, "Windows Server 2012 R2"),  # OS support ended 2023-10-10
        ("pc-01", Replacement.DUE, "Windows 10 22H2"),  # 2025-10-14
        ("mob-01", Replacement.DUE, None),  # 2026-12-31
        ("nb-01", Replacement.DUE_SOON, "Windows 11 24H2"),  # warranty 2027-05-31
        ("nb-02", Replacement.DUE_SOON, "Windows 11 25H2"),  # OS 2027-10-12 before warranty 2027-12-31
    ]


def test_budget_outlook(kpis):
    years = {y.year: (y.roadmap, y.replacements, y.replacement_devices, y.total) for y in kpis.budget}
    assert years == {
        # Firewall-Tausch 3000 + Altprojekt 1000 (carried over); srv-old 8000 (overdue) + mob-01 700 (default)
        2026: (D("4000.00"), D("8700.00"), 2, D("12700.00")),
        # M365-Migration 5000; pc-01 1200 + nb-01 1800 + nb-02 1800 (the MSP's laptop price)
        2027: (D("5000.00"), D("4800.00"), 3, D("9800.00")),
        2028: (D("0.00"), D("1500.00"), 1, D("1500.00")),  # fw-01; srv-new (2029) is beyond the outlook
    }


def test_replacement_states_and_months():
    as_of = date(2026, 12, 31)
    assert replacement(date(2026, 12, 30), as_of) == Replacement.OVERDUE
    assert replacement(date(2027, 3, 30), as_of) == Replacement.DUE  # 89 days ahead
    assert replacement(date(2027, 3, 31), as_of) == Replacement.DUE_SOON  # 90 days ahead
    assert replacement(date(2028, 1, 1), as_of) is None
    assert replacement(None, as_of) is None
    assert add_months(date(2026, 10, 31), 4) == date(2027, 2, 28)
    assert DEFAULT_REPLACEMENT_COSTS["server"] == D("8000.00")


@pytest.mark.parametrize(
    ("key", "now"),
    [
        ("licences_bought", D(32)),  # 20 + 5 + 3 + 4
        ("licences_assigned", D(27)),  # 13 + 5 + 5 + 4
        ("licences_unused", D(7)),  # Business Premium 25 - 18
        ("licences_over_assigned", D(2)),  # Exchange Online 5 - 3
        ("licence_use", D("78.1")),  # (18 + 3 + 4) / 32
    ],
)
def test_licence_kpis(kpis, key, now):
    kpi = kpis.kpi(key)
    assert (kpi.current, kpi.previous) == (now, NA)  # licences are a snapshot: the quarter before has none


def test_licence_lines_merge_one_product(kpis):
    assert [(ln.product, ln.quantity, ln.assigned, ln.unused, ln.over_assigned) for ln in kpis.licences] == [
        ("Acrobat Pro", 4, 4, 0, 0),
        ("Exchange Online Plan 1", 3, 5, 0, 2),
        ("Microsoft 365 Business Premium", 25, 18, 7, 0),
    ]


def test_recommendations_for_lifecycle_and_licences(kpis):
    lines = recommendations(kpis)
    assert ("3 Geräte verlassen in den nächsten 6 Monaten die Garantie: Ersatz oder Garantieverlängerung "
            "einplanen.") in lines
    assert "1 Gerät hat keine Garantie mehr: der Ersatz ist im Budget 2026 eingeplant." in lines
    assert any(line.startswith("2 Geräte laufen mit einem Betriebssystem ohne Herstellersupport "
                               "(Windows 10 22H2: 1, Windows Server 2012 R2: 1)") for line in lines)  # fmt: skip
    assert any(line.startswith("2 Geräte erreichen in den nächsten 12 Monaten") for line in lines)
    assert "7 ungenutzte Lizenzen Microsoft 365 Business Premium: Menge zur nächsten Verlängerung reduzieren." in lines
    assert any(line.startswith("2 Lizenzen Exchange Online Plan 1 mehr zugewiesen als gekauft") for line in lines)
    english = recommendations(kpis, "en")
    assert "3 devices leave their warranty in the next 6 months: plan replacements or warranty extensions." in english
    assert "7 unused licences Microsoft 365 Business Premium: reduce the quantity at the next renewal." in english


def test_without_inventory_or_licences_nothing_is_invented():
    kpis = compute_kpis(QbrFacts(quarter="2026-Q4", time_zone="Europe/Berlin"), previous(), "K2", "Leer AG")
    assert kpis.lifecycle is None and kpis.budget == [] and kpis.licences == []
    for key in ("licences_bought", "licences_unused", "licence_use"):
        assert kpis.kpi(key).current == NA
    assert not any("Lizenz" in line or "Garantie" in line for line in recommendations(kpis))


def test_the_llm_may_quote_lifecycle_budget_and_licence_figures_but_no_host_names(kpis):
    text = ("3 Geräte verlassen in den nächsten 6 Monaten die Garantie; Budget 2026: 12.700,00 EUR. "
            "7 ungenutzte Lizenzen (25 gekauft, 18 zugewiesen).")  # fmt: skip
    assert invented_numbers(text, kpis) == []
    assert invented_numbers("9 Geräte ohne Garantie, Budget 2029: 9.000 EUR", kpis) == ["9", "2029", "9.000"]
    facts = json.loads(build_messages(kpis)[1]["content"])
    assert facts["lifecycle"]["warranty_expired"] == 1 and "devices" not in facts["lifecycle"]
    assert "srv-old" not in build_messages(kpis)[1]["content"]
