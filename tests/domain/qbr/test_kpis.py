"""Every KPI against a hand count over tests/domain/qbr/facts.py."""

from decimal import Decimal

import pytest

from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import DEFINITIONS, compute_kpis
from domain.qbr.measure import NA
from domain.qbr.recommendations import executive_summary, recommendations
from tests.domain.qbr.facts import current, previous

D = Decimal


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(current(), previous(), "K10001", "Muster GmbH")


@pytest.mark.parametrize(
    ("key", "now", "before"),
    [
        ("tickets_opened", D(4), D(1)),  # the 4th ticket opened 00:30 Berlin on 1 October
        ("tickets_closed", D(3), D(1)),
        ("sla_response", D("75.0"), D("100.0")),  # 3 of 4; 2 of 2
        ("sla_resolution", D("50.0"), D("100.0")),  # 1 of 2; 1 of 1
        ("mttr_hours", D("13.3"), D("2.0")),  # (4 + 24 + 12) / 3; 2
        ("reopen_rate", D("33.3"), D("0.0")),  # 1 of 3 resolved was reopened; 0 of 1
        ("security_incidents", D(2), NA),  # no SOC integration known for Q3
        ("time_to_acknowledge", D("30.0"), NA),  # only the acknowledged one counts
        ("hours_used", D("12.50"), D("1.50")),  # 750 min; 90 min
        ("contingent_hours", D("20.00"), NA),  # 600 min x November and December; no contingent in Q3
        ("contingent_use", D("62.5"), NA),  # 12.5 / 20
        ("monthly_contract_value", D("730.00"), D("630.00")),  # 500 + 2400/12 + 90/3; 500 + 30 + 100
        ("device_coverage", D("75.0"), NA),  # 3 of 4 with an agent; the inventory is a snapshot
        ("warranty_coverage", D("66.7"), NA),  # 2 of the 3 with a warranty end (one ends on 31 Dec: covered)
    ],
)
def test_kpi_by_hand(kpis, key, now, before):
    kpi = kpis.kpi(key)
    assert (kpi.current, kpi.previous) == (now, before)


def test_every_definition_documents_its_formula():
    assert len({d.key for d in DEFINITIONS}) == len(DEFINITIONS)
    assert all(d.compute.__doc__ and len(d.compute.__doc__) > 40 for d in DEFINITIONS)


def test_breakdowns_top_categories_and_months(kpis):
    by = {b.key: b for b in kpis.breakdowns}
    assert by["opened_by_priority"].current == {"P1": 1, "P2": 1, "P3": 2}
    assert by["closed_by_priority"].current == {"P1": 1, "P2": 1, "P3": 1}
    assert by["opened_by_category"].current == {"Drucker": 1, "Netzwerk": 2, "ohne Kategorie": 1}
    assert by["incidents_by_severity"].current == {"high": 1, "medium": 1}
    assert by["incidents_by_severity"].previous == {}
    assert kpis.top_categories == [("Netzwerk", 2), ("Drucker", 1), ("ohne Kategorie", 1)]
    assert [m.month for m in kpis.months] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
    assert [(m.opened, m.closed) for m in kpis.months[3:]] == [(2, 2), (1, 1), (1, 0)]
    assert [m.sla_response for m in kpis.months[3:]] == [D("50.0"), D("100.0"), D("100.0")]
    assert kpis.months[1].sla_resolution is NA  # no resolution clock stopped in August


def test_no_source_is_not_available_never_zero():
    empty = compute_kpis(QbrFacts(quarter="2026-Q4", time_zone="Europe/Berlin"),
                         QbrFacts(quarter="2026-Q3", time_zone="Europe/Berlin"), "K1", "Leer")  # fmt: skip
    values = {k.key: k.current for k in empty.kpis}
    assert values["tickets_opened"] == 0 and values["hours_used"] == 0  # the hub's own data: a real zero
    for key in ("sla_response", "mttr_hours", "reopen_rate", "security_incidents", "contingent_use",
                "monthly_contract_value", "device_coverage", "warranty_coverage"):  # fmt: skip
        assert values[key] is NA, key


def test_kpis_survive_the_temporal_payload_round_trip(kpis):
    again = type(kpis).model_validate_json(kpis.model_dump_json())
    assert again == kpis and again.kpi("security_incidents").previous is NA


def test_previous_must_be_the_quarter_before():
    with pytest.raises(ValueError, match="not the quarter before"):
        compute_kpis(current(), current(), "K1", "X")


def test_recommendations_fire_on_the_rules(kpis):
    text = "\n".join(recommendations(kpis))
    assert "SLA-Erfüllung (Reaktion) ist von 100 % auf 75 % gesunken" in text
    assert "SLA-Erfüllung (Lösung) ist von 100 % auf 50 % gesunken" in text
    assert "33,3 % der gelösten Tickets" in text
    assert "von 1 auf 4 gestiegen" in text
    assert "2 von 4 Tickets betreffen „Netzwerk“" in text
    assert "Nur 75 % der Geräte sind durch EDR" in text
    assert "Nur 66,7 % der Geräte haben Garantie" in text
    assert "Stundenkontingent" not in text  # 62.5 % is neither above 100 nor below 50


def test_executive_summary(kpis):
    summary = executive_summary(kpis)
    assert summary[0] == "Im Quartal 2026-Q4 wurden 4 Tickets eröffnet und 3 gelöst (Vorquartal: 1 / 1)."
    assert "Sicherheitsvorfälle: 2." in summary
