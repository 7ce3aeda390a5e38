"""The QBR deck read back: python-pptx finds the native charts with their series values and the performance table's
cells; pypdf finds the same figures in the PDF."""

import io

import pypdfium2 as pdfium
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader

from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.raci import RaciRow
from tests.domain.qbr.facts import current, previous


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(current(), previous(), "K10001", "Muster GmbH")


def _slides(data: bytes) -> dict:
    prs = Presentation(io.BytesIO(data))
    return {slide.shapes.title.text: slide for slide in prs.slides}


def _table(slide) -> list[list[str]]:  # noqa: ANN001
    shape = next(s for s in slide.shapes if s.has_table)
    return [[cell.text for cell in row.cells] for row in shape.table.rows]


def test_pptx_has_every_section_native_charts_and_the_table(kpis):
    slides = _slides(render_qbr_pptx(kpis))
    assert list(slides)[0] == "Quarterly Business Review Q4 2026"
    sections = ("Management-Zusammenfassung", "Service-Performance", "Ticket-Entwicklung", "SLA-Erfüllung",
                "Sicherheit", "Stunden und Vertrag", "Empfehlungen", "Entscheidungen und nächste Schritte")  # fmt: skip
    assert set(sections) <= set(slides)
    rows = _table(slides["Service-Performance"])
    assert rows[0] == ["Kennzahl", "Aktueller Wert", "Vorheriger Wert", "Quelle"]
    by_label = {r[0]: r[1:3] for r in rows}
    assert by_label["SLA-Erfüllung Reaktion"] == ["75 %", "100 %"]
    assert by_label["Mittlere Lösungszeit"] == ["13,3 h", "2 h"]
    assert by_label["Sicherheitsvorfälle"] == ["2", "k. A."]
    assert by_label["Monatlicher Vertragswert"] == ["730,00 €", "630,00 €"]
    assert by_label["Geräteabdeckung (EDR)"] == ["75 %", "k. A."]

    chart_shapes = [s for s in slides["Ticket-Entwicklung"].shapes if s.has_chart]
    assert len(chart_shapes) == 1 and chart_shapes[0].shape_type == MSO_SHAPE_TYPE.CHART  # an object, not a picture
    chart = chart_shapes[0].chart
    assert list(chart.plots[0].categories) == ["07/2026", "08/2026", "09/2026", "10/2026", "11/2026", "12/2026"]
    series = {s.name: list(s.values) for s in chart.plots[0].series}
    assert series == {"Eröffnet": [1, 0, 0, 2, 1, 1], "Gelöst": [1, 0, 0, 2, 1, 0]}
    sla = next(s for s in slides["SLA-Erfüllung"].shapes if s.has_chart).chart
    response = next(s for s in sla.plots[0].series if s.name == "Reaktion (%)")
    assert list(response.values) == [100.0, 100.0, None, 50.0, 100.0, 100.0]  # September: no clock, a gap

    recommendations = slides["Empfehlungen"].placeholders[1].text_frame.text
    assert "SLA-Erfüllung (Reaktion) ist von 100 % auf 75 % gesunken" in recommendations


def test_pdf_has_the_same_figures_and_a_page_with_ink(kpis):
    data = render_qbr_pdf(kpis)
    assert render_qbr_pdf(kpis) == data  # deterministic
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Quarterly Business Review Q4 2026", "Muster GmbH (K10001)", "Aktueller Wert",
                     "Vorheriger Wert", "SLA-Erfüllung Reaktion\n75 %\n100 %", "Sicherheitsvorfälle\n2\nk. A.",
                     "730,00 €\n630,00 €", "von 100 % auf 75 % gesunken", "Entscheidungen und nächste Schritte",
                     "Im Quartal 2026-Q4 wurden 4 Tickets eröffnet"):  # fmt: skip
        assert expected in text, expected
    assert len(reader.pages) >= 4


def test_a_customer_without_sources_gets_k_a_in_both_documents():
    empty = compute_kpis(QbrFacts(quarter="2026-Q1", time_zone="Europe/Vienna"),
                         QbrFacts(quarter="2025-Q4", time_zone="Europe/Vienna"), "K2", "Leer AG")  # fmt: skip
    rows = {r[0]: r[1:3] for r in _table(_slides(render_qbr_pptx(empty))["Service-Performance"])}
    assert rows["Tickets eröffnet"] == ["0", "0"]  # the hub's own data: a real zero
    assert rows["SLA-Erfüllung Reaktion"] == ["k. A.", "k. A."]
    assert rows["Monatlicher Vertragswert"] == ["k. A.", "k. A."]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_qbr_pdf(empty))).pages)
    assert "SLA-Erfüllung Reaktion\nk. A.\nk. A." in text and "Keine Auffälligkeiten" in text


def test_the_chart_page_of_the_pdf_has_ink(kpis):
    pdf = pdfium.PdfDocument(render_qbr_pdf(kpis))
    page = next(p for p in pdf if "Ticket-Entwicklung" in p.get_textpage().get_text_range())
    image = page.render(scale=0.5).to_pil().convert("L")
    dark = sum(image.histogram()[:200])
    assert dark > image.width * image.height // 20  # two bar charts with axes: more than 5 % of the page is ink


def test_a_checked_llm_summary_replaces_the_rule_based_one_in_both_documents(kpis):
    lines = ["Im Quartal wurden 4 Tickets eröffnet.", "Das Stundenkontingent war zu 62,5 % genutzt."]
    summary_slide = _slides(render_qbr_pptx(kpis, lines))["Management-Zusammenfassung"]
    text = "\n".join(p.text for s in summary_slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs)
    assert lines[0] in text and lines[1] in text and "Vorquartal" not in text  # not the rules' first sentence
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(kpis, lines))).pages)
    assert lines[0] in pdf and lines[1] in pdf


def test_the_raci_matrix_is_a_table_in_both_documents(kpis):
    rows = [
        RaciRow(area="Fachanwendungen", responsible=["Softwarehaus"], accountable=["Kunden-IT"], consulted=["MSP"]),
        RaciRow(area="Netzwerk", responsible=["MSP"], accountable=["Kunden-IT"]),
    ]
    with_matrix = kpis.model_copy(update={"raci": rows})
    table = _table(_slides(render_qbr_pptx(with_matrix))["Verantwortlichkeiten (RACI)"])
    assert table == [
        ["Bereich", "Verantwortlich (R)", "Rechenschaftspflichtig (A)", "Konsultiert (C)", "Informiert (I)"],
        ["Fachanwendungen", "Softwarehaus", "Kunden-IT", "MSP", ""],
        ["Netzwerk", "MSP", "Kunden-IT", "", ""],
    ]
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(with_matrix))).pages)
    assert "Verantwortlichkeiten (RACI)" in pdf and "Softwarehaus" in pdf and "Fachanwendungen" in pdf
    without = _table(_slides(render_qbr_pptx(kpis))["Verantwortlichkeiten (RACI)"])
    assert without[1][0] == "Keine RACI-Matrix hinterlegt"
