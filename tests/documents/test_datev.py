"""The DATEV Buchungsstapel read back as DATEV reads it: cp1252, CRLF lines, ';' fields with '"' quotes."""

import csv
import dataclasses
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from documents.datev import (
    COLUMNS,
    DatevSettings,
    datev_filename,
    default_debtor_account,
    render_buchungsstapel,
    revenue_accounts_from_rows,
)
from domain.billing.document import Buyer
from domain.billing.invoice import InvoiceLine, LineSource
from domain.billing.tax import TaxClass, VatCategory
from domain.billing.terms import RevenueType
from tests.billing_documents import (
    GERMAN_SELLER,
    _document,
    credit_note,
    german_invoice,
    reverse_charge_invoice,
    swiss_invoice,
)

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
CREATED = datetime(2026, 12, 3, 14, 4, 40, 439000)


def settings(**changes) -> DatevSettings:  # noqa: ANN003
    return DatevSettings(
        **({"consultant_number": 29098, "client_number": 55003, "fiscal_year_start": date(2026, 1, 1)} | changes)
    )


def parse(data: bytes) -> tuple[list[str], list[str], list[dict[str, str]]]:
    text = data.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    header, headings, *rows = list(csv.reader(lines, delimiter=";", quotechar='"'))
    return header, headings, [dict(zip(headings, row, strict=True)) for row in rows]


def amount(row: dict[str, str]) -> Decimal:
    value = Decimal(row["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))
    assert value > 0
    return value


def render(docs, **kwargs) -> bytes:  # noqa: ANN001, ANN003
    return render_buchungsstapel(docs, kwargs.pop("settings", settings()), *NOVEMBER, CREATED, **kwargs)


def test_header_line_and_headings():
    header, headings, _ = parse(render([german_invoice()]))
    assert len(header) == 31
    assert header[:6] == ["EXTF", "700", "21", "Buchungsstapel", "13", "20261203140440439"]
    assert header[10:16] == ["29098", "55003", "20260101", "4", "20261101", "20261130"]
    assert header[20] == "1"  # Festschreibung
    assert header[21] == "EUR"
    assert header[26] == "03"
    assert len(headings) == 125 == len(COLUMNS)
    assert headings[0] == "Umsatz (ohne Soll/Haben-Kz)" and headings[124] == "Abw. Skontokonto"
    assert headings[39] == "EU-Land u. UStID (Bestimmung)"
    assert headings[47:49] == ["Zusatzinformation - Art 1", "Zusatzinformation- Inhalt 1"]
    assert headings[113:115] == ["Festschreibung", "Leistungsdatum"]
    # Quoting as DATEV's example: text quoted, numbers and empty numeric fields bare.
    raw = render([german_invoice()]).decode("cp1252").split("\r\n")
    assert raw[0].startswith('"EXTF";700;21;"Buchungsstapel";13;20261203140440439;;"RE";')
    assert raw[2].startswith('524,58;"S";"EUR";;;;10001;8400;"";0211;"RE-2026-000123";"";;"Bäckerei Huber KG";')
    assert all(len(line.split(";")) == 125 for line in raw[1:-1])


def test_bookings_add_up_to_each_document_gross_on_the_debtor():
    docs = [german_invoice(), reverse_charge_invoice(), credit_note()]
    _, _, rows = parse(render(docs))
    per_doc: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        per_doc[row["Belegfeld 1"]] += amount(row)
    assert per_doc == {doc.number: doc.amount_due for doc in docs}
    assert per_doc["RE-2026-000123"] == Decimal("545.98") and per_doc["GS-2026-000004"] == Decimal("130.90")
    sides = {row["Belegfeld 1"]: row["Soll/Haben-Kennzeichen"] for row in rows}
    assert sides == {"RE-2026-000123": "S", "RE-2026-000125": "S", "GS-2026-000004": "H"}
    for row in rows:
        assert row["Belegdatum"] == "0211"
        assert row["Leistungsdatum"] == "31102026"
        assert row["Festschreibung"] == "1"
        assert row["BU-Schlüssel"] == ""  # all default accounts are Automatikkonten
        assert row["WKZ Umsatz"] == "EUR"
    debtors = {row["Belegfeld 1"]: row["Konto"] for row in rows}
    assert debtors == {"RE-2026-000123": "10001", "RE-2026-000125": "10002", "GS-2026-000004": "10001"}


def test_german_groups_go_to_19_and_7_percent_accounts_in_both_charts():
    for chart, standard, reduced in (("SKR03", "8400", "8300"), ("SKR04", "4400", "4300")):
        header, _, rows = parse(render([german_invoice()], settings=settings(chart=chart)))
        assert header[26] == chart[-2:]
        booked = {row["Gegenkonto (ohne BU-Schlüssel)"]: amount(row) for row in rows}
        # 19 %: 440.82 + 83.76; 7 %: 20.00 + 1.40 (the sample's hand-computed VAT groups)
        assert booked == {standard: Decimal("524.58"), reduced: Decimal("21.40")}
        assert {row["SEPA-Mandatsreferenz"] for row in rows} == {"MNDT-K10001-1"}


def test_reverse_charge_books_8336_with_the_buyer_vat_id():
    _, _, rows = parse(render([reverse_charge_invoice()]))
    assert len(rows) == 1
    row = rows[0]
    assert row["Gegenkonto (ohne BU-Schlüssel)"] == "8336"
    assert row["EU-Land u. UStID (Bestimmung)"] == "ATU13585627"
    assert amount(row) == Decimal("460.82")
    assert row["Buchungstext"] == "Tiroler Holz GmbH"
    _, _, skr04 = parse(render([reverse_charge_invoice()], settings=settings(chart="SKR04")))
    assert skr04[0]["Gegenkonto (ohne BU-Schlüssel)"] == "4336"


def test_domestic_bookings_have_no_vat_id():
    _, _, rows = parse(render([german_invoice(), credit_note()]))
    assert {row["EU-Land u. UStID (Bestimmung)"] for row in rows} == {""}


def test_mapping_overrides_the_default_and_splits_the_tax_to_the_cent():
    # Managed services (165.82) get their own account; labour (275.00) keeps the default 8400.
    mapping = revenue_accounts_from_rows(
        [{"revenue_type": "managed_services", "vat_category": "S", "rate": "19.00", "account": "8401"}]
    )
    _, _, rows = parse(render([german_invoice()], settings=settings(revenue_accounts=mapping)))
    booked = {row["Gegenkonto (ohne BU-Schlüssel)"]: amount(row) for row in rows}
    # 19 % of 165.82 = 31.5058 -> 31.51; of 275.00 = 52.25; 83.76 for the group: the shares add up exactly.
    assert booked == {"8401": Decimal("197.33"), "8400": Decimal("327.25"), "8300": Decimal("21.40")}
    assert sum(booked.values()) == german_invoice().amount_due


def test_bu_key_written_for_a_non_automatic_account_only():
    mapping = {(RevenueType.HARDWARE, VatCategory.STANDARD, Decimal("7")): "8310"}
    s = settings(revenue_accounts=mapping, bu_keys={"8310": "2"})
    _, _, rows = parse(render([german_invoice()], settings=s))
    keys = {row["Gegenkonto (ohne BU-Schlüssel)"]: row["BU-Schlüssel"] for row in rows}
    assert keys == {"8400": "", "8310": "2"}
    with pytest.raises(ValueError, match="Automatikkonto"):
        settings(bu_keys={"8400": "3"})


def test_debtor_accounts_default_and_explicit():
    assert default_debtor_account("K10001") == "10001"
    assert default_debtor_account("K-10042") == "10042"
    with pytest.raises(ValueError, match="no debtor account"):
        default_debtor_account("K70001")
    with pytest.raises(ValueError, match="no debtor account"):
        default_debtor_account("K42")
    _, _, rows = parse(render([german_invoice()], debtor_accounts={"K10001": "12345"}))
    assert {row["Konto"] for row in rows} == {"12345"}
    with pytest.raises(ValueError, match="5 digits"):
        render([german_invoice()], debtor_accounts={"K10001": "1234"})


def test_two_customers_on_one_debtor_account_are_refused():
    other = dataclasses.replace(german_invoice(), number="RE-2026-000200")
    other = dataclasses.replace(other, buyer=dataclasses.replace(other.buyer, customer_number="K-10001"))
    with pytest.raises(ValueError, match="share debtor account 10001"):
        render([german_invoice(), other])


def test_documents_in_two_fiscal_years_are_refused():
    january = dataclasses.replace(german_invoice(), number="RE-2027-000001", issue_date=date(2027, 1, 4))
    with pytest.raises(ValueError, match="2 fiscal years"):
        render_buchungsstapel([german_invoice(), january], settings(), date(2026, 11, 1), date(2027, 1, 31), CREATED)
    # A fiscal year from 1 July holds both.
    july = settings(fiscal_year_start=date(2020, 7, 1))
    header, _, rows = parse(
        render_buchungsstapel([german_invoice(), january], july, date(2026, 11, 1), date(2027, 1, 31), CREATED)
    )
    assert header[12] == "20260701" and len(rows) == 4


def test_period_must_hold_the_documents():
    with pytest.raises(ValueError, match="outside the batch period"):
        render_buchungsstapel([german_invoice()], settings(), date(2026, 10, 1), date(2026, 10, 31), CREATED)


def test_chf_document_is_refused():
    with pytest.raises(ValueError, match="EUR documents only, not CHF"):
        render([swiss_invoice()])


@pytest.mark.parametrize("number", ["RE 2026 000123", "re-2026-1", "RE.2026.1", "RÉ-1", "R" * 37])
def test_invoice_number_outside_belegfeld_characters_is_refused(number):
    doc = dataclasses.replace(german_invoice(), number=number)
    with pytest.raises(ValueError, match="Belegfeld 1 allows"):
        render([doc])


def test_text_outside_cp1252_is_transliterated_or_refused():
    def named(name: str):  # noqa: ANN202
        doc = german_invoice()
        buyer = doc.buyer
        address = dataclasses.replace(buyer.address, name=name)
        return dataclasses.replace(doc, buyer=Buyer(buyer.customer_number, address, buyer.email, None, None))

    _, _, rows = parse(render([named('Dvořák & "Söhne"\nKG')]))
    assert {row["Buchungstext"] for row in rows} == {'Dvorák & "Söhne" KG'}
    with pytest.raises(ValueError, match="cp1252 cannot hold"):
        render([named("Łódź Sp. z o.o.")])
    long = "Ä" * 80
    _, _, rows = parse(render([named(long)]))
    assert rows[0]["Buchungstext"] == "Ä" * 60


def test_rate_without_account_needs_a_mapping():
    old = dataclasses.replace(german_invoice())
    group = dataclasses.replace(old.totals.groups[0], rate=Decimal("16"))
    totals = dataclasses.replace(old.totals, groups=(group, *old.totals.groups[1:]))
    with pytest.raises(ValueError, match="no revenue account for managed_services at VAT S 16 %"):
        render([dataclasses.replace(old, totals=totals)])


def test_filename():
    assert datev_filename(date(2026, 10, 1)) == "EXTF_Buchungsstapel_2026-10.csv"


def test_settings_are_checked():
    with pytest.raises(ValueError, match="SKR03 and SKR04"):
        settings(chart="SKR49")
    with pytest.raises(ValueError, match="4 digits"):
        settings(revenue_accounts={(RevenueType.LABOUR, VatCategory.STANDARD, Decimal("19")): "84000"})
    with pytest.raises(ValueError, match="default_accounts"):
        settings(account_length=5)


def test_tax_rounding_remainder_goes_to_one_account():
    # Two revenue accounts of 0.02 each at 19 %: 0.0038 rounds to 0.00 per account, but the group's tax is
    # 0.04 x 19 % = 0.0076 -> 0.01. The cent goes to the first of the equally large accounts.
    lines = tuple(
        InvoiceLine(f"Line {n}", Decimal(1), "C62", Decimal("0.02"), Decimal("0.02"), TaxClass.STANDARD,
                    LineSource("one_off", (str(n),)), revenue_type=kind)
        for n, kind in enumerate((RevenueType.MANAGED_SERVICES, RevenueType.LABOUR))
    )  # fmt: skip
    doc = _document(GERMAN_SELLER, german_invoice().buyer, None, "RE-2026-000150", lines=lines)
    assert doc.amount_due == Decimal("0.05")
    mapping = {(RevenueType.MANAGED_SERVICES, VatCategory.STANDARD, Decimal("19")): "8401"}
    _, _, rows = parse(render([doc], settings=settings(revenue_accounts=mapping)))
    assert {row["Gegenkonto (ohne BU-Schlüssel)"]: amount(row) for row in rows} == {
        "8401": Decimal("0.03"),
        "8400": Decimal("0.02"),
    }
