"""A tenant's billing profile: billing address and e-mail, VAT id (and so the tax case against the seller), payment
terms, SEPA mandate, invoice format and buyer reference. MSP staff and the tenant's own users read it; admins and
finance write it; another tenant's is missing (404)."""

from uuid import UUID

from fastapi import APIRouter
from sqlmodel import Session, select

from api.crud import ensure_unique
from api.deps import BillingWriter, CurrentUser, NowDep, Principal, SessionDep
from api.problems import Problem
from api.routes.billing.common import merged, partial, value_problem
from api.routes.billing.seller import seller_profile
from api.routes.tenants import load_tenant
from api.schemas.billing import CustomerBillingIn, CustomerBillingPublic, TaxCasePublic
from api.schemas.common import apply_changes, audit_event, field_error
from domain.billing.tax import Party, TaxClass, TaxError, tax_case
from models import CustomerBillingProfile, Tenant
from models.base import utcnow

router = APIRouter(prefix="/tenants/{tenant_id}/billing", tags=["billing"])


def billing_profile(session: Session, tenant_id: UUID) -> CustomerBillingProfile | None:
    query = select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == tenant_id)
    return session.exec(query).first()


def _tax_case(session: Session, profile: CustomerBillingProfile, now: NowDep) -> TaxCasePublic | None:
    seller = seller_profile(session)
    if seller is None:
        return None
    buyer = Party(profile.country, profile.vat_id, profile.is_business)
    try:
        case = tax_case(Party(seller.country, seller.vat_id), buyer, TaxClass.STANDARD, now.date())
    except TaxError:
        return None
    return TaxCasePublic(category=case.category, note_de=case.note_de, buyer_vat_id_required=case.buyer_vat_id_required)


def _public(session: Session, profile: CustomerBillingProfile, now: NowDep) -> CustomerBillingPublic:
    return CustomerBillingPublic.model_validate(profile.model_dump() | {"tax_case": _tax_case(session, profile, now)})


@router.get("", response_model=CustomerBillingPublic, summary="The tenant's billing profile")
def get_billing(tenant_id: UUID, principal: CurrentUser, session: SessionDep, now: NowDep):
    load_tenant(session, tenant_id, principal)
    profile = billing_profile(session, tenant_id)
    if profile is None:
        raise Problem(404, f"tenant {tenant_id} has no billing profile yet")
    return _public(session, profile, now)


@router.put("", response_model=CustomerBillingPublic, summary="Create or replace the billing profile (admins, finance)")
def put_billing(tenant_id: UUID, body: CustomerBillingIn, principal: BillingWriter, session: SessionDep, now: NowDep):
    tenant = load_tenant(session, tenant_id, principal)
    return _store(session, principal, tenant, body, now)


CustomerBillingPatch = partial(CustomerBillingIn, "CustomerBillingPatch")


@router.patch(
    "", response_model=CustomerBillingPublic, summary="Change fields of the billing profile (admins, finance)"
)
def patch_billing(
    tenant_id: UUID,
    body: CustomerBillingPatch,  # type: ignore[valid-type]
    principal: BillingWriter,
    session: SessionDep,
    now: NowDep,
):
    tenant = load_tenant(session, tenant_id, principal)
    profile = billing_profile(session, tenant_id)
    if profile is None:
        raise Problem(404, f"tenant {tenant_id} has no billing profile yet; create it with PUT")
    fields = set(CustomerBillingIn.model_fields)
    stored = {k: v for k, v in profile.model_dump(mode="json").items() if k in fields}
    return _store(session, principal, tenant, merged(CustomerBillingIn, stored, body), now)


def _store(
    session: Session, principal: Principal, tenant: Tenant, body: CustomerBillingIn, now: NowDep
) -> CustomerBillingPublic:
    tenant_id = tenant.id
    try:
        values = body.checked(tenant.country)
    except ValueError as err:
        raise value_problem(err) from None
    signed = body.sepa_mandate_signed_on
    if signed is not None and signed > now.date():  # a direct debit needs a mandate signed already
        raise field_error("sepa_mandate_signed_on", f"{signed} lies in the future")
    profile = billing_profile(session, tenant_id)
    if values["debtor_account"] is not None:
        account = values["debtor_account"]
        taken = f"debtor account {account} is another customer's"
        own = profile.id if profile else None
        ensure_unique(session, CustomerBillingProfile, "debtor_account", taken,
                      CustomerBillingProfile.debtor_account == account, own_id=own)  # fmt: skip
    if profile is None:
        profile = CustomerBillingProfile(tenant_id=tenant_id, **values)
        session.add(profile)
        session.flush()
        session.add(audit_event(principal, tenant_id, "billing_profile", profile.id, "created", values))
    else:
        changed = apply_changes(profile, values)
        if changed:
            profile.updated_at = utcnow()
            session.add(audit_event(principal, tenant_id, "billing_profile", profile.id, "updated", changed))
    session.flush()
    return _public(session, profile, now)
