"""The MSP's own business KPIs of a quarter beside the previous one (domain/qbr/business.py): for the MSP's
management only (msp_admin, finance); everyone else is refused (403)."""

from fastapi import APIRouter

from api.deps import BillingWriter, SessionDep
from api.routes.qbr.builds import quarter_or_422
from api.schemas.qbr import BusinessReport
from domain.qbr.business import business_kpis
from domain.qbr.quarter import Quarter
from hub.qbr_business import load_business_facts

router = APIRouter(prefix="/qbr/business", tags=["quarterly business review"])


@router.get("/{quarter}", response_model=BusinessReport, summary="The MSP's business KPIs of a quarter")
def business_report(quarter: str, principal: BillingWriter, session: SessionDep):
    current = Quarter.parse(quarter_or_422(quarter))
    now, before = load_business_facts(session, current), load_business_facts(session, current.previous())
    return BusinessReport(quarter=str(current), previous_quarter=str(current.previous()), currency=now.currency,
                          kpis=business_kpis(now, before))  # fmt: skip
