"""The monthly service report as PDF (reportlab, A4 portrait): per section a table of the month beside the month
before, and the tickets by priority as a bar chart (a vector drawing). German; "k. A." for a value without a source;
deterministic (invariant mode). Pure: a ServiceReport in, bytes out."""

import io
import math
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from documents.qbr_texts import chart_value, measure_cell
from domain.qbr.period import Month
from domain.service_report.content import ReportSection, ServiceReport

STYLES = getSampleStyleSheet()
COLOURS = (colors.HexColor("#1f4e79"), colors.HexColor("#f28e2b"))
LABEL_HEADER = "Kennzahl"
TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]
)


def section_table(section: ReportSection, month: str, previous: str) -> list[list[str]]:
    """Header and rows as the PDF shows them (the tests read the same cells back)."""
    header = [LABEL_HEADER, Month.parse(month).label(), Month.parse(previous).label()]
    return [header, *[[r.label, measure_cell(r.current, r.current_reason, r.unit),
                       measure_cell(r.previous, r.previous_reason, r.unit)] for r in section.rows]]  # fmt: skip


def _priority_chart(report: ServiceReport) -> Drawing:
    rows = [r for r in report.section("tickets").rows if r.label.endswith(" eröffnet")]
    chart = VerticalBarChart()
    drawing = Drawing(180 * mm, 55 * mm)
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 120 * mm, 40 * mm
    chart.data = [[chart_value(r.previous) or 0 for r in rows], [chart_value(r.current) or 0 for r in rows]]
    chart.categoryAxis.categoryNames = [r.label.split()[0] for r in rows]
    top = max([1.0, *chart.data[0], *chart.data[1]])
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = max(1, math.ceil(top / 5))  # whole tickets on the axis
    for i, colour in enumerate(COLOURS):
        chart.bars[i].fillColor = colour
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y, legend.alignment = 140 * mm, 45 * mm, "right"
    legend.colorNamePairs = [(COLOURS[0], Month.parse(report.previous_month).label()),
                             (COLOURS[1], Month.parse(report.month).label())]  # fmt: skip
    drawing.add(legend)
    return drawing


def render_service_report_pdf(report: ServiceReport) -> bytes:
    out = io.BytesIO()
    title = report.title()
    margins = {"leftMargin": 18 * mm, "rightMargin": 18 * mm, "topMargin": 15 * mm, "bottomMargin": 15 * mm}
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author=report.customer_name, invariant=1, **margins)
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        Paragraph(escape(f"{report.customer_name} ({report.customer_number})"), STYLES["Heading2"]),
        Paragraph(escape(f"Vergleich mit dem Vormonat ({Month.parse(report.previous_month).label()})"),
                  STYLES["BodyText"]),  # fmt: skip
        Spacer(1, 4 * mm),
    ]
    for section in report.sections:
        table = Table(section_table(section, report.month, report.previous_month), hAlign="LEFT",
                      colWidths=(80 * mm, 40 * mm, 40 * mm), repeatRows=1)  # fmt: skip
        table.setStyle(TABLE_STYLE)
        # A heading never ends a page without its table (the sections are short enough to move whole).
        story.append(KeepTogether([Paragraph(escape(section.title), STYLES["Heading2"]), table]))
        if section.key == "tickets":
            story.append(_priority_chart(report))

    def footer(canvas, document) -> None:  # noqa: ANN001 - reportlab's page callback
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(document.leftMargin, 8 * mm, f"{title} · {report.customer_name}")
        canvas.drawRightString(A4[0] - document.rightMargin, 8 * mm, f"Seite {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
