"""The QBR as PDF (reportlab): the same sections and figures as the PowerPoint deck, A4 landscape, the trends as
reportlab bar charts (vector drawings, not images). Deterministic (invariant mode): the same KPIs give the same bytes.
Pure: a KpiSet in, bytes out."""

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from documents.qbr_texts import (
    DECISION_ROWS,
    DECISIONS_HEADER,
    HOURS_KEYS,
    PERFORMANCE_HEADER,
    SECTIONS,
    SECURITY_KEYS,
    TITLE,
    breakdown_rows,
    chart_value,
    kpi_row,
    month_label,
    quarter_label,
    subtitle,
)
from domain.qbr.kpis import KpiSet
from domain.qbr.recommendations import executive_summary, recommendations

STYLES = getSampleStyleSheet()
SERIES_COLOURS = (colors.HexColor("#1f4e79"), colors.HexColor("#f28e2b"))
TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table([list(header), *[list(r) for r in rows]], hAlign="LEFT", repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _legend(names: Sequence[str], x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.alignment = x, y, "right"
    legend.colorNamePairs = list(zip(SERIES_COLOURS, names, strict=False))
    return legend


def _chart(
    chart: VerticalBarChart, months: list[str], series: list[list[float | None]], names: Sequence[str]
) -> Drawing:
    drawing = Drawing(250 * mm, 70 * mm)
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 12 * mm, 180 * mm, 52 * mm
    chart.data = series
    chart.categoryAxis.categoryNames = months
    for i, colour in enumerate(SERIES_COLOURS[: len(series)]):
        chart.bars[i].fillColor = colour
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    drawing.add(_legend(names, 205 * mm, 60 * mm))
    return drawing


def _heading(text: str) -> Paragraph:
    return Paragraph(escape(text), STYLES["Heading1"])


def _bullets(lines: Sequence[str]) -> list[Paragraph]:
    return [Paragraph("– " + escape(line), STYLES["BodyText"]) for line in lines]


def render_qbr_pdf(kpis: KpiSet) -> bytes:
    out = io.BytesIO()
    title = f"{TITLE} {quarter_label(kpis.quarter)}"
    margins = {"leftMargin": 15 * mm, "rightMargin": 15 * mm, "topMargin": 15 * mm, "bottomMargin": 15 * mm}
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title, author=kpis.customer_name, invariant=1, **margins)
    months = [month_label(m.month) for m in kpis.months]
    tickets = _chart(VerticalBarChart(), months, [[float(m.opened) for m in kpis.months],
                     [float(m.closed) for m in kpis.months]], ("Eröffnet", "Gelöst"))  # fmt: skip
    # Bars, not lines: a month without a stopped clock is a gap, and a line of one point cannot be drawn.
    sla_chart = VerticalBarChart()
    sla_chart.valueAxis.valueMax = 100
    sla = _chart(sla_chart, months, [[chart_value(m.sla_response) for m in kpis.months],
                 [chart_value(m.sla_resolution) for m in kpis.months]], ("Reaktion (%)", "Lösung (%)"))  # fmt: skip
    breakdown = [("Priorität " + p, c, v) for p, c, v in breakdown_rows(kpis, "opened_by_priority")]
    breakdown += breakdown_rows(kpis, "opened_by_category")
    breakdown += [(f"Top {i}: {name}", str(n), "") for i, (name, n) in enumerate(kpis.top_categories, start=1)]
    security = [kpi_row(kpis.kpi(k), kpis.currency)[:3] for k in SECURITY_KEYS]
    security += [("Vorfälle " + s, c, v) for s, c, v in breakdown_rows(kpis, "incidents_by_severity")]
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        Paragraph(escape(subtitle(kpis)), STYLES["Heading2"]),
        Spacer(1, 6 * mm),
        _heading(SECTIONS["summary"]),
        *_bullets(executive_summary(kpis)),
        PageBreak(),
        _heading(SECTIONS["performance"]),
        _table(PERFORMANCE_HEADER, [kpi_row(k, kpis.currency) for k in kpis.kpis]),
        PageBreak(),
        _heading(SECTIONS["tickets"]),
        tickets,
        _heading(SECTIONS["sla"]),
        sla,
        PageBreak(),
        _heading(SECTIONS["breakdown"]),
        _table(("Eröffnete Tickets", "Aktuell", "Vorquartal"), breakdown),
        _heading(SECTIONS["security"]),
        _table(PERFORMANCE_HEADER[:3], security),
        _heading(SECTIONS["hours"]),
        _table(PERFORMANCE_HEADER[:3], [kpi_row(kpis.kpi(k), kpis.currency)[:3] for k in HOURS_KEYS]),
        PageBreak(),
        _heading(SECTIONS["recommendations"]),
        *_bullets(recommendations(kpis)),
        _heading(SECTIONS["decisions"]),
        _table(DECISIONS_HEADER, [("", "", "", "offen")] * DECISION_ROWS),
    ]
    doc.build(story)
    return out.getvalue()
