"""What both QBR documents (PowerPoint and PDF) say and how they write a KPI value: German texts, "k. A." for an
unknown value, decimal comma. One place, so the deck and the PDF show the same figures."""

from collections.abc import Sequence
from decimal import Decimal

from documents.invoice_texts import format_money, format_number
from domain.qbr.kpis import Kpi, KpiSet
from domain.qbr.measure import Measure, NotAvailable
from domain.qbr.quarter import Quarter
from domain.qbr.vcio import STATUS_LABEL, VcioKind, of_kind, top_risks

TITLE = "Quarterly Business Review"
SECTIONS = {
    "summary": "Management-Zusammenfassung",
    "performance": "Service-Performance",
    "tickets": "Ticket-Entwicklung",
    "sla": "SLA-Erfüllung",
    "breakdown": "Tickets nach Priorität und Kategorie",
    "security": "Sicherheit",
    "hours": "Stunden und Vertrag",
    "risks": "Top-3-Risiken",
    "roadmap": "Roadmap",
    "raci": "Verantwortlichkeiten (RACI)",
    "recommendations": "Empfehlungen",
    "decisions": "Entscheidungen und nächste Schritte",
}
PERFORMANCE_HEADER = ("Kennzahl", "Aktueller Wert", "Vorheriger Wert", "Quelle")
RACI_HEADER = ("Bereich", "Verantwortlich (R)", "Rechenschaftspflichtig (A)", "Konsultiert (C)", "Informiert (I)")
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


Table = tuple[Sequence[str], list[Sequence[str]]]


def performance_table(kpis: KpiSet) -> Table:
    return PERFORMANCE_HEADER, [kpi_row(k, kpis.currency) for k in kpis.kpis]


def detail_tables(kpis: KpiSet) -> list[tuple[str, Table]]:
    """The table sections after the charts, in the deck's order: (section title, (header, rows))."""
    breakdown = [("Priorität " + p, c, v) for p, c, v in breakdown_rows(kpis, "opened_by_priority")]
    breakdown += breakdown_rows(kpis, "opened_by_category")
    breakdown += [(f"Top {i}: {name}", str(n), "") for i, (name, n) in enumerate(kpis.top_categories, start=1)]
    security = [kpi_row(kpis.kpi(k), kpis.currency)[:3] for k in SECURITY_KEYS]
    security += [("Vorfälle " + s, c, v) for s, c, v in breakdown_rows(kpis, "incidents_by_severity")]
    hours = [kpi_row(kpis.kpi(k), kpis.currency)[:3] for k in HOURS_KEYS]
    risks = [(r.title, str(r.likelihood or "–"), str(r.impact or "–"), str(r.risk_score), r.owner or "")
             for r in top_risks(kpis.vcio)] or [("Keine offenen Risiken erfasst", "", "", "", "")]  # fmt: skip
    cost = kpis.currency
    roadmap = [
        (e.title, e.quarter or "", _cost(e.estimated_cost, cost), STATUS_LABEL[e.status], e.owner or "")
        for e in of_kind(kpis.vcio, VcioKind.ROADMAP)
    ] or [("Keine Roadmap-Einträge erfasst", "", "", "", "")]
    raci = [
        (r.area, ", ".join(r.responsible), ", ".join(r.accountable), ", ".join(r.consulted), ", ".join(r.informed))
        for r in kpis.raci
    ] or [("Keine RACI-Matrix hinterlegt", "", "", "", "")]
    return [
        (SECTIONS["breakdown"], (("Eröffnete Tickets", "Aktuell", "Vorquartal"), breakdown)),
        (SECTIONS["security"], (PERFORMANCE_HEADER[:3], security)),
        (SECTIONS["hours"], (PERFORMANCE_HEADER[:3], hours)),
        (
            SECTIONS["risks"],
            (("Risiko", "Wahrscheinlichkeit (1–5)", "Auswirkung (1–5)", "Wert", "Verantwortlich"), risks),
        ),
        (SECTIONS["roadmap"], (("Vorhaben", "Quartal", "Geschätzte Kosten", "Status", "Verantwortlich"), roadmap)),
        (SECTIONS["raci"], (RACI_HEADER, raci)),
    ]


def _cost(value: Decimal | None, currency: str) -> str:
    return format_money(value, currency) if value is not None else ""


def decisions_table(kpis: KpiSet) -> Table:
    """The decisions and next steps entered (open and done, so the last QBR's are shown with their state), then
    empty rows to fill in during the meeting."""
    entered = [(e.title, e.owner or "", e.due_date.strftime("%d.%m.%Y") if e.due_date else "", STATUS_LABEL[e.status])
               for e in of_kind(kpis.vcio, VcioKind.DECISION)]  # fmt: skip
    return DECISIONS_HEADER, entered + [("", "", "", "offen")] * DECISION_ROWS


def chart_series(kpis: KpiSet) -> tuple[list[str], dict[str, list[float | None]], dict[str, list[float | None]]]:
    """Month labels, ticket series and SLA series (percent; None where no clock stopped) for both documents."""
    months = [month_label(m.month) for m in kpis.months]
    tickets = {"Eröffnet": [float(m.opened) for m in kpis.months], "Gelöst": [float(m.closed) for m in kpis.months]}
    sla = {"Reaktion (%)": [chart_value(m.sla_response) for m in kpis.months],
           "Lösung (%)": [chart_value(m.sla_resolution) for m in kpis.months]}  # fmt: skip
    return months, tickets, sla
