"""The month's files for the accountant and the bank, built from the issued (immutable) invoices and credit notes of
the month they were issued in: the DATEV Buchungsstapel and the BMD booking import (Austria); the SEPA direct debit
files are collections of their own (sepa_collections.py). Finance and MSP admins only; every download leaves an
audit event."""

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlmodel import Session, col, select

from api.deps import BillingWriter, SessionDep
from api.problems import Problem
from api.routes.billing.runs import month_or_422
from api.schemas.common import audit_event
from documents.bmd import BmdSettings, default_customer_account, render_bmd
from documents.datev import (
    DatevSettings,
    datev_filename,
    default_debtor_account,
    render_buchungsstapel,
    revenue_accounts_from_rows,
)
from domain.billing.document import InvoiceDocument
from domain.billing.recurring import BillingMonth
from domain.billing.stored import document_from_dict
from domain.contracts.billing import DraftStatus
from models import CustomerBillingProfile, Invoice, SellerProfile
from models.base import utcnow

router = APIRouter(prefix="/billing/exports", tags=["billing exports"])
MonthQuery = Annotated[str, Query(description="YYYY-MM: the month the documents were issued in")]


def _issued(session: Session, month: BillingMonth) -> list[tuple[InvoiceDocument, UUID]]:
    rows = session.exec(
        select(Invoice)
        .where(
            Invoice.status == DraftStatus.ISSUED, Invoice.issue_date >= month.first, Invoice.issue_date <= month.last
        )
        .order_by(Invoice.number)
    ).all()
    return [(document_from_dict(row.document), row.tenant_id) for row in rows]


def _booked(
    session: Session, month: BillingMonth, default: Callable[[str], str]
) -> tuple[list[InvoiceDocument], list[str], dict[str, str]]:
    """The month's documents a DATEV or BMD file can take, those left out, and the customer accounts set in the
    billing profiles (customer number as on the document -> account); the others get `default`."""
    issued = _issued(session, month)
    tenants = {tenant_id for _, tenant_id in issued}
    set_by_tenant = dict(
        session.exec(
            select(CustomerBillingProfile.tenant_id, CustomerBillingProfile.debtor_account).where(
                col(CustomerBillingProfile.tenant_id).in_(tenants),
                col(CustomerBillingProfile.debtor_account).is_not(None),
            )
        ).all()
    )
    accounts = {doc.buyer.customer_number: set_by_tenant[t] for doc, t in issued if t in set_by_tenant}
    docs, left_out = exportable([doc for doc, _ in issued], lambda number: accounts.get(number) or default(number))
    return docs, left_out, accounts


def exportable(
    docs: list[InvoiceDocument], account: Callable[[str], str] | None = None
) -> tuple[list[InvoiceDocument], list[str]]:
    """The documents the file can take, and the others named with the reason. An issued document is frozen, so
    what keeps it out of DATEV, BMD or SEPA can never be fixed: a foreign currency (these formats take EUR only), or
    a customer number that gives no customer account (`account` raises; there is no account mapping, and renaming
    the tenant does not change an issued document). Refusing the month for it would block that month's export for
    good; it is left out and the response names it (X-Left-Out) to be booked by hand."""
    kept, left_out = [], []
    for doc in docs:
        if doc.currency != "EUR":
            left_out.append(f"{doc.number} ({doc.currency})")
            continue
        try:
            if account is not None:
                account(doc.buyer.customer_number)
        except ValueError:
            number = doc.buyer.customer_number
            left_out.append(
                f"{doc.number} (no customer account for {number}: set debtor_account in its billing profile)"
            )
            continue
        kept.append(doc)
    return kept, left_out


def _seller(session: Session) -> SellerProfile:
    seller = session.get(SellerProfile, 1)
    if seller is None:
        raise Problem(409, "the MSP's invoicing data is missing: set it with PUT /api/v1/billing/seller")
    return seller


def _file(session: Session, principal, content: bytes, filename: str, media_type: str, kind: str,  # noqa: ANN001
          left_out: list[str]) -> Response:  # fmt: skip
    digest = hashlib.sha256(content).hexdigest()
    session.add(audit_event(principal, None, "billing_export", principal.user_id, "downloaded",
                            {"kind": kind, "filename": filename, "sha256": digest, "left_out": left_out}))  # fmt: skip
    session.commit()
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if left_out:
        # ASCII: a header value is latin-1 at most, and an imported customer number may hold anything
        headers["X-Left-Out"] = ", ".join(left_out).encode("ascii", "replace").decode()
    return Response(content, media_type=media_type, headers=headers)


def _unprocessable(err: ValueError) -> Problem:
    return Problem(422, str(err))


@router.get("/datev", summary="DATEV Buchungsstapel (EXTF 700) of a month's issued documents",
            responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
def datev_export(month: MonthQuery, principal: BillingWriter, session: SessionDep):
    billing_month = BillingMonth.parse(month_or_422(month))
    seller = _seller(session)
    if seller.datev_consultant_number is None or seller.datev_client_number is None:
        raise Problem(409, "DATEV consultant and client number are missing in the seller profile")
    try:
        settings = DatevSettings(
            consultant_number=seller.datev_consultant_number,
            client_number=seller.datev_client_number,
            fiscal_year_start=date(billing_month.year, 1, 1),
            chart=seller.chart_of_accounts.value,
            revenue_accounts=revenue_accounts_from_rows(seller.account_mapping),
        )
        docs, left_out, accounts = _booked(session, billing_month, default_debtor_account)
        content = render_buchungsstapel(docs, settings, billing_month.first, billing_month.last,
                                        utcnow().replace(tzinfo=None), accounts)  # fmt: skip
    except ValueError as err:
        raise _unprocessable(err) from None
    return _file(session, principal, content, datev_filename(billing_month.first), "text/csv; charset=windows-1252",
                 "datev", left_out)  # fmt: skip


@router.get("/bmd", summary="BMD booking import of a month's issued documents (Austria)",
            responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
def bmd_export(month: MonthQuery, principal: BillingWriter, session: SessionDep):
    billing_month = BillingMonth.parse(month_or_422(month))
    seller = _seller(session)
    try:
        settings = BmdSettings(default_accounts={}, revenue_accounts=revenue_accounts_from_rows(seller.account_mapping))
        docs, left_out, accounts = _booked(session, billing_month, default_customer_account)
        content = render_bmd(docs, settings, accounts)
    except ValueError as err:
        raise _unprocessable(err) from None
    return _file(session, principal, content, f"BMD_Buchungen_{billing_month}.csv", "text/csv; charset=windows-1252",
                 "bmd", left_out)  # fmt: skip
