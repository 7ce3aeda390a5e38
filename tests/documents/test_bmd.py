"""The BMD booking import read back: per document the rows add up to the invoice, with the tax code of its case."""

import csv
import dataclasses
from collections import defaultdict
from decimal import Decimal

import pytest

from documents.bmd import COLUMNS, BmdSettings, default_customer_account, render_bmd
from domain.billing.document import Buyer, PostalAddress
from domain.billing.tax import VatCategory
from domain.billing.terms import RevenueType
from tests.billing_documents import AUSTRIAN_SELLER, _document, austrian_invoice, credit_note, swiss_invoice

S, AE, NS = VatCategory.STANDARD, VatCategory.REVERSE_CHARGE, VatCategory.NOT_SUBJECT
ACCOUNTS = {(S, Decimal("20")): "4000", (S, Decimal("10")): "4010", (S, Decimal("19")): "4000",
            (S, Decimal("7")): "4010", (AE, Decimal("0")): "4100"}  # fmt: skip


def settings(**changes) -> BmdSettings:  # noqa: ANN003
    return BmdSettings(**({"default_accounts": ACCOUNTS} | changes))


def austrian_reverse_charge():  # noqa: ANN201
    """Austrian MSP, German business with a valid USt-IdNr.: reverse charge, 460.82 due, no tax."""
    buyer = Buyer("K20002", PostalAddress("Huber Logistik GmbH", "Hafenstraße 1", "20457", "Hamburg", "DE"),
                  "rechnung@huber-logistik.example", "DE136695976", None)  # fmt: skip
    return _document(AUSTRIAN_SELLER, buyer, "DE136695976", "RE-2026-000140")


def austrian_to_switzerland():  # noqa: ANN201
    """Austrian MSP, Swiss business: not subject to Austrian VAT (O), in EUR."""
    buyer = Buyer("K20003", PostalAddress("Uhren Meier AG", "Marktgasse 10", "3011", "Bern", "CH"),
                  "buchhaltung@uhren-meier.example", "CHE-116.281.710 MWST", None)  # fmt: skip
    return _document(AUSTRIAN_SELLER, buyer, "CHE-116.281.710 MWST", "RE-2026-000141")


def parse(data: bytes, encoding: str = "cp1252") -> list[dict[str, str]]:
    text = data.decode(encoding)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    headings, *rows = csv.reader(text.split("\r\n")[:-1], delimiter=";")
    assert tuple(headings) == COLUMNS
    return [dict(zip(headings, row, strict=True)) for row in rows]


def dec(value: str) -> Decimal:
    assert "." not in value  # decimal comma, no thousands separator
    return Decimal(value.replace(",", "."))


def test_rows_add_up_to_each_document():
    docs = [austrian_invoice(), austrian_reverse_charge(), credit_note()]
    rows = parse(render_bmd(docs, settings()))
    gross: dict[str, Decimal] = defaultdict(Decimal)
    tax: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert dec(row["betrag"]) > 0
        gross[row["belegnr"]] += dec(row["betrag"])
        tax[row["belegnr"]] += dec(row["steuer"])
        assert row["satzart"] == "0" and row["buchsymbol"] == "AR"
        assert row["belegdatum"] == row["buchdatum"] == "02.11.2026"
    assert gross == {doc.number: doc.amount_due for doc in docs}
    assert gross["RE-2026-000124"] == Decimal("550.98")
    # Output VAT credited by invoices (negative), debited by the credit note.
    assert tax == {
        "RE-2026-000124": Decimal("-90.16"),
        "RE-2026-000140": Decimal("0"),
        "GS-2026-000004": Decimal("20.90"),
    }


def test_austrian_invoice_rows():
    rows = parse(render_bmd([austrian_invoice()], settings()))
    assert [(r["konto"], r["gkonto"], r["prozent"], r["steuercode"], r["betrag"], r["steuer"]) for r in rows] == [
        ("20001", "4000", "20", "1", "528,98", "-88,16"),  # 440.82 + 20 % (88.16)
        ("20001", "4010", "10", "1", "22,00", "-2,00"),  # 20.00 + 10 % (2.00)
    ]
    assert {r["buchcode"] for r in rows} == {"1"}
    assert {r["text"] for r in rows} == {"Kaffeehaus Gruber OG"}
    assert {r["zziel"] for r in rows} == {"14"}


def test_tax_code_per_case():
    rows = parse(render_bmd([austrian_invoice(), austrian_reverse_charge(), credit_note()], settings()))
    codes = {(r["belegnr"], r["prozent"]): (r["steuercode"], r["buchcode"]) for r in rows}
    assert codes == {
        ("RE-2026-000124", "20"): ("1", "1"),
        ("RE-2026-000124", "10"): ("1", "1"),
        ("RE-2026-000140", "0"): ("81", "1"),
        ("GS-2026-000004", "19"): ("1", "2"),
    }
    reverse = [r for r in rows if r["belegnr"] == "RE-2026-000140"]
    assert [(r["gkonto"], r["betrag"], r["steuer"]) for r in reverse] == [("4100", "460,82", "0,00")]
    # The code is the client's: a setting changes it.
    rows = parse(render_bmd([austrian_reverse_charge()], settings(tax_codes={S: "1", AE: "77"})))
    assert rows[0]["steuercode"] == "77"


def test_category_without_code_or_account_is_refused():
    with pytest.raises(ValueError, match="RE-2026-000141: no BMD steuercode for VAT category O"):
        render_bmd([austrian_to_switzerland()], settings(default_accounts=ACCOUNTS | {(NS, Decimal("0")): "4200"}))
    with pytest.raises(ValueError, match="no BMD revenue account for managed_services at VAT O 0 %"):
        render_bmd([austrian_to_switzerland()], settings(tax_codes={S: "1", NS: "0"}))
    configured = settings(default_accounts=ACCOUNTS | {(NS, Decimal("0")): "4200"}, tax_codes={S: "1", NS: "0"})
    rows = parse(render_bmd([austrian_to_switzerland()], configured))
    assert [(r["gkonto"], r["steuercode"], r["betrag"]) for r in rows] == [("4200", "0", "460,82")]


def test_revenue_type_mapping_wins():
    mapping = {(RevenueType.LABOUR, S, Decimal("20")): "4050"}
    rows = parse(render_bmd([austrian_invoice()], settings(revenue_accounts=mapping)))
    booked = {r["gkonto"]: (dec(r["betrag"]), dec(r["steuer"])) for r in rows}
    # Labour 275.00 + 55.00; the rest of the 20 % group 165.82 + 33.16 (88.16 - 55.00); 10 % unchanged.
    assert booked == {
        "4050": (Decimal("330.00"), Decimal("-55.00")),
        "4000": (Decimal("198.98"), Decimal("-33.16")),
        "4010": (Decimal("22.00"), Decimal("-2.00")),
    }


def test_customer_accounts():
    assert default_customer_account("K20001") == "20001"
    rows = parse(render_bmd([austrian_invoice()], settings(), customer_accounts={"K20001": "200001"}))
    assert {r["konto"] for r in rows} == {"200001"}
    twin = dataclasses.replace(austrian_reverse_charge(), buyer=dataclasses.replace(
        austrian_reverse_charge().buyer, customer_number="K-20001"))  # fmt: skip
    with pytest.raises(ValueError, match="share BMD account 20001"):
        render_bmd([austrian_invoice(), twin], settings())
    with pytest.raises(ValueError, match="no BMD account"):
        default_customer_account("KUNDE")


def test_text_and_encoding():
    doc = austrian_invoice()
    address = dataclasses.replace(doc.buyer.address, name="Gruber; Söhne & Co")
    doc = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, address=address))
    rows = parse(render_bmd([doc], settings()))
    assert rows[0]["text"] == "Gruber, Söhne & Co"
    rows = parse(render_bmd([doc], settings(encoding="utf-8-sig")), "utf-8-sig")
    assert rows[0]["text"] == "Gruber, Söhne & Co"


def test_input_errors():
    with pytest.raises(ValueError, match="EUR documents only, not CHF"):
        render_bmd([swiss_invoice()], settings())
    with pytest.raises(ValueError, match="belegnr"):
        render_bmd([dataclasses.replace(austrian_invoice(), number="RE 2026 000124")], settings())
    with pytest.raises(ValueError, match="1-10 digits"):
        settings(default_accounts={(S, Decimal("20")): "40 00"})
