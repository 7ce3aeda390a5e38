"""The device health KPIs in both QBR documents: rows of the service performance table with both quarters' values
(k. A. where a quarter has no snapshot), and the table still fits the slide; the MFA coverage in the security section,
with the reason where Microsoft 365 refused the report."""

import io
from datetime import date

from pptx import Presentation
from pypdf import PdfReader

from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage, MfaUnavailable
from domain.qbr.facts import HealthFact
from domain.qbr.kpis import compute_kpis
from tests.domain.qbr.facts import current, previous

Q4 = HealthCounts(devices_known=40, devices_managed=36, av_up_to_date=33, windows_devices=30, windows_with_policy=28,
                  windows_fully_patched=21, online=30, reboot_pending=4,
                  mfa=MfaCoverage(members=27, registered=23))  # fmt: skip
ROWS = {
    "Geräteabdeckung (RMM)": ["90 %", "k. A.", "RMM-Snapshot"],
    "Virenschutz aktiv und aktuell": ["91,7 %", "k. A.", "RMM-Snapshot"],
    "Windows-Patchstand": ["75 %", "k. A.", "RMM-Snapshot"],
    "Geräte online (Stichtag)": ["83,3 %", "k. A.", "RMM-Snapshot"],
    "Neustart ausstehend": ["11,1 %", "k. A.", "RMM-Snapshot"],
    "MFA-Abdeckung": ["85,2 %", "k. A.", "Microsoft 365"],  # 23 of 27 members
}


def _kpis(counts: HealthCounts = Q4):  # noqa: ANN202
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=counts)})
    return compute_kpis(now, previous(), "K10001", "Muster GmbH")


def _table_rows(prs, title: str) -> dict[str, list[str]]:  # noqa: ANN001
    slide = next(s for s in prs.slides if s.shapes.title.text == title)
    shape = next(s for s in slide.shapes if s.has_table)
    return {r[0]: r[1:] for r in ([c.text for c in row.cells] for row in shape.table.rows)}


def test_pptx_performance_table_has_the_health_rows_and_fits_the_slide():
    prs = Presentation(io.BytesIO(render_qbr_pptx(_kpis())))
    slide = next(s for s in prs.slides if s.shapes.title.text == "Service-Performance")
    shape = next(s for s in slide.shapes if s.has_table)
    rows = {r[0]: r[1:] for r in ([c.text for c in row.cells] for row in shape.table.rows)}
    assert {label: rows[label] for label in ROWS} == ROWS
    assert shape.top + shape.height <= prs.slide_height


def test_pdf_shows_the_same_health_rows():
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(_kpis()))).pages)
    for label, (now, before, _) in ROWS.items():
        assert f"{label}\n{now}\n{before}" in text, label


def test_the_security_section_shows_the_mfa_row_in_both_documents():
    assert _table_rows(Presentation(io.BytesIO(render_qbr_pptx(_kpis()))), "Sicherheit")["MFA-Abdeckung"] == [
        "85,2 %", "k. A."]  # fmt: skip
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(_kpis()))).pages)
    security = text[text.index("Sicherheit\n"):]
    assert "MFA-Abdeckung\n85,2 %\nk. A." in security


def test_a_refused_mfa_report_shows_its_reason_in_german_and_english():
    refused = _kpis(Q4.model_copy(update={"mfa": MfaCoverage(unavailable=MfaUnavailable.FORBIDDEN)}))
    de = _table_rows(Presentation(io.BytesIO(render_qbr_pptx(refused))), "Sicherheit")
    assert de["MFA-Abdeckung"] == ["k. A.: Berechtigung AuditLog.Read.All fehlt", "k. A."]
    en = _table_rows(Presentation(io.BytesIO(render_qbr_pptx(refused, language="en"))), "Security")
    assert en["MFA coverage"] == ["n/a: permission AuditLog.Read.All missing", "n/a"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_qbr_pdf(refused, language="en"))).pages)
    assert "MFA coverage\nn/a: permission AuditLog.Read.All missing\nn/a" in text


def test_health_recommendations_reach_the_recommendations_of_both_documents():
    # Q4 by hand: 36 - 33 = 3 devices without antivirus, 27 - 23 = 4 accounts without MFA.
    antivirus = "3 Geräte ohne aktiven Virenschutz (von 36 verwalteten)"
    mfa = "4 Benutzerkonten ohne MFA (von 27)"
    prs = Presentation(io.BytesIO(render_qbr_pptx(_kpis())))
    slide = next(s for s in prs.slides if s.shapes.title.text == "Empfehlungen")
    lines = [p.text for shape in slide.placeholders if shape.placeholder_format.idx != 0
             for p in shape.text_frame.paragraphs]  # fmt: skip
    assert any(line.startswith(antivirus) for line in lines) and any(line.startswith(mfa) for line in lines)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render_qbr_pdf(_kpis()))).pages)
    flat = " ".join(text.split())
    assert antivirus in flat[flat.index("Empfehlungen"):] and mfa in flat
