"""The PDF invoice read back with pypdf: the fields § 14 Abs. 4 UStG / § 11 UStG 1994 require, with the hand-computed
amounts of the sample documents, the payment text of each payment way, the QR-bill slip of the Swiss seller only,
and identical bytes for the same document."""

import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import cache

import pytest
from pypdf import PdfReader

from documents.invoice_pdf import render_invoice_pdf
from documents.invoice_texts import TEXTS, format_money, format_number, format_rate
from domain.billing.document import InvoiceDocument
from domain.billing.invoice import InvoiceLine, LineSource, invoice_totals
from domain.billing.tax import Party, TaxClass, tax_case
from tests import billing_documents as samples


@cache
def _pdf(name: str) -> bytes:
    return render_invoice_pdf(samples.ALL[name]())


def _pages_of(pdf: bytes) -> list[str]:
    """Each page's text with whitespace runs as one space: table cells and wrapped lines read as one sentence."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _pages(name: str) -> list[str]:
    return _pages_of(_pdf(name))


def _text(name: str) -> str:
    return " ".join(_pages(name))


def _with_lines(doc: InvoiceDocument, lines: tuple[InvoiceLine, ...]) -> InvoiceDocument:
    seller = Party(doc.seller.address.country, doc.seller.vat_id)
    buyer = Party(doc.buyer.address.country, doc.buyer.vat_id)
    totals = invoice_totals(lines, lambda c: tax_case(seller, buyer, c, samples.OCTOBER_END))
    return replace(doc, lines=lines, totals=totals)


@pytest.mark.parametrize("name", list(samples.ALL))
def test_every_mandatory_field_is_printed(name):
    doc = samples.ALL[name]()
    text = _text(name)
    seller, buyer = doc.seller, doc.buyer
    for field in (
        seller.address.name, seller.address.street, f"{seller.address.postal_code} {seller.address.city}",
        buyer.address.name, buyer.address.street, f"{buyer.address.postal_code} {buyer.address.city}",
        doc.number, "02.11.2026", "01.10.2026–31.10.2026", buyer.customer_number,
        seller.register_entry, seller.bic, seller.bank_name, seller.contact_email,
    ):  # fmt: skip
        assert field in text, field
    assert seller.vat_id in text or seller.tax_number in text
    iban = seller.iban
    assert " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) in text
    for line in doc.lines:
        assert line.description in text
        assert format_money(line.net_amount, doc.currency) in text
        assert format_money(line.unit_price, doc.currency) in text
    for group in doc.totals.groups:
        assert format_money(group.taxable_amount, doc.currency) in text
        assert format_money(group.tax_amount, doc.currency) in text
    assert format_money(doc.totals.tax_inclusive, doc.currency) in text


def test_german_invoice_amounts_per_rate_and_direct_debit():
    pages = _pages("german")
    text = pages[0]
    assert len(pages) == 1  # no QR-bill page for a German IBAN
    assert "Rechnung RE-2026-000123" in text
    assert "Leistungszeitraum 01.10.2026–31.10.2026" in text
    assert "Kundennummer K10001" in text
    assert "Summe netto 460,82 €" in text
    assert "Nettobetrag 19 % 440,82 € Umsatzsteuer 19 % 83,76 €" in text
    assert "Nettobetrag 7 % 20,00 € Umsatzsteuer 7 % 1,40 €" in text
    assert "Gesamtbetrag 545,98 €" in text
    # Each line with quantity, unit, unit price, net amount and rate; the reduced-rate book at 7 %.
    assert "2 Remote-Support über Kontingent 1,5 Std. 110,00 € 165,00 € 19 %" in text
    assert "4 Fachbuch IT-Sicherheit 1 Stk. 20,00 € 20,00 € 7 %" in text
    assert (
        "Der Betrag von 545,98 € wird am 16.11.2026 per SEPA-Lastschrift von Ihrem Konto DE02 XXXX XXXX XXXX XX20 51 "
        "eingezogen. Mandatsreferenz: MNDT-K10001-1, Gläubiger-ID: DE98ZZZ09999999999." in text
    )
    assert "Zahlbar bis" not in text and "Zahlteil" not in text and "Steuerschuldnerschaft" not in text
    # The full debtor IBAN stays off the PDF.
    assert "DE02 1203" not in text


def test_umlauts_sharp_s_and_euro_sign_survive_the_font():
    text = _text("german")
    assert "Leopoldstraße 12" in text and "Bäckerei Huber KG" in text and "München" in text and "545,98 €" in text


def test_austrian_invoice_twenty_percent_and_credit_transfer():
    text = _text("austrian")
    assert "Umsatzsteuer 20 % 88,16 €" in text
    assert "Umsatzsteuer 10 % 2,00 €" in text
    assert "Gesamtbetrag 550,98 €" in text
    assert "UID-Nr. ATU13585627" in text
    assert (
        "Zahlbar bis 16.11.2026 ohne Abzug auf IBAN AT61 1904 3002 3457 3201 (BIC BKAUATWWXXX), "
        "Verwendungszweck RE-2026-000124." in text
    )
    assert "Lastschrift" not in text and "Zahlteil" not in text


def test_reverse_charge_prints_the_note_and_both_vat_ids():
    text = _text("reverse_charge")
    assert "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG)" in text
    assert "USt-IdNr. des Leistungsempfängers: ATU13585627" in text
    assert "USt-IdNr. DE136695976" in text
    assert "Umsatzsteuer 0 % 0,00 €" in text
    assert "Gesamtbetrag 460,82 €" in text
    assert "4 Fachbuch IT-Sicherheit 1 Stk. 20,00 € 20,00 € 0 %" in text
    assert "ÖSTERREICH" in text  # a foreign address ends with its country


def test_not_subject_note_is_printed():
    """A German MSP's Swiss business customer: not taxable in Germany (category O), the note says why."""
    doc = samples.german_invoice()
    swiss_buyer = replace(doc.buyer, address=samples.swiss_invoice().buyer.address, vat_id="CHE-116.281.710 MWST")
    doc = replace(doc, buyer=swiss_buyer, direct_debit=None)
    doc = _with_lines(doc, doc.lines)
    text = " ".join(_pages_of(render_invoice_pdf(doc)))
    assert "Nicht im Inland steuerbare Leistung: Leistungsort beim Leistungsempfänger (§ 3a Abs. 2 UStG)" in text
    assert "Gesamtbetrag 460,82 €" in text
    assert "des Leistungsempfängers:" not in text  # the buyer's VAT id line belongs to a reverse charge


def test_swiss_invoice_has_the_qr_bill_page():
    pages = _pages("swiss")
    assert len(pages) == 2
    invoice, slip = pages
    assert "MWST 8,1 % 35,71 CHF" in invoice and "MWST 2,6 % 0,52 CHF" in invoice
    assert "Gesamtbetrag 497,05 CHF" in invoice
    assert "Empfangsschein" not in invoice
    assert "Bitte verwenden Sie für die Zahlung den QR-Zahlteil auf der letzten Seite." in invoice
    for text in ("Empfangsschein", "Zahlteil", "Konto / Zahlbar an", "CH93 0076 2011 6238 5295 7", "Helvetia IT AG",
                 "CH-8001 Zürich", "Zahlbar durch", "Uhren Meier AG", "CH-3011 Bern", "Währung", "Betrag",
                 "CHF 497.05", "Zusätzliche Informationen", "Rechnung RE-2026-000126", "Annahmestelle",
                 "Vor der Einzahlung abzutrennen"):  # fmt: skip
        assert text in slip, text
    # Receipt and payment part each print account and amount.
    assert slip.count("CH93 0076 2011 6238 5295 7") == 2 and slip.count("497.05") == 2


def test_public_sector_invoice_in_english_with_the_leitweg_id():
    text = _text("public_sector")
    assert "Invoice RE-2026-000127" in text
    assert "Buyer reference (Leitweg-ID) 09162000-12345-67" in text
    assert "Service period 01.10.2026–31.10.2026" in text
    assert "VAT 19 % 83,76 €" in text and "Total amount 545,98 €" in text
    assert "Payable by 16.11.2026 without deduction to IBAN DE89 3704 0044 0532 0130 00" in text
    assert "Rechnung" not in text and "Zahlbar" not in text


def test_other_buyer_reference_is_no_leitweg_id():
    german_public = " ".join(_pages_of(render_invoice_pdf(replace(samples.public_sector_invoice(), language="de"))))
    assert "Leitweg-ID 09162000-12345-67" in german_public
    doc = samples.german_invoice()
    doc = replace(doc, buyer=replace(doc.buyer, buyer_reference="PO 4711/2026"))
    text = " ".join(_pages_of(render_invoice_pdf(doc)))
    assert "Ihre Referenz PO 4711/2026" in text and "Leitweg" not in text


def test_small_business_note():
    seller = Party("DE", samples.GERMAN_SELLER.vat_id, small_business=True)
    doc = samples.austrian_invoice()
    doc = replace(doc, seller=samples.GERMAN_SELLER, buyer=samples.german_invoice().buyer)
    buyer = Party("DE")
    totals = invoice_totals(doc.lines, lambda c: tax_case(seller, buyer, c, samples.OCTOBER_END))
    text = " ".join(_pages_of(render_invoice_pdf(replace(doc, totals=totals))))
    assert "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet." in text
    assert "Gesamtbetrag 460,82 €" in text


def test_credit_note_names_the_corrected_invoice():
    text = _text("credit_note")
    assert "Gutschrift / Rechnungskorrektur GS-2026-000004" in text
    assert "zu Rechnung RE-2026-000123 vom 02.11.2026" in text
    assert "Umsatzsteuer 19 % 20,90 €" in text
    assert "Gutschriftsbetrag 130,90 €" in text
    assert "Zahlbar bis" not in text and "Lastschrift" not in text and "Gesamtbetrag" not in text


def test_credit_note_of_a_direct_debit_customer_is_refunded_to_the_account():
    doc = replace(samples.credit_note(), direct_debit=samples.german_invoice().direct_debit)
    text = " ".join(_pages_of(render_invoice_pdf(doc)))
    assert "Den Betrag von 130,90 € erstatten wir bis 16.11.2026 auf Ihr Konto DE02 XXXX XXXX XXXX XX20 51." in text
    assert "eingezogen" not in text


def test_english_credit_note_title():
    doc = replace(samples.credit_note(), language="en")
    text = " ".join(_pages_of(render_invoice_pdf(doc)))
    assert "Credit note GS-2026-000004" in text and "to invoice RE-2026-000123 of 02.11.2026" in text


@pytest.mark.parametrize("name", list(samples.ALL))
def test_same_document_same_bytes(name):
    assert render_invoice_pdf(samples.ALL[name]()) == render_invoice_pdf(samples.ALL[name]())


def test_bytes_do_not_depend_on_the_environment(monkeypatch):
    """reportlab reads SOURCE_DATE_EPOCH even in invariant mode; the stored invoice must not change with it."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    unset = render_invoice_pdf(samples.german_invoice())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert render_invoice_pdf(samples.german_invoice()) == unset


def test_pdf_dates_are_the_issue_date():
    reader = PdfReader(io.BytesIO(_pdf("german")))
    assert reader.metadata.creation_date.replace(tzinfo=None) == datetime(2026, 11, 2)
    assert reader.metadata.title == "Rechnung RE-2026-000123"
    later = render_invoice_pdf(replace(samples.german_invoice(), issue_date=samples.german_invoice().due_date))
    assert PdfReader(io.BytesIO(later)).metadata.creation_date.replace(tzinfo=None) == datetime(2026, 11, 16)


def test_markup_in_data_is_printed_literally():
    doc = samples.austrian_invoice()
    odd = replace(doc.lines[0], description="R&D <b>Support</b> & more")
    text = " ".join(_pages_of(render_invoice_pdf(replace(doc, lines=(odd, *doc.lines[1:])))))
    assert "R&D <b>Support</b> & more" in text


def test_long_invoice_continues_on_numbered_pages_with_the_table_head():
    line = samples.month_lines()[1]
    lines = tuple(replace(line, description=f"Remote-Support Ticket {n}") for n in range(1, 61))
    doc = _with_lines(samples.austrian_invoice(), lines)
    pages = _pages_of(render_invoice_pdf(doc))
    assert len(pages) >= 2
    assert all(f"Seite {n}" in page for n, page in enumerate(pages, start=1))
    with_lines = [page for page in pages if "Remote-Support Ticket" in page]
    assert len(with_lines) >= 2
    assert all("Pos. Beschreibung Menge Einheit Einzelpreis Netto USt." in page for page in with_lines)
    # The VAT breakdown stays on one page: 60 x 165.00 = 9,900.00 net, 20 % = 1,980.00, 11,880.00 due.
    assert (
        "Summe netto 9.900,00 € Nettobetrag 20 % 9.900,00 € Umsatzsteuer 20 % 1.980,00 € Gesamtbetrag 11.880,00 €"
        in (pages[-1])
    )


def test_line_rate_when_both_rates_have_the_same_net_sum():
    source = LineSource("one_off", ("I9",))
    lines = (
        InvoiceLine("Wartung", Decimal(1), "C62", Decimal("20.00"), Decimal("20.00"), TaxClass.STANDARD, source),
        InvoiceLine("Buch", Decimal(1), "C62", Decimal("20.00"), Decimal("20.00"), TaxClass.REDUCED, source),
    )  # fmt: skip
    text = " ".join(_pages_of(render_invoice_pdf(_with_lines(samples.german_invoice(), lines))))
    assert "1 Wartung 1 Stk. 20,00 € 20,00 € 19 %" in text
    assert "2 Buch 1 Stk. 20,00 € 20,00 € 7 %" in text
    assert "Gesamtbetrag 45,20 €" in text


def test_german_number_formats():
    assert format_money(Decimal("1234567.5"), "EUR") == "1.234.567,50 €"
    assert format_money(Decimal("1234.56"), "CHF") == "1.234,56 CHF"
    assert format_money(Decimal("0.00"), "EUR") == "0,00 €"
    assert format_number(Decimal("1.5")) == "1,5"
    assert format_number(Decimal("23")) == "23"
    assert format_number(Decimal("0.125"), 2) == "0,125"
    assert format_rate(Decimal("8.1")) == "8,1 %"
    assert format_rate(Decimal("19.00")) == "19 %"


def test_both_languages_have_every_text():
    assert TEXTS["de"].keys() == TEXTS["en"].keys()
