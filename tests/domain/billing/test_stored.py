"""Issued documents survive the trip through JSON exactly: the same lines, totals and parties."""

import json

import pytest

from domain.billing.stored import document_from_dict, document_to_dict, tax_case_to_dict
from domain.billing.tax import Party, TaxClass, tax_case
from tests import billing_documents as samples


@pytest.mark.parametrize("name", sorted(samples.ALL))
def test_document_round_trip(name):
    doc = samples.ALL[name]()
    seller = Party(doc.seller.address.country, doc.seller.vat_id)
    buyer = Party(doc.buyer.address.country, doc.buyer.vat_id)
    cases = {c.value: tax_case_to_dict(tax_case(seller, buyer, c, doc.period_end)) for c in TaxClass}
    stored = json.loads(json.dumps(document_to_dict(doc, cases)))
    assert document_from_dict(stored) == doc
