"""The monthly service report's content from a KPI set: sections in order, every priority with a real zero, severity
rows only with a SOC source, device health rows that take a KPI where one exists and are "k. A." otherwise."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.qbr.aggregate import facts_from_rows
from domain.qbr.facts import IncidentFact, TicketFact
from domain.qbr.kpis import Kpi, compute_kpis
from domain.qbr.measure import NA
from domain.service_report.content import report_summary, service_report


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def kpis():
    tickets = [TicketFact(priority="P1", created_at=at("2026-11-03T08:00")),
               TicketFact(priority="P1", created_at=at("2026-11-04T08:00")),
               TicketFact(priority="P4", created_at=at("2026-10-04T08:00"), resolved_at=at("2026-11-05T08:00"))]
    now = facts_from_rows("2026-11", "Europe/Berlin", security_source=True, tickets=tickets,
                          incidents=[IncidentFact(severity="high", first_alert_at=at("2026-11-06T08:00"))])
    before = facts_from_rows("2026-10", "Europe/Berlin", tickets=tickets)  # fmt: skip
    return compute_kpis(now, before, "K1", "Muster GmbH")


def _rows(report, key: str) -> dict[str, tuple]:  # noqa: ANN001
    return {r.label: (r.current, r.previous) for r in report.section(key).rows}


def test_sections_and_ticket_rows(kpis):
    report = service_report(kpis)
    assert [s.title for s in report.sections] == ["SLA-Übersicht", "Tickets nach Priorität", "Sicherheit",
                                                  "Stunden und Kontingent", "Gerätezustand"]  # fmt: skip
    assert report.title() == "Monatlicher Servicebericht November 2026" and report.previous_month == "2026-10"
    tickets = _rows(report, "tickets")
    assert tickets["Tickets eröffnet"] == (2, 1) and tickets["P1 eröffnet"] == (2, 0)
    assert tickets["P4 eröffnet"] == (0, 1)
    assert tickets["P2 eröffnet"] == (0, 0) and tickets["P4 gelöst"] == (1, 0)
    assert report_summary(report) == "Service report 2026-11 [K1]: 2 tickets, SLA response k. A., resolution k. A."


def test_severity_rows_are_k_a_where_the_month_had_no_soc_source(kpis):
    security = _rows(service_report(kpis), "security")
    assert security["Sicherheitsvorfälle"] == (1, NA) and security["davon Hoch"] == (1, NA)


def test_device_rows_take_a_kpi_where_one_exists(kpis):
    rows = _rows(service_report(kpis), "devices")
    assert rows["Windows-Patchstand"] == (NA, NA) and rows["Backup-Erfolgsquote"] == (NA, NA)
    patch = Kpi(key="patch_compliance", label="Windows-Patchstand", unit="%", source="RMM", better="higher",
                current=Decimal("92.5"), previous=Decimal("88.0"))  # fmt: skip
    with_health = kpis.model_copy(update={"kpis": [*kpis.kpis, patch]})
    rows = _rows(service_report(with_health), "devices")
    assert rows["Windows-Patchstand"] == (Decimal("92.5"), Decimal("88.0"))
    assert list(rows)[:2] == ["Geräteabdeckung (EDR)", "Geräteabdeckung (RMM)"]
