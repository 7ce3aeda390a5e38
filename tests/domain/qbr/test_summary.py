"""The check of an LLM executive summary, by hand: every number must be one of the KPI set's (tests/domain/qbr/
facts.py: Q4 opened 4, closed 3, SLA response 75.0 %, resolution 50.0 %, MTTR 13.3 h ...)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage
from domain.qbr.facts import HealthFact
from domain.qbr.kpis import compute_kpis
from domain.qbr.summary import SummaryRejected, allowed_numbers, build_messages, check_summary, invented_numbers
from tests.domain.qbr.facts import current, previous


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(current(), previous(), "K10001", "Muster GmbH")


def test_allowed_numbers_are_the_kpis_values(kpis):
    allowed = allowed_numbers(kpis)
    for value in ("4", "3", "75.0", "50.0", "13.3", "730.00", "630.00", "12.50", "2026", "62.5"):
        assert Decimal(value) in allowed, value
    assert Decimal("13") not in allowed and Decimal("25") not in allowed  # a rounded value, a difference


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("Im Q4 2026 wurden 4 Tickets eröffnet und 3 gelöst.", []),
        ("SLA-Erfüllung Reaktion 75,0 %, Lösung 50 %; mittlere Lösungszeit 13,3 h.", []),
        ("Vertragswert 730,00 EUR (Vorquartal 630.00 EUR).", []),  # German and English notation
        ("Die Lösungszeit lag bei 13 Stunden.", ["13"]),  # rounded by the model
        ("Die Reaktion fiel um 25 Prozentpunkte.", ["25"]),  # a difference the model worked out
        ("Es gab 1.234 Tickets und 99,9 % Verfügbarkeit.", ["1.234", "99,9"]),
    ],
)
def test_invented_numbers_by_hand(kpis, text, invented):
    assert invented_numbers(text, kpis) == invented


def test_check_splits_lines_and_strips_bullets(kpis):
    text = "- Im Quartal wurden 4 Tickets eröffnet.\n\n• 3 Tickets wurden gelöst.\n"
    assert check_summary(text, kpis) == ["Im Quartal wurden 4 Tickets eröffnet.", "3 Tickets wurden gelöst."]


def test_check_rejects_an_invented_number_and_an_overlong_answer(kpis):
    with pytest.raises(SummaryRejected, match="not in the KPIs: 17"):
        check_summary("Es wurden 17 Tickets eröffnet.", kpis)
    with pytest.raises(SummaryRejected, match="longer than"):
        check_summary("Tickets. " * 300, kpis)


def test_prompt_holds_the_kpis_but_not_the_vcio_texts(kpis):
    system, user = build_messages(kpis)
    assert "auf Deutsch" in system["content"]
    facts = json.loads(user["content"])
    assert "vcio" not in facts and {k["key"] for k in facts["kpis"]} >= {"tickets_opened", "sla_response"}


def test_the_health_snapshots_counts_are_allowed_as_the_model_sees_them():
    counts = HealthCounts(devices_known=41, devices_managed=37, mfa=MfaCoverage(members=58, registered=45))
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=counts)})
    kpis = compute_kpis(now, previous(), "K10001", "Muster GmbH")
    assert json.loads(build_messages(kpis)[1]["content"])["health"]["mfa"] == {"members": 58, "registered": 45,
                                                                                "unavailable": None}  # fmt: skip
    assert invented_numbers("45 von 58 Konten mit MFA, 37 von 41 Geräten im RMM.", kpis) == []
    assert invented_numbers("13 Konten ohne MFA.", kpis) == ["13"]  # 58 - 45: worked out by the model
