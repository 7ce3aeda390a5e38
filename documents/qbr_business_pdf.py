"""The MSP's internal business KPI report as PDF (reportlab, the QBR deck's table style): one table, the quarter
beside the previous one, German. Pure: KPI rows in, bytes out; deterministic (invariant mode)."""

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from documents.qbr_pdf import STYLES, _table
from documents.qbr_texts import PERFORMANCE_HEADER, kpi_row, quarter_label
from domain.qbr.kpis import Kpi

TITLE = "Geschäftskennzahlen"
NOTE = "Intern: nur für die Geschäftsführung des Dienstleisters. „k. A.“: keine Angabe (keine Quelle oder kein Bezug)."


def render_business_pdf(quarter: str, previous_quarter: str, kpis: list[Kpi], currency: str = "EUR") -> bytes:
    out = io.BytesIO()
    title = f"{TITLE} {quarter_label(quarter)}"
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, invariant=1, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm)  # fmt: skip
    header = (PERFORMANCE_HEADER[0], quarter_label(quarter), quarter_label(previous_quarter), PERFORMANCE_HEADER[3])
    doc.build([
        Paragraph(escape(title), STYLES["Title"]),
        Paragraph(escape(NOTE), STYLES["BodyText"]),
        Spacer(1, 6 * mm),
        _table(header, [kpi_row(k, currency) for k in kpis]),
    ])  # fmt: skip
    return out.getvalue()
