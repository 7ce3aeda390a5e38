"""The monthly service report read back: facts loaded from the database for two months (the QBR's activity over a
month), the KPIs, the report's content and its PDF; pypdf finds every hand-counted cell, "k. A." where a source is
missing (with the reason where the source gave one), and a rendered page has ink."""

import io
from datetime import date

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlmodel import Session

from activities.qbr.facts import load_facts
from documents.service_report_pdf import render_service_report_pdf, section_table
from domain.contracts.qbr import LoadFacts
from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage, MfaUnavailable
from domain.qbr.facts import HealthFact, QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.qbr.period import Month
from domain.service_report.content import ServiceReport, service_report
from tests.service_report_setup import EXPECTED, seed_report_customer


@pytest.fixture(scope="module")
def seeded(engine):
    return seed_report_customer(engine)


def _report(engine, tenant, month: str) -> ServiceReport:  # noqa: ANN001
    previous = str(Month.parse(month).previous())
    with Session(engine) as session:
        current = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter=month, with_snapshot=True))
        before = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter=previous))
    return service_report(compute_kpis(current, before, tenant.customer_number, tenant.name))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("month", ["2026-11", "2026-10"])
def test_the_pdf_shows_the_hand_counted_figures(engine, seeded, month):
    report = _report(engine, seeded.tenant, month)
    pdf = render_service_report_pdf(report)
    assert render_service_report_pdf(report) == pdf  # deterministic
    text = _text(pdf)
    label, previous_label = Month.parse(month).label(), Month.parse(month).previous().label()
    assert f"Monatlicher Servicebericht {label}" in text
    assert f"{seeded.tenant.name} ({seeded.tenant.customer_number})" in text
    assert f"Kennzahl\n{label}\n{previous_label}" in text
    for row in EXPECTED[month]:
        assert "\n".join(row) in text, row
    cells = {r[0]: tuple(r) for s in report.sections for r in section_table(s, report.month, report.previous_month)}
    for row in EXPECTED[month]:
        assert cells[row[0]] == row  # the same figure in the content the PDF is drawn from


def test_another_customers_rows_stay_out(engine, seeded):
    # The other customer has a P1 ticket on 6 October and 120 billable minutes: its October shows them, ours not.
    ours = {r.label: r for r in _report(engine, seeded.tenant, "2026-10").section("hours").rows}
    theirs = {r.label: r for r in _report(engine, seeded.other, "2026-10").section("hours").rows}
    assert ours["Geleistete Stunden"].current == 0 and theirs["Geleistete Stunden"].current == 2


def test_no_source_is_k_a_never_a_zero():
    now, before = (QbrFacts(quarter=m, time_zone="Europe/Vienna") for m in ("2026-02", "2026-01"))
    empty = service_report(compute_kpis(now, before, "K2", "Leer AG"))
    text = _text(render_service_report_pdf(empty))
    for row in (("SLA-Erfüllung Reaktion", "k. A.", "k. A."), ("Sicherheitsvorfälle", "k. A.", "k. A."),
                ("Stundenkontingent", "k. A.", "k. A."), ("Geräteabdeckung (EDR)", "k. A.", "k. A."),
                ("Backup-Erfolgsquote", "k. A.", "k. A."), ("MFA-Abdeckung", "k. A.", "k. A."),
                ("Tickets eröffnet", "0", "0")):  # the hub's own tickets: a real zero  # fmt: skip
        assert "\n".join(row) in text, row
    assert "davon" not in text  # no severity rows without a SOC source


def test_a_rendered_page_has_ink(engine, seeded):
    pdf = pdfium.PdfDocument(render_service_report_pdf(_report(engine, seeded.tenant, "2026-11")))
    image = pdf[0].render(scale=0.5).to_pil().convert("L")
    dark = sum(image.histogram()[:200])
    assert dark > image.width * image.height // 50  # title, tables and the priority chart: over 2 % ink


def test_a_blank_page_would_fail_the_ink_check():
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    image = pdf[0].render(scale=0.5).to_pil().convert("L")
    assert sum(image.histogram()[:200]) <= image.width * image.height // 50


def test_the_mfa_row_with_a_count_and_with_the_reason_it_is_k_a():
    now, before = (QbrFacts(quarter=m, time_zone="Europe/Berlin") for m in ("2026-11", "2026-10"))
    counts = HealthCounts(mfa=MfaCoverage(members=8, registered=6))
    refused = HealthCounts(mfa=MfaCoverage(unavailable=MfaUnavailable.NO_LICENCE))
    now = now.model_copy(update={"health": HealthFact(day=date(2026, 11, 30), counts=counts)})
    before = before.model_copy(update={"health": HealthFact(day=date(2026, 10, 31), counts=refused)})
    text = _text(render_service_report_pdf(service_report(compute_kpis(now, before, "K3", "Konto AG"))))
    assert "MFA-Abdeckung\n75 %\nk. A.: Microsoft 365 ohne Entra ID P1/P2" in text  # 6 of 8 members


def test_a_section_heading_stays_on_the_page_of_its_table_and_pages_are_numbered(engine, seeded):
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(
        render_service_report_pdf(_report(engine, seeded.tenant, "2026-11")))).pages]  # fmt: skip
    assert len(pages) >= 2  # the seeded month fills more than one page: a heading could end a page
    for heading, first_row in (("Stunden und Kontingent", "Geleistete Stunden"), ("SLA-Übersicht", "Reaktion")):
        [page] = [p for p in pages if heading in p]
        assert first_row in page
    assert [f"Seite {n}" in p for n, p in enumerate(pages, 1)] == [True] * len(pages)
