"""The MSP's own business KPIs of a quarter beside the previous one (domain/qbr/business.py): for the MSP's
management only (msp_admin, finance); everyone else is refused (403)."""

from fastapi import APIRouter, Response

from api.deps import BillingWriter, SessionDep
from api.routes.qbr.builds import quarter_or_422
from api.schemas.qbr import BusinessReport
from documents.qbr_business_pdf import render_business_pdf
from domain.qbr.business import business_kpis
from domain.qbr.quarter import Quarter
from hub.qbr_business import load_business_facts

router = APIRouter(prefix="/qbr/business", tags=["quarterly business review"])


def _report(session: SessionDep, quarter: str) -> BusinessReport:
    current = Quarter.parse(quarter_or_422(quarter))
    now, before = load_business_facts(session, current), load_business_facts(session, current.previous())
    return BusinessReport(quarter=str(current), previous_quarter=str(current.previous()), currency=now.currency,
                          kpis=business_kpis(now, before))  # fmt: skip


@router.get("/{quarter}", response_model=BusinessReport, summary="The MSP's business KPIs of a quarter")
def business_report(quarter: str, principal: BillingWriter, session: SessionDep):
    return _report(session, quarter)


@router.get("/{quarter}/pdf", summary="The MSP's business KPIs of a quarter as internal PDF",
            responses={200: {"content": {"application/pdf": {}}}})  # fmt: skip
def business_report_pdf(quarter: str, principal: BillingWriter, session: SessionDep):
    report = _report(session, quarter)
    content = render_business_pdf(report.quarter, report.previous_quarter, report.kpis, report.currency)
    filename = f"Geschaeftskennzahlen-{report.quarter}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip
