"""An issued invoice or credit note with everything its outputs print: the one object the PDF, the e-invoice (CII),
the DATEV and BMD exports and the SEPA file are rendered from, so they cannot disagree.

Field names follow EN 16931 where a term exists (the BT/BG id is in the comment). Amounts are `Decimal` in the
invoice currency; a credit note carries positive amounts (its type code says it is a credit, EN 16931 BR-CO-…),
exactly as the invoice it corrects would have them.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.billing.invoice import InvoiceLine, InvoiceTotals


class DocumentKind(StrEnum):
    """UNTDID 1001 document type code (BT-3)."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class SequenceType(StrEnum):
    """SEPA direct debit sequence type of this collection."""

    FIRST = "FRST"
    RECURRING = "RCUR"


@dataclass(frozen=True)
class PostalAddress:
    name: str  # BT-27 / BT-44
    street: str  # BT-35 / BT-50
    postal_code: str  # BT-38 / BT-53
    city: str  # BT-37 / BT-52
    country: str  # BT-40 / BT-55, ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Seller:
    address: PostalAddress
    vat_id: str | None  # BT-31
    tax_number: str | None  # BT-32 (Steuernummer); §14 UStG wants the VAT id or the tax number
    register_entry: str | None  # BT-30 / printed: "Amtsgericht München HRB 123456"
    iban: str  # BT-84
    bic: str  # BT-86
    bank_name: str | None
    creditor_id: str | None  # BT-90, SEPA Gläubiger-ID
    contact_name: str | None = None  # BG-6 (XRechnung requires name, phone and e-mail: BR-DE-2/5/6/7)
    contact_phone: str | None = None
    contact_email: str | None = None
    logo_svg: str | None = None


@dataclass(frozen=True)
class Buyer:
    customer_number: str  # BT-46, e.g. K10001
    address: PostalAddress
    email: str  # BT-49 and where the invoice is mailed
    vat_id: str | None  # BT-48; printed with a reverse charge (§14a UStG)
    buyer_reference: str | None  # BT-10; the Leitweg-ID of a public customer (XRechnung BR-DE-15)


@dataclass(frozen=True)
class DirectDebit:
    """Payment by SEPA direct debit (BG-19): the customer's mandate."""

    mandate_id: str  # BT-89
    mandate_signed_on: date
    debtor_iban: str  # BT-91
    sequence: SequenceType


@dataclass(frozen=True)
class PrecedingInvoice:
    """The invoice a credit note corrects (BG-3)."""

    number: str  # BT-25
    issue_date: date  # BT-26


@dataclass(frozen=True)
class InvoiceDocument:
    kind: DocumentKind
    number: str  # BT-1, e.g. RE-2026-000123 or GS-2026-000004
    issue_date: date  # BT-2
    due_date: date  # BT-9
    period_start: date  # BT-73 (the service period; §14 Abs. 4 Nr. 6 UStG)
    period_end: date  # BT-74
    currency: str  # BT-5, EUR or CHF
    language: str  # "de" or "en": the printed texts, not the e-invoice's codes
    seller: Seller
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    totals: InvoiceTotals
    payment_terms_days: int
    direct_debit: DirectDebit | None = None  # None: credit transfer to the seller's IBAN (BG-17)
    preceding: PrecedingInvoice | None = None  # credit notes only
    notes: tuple[str, ...] = field(default_factory=tuple)  # BT-22, free text printed under the lines

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    @property
    def payment_reference(self) -> str:
        """BT-83, the remittance text on a transfer: the invoice number."""
        return self.number

    @property
    def amount_due(self) -> Decimal:
        return self.totals.amount_due
