"""The Swiss QR-bill: when an invoice carries it, and the Swiss Payments Code payload its QR code encodes."""

from dataclasses import replace
from decimal import Decimal

import pytest

from documents import qr_bill as qr_bill_module
from documents.invoice_pdf import render_invoice_pdf
from documents.qr_bill import format_slip_amount, qr_bill_applies, qr_payload
from domain.billing.document import DocumentKind
from tests import billing_documents as samples


def test_payload_of_the_swiss_invoice():
    payload = qr_payload(samples.swiss_invoice())
    fields = payload.split("\r\n")
    assert payload.startswith("SPC\r\n0200\r\n1\r\nCH9300762011623852957\r\n")
    # Creditor and debtor as structured addresses (type S), the house number apart from the street.
    assert fields[4:11] == ["S", "Helvetia IT AG", "Bahnhofstrasse", "1", "8001", "Zürich", "CH"]
    assert fields[18:20] == ["497.05", "CHF"]
    assert fields[20:27] == ["S", "Uhren Meier AG", "Marktgasse", "10", "3011", "Bern", "CH"]
    # No structured reference with a normal IBAN: the invoice number is the unstructured message.
    assert fields[27:31] == ["NON", "", "Rechnung RE-2026-000126", "EPD"]


def test_payload_in_english_and_euro():
    doc = replace(samples.swiss_invoice(), currency="EUR", language="en")
    fields = qr_payload(doc).split("\r\n")
    assert fields[18:20] == ["497.05", "EUR"]
    assert fields[29] == "Invoice RE-2026-000126"


@pytest.mark.parametrize("name", ["german", "austrian", "reverse_charge", "public_sector", "credit_note"])
def test_no_qr_bill_without_a_swiss_iban(name):
    doc = samples.ALL[name]()
    assert not qr_bill_applies(doc)
    with pytest.raises(ValueError):
        qr_payload(doc)


def test_when_the_slip_applies():
    swiss = samples.swiss_invoice()
    assert qr_bill_applies(swiss)
    assert qr_bill_applies(replace(swiss, seller=replace(swiss.seller, iban="LI21 0881 0000 2324 013A A")))
    assert not qr_bill_applies(replace(swiss, currency="USD"))
    assert not qr_bill_applies(replace(swiss, kind=DocumentKind.CREDIT_NOTE))  # the seller pays a credit note


def test_slip_amount_format():
    assert format_slip_amount(Decimal("497.05")) == "497.05"
    assert format_slip_amount(Decimal("1234567.5")) == "1 234 567.50"


def test_the_slip_encodes_the_payload_with_error_correction_m(monkeypatch):
    drawn = []
    real_widget = qr_bill_module.QrCodeWidget

    def spy(value, **kwargs):  # noqa: ANN001, ANN003, ANN202
        drawn.append((value, kwargs["barLevel"], kwargs["barBorder"]))
        return real_widget(value, **kwargs)

    monkeypatch.setattr(qr_bill_module, "QrCodeWidget", spy)
    doc = samples.swiss_invoice()
    render_invoice_pdf(doc)
    assert drawn == [(qr_payload(doc), "M", 0)]
    render_invoice_pdf(samples.german_invoice())
    assert len(drawn) == 1  # no slip, no code
