"""Issued invoices as the renderers see them (domain.billing.document), hand-computed, for the output tests:
a German customer at 19 % paying by SEPA direct debit, an Austrian MSP's customer at 20 %, an EU reverse-charge
customer, a Swiss MSP's Swiss customer in CHF (QR-bill), a public customer (XRechnung with a Leitweg-ID) and a credit
note for the German invoice. Valid check digits throughout (IBANs, VAT ids, creditor id), so the libraries accept
them."""

from datetime import date
from decimal import Decimal

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
from domain.billing.invoice import InvoiceLine, LineSource, invoice_totals
from domain.billing.tax import Party, TaxClass, tax_case
from domain.billing.terms import RevenueType

OCTOBER_END = date(2026, 10, 31)

GERMAN_SELLER = Seller(
    address=PostalAddress("Muster IT-Service GmbH", "Leopoldstraße 12", "80802", "München", "DE"),
    vat_id="DE136695976",
    tax_number="143/123/45678",
    register_entry="Amtsgericht München HRB 123456",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    bank_name="Commerzbank",
    creditor_id="DE98ZZZ09999999999",
    contact_name="Buchhaltung Muster IT",
    contact_phone="+49 89 1234567",
    contact_email="rechnung@muster-it.example",
)
AUSTRIAN_SELLER = Seller(
    address=PostalAddress("Alpen IT GmbH", "Mariahilfer Straße 1", "1060", "Wien", "AT"),
    vat_id="ATU13585627",
    tax_number=None,
    register_entry="FN 123456a, Handelsgericht Wien",
    iban="AT611904300234573201",
    bic="BKAUATWWXXX",
    bank_name="Bank Austria",
    creditor_id=None,
    contact_name="Buchhaltung Alpen IT",
    contact_phone="+43 1 2345678",
    contact_email="rechnung@alpen-it.example",
)
SWISS_SELLER = Seller(
    address=PostalAddress("Helvetia IT AG", "Bahnhofstrasse 1", "8001", "Zürich", "CH"),
    vat_id="CHE-116.281.710 MWST",
    tax_number=None,
    register_entry="CHE-116.281.710, Handelsregister des Kantons Zürich",
    iban="CH9300762011623852957",
    bic="UBSWCHZH80A",
    bank_name="UBS",
    creditor_id=None,
    contact_name="Buchhaltung Helvetia IT",
    contact_phone="+41 44 1234567",
    contact_email="rechnung@helvetia-it.example",
)


def _party(seller: Seller) -> Party:
    return Party(seller.address.country, seller.vat_id)


def month_lines(currency_unit_price: Decimal = Decimal("14.90")) -> tuple[InvoiceLine, ...]:
    """23 workstations pro rata from 17.10. (15 of 31 days: 23 x 14.90 x 15/31 = 165.8225 -> 165.82), 1.5 h remote
    support over the contingent at 110.00 (165.00), a holiday surcharge (110.00), one reduced-rate book (20.00)."""
    return (
        InvoiceLine("Managed Workstation (17.10.-31.10.2026)", Decimal(23), "C62", currency_unit_price,
                    Decimal("165.82"), TaxClass.STANDARD, LineSource("contract_line", ("L1",)),
                    date(2026, 10, 17), OCTOBER_END, RevenueType.MANAGED_SERVICES),  # fmt: skip
        InvoiceLine("Remote-Support über Kontingent", Decimal("1.5"), "HUR", Decimal("110.00"), Decimal("165.00"),
                    TaxClass.STANDARD, LineSource("time_entry", ("T1", "T2")),
                    revenue_type=RevenueType.LABOUR),  # fmt: skip
        InvoiceLine("Zuschlag Feiertag 03.10.2026", Decimal(1), "C62", Decimal("110.00"), Decimal("110.00"),
                    TaxClass.STANDARD, LineSource("time_entry", ("T3",)), revenue_type=RevenueType.LABOUR),  # fmt: skip
        InvoiceLine("Fachbuch IT-Sicherheit", Decimal(1), "C62", Decimal("20.00"), Decimal("20.00"),
                    TaxClass.REDUCED, LineSource("one_off", ("I1",)), revenue_type=RevenueType.HARDWARE),  # fmt: skip
    )


def _document(seller: Seller, buyer: Buyer, buyer_vat: str | None, number: str, **extra) -> InvoiceDocument:  # noqa: ANN003
    lines = extra.pop("lines", month_lines())
    buyer_party = Party(buyer.address.country, buyer_vat)
    totals = invoice_totals(lines, lambda c: tax_case(_party(seller), buyer_party, c, OCTOBER_END))
    return InvoiceDocument(
        kind=extra.pop("kind", DocumentKind.INVOICE),
        number=number,
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 11, 16),
        period_start=date(2026, 10, 1),
        period_end=OCTOBER_END,
        currency=extra.pop("currency", "EUR"),
        language=extra.pop("language", "de"),
        seller=seller,
        buyer=buyer,
        lines=lines,
        totals=totals,
        payment_terms_days=14,
        **extra,
    )


def german_invoice() -> InvoiceDocument:
    """19 % on 440.82 = 83.7558 -> 83.76; 7 % on 20.00 = 1.40; 460.82 net, 85.16 tax, 545.98 due. Direct debit."""
    buyer = Buyer("K10001", PostalAddress("Bäckerei Huber KG", "Marienplatz 3", "80331", "München", "DE"),
                  "buchhaltung@huber.example", None, None)  # fmt: skip
    mandate = DirectDebit("MNDT-K10001-1", date(2026, 1, 15), "DE02120300000000202051", SequenceType.FIRST)
    return _document(GERMAN_SELLER, buyer, None, "RE-2026-000123", direct_debit=mandate)


def austrian_invoice() -> InvoiceDocument:
    """Austrian MSP, Austrian customer: 20 % on 440.82 = 88.164 -> 88.16; 10 % on 20.00 = 2.00; 550.98 due."""
    buyer = Buyer("K20001", PostalAddress("Kaffeehaus Gruber OG", "Graben 5", "1010", "Wien", "AT"),
                  "office@gruber.example", "ATU13585627", None)  # fmt: skip
    return _document(AUSTRIAN_SELLER, buyer, "ATU13585627", "RE-2026-000124")


def reverse_charge_invoice() -> InvoiceDocument:
    """German MSP, Austrian business with a valid UID: reverse charge, 0 tax, 460.82 due, both VAT ids printed."""
    buyer = Buyer("K10002", PostalAddress("Tiroler Holz GmbH", "Maria-Theresien-Straße 9", "6020", "Innsbruck", "AT"),
                  "rechnung@tiroler-holz.example", "ATU13585627", None)  # fmt: skip
    return _document(GERMAN_SELLER, buyer, "ATU13585627", "RE-2026-000125")


def swiss_invoice() -> InvoiceDocument:
    """Swiss MSP, Swiss customer, CHF: 8.1 % on 440.82 = 35.70642 -> 35.71; 2.6 % on 20.00 = 0.52; 497.05 due.
    Paid with the QR-bill slip (the seller's IBAN is Swiss)."""
    buyer = Buyer("K30001", PostalAddress("Uhren Meier AG", "Marktgasse 10", "3011", "Bern", "CH"),
                  "buchhaltung@uhren-meier.example", "CHE-116.281.710 MWST", None)  # fmt: skip
    return _document(SWISS_SELLER, buyer, "CHE-116.281.710 MWST", "RE-2026-000126", currency="CHF")


def public_sector_invoice() -> InvoiceDocument:
    """A German town hall: XRechnung with its Leitweg-ID as buyer reference (BT-10), credit transfer, English texts."""
    buyer = Buyer("K10003", PostalAddress("Stadt Musterstadt", "Rathausplatz 1", "86150", "Augsburg", "DE"),
                  "e-rechnung@musterstadt.example", None, "09162000-12345-67")  # fmt: skip
    return _document(GERMAN_SELLER, buyer, None, "RE-2026-000127", language="en")


def credit_note() -> InvoiceDocument:
    """Credit note for the holiday surcharge of RE-2026-000123: 110.00 + 19 % (20.90) = 130.90 credited."""
    original = german_invoice()
    lines = (original.lines[2],)
    preceding = PrecedingInvoice(original.number, original.issue_date)
    return _document(GERMAN_SELLER, original.buyer, None, "GS-2026-000004", lines=lines,
                     kind=DocumentKind.CREDIT_NOTE, preceding=preceding)  # fmt: skip


ALL = {
    "german": german_invoice,
    "austrian": austrian_invoice,
    "reverse_charge": reverse_charge_invoice,
    "swiss": swiss_invoice,
    "public_sector": public_sector_invoice,
    "credit_note": credit_note,
}
