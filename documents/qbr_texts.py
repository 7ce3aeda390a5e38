"""What both QBR documents (PowerPoint and PDF) say and how they write a KPI value: German texts, "k. A." for an
unknown value, decimal comma. One place, so the deck and the PDF show the same figures."""

from decimal import Decimal

from documents.invoice_texts import format_money, format_number
from domain.qbr.kpis import Kpi, KpiSet
from domain.qbr.measure import Measure, NotAvailable
from domain.qbr.quarter import Quarter

TITLE = "Quarterly Business Review"
SECTIONS = {
    "summary": "Management-Zusammenfassung",
    "performance": "Service-Performance",
    "tickets": "Ticket-Entwicklung",
    "sla": "SLA-Erfüllung",
    "breakdown": "Tickets nach Priorität und Kategorie",
    "security": "Sicherheit",
    "hours": "Stunden und Vertrag",
    "recommendations": "Empfehlungen",
    "decisions": "Entscheidungen und nächste Schritte",
}
PERFORMANCE_HEADER = ("Kennzahl", "Aktueller Wert", "Vorheriger Wert", "Quelle")
DECISIONS_HEADER = ("Entscheidung / nächster Schritt", "Verantwortlich", "Termin", "Status")
DECISION_ROWS = 4  # empty rows to fill in during the meeting
SEVERITY = {"critical": "Kritisch", "high": "Hoch", "medium": "Mittel", "low": "Niedrig",
            "informational": "Information", "unknown": "Unbekannt"}  # fmt: skip
SECURITY_KEYS = ("security_incidents", "time_to_acknowledge", "device_coverage", "warranty_coverage")
HOURS_KEYS = ("hours_used", "contingent_hours", "contingent_use", "monthly_contract_value")


def format_measure(value: Measure, unit: str, currency: str = "EUR") -> str:
    if isinstance(value, NotAvailable):
        return value.value
    if unit == "EUR":
        return format_money(value, currency)
    text = format_number(value)
    return f"{text} {unit}" if unit else text


def kpi_row(kpi: Kpi, currency: str) -> tuple[str, str, str, str]:
    return (kpi.label, format_measure(kpi.current, kpi.unit, currency),
            format_measure(kpi.previous, kpi.unit, currency), kpi.source)  # fmt: skip


def quarter_label(quarter: str) -> str:
    return Quarter.parse(quarter).label()


def subtitle(kpis: KpiSet) -> str:
    return f"{kpis.customer_name} ({kpis.customer_number}) · {quarter_label(kpis.quarter)}"


def month_label(month: str) -> str:
    return f"{month[5:]}/{month[:4]}"


def chart_value(value: Measure) -> float | None:
    """A chart point: None (a gap, not a zero) where the value is unknown."""
    return None if isinstance(value, NotAvailable) else float(value)


def breakdown_rows(kpis: KpiSet, key: str) -> list[tuple[str, str, str]]:
    b = next(b for b in kpis.breakdowns if b.key == key)
    names = sorted(set(b.current) | set(b.previous))
    return [(SEVERITY.get(n, n), str(b.current.get(n, 0)), str(b.previous.get(n, 0))) for n in names]


def percent(value: Decimal) -> str:
    return f"{format_number(value)} %"
