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
    SECTIONS,
    TITLE,
    chart_series,
    decisions_table,
    detail_tables,
    performance_table,
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


def _chart(chart: VerticalBarChart, months: list[str], named_series: dict[str, list[float | None]]) -> Drawing:
    series, names = list(named_series.values()), list(named_series)
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


def render_qbr_pdf(kpis: KpiSet, summary: Sequence[str] | None = None) -> bytes:
    """`summary`: the checked LLM executive summary; None: the rule-based one."""
    out = io.BytesIO()
    title = f"{TITLE} {quarter_label(kpis.quarter)}"
    margins = {"leftMargin": 15 * mm, "rightMargin": 15 * mm, "topMargin": 15 * mm, "bottomMargin": 15 * mm}
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title, author=kpis.customer_name, invariant=1, **margins)
    months, ticket_series, sla_series = chart_series(kpis)
    tickets = _chart(VerticalBarChart(), months, ticket_series)
    # Bars, not lines: a month without a stopped clock is a gap, and a line of one point cannot be drawn.
    sla_chart = VerticalBarChart()
    sla_chart.valueAxis.valueMax = 100
    sla = _chart(sla_chart, months, sla_series)
    details = []
    for title_text, table in detail_tables(kpis):
        details += [_heading(title_text), _table(*table)]
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        Paragraph(escape(subtitle(kpis)), STYLES["Heading2"]),
        Spacer(1, 6 * mm),
        _heading(SECTIONS["summary"]),
        *_bullets(summary or executive_summary(kpis)),
        PageBreak(),
        _heading(SECTIONS["performance"]),
        _table(*performance_table(kpis)),
        PageBreak(),
        _heading(SECTIONS["tickets"]),
        tickets,
        _heading(SECTIONS["sla"]),
        sla,
        PageBreak(),
        *details,
        PageBreak(),
        _heading(SECTIONS["recommendations"]),
        *_bullets(recommendations(kpis)),
        _heading(SECTIONS["decisions"]),
        _table(*decisions_table(kpis)),
    ]
    doc.build(story)
    return out.getvalue()
