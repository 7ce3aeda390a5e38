"""The QBR as PDF (reportlab): the same sections and figures as the PowerPoint deck, A4 landscape, the trends as
reportlab bar charts (vector drawings, not images), German by default, English selectable, in the MSP's colours
with its logo in the top right corner of every page. Deterministic (invariant mode): the same KPIs give the same
bytes. Pure: a KpiSet in, bytes out."""

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
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from documents.qbr_branding import DEFAULT_BRANDING, Branding
from documents.qbr_paging import licence_pages
from documents.qbr_texts import (
    TITLE,
    budget_series,
    budget_table,
    chart_series,
    decisions_table,
    detail_tables,
    labels,
    licence_kpi_rows,
    lifecycle_counts,
    lifecycle_devices,
    performance_table,
    quarter_label,
    sections,
    subtitle,
)
from domain.qbr.kpis import KpiSet
from domain.qbr.recommendations import executive_summary, recommendations

STYLES = getSampleStyleSheet()
SERIES_COLOURS = (colors.HexColor(DEFAULT_BRANDING.brand_colour), colors.HexColor(DEFAULT_BRANDING.accent_colour))
LOGO_HEIGHT = 12 * mm


def table_style(brand: colors.Color = SERIES_COLOURS[0]) -> TableStyle:
    return TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), brand),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
        ]
    )


TABLE_STYLE = table_style()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], style: TableStyle = TABLE_STYLE) -> Table:
    table = Table([list(header), *[list(r) for r in rows]], hAlign="LEFT", repeatRows=1)
    table.setStyle(style)
    return table


def _legend(names: Sequence[str], x: float, y: float, palette: Sequence[colors.Color]) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.alignment = x, y, "right"
    legend.colorNamePairs = list(zip(palette, names, strict=False))
    return legend


def _chart(chart: VerticalBarChart, categories: list[str], named_series: dict[str, list[float | None]],
           palette: Sequence[colors.Color] = SERIES_COLOURS) -> Drawing:  # fmt: skip
    series, names = list(named_series.values()), list(named_series)
    drawing = Drawing(250 * mm, 70 * mm)
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 12 * mm, 180 * mm, 52 * mm
    chart.data = series
    chart.categoryAxis.categoryNames = categories
    for i, colour in enumerate(palette[: len(series)]):
        chart.bars[i].fillColor = colour
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    drawing.add(_legend(names, 205 * mm, 60 * mm, palette))
    return drawing


def _heading(text: str, colour: colors.Color | None = None) -> Paragraph:
    style = STYLES["Heading1"]
    if colour is not None:
        style = style.clone("BrandHeading", textColor=colour)
    return Paragraph(escape(text), style)


def _bullets(lines: Sequence[str]) -> list[Paragraph]:
    return [Paragraph("– " + escape(line), STYLES["BodyText"]) for line in lines]


def _logo_painter(logo: bytes | None):  # noqa: ANN202
    if not logo:
        return lambda canvas, doc: None
    image = ImageReader(io.BytesIO(logo))
    width, height = image.getSize()
    logo_width = LOGO_HEIGHT * width / height

    def paint(canvas: Canvas, doc) -> None:  # noqa: ANN001
        page_width, page_height = doc.pagesize
        canvas.drawImage(image, page_width - 10 * mm - logo_width, page_height - 8 * mm - LOGO_HEIGHT,
                         width=logo_width, height=LOGO_HEIGHT, mask="auto")  # fmt: skip

    return paint


def render_qbr_pdf(kpis: KpiSet, summary: Sequence[str] | None = None, *, language: str = "de",
                   branding: Branding | None = None) -> bytes:  # fmt: skip
    """`summary`: the checked LLM executive summary; None: the rule-based one."""
    branding = branding or DEFAULT_BRANDING
    brand, accent = colors.HexColor(branding.brand_colour), colors.HexColor(branding.accent_colour)
    palette, style = (brand, accent), table_style(brand)
    s, t = sections(language), labels(language)

    def heading(text: str) -> Paragraph:
        return _heading(text, brand)

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
        return _table(header, rows, style)

    out = io.BytesIO()
    title = f"{TITLE} {quarter_label(kpis.quarter)}"
    margins = {"leftMargin": 15 * mm, "rightMargin": 15 * mm, "topMargin": 22 * mm, "bottomMargin": 15 * mm}
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title, author=kpis.customer_name, invariant=1,
                            lang="en" if language == "en" else "de", **margins)  # fmt: skip
    months, ticket_series, sla_series = chart_series(kpis, language)
    tickets = _chart(VerticalBarChart(), months, ticket_series, palette)
    # Bars, not lines: a month without a stopped clock is a gap, and a line of one point cannot be drawn.
    sla_chart = VerticalBarChart()
    sla_chart.valueAxis.valueMax = 100
    sla = _chart(sla_chart, months, sla_series, palette)
    tables = detail_tables(kpis, language)
    details = []
    for title_text, (header, rows) in tables[:3]:
        details += [heading(title_text), table(header, rows)]
    later = []
    for title_text, (header, rows) in tables[3:]:
        later += [heading(title_text), table(header, rows)]
    budget = []
    if kpis.budget:
        years, series = budget_series(kpis, language)
        budget_chart = VerticalBarChart()
        budget_chart.categoryAxis.style = "stacked"
        budget = [KeepTogether([heading(s["budget"]), _chart(budget_chart, years, series, palette)])]
    licence_header, pages = licence_pages(kpis, language)
    licences = []
    for n, page in enumerate(pages):  # the deck's pages: a page break before each follow-up
        licences += [*([PageBreak()] if n else []), heading(page.title), table(licence_header, page.rows)]
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        Paragraph(escape(subtitle(kpis)), STYLES["Heading2"]),
        Spacer(1, 6 * mm),
        heading(s["summary"]),
        *_bullets(summary or executive_summary(kpis, language)),
        PageBreak(),
        heading(s["performance"]),
        table(*performance_table(kpis, language)),
        PageBreak(),
        heading(s["tickets"]),
        tickets,
        heading(s["sla"]),
        sla,
        PageBreak(),
        *details,
        PageBreak(),
        heading(s["lifecycle"]),
        table(*lifecycle_counts(kpis, language)),
        Spacer(1, 4 * mm),
        table(*budget_table(kpis, language)),
        *budget,
        PageBreak(),
        heading(s["lifecycle_devices"]),
        table(*lifecycle_devices(kpis, language)),
        PageBreak(),
        *licences,
        Spacer(1, 4 * mm),
        table(t["performance_header"][:3], licence_kpi_rows(kpis, language)),
        PageBreak(),
        *later,
        PageBreak(),
        heading(s["recommendations"]),
        *_bullets(recommendations(kpis, language)),
        heading(s["decisions"]),
        table(*decisions_table(kpis, language)),
    ]
    paint = _logo_painter(branding.logo)
    doc.build(story, onFirstPage=paint, onLaterPages=paint)
    return out.getvalue()
