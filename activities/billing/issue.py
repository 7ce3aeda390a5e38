"""Issuing an approved draft: the number is drawn, the seller's and buyer's data frozen into the document, and the
time entries and items marked billed, in one transaction. A retried issue finds the row issued and returns it; a
failed one rolls back and gives its number back, so numbers stay gapless per series and fiscal year."""

from datetime import date, timedelta
from uuid import UUID

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select
from temporalio import activity

from activities.billing.drafts import locked_draft, refuse, summary_of
from domain.billing.document import (
    Buyer,
    DirectDebit,
    DocumentKind,
    InvoiceDocument,
    PostalAddress,
    PrecedingInvoice,
    Seller,
    SequenceType,
)
from domain.billing.recurring import BillingMonth
from domain.billing.stored import document_to_dict, line_from_dict, totals_for
from domain.contracts.billing import BillingActivity, DraftStatus, DraftSummary, InvoiceKind, IssueInvoice
from hub.db import session_scope
from hub.logging import get_logger
from models import ContractItem, CustomerBillingProfile, Invoice, InvoiceNumberCounter, SellerProfile, TimeEntry
from models.base import utcnow
from models.billing import MandateSequence

log = get_logger(__name__)


def draw_number(session: Session, series: str, fiscal_year: int) -> int:
    """The next number of the series in this transaction: the counter row is created race-free, then the UPDATE
    locks it until commit (PostgreSQL: concurrent issuers queue; SQLite: one writer at a time)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceNumberCounter)
        .values(series=series, fiscal_year=fiscal_year, last_value=0)
        .on_conflict_do_nothing()
    )
    stmt = (
        update(InvoiceNumberCounter)
        .where(InvoiceNumberCounter.series == series, InvoiceNumberCounter.fiscal_year == fiscal_year)
        .values(last_value=InvoiceNumberCounter.last_value + 1)
        .returning(InvoiceNumberCounter.last_value)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).scalar_one()


def format_number(prefix: str, fiscal_year: int, sequence: int, digits: int) -> str:
    """RE-2026-000123; without a prefix 2026-000123 (DATEV Belegfeld 1 takes both)."""
    body = f"{fiscal_year}-{sequence:0{digits}d}"
    return f"{prefix}-{body}" if prefix else body


class BillingIssueActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=BillingActivity.ISSUE)
    def issue(self, req: IssueInvoice) -> DraftSummary:
        with session_scope(self.engine) as session:
            row = locked_draft(session, req.draft_id)
            if row.status == DraftStatus.ISSUED:
                return summary_of(row)
            if row.status != DraftStatus.APPROVED:
                raise refuse(f"invoice {row.id} is {row.status.value}; only an approved draft is issued", "WrongState")
            seller = session.get(SellerProfile, 1)
            profile = session.exec(
                select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == row.tenant_id)
            ).one_or_none()
            if seller is None or profile is None:
                raise refuse("the seller profile or the customer's billing profile is missing", "BillingDataError")
            credit = row.kind == InvoiceKind.CREDIT_NOTE
            prefix = seller.credit_note_prefix if credit else seller.invoice_number_prefix
            fiscal_year = req.issue_date.year
            number = format_number(prefix, fiscal_year, draw_number(session, prefix or "-", fiscal_year),
                                   seller.invoice_number_digits)  # fmt: skip
            doc = self._document(session, row, seller, profile, number, req.issue_date)
            row.document = {
                **document_to_dict(doc, row.document["tax_cases"]),
                "invoice_format": profile.invoice_format.value,
                "credited_lines": (row.document or {}).get("credited_lines", []),
            }
            row.number, row.series, row.fiscal_year = number, prefix, fiscal_year
            row.issue_date, row.due_date = doc.issue_date, doc.due_date
            row.status, row.issued_at, row.updated_at = DraftStatus.ISSUED, utcnow(), utcnow()
            if not credit:
                self._mark_billed(session, row)
                if doc.direct_debit is not None and profile.sepa_sequence == MandateSequence.FIRST:
                    profile.sepa_sequence = MandateSequence.RECURRING  # the next collection on this mandate
                    session.add(profile)
            session.add(row)
            log.info("invoice issued", draft_id=str(row.id), number=number, customer=row.customer_number,
                     gross=str(row.gross_total))  # fmt: skip
            return summary_of(row)

    @staticmethod
    def _document(session: Session, row: Invoice, seller: SellerProfile, profile: CustomerBillingProfile,
                  number: str, issue_date: date) -> InvoiceDocument:  # fmt: skip
        lines = tuple(line_from_dict(line) for line in row.lines if not line.get("removed"))
        month = BillingMonth.parse(row.period)
        terms = profile.payment_terms_days if profile.payment_terms_days is not None else seller.payment_terms_days
        preceding = None
        if row.credit_of_id is not None:
            original = session.get(Invoice, row.credit_of_id)
            preceding = PrecedingInvoice(original.number, original.issue_date)
        direct_debit = None
        if (row.kind == InvoiceKind.INVOICE and profile.sepa_mandate_id and profile.sepa_iban
                and seller.sepa_creditor_id and row.gross_total > 0):  # fmt: skip
            sequence = (
                SequenceType.FIRST if profile.sepa_sequence != MandateSequence.RECURRING else SequenceType.RECURRING
            )
            direct_debit = DirectDebit(profile.sepa_mandate_id, profile.sepa_mandate_signed_on or issue_date,
                                       profile.sepa_iban, sequence)  # fmt: skip
        return InvoiceDocument(
            kind=DocumentKind.CREDIT_NOTE if row.kind == InvoiceKind.CREDIT_NOTE else DocumentKind.INVOICE,
            number=number,
            issue_date=issue_date,
            due_date=issue_date + timedelta(days=terms),
            period_start=month.first,
            period_end=month.last,
            currency=row.currency,
            language=profile.language,
            seller=Seller(
                address=PostalAddress(
                    seller.legal_name, seller.street, seller.postal_code, seller.city, seller.country
                ),
                vat_id=seller.vat_id,
                tax_number=seller.tax_number,
                register_entry=seller.register_entry,
                iban=seller.iban,
                bic=seller.bic,
                bank_name=seller.bank_name,
                creditor_id=seller.sepa_creditor_id,
                contact_name=seller.contact_name,
                contact_phone=seller.contact_phone,
                contact_email=seller.contact_email,
                logo_svg=seller.logo_svg,
            ),
            buyer=Buyer(
                customer_number=row.customer_number,
                address=PostalAddress(
                    profile.billing_name, profile.street, profile.postal_code, profile.city, profile.country
                ),  # fmt: skip
                email=profile.billing_email,
                vat_id=profile.vat_id,
                buyer_reference=profile.buyer_reference,
            ),
            lines=lines,
            totals=totals_for(lines, row.document["tax_cases"]),
            payment_terms_days=terms,
            direct_debit=direct_debit,
            preceding=preceding,
            notes=(row.reason,) if row.kind == InvoiceKind.CREDIT_NOTE and row.reason else (),
        )

    @staticmethod
    def _mark_billed(session: Session, row: Invoice) -> None:
        """Mark what this invoice bills; an entry or item billed meanwhile by another invoice stops the issue."""
        entry_ids, item_ids = set(), set()
        for line in row.lines:
            if line.get("removed"):
                continue
            kind, ids = line["source"]["kind"], line["source"]["ids"]
            if kind == "time_entry":
                entry_ids.update(UUID(i) for i in ids)
            elif kind in ("one_off", "credit"):
                item_ids.update(UUID(i) for i in ids)
        now = utcnow()
        if entry_ids:
            done = session.execute(
                update(TimeEntry)
                .where(col(TimeEntry.id).in_(entry_ids), col(TimeEntry.invoice_id).is_(None))
                .values(invoice_id=row.id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != len(entry_ids):
                raise refuse("some time entries of this draft were billed meanwhile: recompose it", "StaleDraft")
        if item_ids:
            done = session.execute(
                update(ContractItem)
                .where(col(ContractItem.id).in_(item_ids), col(ContractItem.invoice_id).is_(None))
                .values(invoice_id=row.id, billed_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != len(item_ids):
                raise refuse("some items of this draft were billed meanwhile: recompose it", "StaleDraft")
