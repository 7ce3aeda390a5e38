"""The device health KPIs in both QBR documents: rows of the service performance table with both quarters' values
(k. A. where a quarter has no snapshot), and the table still fits the slide."""

import io
from datetime import date

from pptx import Presentation
from pypdf import PdfReader

from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.inventory.health import HealthCounts
from domain.qbr.facts import HealthFact
from domain.qbr.kpis import compute_kpis
from tests.domain.qbr.facts import current, previous

Q4 = HealthCounts(devices_known=40, devices_managed=36, av_up_to_date=33, windows_devices=30, windows_with_policy=28,
                  windows_fully_patched=21, online=30, reboot_pending=4)  # fmt: skip
ROWS = {
    "Geräteabdeckung (RMM)": ["90 %", "k. A.", "RMM-Snapshot"],
    "Virenschutz aktiv und aktuell": ["91,7 %", "k. A.", "RMM-Snapshot"],
    "Windows-Patchstand": ["75 %", "k. A.", "RMM-Snapshot"],
    "Geräte online (Stichtag)": ["83,3 %", "k. A.", "RMM-Snapshot"],
    "Neustart ausstehend": ["11,1 %", "k. A.", "RMM-Snapshot"],
}


def _kpis():  # noqa: ANN202
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=Q4)})
    return compute_kpis(now, previous(), "K10001", "Muster GmbH")


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
