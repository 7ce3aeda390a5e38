"""The sample documents the output tests render carry the totals their docstrings compute by hand."""

from decimal import Decimal

from domain.billing.tax import VatCategory
from tests import billing_documents as samples


def test_german_invoice_totals():
    doc = samples.german_invoice()
    assert (doc.totals.line_total, doc.totals.tax_total, doc.amount_due) == (
        Decimal("460.82"), Decimal("85.16"), Decimal("545.98"))  # fmt: skip


def test_austrian_invoice_totals():
    assert samples.austrian_invoice().amount_due == Decimal("550.98")


def test_reverse_charge_has_no_tax():
    doc = samples.reverse_charge_invoice()
    assert {g.category for g in doc.totals.groups} == {VatCategory.REVERSE_CHARGE}
    assert doc.amount_due == Decimal("460.82")


def test_swiss_invoice_totals():
    assert samples.swiss_invoice().amount_due == Decimal("497.05")


def test_credit_note_refers_to_the_invoice():
    doc = samples.credit_note()
    assert doc.is_credit_note and doc.preceding.number == "RE-2026-000123"
    assert doc.amount_due == Decimal("130.90")
