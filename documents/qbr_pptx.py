"""The QBR deck as PowerPoint (python-pptx): 16:9, German, one slide per section, the trends as native chart
objects (editable in PowerPoint, data sheet included), the service performance table as a native table.
Pure: a KpiSet in, bytes out."""

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.slide import Slide
from pptx.util import Cm, Pt

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

TITLE_LAYOUT, CONTENT_LAYOUT, TITLE_ONLY_LAYOUT = 0, 1, 5  # of python-pptx's default template
LEFT, TOP, WIDTH = Cm(1.5), Cm(3.5), Cm(30.9)
TABLE_MAX_HEIGHT = Cm(15)  # below TOP on the 19.05 cm slide: long tables get lower rows instead of overflowing


def _slide(prs: Presentation, layout: int, title: str) -> Slide:
    slide = prs.slides.add_slide(prs.slide_layouts[layout])
    slide.shapes.title.text = title
    return slide


def _bullets(prs: Presentation, title: str, lines: Sequence[str]) -> None:
    slide = _slide(prs, CONTENT_LAYOUT, title)
    body = slide.placeholders[1]
    body.left, body.top, body.width, body.height = LEFT, TOP, WIDTH, Cm(14)
    frame = body.text_frame
    frame.text = lines[0] if lines else ""
    for line in lines[1:]:
        frame.add_paragraph().text = line
    for paragraph in frame.paragraphs:
        paragraph.font.size = Pt(18)


def _table(prs: Presentation, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    slide = _slide(prs, TITLE_ONLY_LAYOUT, title)
    height = min(Cm(1) * (len(rows) + 1), TABLE_MAX_HEIGHT)
    shape = slide.shapes.add_table(len(rows) + 1, len(header), LEFT, TOP, WIDTH, height)
    table = shape.table
    for col, text in enumerate(header):
        table.cell(0, col).text = text
    for r, row in enumerate(rows, start=1):
        for col, text in enumerate(row):
            table.cell(r, col).text = text
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(12)


def _chart(prs: Presentation, title: str, kind, data: CategoryChartData, axis_max: float | None = None) -> None:  # noqa: ANN001
    slide = _slide(prs, TITLE_ONLY_LAYOUT, title)
    chart = slide.shapes.add_chart(kind, LEFT, TOP, WIDTH, Cm(14), data).chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    if axis_max is not None:
        chart.value_axis.maximum_scale = axis_max
        chart.value_axis.minimum_scale = 0


def _data(months: list[str], series: dict[str, list[float | None]], number_format: str) -> CategoryChartData:
    data = CategoryChartData(number_format=number_format)
    data.categories = months
    for name, values in series.items():
        data.add_series(name, values)
    return data


def render_qbr_pptx(kpis: KpiSet, summary: Sequence[str] | None = None) -> bytes:
    """`summary`: the checked LLM executive summary; None: the rule-based one."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Cm(33.867), Cm(19.05)  # 16:9
    title = _slide(prs, TITLE_LAYOUT, f"{TITLE} {quarter_label(kpis.quarter)}")
    title.placeholders[1].text = subtitle(kpis)
    _bullets(prs, SECTIONS["summary"], summary or executive_summary(kpis))
    _table(prs, SECTIONS["performance"], *performance_table(kpis))
    months, tickets, sla = chart_series(kpis)
    _chart(prs, SECTIONS["tickets"], XL_CHART_TYPE.COLUMN_CLUSTERED, _data(months, tickets, "0"))
    _chart(prs, SECTIONS["sla"], XL_CHART_TYPE.LINE_MARKERS, _data(months, sla, '0.0" %"'), axis_max=100)
    for heading, table in detail_tables(kpis):
        _table(prs, heading, *table)
    _bullets(prs, SECTIONS["recommendations"], recommendations(kpis))
    _table(prs, SECTIONS["decisions"], *decisions_table(kpis))
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
