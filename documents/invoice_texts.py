"""The printed texts of an invoice per language ("de", "en") and the number and date formats they use.

Amounts are printed in the German format in both languages (decimal comma, thousands dot): the sellers are DACH
companies and their bookkeeping reads these figures; the English texts serve foreign readers of the same invoice.
"""

from datetime import date
from decimal import Decimal

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift / Rechnungskorrektur",
        "corrects": "zu Rechnung {number} vom {date}",
        "number": "Rechnungsnummer",
        "credit_number": "Gutschriftsnummer",
        "issue_date": "Datum",
        "customer_number": "Kundennummer",
        "period": "Leistungszeitraum",
        "seller_vat_id": "USt-IdNr.",
        "seller_tax_number": "Steuernummer",
        "buyer_reference": "Ihre Referenz",
        "leitweg_id": "Leitweg-ID",
        "buyer_vat_id": "USt-IdNr. des Leistungsempfängers: {vat_id}",
        "contact": "Ansprechpartner",
        "greeting": "Für unsere Leistungen im Leistungszeitraum berechnen wir Ihnen:",
        "greeting_credit": "Wir schreiben Ihnen folgende Leistungen gut:",
        "pos": "Pos.",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit": "Einheit",
        "unit_price": "Einzelpreis",
        "net": "Netto",
        "vat": "USt.",
        "net_total": "Summe netto",
        "net_at_rate": "Nettobetrag {rate}",
        "tax_at_rate": "Umsatzsteuer {rate}",
        "gross_total": "Gesamtbetrag",
        "credit_total": "Gutschriftsbetrag",
        "pay_transfer": "Zahlbar bis {due} ohne Abzug auf IBAN {iban} (BIC {bic}), Verwendungszweck {reference}.",
        "pay_direct_debit": (
            "Der Betrag von {amount} wird am {due} per SEPA-Lastschrift von Ihrem Konto {iban} eingezogen. "
            "Mandatsreferenz: {mandate}, Gläubiger-ID: {creditor_id}."
        ),
        "pay_credit_transfer": "Den Betrag von {amount} überweisen wir bis {due} auf Ihr Konto.",
        "pay_credit_direct_debit": "Den Betrag von {amount} erstatten wir bis {due} auf Ihr Konto {iban}.",
        "pay_qr_bill": "Bitte verwenden Sie für die Zahlung den QR-Zahlteil auf der letzten Seite.",
        "qr_bill_page": "QR-Rechnung zu {number}",
        "page": "Seite {page}",
        "bank": "Bankverbindung",
        "register": "Registereintrag",
        "phone": "Tel.",
        "email": "E-Mail",
        "your_vat_id": "Ihre USt-IdNr.",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "corrects": "to invoice {number} of {date}",
        "number": "Invoice number",
        "credit_number": "Credit note number",
        "issue_date": "Date",
        "customer_number": "Customer number",
        "period": "Service period",
        "seller_vat_id": "VAT ID",
        "seller_tax_number": "Tax number",
        "buyer_reference": "Your reference",
        "leitweg_id": "Buyer reference (Leitweg-ID)",
        "buyer_vat_id": "VAT ID of the recipient: {vat_id}",
        "contact": "Contact",
        "greeting": "For our services in the service period we invoice:",
        "greeting_credit": "We credit you the following:",
        "pos": "No.",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "net": "Net",
        "vat": "VAT",
        "net_total": "Total net",
        "net_at_rate": "Net amount {rate}",
        "tax_at_rate": "VAT {rate}",
        "gross_total": "Total amount",
        "credit_total": "Credited amount",
        "pay_transfer": "Payable by {due} without deduction to IBAN {iban} (BIC {bic}), reference {reference}.",
        "pay_direct_debit": (
            "The amount of {amount} will be collected by SEPA direct debit from your account {iban} on {due}. "
            "Mandate reference: {mandate}, creditor ID: {creditor_id}."
        ),
        "pay_credit_transfer": "We will transfer the amount of {amount} to your account by {due}.",
        "pay_credit_direct_debit": "We will refund the amount of {amount} to your account {iban} by {due}.",
        "pay_qr_bill": "Please use the QR payment part on the last page.",
        "qr_bill_page": "QR-bill for {number}",
        "page": "Page {page}",
        "bank": "Bank details",
        "register": "Register",
        "phone": "Phone",
        "email": "E-mail",
        "your_vat_id": "Your VAT ID",
    },
}

# The German terms of Austria and Switzerland where they differ from Germany's (UID, MWST).
COUNTRY_TEXTS: dict[str, dict[str, str]] = {
    "AT": {
        "seller_vat_id": "UID-Nr.",
        "buyer_vat_id": "UID-Nr. des Leistungsempfängers: {vat_id}",
        "your_vat_id": "Ihre UID-Nr.",
    },
    "CH": {
        "seller_vat_id": "MWST-Nr.",
        "tax_at_rate": "MWST {rate}",
        "vat": "MWST",
        "your_vat_id": "Ihre MWST-Nr.",
        "buyer_vat_id": "MWST-Nr. des Leistungsempfängers: {vat_id}",
    },
}

# UN/ECE Recommendation 20 codes the hub uses, as a reader knows them.
UNITS: dict[str, dict[str, str]] = {
    "de": {"C62": "Stk.", "HUR": "Std.", "MON": "Monat", "DAY": "Tag", "ANN": "Jahr", "MIN": "Min."},
    "en": {"C62": "pcs", "HUR": "h", "MON": "month", "DAY": "day", "ANN": "year", "MIN": "min"},
}

# DIN 5008 puts the country of a foreign address on its own last line.
COUNTRIES: dict[str, dict[str, str]] = {
    "de": {"DE": "DEUTSCHLAND", "AT": "ÖSTERREICH", "CH": "SCHWEIZ", "LI": "LIECHTENSTEIN"},
    "en": {"DE": "GERMANY", "AT": "AUSTRIA", "CH": "SWITZERLAND", "LI": "LIECHTENSTEIN"},
}


def texts(language: str, seller_country: str | None = None) -> dict[str, str]:
    """The texts of `language`; anything but English is printed in German, the hub's default, with the terms of
    the seller's country."""
    if language == "en":
        return TEXTS["en"]
    return {**TEXTS["de"], **COUNTRY_TEXTS.get(seller_country or "DE", {})}


def unit_name(code: str, language: str) -> str:
    return UNITS["en" if language == "en" else "de"].get(code, code)


def country_name(code: str, language: str) -> str:
    return COUNTRIES["en" if language == "en" else "de"].get(code, code)


def format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def format_number(value: Decimal, min_decimals: int = 0) -> str:
    """`value` with a decimal comma and a thousands dot, keeping its own decimals (1.5 -> "1,5") but at least
    `min_decimals` (14.9 -> "14,90")."""
    exponent = value.normalize().as_tuple().exponent
    decimals = max(min_decimals, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    english = f"{value:,.{decimals}f}"
    return english.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_money(value: Decimal, currency: str) -> str:
    """ "1.234,56 €" for EUR, "1.234,56 CHF" for any other currency (the code, never a guessed symbol)."""
    return f"{format_number(value, 2)} {'€' if currency == 'EUR' else currency}"


def format_rate(rate: Decimal) -> str:
    """A VAT rate in percent: 19 -> "19 %", 8.1 -> "8,1 %"."""
    return f"{format_number(rate)} %"
