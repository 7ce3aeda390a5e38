"""The lifecycle, budget and licence sections of the QBR deck, the English deck and the MSP's branding, read back:
python-pptx finds the slides, table cells, chart values, the logo picture and the colours; pypdf the same figures
and the logo image in the PDF."""

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Cm
from pypdf import PdfReader

from documents.qbr_branding import Branding
from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from documents.qbr_texts import KPI_LABELS_EN, LABELS, SECTIONS_BY_LANGUAGE
from domain.qbr.facts import DeviceFact, QbrFacts
from domain.qbr.kpis import DEFINITIONS, LICENCE_DEFINITIONS, compute_kpis
from tests.domain.qbr.facts import previous
from tests.domain.qbr.lifecycle_facts import with_lifecycle


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(with_lifecycle(), previous(), "K10001", "Muster GmbH")


def _slides(data: bytes) -> dict:
    prs = Presentation(io.BytesIO(data))
    return {slide.shapes.title.text: slide for slide in prs.slides}


def _tables(slide) -> list[list[list[str]]]:  # noqa: ANN001
    return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pptx_lifecycle_budget_and_licence_sections(kpis):
    slides = _slides(render_qbr_pptx(kpis))
    counts, budget = _tables(slides["Lebenszyklus und Budget"])
    assert counts[0] == ["Lebenszyklus (Stand 31.12.2026)", "Geräte"]
    assert counts[1:] == [
        ["Geräte im Inventar", "8"],
        ["Garantie abgelaufen", "1"],
        ["Garantieende in den nächsten 6 Monaten", "3"],
        ["Garantieende in den nächsten 12 Monaten", "4"],
        ["Ohne Garantiedatum", "1"],
        ["Betriebssystem ohne Herstellersupport", "2"],
        ["Support-Ende des Betriebssystems in den nächsten 12 Monaten", "2"],
    ]
    assert budget == [
        ["Jahr", "Roadmap", "Ersatzbeschaffungen", "Geräte", "Summe"],
        ["2026", "4.000,00 €", "8.700,00 €", "2", "12.700,00 €"],
        ["2027", "5.000,00 €", "4.800,00 €", "3", "9.800,00 €"],
        ["2028", "0,00 €", "1.500,00 €", "1", "1.500,00 €"],
    ]
    (devices,) = _tables(slides["Geräte mit Handlungsbedarf"])
    assert devices[0] == ["Gerät", "Typ", "Betriebssystem", "Garantieende", "Handlungsbedarf"]
    assert devices[1] == ["srv-old", "Server", "Windows Server 2012 R2, Support-Ende 10.10.2023", "30.06.2025",
                          "Garantie abgelaufen: Ersatz überfällig"]  # fmt: skip
    assert [r[0] for r in devices[1:]] == ["srv-old", "pc-01", "mob-01", "nb-01", "nb-02"]
    assert devices[3][2:] == ["iOS 17", "31.12.2026", "Ersatz fällig (< 90 Tage)"]

    chart = next(s for s in slides["Budgetausblick"].shapes if s.has_chart).chart
    assert list(chart.plots[0].categories) == ["2026", "2027", "2028"]
    assert {s.name: list(s.values) for s in chart.plots[0].series} == {
        "Roadmap": [4000.0, 5000.0, 0.0], "Ersatzbeschaffungen": [8700.0, 4800.0, 1500.0]}  # fmt: skip

    licences, licence_kpis = _tables(slides["Lizenzen"])
    assert licences == [
        ["Hersteller", "Produkt", "Gekauft", "Zugewiesen", "Ungenutzt", "Überzählig zugewiesen"],
        ["Adobe", "Acrobat Pro", "4", "4", "0", "0"],
        ["Microsoft", "Exchange Online Plan 1", "3", "5", "0", "2"],
        ["Microsoft", "Microsoft 365 Business Premium", "25", "18", "7", "0"],
        ["Summe", "", "32", "27", "7", "2"],
    ]
    assert ["Lizenznutzung", "78,1 %", "k. A."] in licence_kpis
    performance = _tables(slides["Service-Performance"])[0]
    assert not any(r[0].startswith("Lizenz") for r in performance)  # the licences have their own section

    recommendations = slides["Empfehlungen"].placeholders[1].text_frame.text
    assert "3 Geräte verlassen in den nächsten 6 Monaten die Garantie" in recommendations
    assert "7 ungenutzte Lizenzen Microsoft 365 Business Premium" in recommendations


def test_pdf_lifecycle_budget_and_licence_sections(kpis):
    text = _pdf_text(render_qbr_pdf(kpis))
    for expected in ("Lebenszyklus und Budget", "Garantie abgelaufen\n1", "Betriebssystem ohne Herstellersupport\n2",
                     "2026\n4.000,00 €\n8.700,00 €\n2\n12.700,00 €", "Budgetausblick", "Geräte mit Handlungsbedarf",
                     "srv-old", "Windows Server 2012 R2, Support-Ende 10.10.2023", "Lizenzen",
                     "Microsoft 365 Business Premium\n25\n18\n7\n0", "Summe\n32\n27\n7\n2",
                     "7 ungenutzte Lizenzen Microsoft 365 Business Premium"):  # fmt: skip
        assert expected in text, expected


def test_the_device_list_shows_the_first_twelve_and_counts_the_rest():
    devices = [DeviceFact(hostname=f"pc-{n:02d}", asset_type="workstation", managed=True,
                          warranty_end=date(2027, 1, 1) + timedelta(days=n)) for n in range(15)]  # fmt: skip
    facts = QbrFacts(quarter="2026-Q4", time_zone="Europe/Berlin", devices_source=True, devices=devices)
    kpis = compute_kpis(facts, previous(), "K3", "Viele GmbH")
    (table,) = _tables(_slides(render_qbr_pptx(kpis))["Geräte mit Handlungsbedarf"])
    assert len(table) == 1 + 12 + 1
    assert table[12][0] == "pc-11" and table[13][0] == "… und 3 weitere Geräte"
    assert "… und 3 weitere Geräte" in _pdf_text(render_qbr_pdf(kpis))


def test_without_inventory_and_licences_the_sections_say_k_a():
    empty = compute_kpis(QbrFacts(quarter="2026-Q4", time_zone="Europe/Berlin"), previous(), "K2", "Leer AG")
    slides = _slides(render_qbr_pptx(empty))
    counts, _ = _tables(slides["Lebenszyklus und Budget"])
    assert counts[1] == ["Geräte im Inventar", "k. A."]
    licences, _ = _tables(slides["Lizenzen"])
    assert licences[1] == ["Keine Lizenzdaten vorhanden", "k. A.", "k. A.", "k. A.", "k. A.", "k. A."]
    assert "Budgetausblick" not in slides  # no chart of invented zeros
    text = _pdf_text(render_qbr_pdf(empty))
    assert "Keine Lizenzdaten vorhanden" in text and "Geräte im Inventar\nk. A." in text


# ---- English --------------------------------------------------------------------------------------------------


def test_every_label_has_an_english_text():
    assert {d.key for d in (*DEFINITIONS, *LICENCE_DEFINITIONS)} <= set(KPI_LABELS_EN)
    assert set(SECTIONS_BY_LANGUAGE["en"]) == set(SECTIONS_BY_LANGUAGE["de"])
    assert set(LABELS["en"]) == set(LABELS["de"])


def test_english_deck_and_pdf(kpis):
    slides = _slides(render_qbr_pptx(kpis, language="en"))
    for title in ("Executive summary", "Service performance", "Ticket trend", "SLA attainment", "Security",
                  "Hours and contract", "Lifecycle and budget", "Devices needing action", "Budget outlook",
                  "Licences", "Top 3 risks", "Roadmap", "Responsibilities (RACI)", "Recommendations",
                  "Decisions and next steps"):  # fmt: skip
        assert title in slides, title
    performance = _tables(slides["Service performance"])[0]
    assert performance[0] == ["Metric", "Current value", "Previous value", "Source"]
    rows = {r[0]: r[1:] for r in performance}
    assert rows["SLA attainment response"] == ["75 %", "100 %", "SLA outcomes"]
    assert rows["Security incidents"] == ["2", "n/a", "SOC"]
    counts, budget = _tables(slides["Lifecycle and budget"])
    assert counts[0] == ["Lifecycle (as of 2026-12-31)", "Devices"] and counts[2] == ["Warranty expired", "1"]
    assert budget[1] == ["2026", "4.000,00 €", "8.700,00 €", "2", "12.700,00 €"]
    (devices,) = _tables(slides["Devices needing action"])
    assert devices[1][4] == "Warranty expired: replacement overdue"
    chart = next(s for s in slides["Ticket trend"].shapes if s.has_chart).chart
    assert [s.name for s in chart.plots[0].series] == ["Opened", "Resolved"]
    summary = slides["Executive summary"].placeholders[1].text_frame.text
    assert "In quarter 2026-Q4, 4 tickets were opened and 3 resolved" in summary
    recommendations = slides["Recommendations"].placeholders[1].text_frame.text
    assert "SLA attainment (response) fell from 100 % to 75 %" in recommendations
    assert "Vorquartal" not in summary and "Garantie" not in recommendations

    text = _pdf_text(render_qbr_pdf(kpis, language="en"))
    for expected in ("Executive summary", "SLA attainment response\n75 %\n100 %", "Lifecycle and budget",
                     "Licences", "7 unused licences Microsoft 365 Business Premium",
                     "Decisions and next steps"):  # fmt: skip
        assert expected in text, expected
    assert "Management-Zusammenfassung" not in text


# ---- branding ---------------------------------------------------------------------------------------------------


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), colour).save(out, format="PNG")
    return out.getvalue()


def test_the_msp_logo_and_colours_are_in_the_deck(kpis):
    logo = _png((200, 30, 40))
    data = render_qbr_pptx(kpis, branding=Branding(logo=logo, brand_colour="#C81E28", accent_colour="#00A0B0"))
    prs = Presentation(io.BytesIO(data))
    for slide in prs.slides:
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 1 and pictures[0].image.blob == logo
        assert pictures[0].left + pictures[0].width <= prs.slide_width  # top right, on the slide
    slides = _slides(data)
    header = next(s for s in slides["Service-Performance"].shapes if s.has_table).table.cell(0, 0)
    assert str(header.fill.fore_color.rgb) == "C81E28"
    chart = next(s for s in slides["Ticket-Entwicklung"].shapes if s.has_chart).chart
    fills = [str(s.format.fill.fore_color.rgb) for s in chart.plots[0].series]
    assert fills == ["C81E28", "00A0B0"]
    assert str(slides["Service-Performance"].shapes.title.text_frame.paragraphs[0].font.color.rgb) == "C81E28"


def test_the_msp_logo_is_on_every_pdf_page(kpis):
    logo = _png((10, 120, 60))
    reader = PdfReader(io.BytesIO(render_qbr_pdf(kpis, branding=Branding(logo=logo, brand_colour="#0A783C"))))
    for page in reader.pages:
        (image,) = page.images
        assert image.image.size == (120, 40)
    plain = PdfReader(io.BytesIO(render_qbr_pdf(kpis)))
    assert all(not page.images for page in plain.pages)


def test_the_msps_template_is_the_base_presentation(kpis):
    template = Presentation()
    template.slide_width, template.slide_height = Cm(25.4), Cm(19.05)  # 4:3, unlike the hub's 16:9
    template.slides.add_slide(template.slide_layouts[0]).shapes.title.text = "Musterfolie der Vorlage"
    out = io.BytesIO()
    template.save(out)
    deck = Presentation(io.BytesIO(render_qbr_pptx(kpis, branding=Branding(template=out.getvalue()))))
    assert (deck.slide_width, deck.slide_height) == (Cm(25.4), Cm(19.05))
    titles = [s.shapes.title.text for s in deck.slides]
    assert "Musterfolie der Vorlage" not in titles and titles[0] == "Quarterly Business Review Q4 2026"
    assert "Lizenzen" in titles
