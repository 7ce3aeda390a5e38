"""A customer with many Microsoft 365 products: the licence table goes over several slides (PowerPoint, read back
with python-pptx) and pages (PDF, read back with pypdf), at most LICENCE_ROWS_PER_PAGE body rows each, every product
exactly once, the follow-ups titled as continuations, the totals and the licence KPIs after the last product."""

import io
import re

import pytest
from pptx import Presentation
from pypdf import PdfReader

from documents.qbr_paging import LICENCE_ROWS_PER_PAGE, paged
from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.qbr.facts import LicenceFact
from domain.qbr.kpis import compute_kpis
from tests.domain.qbr.facts import previous
from tests.domain.qbr.lifecycle_facts import with_lifecycle

PRODUCTS = [f"Microsoft 365 Produkt {n:02d}" for n in range(1, 41)]


@pytest.fixture(scope="module")
def kpis():
    licences = [LicenceFact(vendor="Microsoft", product=p, quantity=10, assigned=7) for p in PRODUCTS]
    facts = with_lifecycle().model_copy(update={"licences": licences})
    return compute_kpis(facts, previous(), "K10001", "Muster GmbH")


def _licence_slides(data: bytes, prefix: str) -> list[tuple[str, list[list[list[str]]]]]:
    found = []
    for slide in Presentation(io.BytesIO(data)).slides:
        if slide.shapes.title.text.startswith(prefix):
            tables = [[[c.text for c in r.cells] for r in s.table.rows] for s in slide.shapes if s.has_table]
            found.append((slide.shapes.title.text, tables))
    return found


def test_the_pptx_licence_table_is_split_over_slides(kpis):
    slides = _licence_slides(render_qbr_pptx(kpis), "Lizenzen")
    titles = [title for title, _ in slides]
    # 40 products and the total: 12 + 12 + 12 + 5 rows; the KPIs fit below the last table
    assert titles == ["Lizenzen"] + ["Lizenzen (Fortsetzung)"] * 3
    product_tables = [tables[0] for _, tables in slides]
    assert all(t[0][0] == "Hersteller" for t in product_tables)  # every page has its header
    assert [len(t) - 1 for t in product_tables] == [12, 12, 12, 5]
    assert all(len(t) - 1 <= LICENCE_ROWS_PER_PAGE for t in product_tables)
    products = [row[1] for t in product_tables for row in t[1:] if row[0] != "Summe"]
    assert products == PRODUCTS  # each exactly once, in order
    assert product_tables[-1][-1] == ["Summe", "", "400", "280", "120", "0"]
    kpi_table = slides[-1][1][1]
    assert kpi_table[0] == ["Kennzahl", "Aktueller Wert", "Vorheriger Wert"]
    assert ["Lizenznutzung", "70 %", "k. A."] in kpi_table
    assert len(slides[-1][1]) == 2 and all(len(tables) == 1 for _, tables in slides[:-1])


def test_the_english_deck_says_continued(kpis):
    titles = [title for title, _ in _licence_slides(render_qbr_pptx(kpis, language="en"), "Licences")]
    assert titles == ["Licences"] + ["Licences (continued)"] * 3


def test_the_kpis_get_a_slide_of_their_own_when_the_last_page_is_full():
    licences = [LicenceFact(vendor="Microsoft", product=f"P{n:02d}", quantity=1, assigned=1) for n in range(23)]
    facts = with_lifecycle().model_copy(update={"licences": licences})
    kpis = compute_kpis(facts, previous(), "K10001", "Muster GmbH")
    slides = _licence_slides(render_qbr_pptx(kpis), "Lizenzen")
    assert [len(tables) for _, tables in slides] == [1, 1, 1]  # 12, 12 (11 products and the total), the KPIs
    assert slides[-1][0] == "Lizenzen (Fortsetzung)" and slides[-1][1][0][0][0] == "Kennzahl"
    assert [len(slides[n][1][0]) - 1 for n in (0, 1)] == [12, 12]


def test_the_pdf_licence_table_is_split_over_pages(kpis):
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(kpis))).pages]
    found = re.compile(r"Microsoft 365 Produkt \d\d")
    licence_pages = [text for text in pages if text.startswith("Lizenzen")]  # the recommendations name some too
    assert len(licence_pages) == 4
    assert licence_pages[0].startswith("Lizenzen\n")
    assert all(text.startswith("Lizenzen (Fortsetzung)\n") for text in licence_pages[1:])
    per_page = [found.findall(text) for text in licence_pages]
    assert all(len(names) <= LICENCE_ROWS_PER_PAGE for names in per_page)
    assert [name for names in per_page for name in names] == PRODUCTS
    assert "Summe\n400\n280\n120\n0" in licence_pages[-1] and "Lizenznutzung\n70 %" in licence_pages[-1]


def test_paged_keeps_every_row_once_and_in_order():
    rows = [(str(n),) for n in range(25)]
    pages = paged("Lizenzen", rows, 10)
    assert [len(p.rows) for p in pages] == [10, 10, 5]
    assert [r for p in pages for r in p.rows] == rows
    assert [p.title for p in pages] == ["Lizenzen", "Lizenzen (Fortsetzung)", "Lizenzen (Fortsetzung)"]
    assert [len(p.rows) for p in paged("T", [], 10)] == [0]
    assert [len(p.rows) for p in paged("T", rows[:10], 10)] == [10]
    with pytest.raises(ValueError):
        paged("T", rows, 0)
