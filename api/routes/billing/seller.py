"""The MSP as seller: one profile per installation (legal name, tax ids, bank, SEPA creditor id, invoice number
series, payment terms, DATEV numbers, chart of accounts and revenue accounts, logo). MSP staff read it; admins and
finance replace it. Customers never see it (bank and DATEV settings)."""

from fastapi import APIRouter
from sqlmodel import Session

from api.deps import BillingWriter, MspReader, Principal, SessionDep
from api.problems import Problem
from api.routes.billing.common import merged, partial
from api.schemas.billing import SellerProfileIn, SellerProfilePublic
from api.schemas.common import apply_changes, audit_event
from models import SellerProfile
from models.base import utcnow

router = APIRouter(prefix="/billing/seller", tags=["billing"])


def seller_profile(session: Session) -> SellerProfile | None:
    return session.get(SellerProfile, 1)


def _public(row: SellerProfile) -> SellerProfilePublic:
    return SellerProfilePublic.model_validate(row, from_attributes=True)


@router.get("", response_model=SellerProfilePublic, summary="The MSP's seller profile (MSP staff)")
def get_seller(principal: MspReader, session: SessionDep):
    row = seller_profile(session)
    if row is None:
        raise Problem(404, "no seller profile yet; an admin or finance creates it with PUT /api/v1/billing/seller")
    return _public(row)


@router.put("", response_model=SellerProfilePublic, summary="Create or replace the seller profile (admins, finance)")
def put_seller(body: SellerProfileIn, principal: BillingWriter, session: SessionDep):
    return _store(session, principal, body)


SellerProfilePatch = partial(SellerProfileIn, "SellerProfilePatch")


@router.patch("", response_model=SellerProfilePublic, summary="Change fields of the seller profile (admins, finance)")
def patch_seller(body: SellerProfilePatch, principal: BillingWriter, session: SessionDep):  # type: ignore[valid-type]
    row = seller_profile(session)
    if row is None:
        raise Problem(404, "no seller profile yet; an admin or finance creates it with PUT /api/v1/billing/seller")
    stored = _public(row).model_dump(mode="json", exclude={"updated_at"})
    if "iban" in body.model_fields_set and "bic" not in body.model_fields_set:
        stored.pop("bic")  # a new account: its bank's BIC, not the old one
    return _store(session, principal, merged(SellerProfileIn, stored, body))


def _store(session: Session, principal: Principal, body: SellerProfileIn) -> SellerProfilePublic:
    # The mapping is a JSON column: its rates go in as strings.
    values = body.model_dump() | {"account_mapping": body.model_dump(mode="json")["account_mapping"]}
    row = seller_profile(session)
    if row is None:
        row = SellerProfile(id=1, **values)
        session.add(row)
        session.flush()
        data = _public(row).model_dump(mode="json", exclude={"updated_at", "logo_svg"})
        session.add(audit_event(principal, None, "seller_profile", row.id, "created", data))
    else:
        changed = apply_changes(row, values)
        if changed:
            row.updated_at = utcnow()
            if "logo_svg" in changed:  # the audit trail notes the change, not 100 kB of markup
                changed["logo_svg"] = "(changed)"
            session.add(audit_event(principal, None, "seller_profile", row.id, "updated", changed))
    session.flush()
    return _public(row)
