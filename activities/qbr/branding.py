"""What the QBR documents are rendered with besides the KPIs: the MSP's branding (from the seller profile) and the
customer's language (of its billing profile, as its invoices: German unless English is chosen), loaded with the
quarter's facts so the workflow's KPI set carries it to the summary and the deck."""

from uuid import UUID

from sqlmodel import Session, select

from documents.qbr_branding import DEFAULT_ACCENT, DEFAULT_BRAND, Branding
from models import CustomerBillingProfile, SellerProfile


def deck_branding(session: Session) -> Branding:
    seller = session.get(SellerProfile, 1)
    if seller is None:
        return Branding()
    return Branding(logo=seller.logo_image, brand_colour=seller.brand_colour or DEFAULT_BRAND,
                    accent_colour=seller.accent_colour or DEFAULT_ACCENT, template=seller.qbr_template)  # fmt: skip


def deck_language(session: Session, tenant_id: UUID) -> str:
    language = session.exec(
        select(CustomerBillingProfile.language).where(CustomerBillingProfile.tenant_id == tenant_id)
    ).one_or_none()
    return "en" if language == "en" else "de"
