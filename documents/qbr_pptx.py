"""The QBR deck as PowerPoint (python-pptx): 16:9, one slide per section, the trends as native chart objects
(editable in PowerPoint, data sheet included), the tables as native tables. German by default, English selectable;
the MSP's branding (logo on every slide, brand and accent colours, optionally its own template as the base
presentation). Pure: a KpiSet in, bytes out."""

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.slide import Slide, SlideLayout
from pptx.util import Cm, Emu, Pt

from documents.qbr_branding import DEFAULT_BRANDING, Branding
from documents.qbr_paging import continued, licence_pages
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

TITLE_LAYOUT, CONTENT_LAYOUT, TITLE_ONLY_LAYOUT = 0, 1, 5  # of python-pptx's default template
LEFT, TOP = Cm(1.5), Cm(3.5)
TABLE_MAX_HEIGHT = Cm(15)  # below TOP on the 19.05 cm slide: long tables get lower rows instead of overflowing
LOGO_HEIGHT = Cm(1.4)
_DECORATION = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}


class Deck:
    """One presentation being written: its layouts, width and branding."""

    def __init__(self, branding: Branding):
        self.branding = branding
        if branding.template:
            self.prs = Presentation(io.BytesIO(branding.template))
            _drop_slides(self.prs)
        else:
            self.prs = Presentation()
            self.prs.slide_width, self.prs.slide_height = Cm(33.867), Cm(19.05)  # 16:9
        self.title_layout, self.content_layout, self.title_only_layout = find_layouts(self.prs)
        self.width = Emu(self.prs.slide_width - 2 * LEFT)
        self.height = Emu(self.prs.slide_height - TOP - Cm(1.5))
        self.brand = RGBColor.from_string(branding.brand_rgb)
        self.accent = RGBColor.from_string(branding.accent_rgb)

    def slide(self, layout: SlideLayout, title: str) -> Slide:
        slide = self.prs.slides.add_slide(layout)
        slide.shapes.title.text = title
        for paragraph in slide.shapes.title.text_frame.paragraphs:
            paragraph.font.color.rgb = self.brand
        if self.branding.logo:
            top = Cm(0.5)
            picture = slide.shapes.add_picture(io.BytesIO(self.branding.logo), 0, top, height=LOGO_HEIGHT)
            picture.left = self.prs.slide_width - picture.width - Cm(0.8)
            picture.name = "MSP logo"
        return slide

    def bullets(self, title: str, lines: Sequence[str]) -> None:
        slide = self.slide(self.content_layout, title)
        body = next(p for p in slide.placeholders if p.placeholder_format.idx != 0)
        body.left, body.top, body.width, body.height = LEFT, TOP, self.width, self.height
        frame = body.text_frame
        frame.text = lines[0] if lines else ""
        for line in lines[1:]:
            frame.add_paragraph().text = line
        for paragraph in frame.paragraphs:
            paragraph.font.size = Pt(18)

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], slide: Slide | None = None,
              top: int = TOP, width: int | None = None, left: int = LEFT,
              shares: Sequence[float] | None = None) -> None:  # fmt: skip
        """`shares`: the columns' parts of the width (equal without)."""
        slide = slide or self.slide(self.title_only_layout, title)
        width = width or self.width
        height = min(Cm(0.9) * (len(rows) + 1), TABLE_MAX_HEIGHT)
        shape = slide.shapes.add_table(len(rows) + 1, len(header), left, top, width, height)
        table = shape.table
        for column, share in zip(table.columns, shares or (), strict=False):
            column.width = Emu(int(width * share))
        for col, text in enumerate(header):
            cell = table.cell(0, col)
            cell.text = text
            cell.fill.solid()
            cell.fill.fore_color.rgb = self.brand
        for r, row in enumerate(rows, start=1):
            for col, text in enumerate(row):
                table.cell(r, col).text = text
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.text_frame.paragraphs:
                    paragraph.font.size = Pt(11)

    def chart(self, title: str, kind, data: CategoryChartData, axis_max: float | None = None,  # noqa: ANN001
              slide: Slide | None = None, left: int = LEFT, width: int | None = None) -> None:  # fmt: skip
        slide = slide or self.slide(self.title_only_layout, title)
        chart = slide.shapes.add_chart(kind, left, TOP, width or self.width, self.height, data).chart
        chart.has_legend = True
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        for series, colour in zip(chart.plots[0].series, (self.brand, self.accent), strict=False):
            if kind == XL_CHART_TYPE.LINE_MARKERS:
                series.format.line.color.rgb = colour
            else:
                series.format.fill.solid()
                series.format.fill.fore_color.rgb = colour
        if axis_max is not None:
            chart.value_axis.maximum_scale = axis_max
            chart.value_axis.minimum_scale = 0

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.prs.save(out)
        return out.getvalue()


def _kinds(layout: SlideLayout) -> list:
    return sorted((p.placeholder_format.type for p in layout.placeholders
                   if p.placeholder_format.type not in _DECORATION), key=int)  # fmt: skip


def find_layouts(prs) -> tuple[SlideLayout, SlideLayout, SlideLayout]:  # noqa: ANN001
    """(title slide, title and content, title only) of a presentation, found by their placeholders (a template may
    name and order its layouts in any way); python-pptx's default indices where none fits. Raises ValueError for a
    presentation without a layout with a title."""
    layouts = list(prs.slide_layouts)
    title = content = title_only = None
    for layout in layouts:
        kinds = _kinds(layout)
        if title is None and PP_PLACEHOLDER.CENTER_TITLE in kinds and PP_PLACEHOLDER.SUBTITLE in kinds:
            title = layout
        elif content is None and len(kinds) == 2 and kinds[0] == PP_PLACEHOLDER.TITLE and kinds[1] in (
            PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT):  # fmt: skip
            content = layout
        elif title_only is None and kinds == [PP_PLACEHOLDER.TITLE]:
            title_only = layout
    if content is None or title_only is None:
        raise ValueError("the template needs a 'Title and Content' and a 'Title Only' layout")
    return title or content, content, title_only


def _drop_slides(prs) -> None:  # noqa: ANN001
    """A template's own sample slides are not part of the deck."""
    ids = prs.slides._sldIdLst
    for sld_id in list(ids):
        prs.part.drop_rel(sld_id.rId)
        ids.remove(sld_id)


def _data(categories: list[str], series: dict[str, list[float | None]], number_format: str) -> CategoryChartData:
    data = CategoryChartData(number_format=number_format)
    data.categories = categories
    for name, values in series.items():
        data.add_series(name, values)
    return data


def _lifecycle_slide(deck: Deck, kpis: KpiSet, language: str) -> None:
    """Counts on the left, the budget by year on the right: the section the decision makers discuss."""
    slide = deck.slide(deck.title_only_layout, sections(language)["lifecycle"])
    half = Emu(deck.width // 2 - Cm(0.5))
    deck.table("", *lifecycle_counts(kpis, language), slide=slide, width=half, shares=(0.8, 0.2))
    deck.table("", *budget_table(kpis, language), slide=slide, width=half, left=Emu(LEFT + half + Cm(1)))


def _licence_slides(deck: Deck, kpis: KpiSet, language: str) -> None:
    """The products in pages of LICENCE_ROWS_PER_PAGE, the licence KPIs below the last page's table, or on a
    follow-up slide of their own when they would not fit below it."""
    header, pages = licence_pages(kpis, language)
    slide = None
    for page in pages:
        slide = deck.slide(deck.title_only_layout, page.title)
        deck.table("", header, page.rows, slide=slide, shares=(0.14, 0.36, 0.1, 0.1, 0.1, 0.2))
    kpi_rows = licence_kpi_rows(kpis, language)
    below = Cm(0.9) * (len(pages[-1].rows) + 2)  # the last table and a row's gap
    if below + Cm(0.9) * (len(kpi_rows) + 1) > deck.height:
        slide, below = deck.slide(deck.title_only_layout, continued(sections(language)["licences"], language)), 0
    deck.table("", labels(language)["performance_header"][:3], kpi_rows, slide=slide, top=Emu(TOP + below),
               width=Emu(deck.width // 2))  # fmt: skip


def render_qbr_pptx(kpis: KpiSet, summary: Sequence[str] | None = None, *, language: str = "de",
                    branding: Branding | None = None) -> bytes:  # fmt: skip
    """`summary`: the checked LLM executive summary; None: the rule-based one."""
    deck = Deck(branding or DEFAULT_BRANDING)
    s = sections(language)
    title = deck.slide(deck.title_layout, f"{TITLE} {quarter_label(kpis.quarter)}")
    subtitle_placeholder = next((p for p in title.placeholders if p.placeholder_format.idx == 1), None)
    if subtitle_placeholder is not None:
        subtitle_placeholder.text = subtitle(kpis)
    deck.bullets(s["summary"], summary or executive_summary(kpis, language))
    deck.table(s["performance"], *performance_table(kpis, language))
    months, tickets, sla = chart_series(kpis, language)
    deck.chart(s["tickets"], XL_CHART_TYPE.COLUMN_CLUSTERED, _data(months, tickets, "0"))
    deck.chart(s["sla"], XL_CHART_TYPE.LINE_MARKERS, _data(months, sla, '0.0" %"'), axis_max=100)
    tables = detail_tables(kpis, language)
    for heading, table in tables[:3]:  # breakdown, security, hours
        deck.table(heading, *table)
    _lifecycle_slide(deck, kpis, language)
    deck.table(s["lifecycle_devices"], *lifecycle_devices(kpis, language), shares=(0.15, 0.12, 0.35, 0.13, 0.25))
    if kpis.budget:
        years, budget = budget_series(kpis, language)
        deck.chart(s["budget"], XL_CHART_TYPE.COLUMN_STACKED, _data(years, budget, f'#,##0 "{_symbol(kpis)}"'))
    _licence_slides(deck, kpis, language)
    for heading, table in tables[3:]:  # risks, roadmap, RACI
        deck.table(heading, *table)
    deck.bullets(s["recommendations"], recommendations(kpis, language))
    deck.table(s["decisions"], *decisions_table(kpis, language))
    return deck.bytes()


def _symbol(kpis: KpiSet) -> str:
    return "€" if kpis.currency == "EUR" else kpis.currency
