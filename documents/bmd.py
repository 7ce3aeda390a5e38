"""BMD NTCS booking import (Austria): the issued invoices and credit notes as a CSV the seller's accountant imports
into BMD ("Buchungen importieren"), one row per (document, VAT group, revenue account), like the DATEV export.

What is assumed and not verified against BMD itself (the sources are vendor integration docs, not BMD's own
ImportBuchungen documentation): the column names below, which BMD matches by the heading line; ";" as separator,
a decimal comma and dates as DD.MM.YYYY; cp1252 ("ANSI") as encoding (a setting); the signs (betrag gross and
positive with buchcode 1 = Soll for an invoice and 2 = Haben for a credit note; steuer negative when output VAT is
credited, i.e. on an invoice, positive on a credit note); and every tax code. BMD's steuercode comes from the
client's VAT matrix: 1 (domestic output VAT) and 81 (reverse charge, "Ausland §13b") were seen in vendor docs, the
second only in one; both are settings, and a category without a code (not subject, small business) is refused
until the accountant names one. Revenue accounts have no defaults either: the Austrian EKR is configured per
client. Run one file through the client's BMD import before relying on it.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from documents.datev import MappingKey, RateKey, check_text, revenue_bookings
from domain.billing.document import InvoiceDocument
from domain.billing.invoice import VatGroup
from domain.billing.tax import VatCategory
from domain.billing.terms import RevenueType

COLUMNS = (
    "satzart", "konto", "gkonto", "buchdatum", "belegnr", "belegdatum", "buchsymbol", "buchcode", "prozent",
    "steuercode", "betrag", "steuer", "text", "zziel",
)  # fmt: skip
# Documents go to BMD with their number as belegnr: up to 20 characters, letters, digits and - / _ only.
_BELEGNR = re.compile(r"^[A-Za-z0-9_/-]{1,20}$")
_ACCOUNT = re.compile(r"^[0-9]{1,10}$")


@dataclass(frozen=True)
class BmdSettings:
    # (VAT category, rate) -> revenue account (gkonto), e.g. {(S, 20): "4000", (S, 10): "4010"}: the client's EKR.
    default_accounts: Mapping[RateKey, str]
    # (revenue type, VAT category, rate) -> revenue account: the seller's mapping, wins over default_accounts.
    revenue_accounts: Mapping[MappingKey, str] = field(default_factory=dict)
    # BMD steuercode per VAT category (see the module docstring: from the client's VAT matrix).
    tax_codes: Mapping[VatCategory, str] = field(
        default_factory=lambda: {VatCategory.STANDARD: "1", VatCategory.REVERSE_CHARGE: "81"}
    )
    encoding: str = "cp1252"

    def __post_init__(self) -> None:
        for account in [*self.default_accounts.values(), *self.revenue_accounts.values()]:
            if not _ACCOUNT.match(account):
                raise ValueError(f"BMD account {account!r} must be 1-10 digits")
        for category, code in self.tax_codes.items():
            if not code.isdigit():
                raise ValueError(f"steuercode {code!r} of {category.value} must be digits")
        "".encode(self.encoding)  # an unknown encoding fails here, not in the middle of an export

    def revenue_account(self, revenue_type: RevenueType, group: VatGroup) -> str:
        account = self.revenue_accounts.get((revenue_type, group.category, group.rate))
        account = account or self.default_accounts.get((group.category, group.rate))
        if account is None:
            raise ValueError(
                f"no BMD revenue account for {revenue_type.value} at VAT {group.category.value} {group.rate} %"
            )
        return account

    def tax_code(self, doc: InvoiceDocument, category: VatCategory) -> str:
        code = self.tax_codes.get(category)
        if code is None:
            raise ValueError(f"{doc.number}: no BMD steuercode for VAT category {category.value}; set it in tax_codes")
        return code


def default_customer_account(customer_number: str) -> str:
    """The BMD customer account (Personenkonto) of a customer without an explicit one: the digits of the customer
    number ("K20001" -> "20001"). Two customers with the same digits are refused by `render_bmd`."""
    digits = "".join(c for c in customer_number if c.isdigit()).lstrip("0")
    if not digits or len(digits) > 10:
        raise ValueError(f"customer number {customer_number!r} gives no BMD account: map it explicitly")
    return digits


def _amount(value: Decimal) -> str:
    return f"{value if value else abs(value):.2f}".replace(".", ",")  # never "-0,00"


def _rate(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value else "0"
    return text.replace(".", ",")


def render_bmd(
    docs: Sequence[InvoiceDocument], settings: BmdSettings, customer_accounts: Mapping[str, str] | None = None
) -> bytes:
    """The booking import of `docs`. `customer_accounts` maps customer numbers to BMD customer accounts; customers
    not in it get `default_customer_account`."""
    rows = [";".join(COLUMNS)]
    owners: dict[str, str] = {}
    for doc in docs:
        if doc.currency != "EUR":
            raise ValueError(f"{doc.number}: the BMD export takes EUR documents only, not {doc.currency}")
        if not _BELEGNR.match(doc.number):
            raise ValueError(f"{doc.number!r}: BMD belegnr allows 20 letters, digits, - / _")
        number = doc.buyer.customer_number
        konto = (customer_accounts or {}).get(number) or default_customer_account(number)
        if not _ACCOUNT.match(konto):
            raise ValueError(f"BMD account {konto!r} of {number} must be 1-10 digits")
        if owners.setdefault(konto, number) != number:
            raise ValueError(
                f"customers {owners[konto]} and {number} would share BMD account {konto}: "
                "give one of them its own account"
            )
        # BMD has no quoting rule we could verify: a ";" in the text would shift every column after it.
        text = check_text(doc.buyer.address.name, doc, "the customer name", settings.encoding).replace(";", ",")
        day = f"{doc.issue_date:%d.%m.%Y}"
        for booking in revenue_bookings(doc, settings.revenue_account):
            # Soll on the customer for an invoice, Haben for a credit note (or a group that is a net credit).
            debit = (booking.gross > 0) != doc.is_credit_note
            row = {
                "satzart": "0",
                "konto": konto,
                "gkonto": booking.account,
                # The booking date is the invoice date: Austrian VAT arises in the month the invoice is issued
                # when it is issued after the month of supply (§ 19 Abs. 2 lit. a UStG 1994).
                "buchdatum": day,
                "belegnr": doc.number,
                "belegdatum": day,
                "buchsymbol": "AR",
                "buchcode": "1" if debit else "2",
                "prozent": _rate(booking.group.rate),
                "steuercode": settings.tax_code(doc, booking.group.category),
                "betrag": _amount(abs(booking.gross)),
                # Output VAT is credited (negative) by an invoice and debited (positive) by a credit note.
                "steuer": _amount(booking.tax if doc.is_credit_note else -booking.tax),
                "text": text,
                "zziel": str(doc.payment_terms_days),
            }
            rows.append(";".join(row[column] for column in COLUMNS))
    return ("\r\n".join(rows) + "\r\n").encode(settings.encoding)
