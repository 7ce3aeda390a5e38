"""The billing outputs end to end: a real run (auto-approved contracts) issues invoices in four formats, and the
files come back through the API as a customer's software and the accountant read them: PDF text, the EN 16931 XML
(validated), the ZUGFeRD attachment, DATEV, BMD and SEPA exports read back. Then roles, tenant scoping and refusals
of bad input. Each test bills its own month with its own customers and number series.

The exports take every document issued in a month, other tests' too (one database per session), so the assertions
pick this test's documents by number."""

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sepaxml
import xmlschema
from facturx import get_facturx_xml_from_pdf
from lxml import etree
from pypdf import PdfReader
from sqlmodel import Session, select

from documents.bmd import COLUMNS as BMD_COLUMNS
from domain.billing.tax import VatCategory
from domain.billing.terms import RevenueType
from domain.contracts.billing import RunProgress
from domain.processes import billing_workflow_id
from domain.roles import Role
from hub.db import session_scope
from models import CustomerBillingProfile, Invoice
from models.billing import InvoiceFormat
from tests.billing_setup import billing_customer, new_series, set_seller
from tests.conftest import auth
from tests.en16931 import failed_rules_checker
from tests.factories import make_user

CII = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
       "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}  # fmt: skip
PAIN = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
EXPORTS = "/api/v1/billing/exports"
COLLECTIONS = "/api/v1/billing/sepa-collections"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def en16931():  # noqa: ANN201
    """Failed EN 16931 rules of an XML document (the CEN Schematron, tests/en16931.py)."""
    return failed_rules_checker()


def german(amount: Decimal) -> str:
    """1234.5 -> '1.234,50' as the PDF prints it."""
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def rows_of(engine, customers) -> dict[str, Invoice]:  # noqa: ANN001
    numbers = [c.tenant.customer_number for c in customers]
    with Session(engine) as s:
        rows = s.exec(select(Invoice).where(Invoice.customer_number.in_(numbers))).all()  # type: ignore[union-attr]
    return {r.customer_number: r for r in rows if r.kind == "invoice"}


async def collect(api, finance: str, month: str, days_ahead: int = 5) -> tuple[httpx.Response, bytes | None]:  # noqa: ANN001
    """POST a SEPA collection of `month`; with its pain.008 file when one was created."""
    body = {"month": month, "collection_date": str(date.today() + timedelta(days=days_ahead))}
    r = await api.post(COLLECTIONS, json=body, headers=auth(finance))
    if r.status_code != 201:
        return r, None
    file = await api.get(f"{COLLECTIONS}/{r.json()['id']}/file", headers=auth(finance))
    assert file.status_code == 200 and file.headers["content-type"].startswith("application/xml"), file.text
    return r, file.content


def end_to_end_ids(pain008: bytes) -> dict[str, str]:
    """End-to-end id (the invoice number) -> sequence type of each transaction."""
    root = etree.fromstring(pain008)
    return {tx.findtext("p:PmtId/p:EndToEndId", namespaces=PAIN): info.findtext("p:PmtTpInf/p:SeqTp", namespaces=PAIN)
            for info in root.iterfind(".//p:PmtInf", PAIN) for tx in info.iterfind("p:DrctDbtTxInf", PAIN)}  # fmt: skip


async def run_month(api, client, finance: str, month: str, customers) -> RunProgress:  # noqa: ANN001
    numbers = [c.tenant.customer_number for c in customers]
    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": numbers},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202, r.text
    return await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()


def parse_datev(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    text = data.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, headings, *rows = list(csv.reader(text.split("\r\n")[:-1], delimiter=";", quotechar='"'))
    return header, [dict(zip(headings, row, strict=True)) for row in rows]


def parse_bmd(data: bytes) -> list[dict[str, str]]:
    text = data.decode("cp1252")
    assert text.endswith("\r\n")
    headings, *rows = csv.reader(text.split("\r\n")[:-1], delimiter=";")
    assert tuple(headings) == BMD_COLUMNS
    return [dict(zip(headings, row, strict=True)) for row in rows]


# Every revenue type and tax case booked to revenue account 4000: what BMD needs (it has no default accounts).
ONE_ACCOUNT = [{"revenue_type": t.value, "vat_category": c.value, "rate": rate, "account": "4000"}
               for t in RevenueType for c, rate in ((VatCategory.STANDARD, "19"), (VatCategory.STANDARD, "7"),
                                                    (VatCategory.REVERSE_CHARGE, "0"),
                                                    (VatCategory.NOT_SUBJECT, "0"))]  # fmt: skip


def dec(value: str) -> Decimal:
    return Decimal(value.replace(",", "."))


async def test_four_formats_files_and_exports(api, client, engine, en16931):
    month = "2033-01"
    prefix = new_series()
    set_seller(engine, prefix)  # no DATEV numbers yet
    start = date(2033, 1, 1)
    sepa = billing_customer(engine, start=start, mandate=True, auto_approve=True)
    austria = billing_customer(engine, start=start, country="AT", subdivision="AT-9", vat_id="ATU13585627",
                               auto_approve=True)  # fmt: skip
    public = billing_customer(engine, start=start, invoice_format=InvoiceFormat.XRECHNUNG, auto_approve=True)
    zugferd = billing_customer(engine, start=start, invoice_format=InvoiceFormat.ZUGFERD, auto_approve=True)
    leitweg = "09162000-12345-67"
    with session_scope(engine) as s:
        query = select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == public.tenant.id)
        profile = s.exec(query).one()
        profile.public_sector, profile.buyer_reference = True, leitweg
        s.add(profile)
    _, finance = make_user(engine, Role.FINANCE)
    customers = (sepa, austria, public, zugferd)

    done = await run_month(api, client, finance, month, customers)
    assert (done.issued, done.failed) == (4, 0), done
    rows = rows_of(engine, customers)
    by = {name: rows[c.tenant.customer_number] for name, c in
          zip(("sepa", "austria", "public", "zugferd"), customers, strict=True)}  # fmt: skip
    # 23 x 14.90 = 342.70 net; 19 %: 65.113 -> 65.11, 407.81 gross; reverse charge: no tax
    assert {n: r.gross_total for n, r in by.items()} == {
        "sepa": Decimal("407.81"), "austria": Decimal("342.70"), "public": Decimal("407.81"),
        "zugferd": Decimal("407.81")}  # fmt: skip
    assert by["austria"].tax_total == Decimal("0.00")

    # every PDF carries its number and its gross amount as the customer reads it
    for row in by.values():
        r = await api.get(f"/api/v1/invoices/{row.id}/pdf", headers=auth(finance))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = pdf_text(r.content)
        assert row.number in text and german(row.gross_total) in text, (row.number, text[:500])
        if row is by["austria"]:  # § 14a UStG: the note and both VAT ids on a reverse-charge invoice
            assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "ATU13585627" in text, text
            assert "DE136695976" in text

    # XRechnung: EN 16931 without a fatal rule, the Leitweg-ID as BT-10
    r = await api.get(f"/api/v1/invoices/{by['public'].id}/xml", headers=auth(finance))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    fatal = [f"{x['id']}: {x['text']}" for x in en16931(r.content) if x["flag"] == "fatal"]
    assert fatal == [], fatal
    root = etree.fromstring(r.content)
    agreement = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    assert root.xpath(f"{agreement}/ram:BuyerReference/text()", namespaces=CII) == [leitweg]
    assert root.xpath("//rsm:ExchangedDocument/ram:ID/text()", namespaces=CII) == [by["public"].number]

    # ZUGFeRD: the PDF holds factur-x.xml, byte for byte the stored XML, which passes EN 16931 too
    pdf = await api.get(f"/api/v1/invoices/{by['zugferd'].id}/pdf", headers=auth(finance))
    xml = await api.get(f"/api/v1/invoices/{by['zugferd'].id}/xml", headers=auth(finance))
    assert xml.status_code == 200
    filename, embedded = get_facturx_xml_from_pdf(io.BytesIO(pdf.content), check_xsd=True)
    assert filename == "factur-x.xml" and embedded == xml.content
    assert [x["id"] for x in en16931(xml.content) if x["flag"] == "fatal"] == []

    # the PDF-only customer has no XML, and says why
    r = await api.get(f"/api/v1/invoices/{by['sepa'].id}/xml", headers=auth(finance))
    assert r.status_code == 404 and "no xml file" in r.json()["detail"], r.text

    issue_month = f"{by['sepa'].issue_date:%Y-%m}"
    ours = {r.number: r for r in by.values()}

    # DATEV needs the consultant and client numbers
    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 409 and "consultant" in r.json()["detail"], r.text
    set_seller(engine, prefix, datev_consultant_number=29098, datev_client_number=55003)
    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    header, bookings = parse_datev(r.content)
    first = by["sepa"].issue_date.replace(day=1)
    assert header[:4] == ["EXTF", "700", "21", "Buchungsstapel"]
    assert (header[10], header[11], header[12]) == ("29098", "55003", f"{first.year}0101")
    assert header[14] == f"{first:%Y%m%d}"  # Datum vom: the issue month
    mine = [b for b in bookings if b["Belegfeld 1"] in ours]
    sums: dict[str, Decimal] = {}
    for b in mine:
        assert b["Soll/Haben-Kennzeichen"] == "S" and b["WKZ Umsatz"] == "EUR"
        sums[b["Belegfeld 1"]] = sums.get(b["Belegfeld 1"], Decimal(0)) + dec(b["Umsatz (ohne Soll/Haben-Kz)"])
    assert sums == {n: r.gross_total for n, r in ours.items()}
    [reverse] = [b for b in mine if b["Belegfeld 1"] == by["austria"].number]
    assert (reverse["Gegenkonto (ohne BU-Schlüssel)"], reverse["EU-Land u. UStID (Bestimmung)"]) == (
        "8336", "ATU13585627")  # fmt: skip
    [mandate] = [b for b in mine if b["Belegfeld 1"] == by["sepa"].number]
    assert mandate["SEPA-Mandatsreferenz"] == f"M-{sepa.tenant.customer_number}"

    # BMD has no default accounts: without a mapping it names what is missing; with one the rows add up
    r = await api.get(f"{EXPORTS}/bmd", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 422 and "no BMD revenue account" in r.json()["detail"], r.text
    mapping = [{"revenue_type": t.value, "vat_category": c.value, "rate": rate, "account": account}
               for t in RevenueType for c, rate, account in ((VatCategory.STANDARD, "19", "4000"),
                                                             (VatCategory.STANDARD, "7", "4010"),
                                                             (VatCategory.REVERSE_CHARGE, "0", "4100"),
                                                             (VatCategory.NOT_SUBJECT, "0", "4200"))]  # fmt: skip
    set_seller(engine, prefix, datev_consultant_number=29098, datev_client_number=55003, account_mapping=mapping)
    r = await api.get(f"{EXPORTS}/bmd", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    gross: dict[str, Decimal] = {}
    for row in parse_bmd(r.content):
        if row["belegnr"] in ours:
            gross[row["belegnr"]] = gross.get(row["belegnr"], Decimal(0)) + dec(row["betrag"])
            assert row["konto"] != ""
    assert gross == {n: r.gross_total for n, r in ours.items()}

    # SEPA: a file the bank's schema accepts, with the mandate invoice and its gross
    r, pain008 = await collect(api, finance, issue_month)
    assert r.status_code == 201, r.text
    xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")).validate(
        pain008.decode()
    )
    root = etree.fromstring(pain008)
    [tx] = [t for t in root.iterfind(".//p:DrctDbtTxInf", PAIN)
            if t.findtext("p:PmtId/p:EndToEndId", namespaces=PAIN) == by["sepa"].number]  # fmt: skip
    assert tx.findtext("p:InstdAmt", namespaces=PAIN) == "407.81"
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=PAIN) == f"M-{sepa.tenant.customer_number}"
    ends = {t.findtext("p:PmtId/p:EndToEndId", namespaces=PAIN) for t in root.iterfind(".//p:DrctDbtTxInf", PAIN)}
    assert not ends & {by[n].number for n in ("austria", "public", "zugferd")}  # paid by transfer
    for bad in (0, -3):
        r, _ = await collect(api, finance, issue_month, days_ahead=bad)
        assert r.status_code == 422 and "collection_date" in r.json()["detail"], r.text
    r, _ = await collect(api, finance, "2019-02")
    assert r.status_code == 404 and "direct debit" in r.json()["detail"], r.text


async def test_roles_and_tenant_scoping(api, client, engine):
    month = "2033-02"
    prefix = new_series()
    set_seller(engine, prefix)
    start = date(2033, 2, 1)
    a = billing_customer(engine, start=start, auto_approve=True)
    b = billing_customer(engine, start=start, auto_approve=True)
    a_draft = billing_customer(engine, start=start)  # not auto-approved: its draft waits for finance
    _, finance = make_user(engine, Role.FINANCE)
    _, tech = make_user(engine, Role.MSP_TECH)

    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [a.tenant.customer_number]},
                       headers=auth(tech))  # fmt: skip
    assert r.status_code == 403
    numbers = [c.tenant.customer_number for c in (a, b, a_draft)]
    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": numbers},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202, r.text
    for _ in range(300):
        rows = rows_of(engine, (a, b, a_draft))
        if len(rows) == 3 and rows[numbers[0]].status == rows[numbers[1]].status == "issued" \
                and rows[numbers[2]].status == "draft":  # fmt: skip
            break
        await _sleep()
    else:
        raise AssertionError({n: r.status for n, r in rows.items()})
    inv_a, inv_b, draft = (rows[n] for n in numbers)

    for path in (f"/api/v1/billing/runs/{month}", f"{EXPORTS}/datev?month={month}", f"{EXPORTS}/bmd?month={month}",
                 f"{COLLECTIONS}?month={month}"):  # fmt: skip
        assert (await api.get(path, headers=auth(tech))).status_code == 403, path
    for path in (f"/api/v1/billing/runs/{month}/approve", f"/api/v1/invoices/{draft.id}/approve"):
        assert (await api.post(path, headers=auth(tech))).status_code == 403, path
    assert (await collect(api, tech, month))[0].status_code == 403

    # a customer user of tenant A: its own issued invoice and PDF; B's and its own drafts do not exist for it
    _, customer_a = make_user(engine, Role.CUSTOMER_USER, a.tenant)
    _, customer_c = make_user(engine, Role.CUSTOMER_USER, a_draft.tenant)
    r = await api.get(f"/api/v1/invoices/{inv_a.id}", headers=auth(customer_a))
    assert r.status_code == 200 and r.json()["number"] == inv_a.number
    r = await api.get(f"/api/v1/invoices/{inv_a.id}/pdf", headers=auth(customer_a))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    for path in (f"/api/v1/invoices/{inv_b.id}", f"/api/v1/invoices/{inv_b.id}/pdf",
                 f"/api/v1/invoices/{inv_b.id}/xml"):  # fmt: skip
        assert (await api.get(path, headers=auth(customer_a))).status_code == 404, path
    for path in (f"/api/v1/invoices/{draft.id}", f"/api/v1/invoices/{draft.id}/pdf"):
        assert (await api.get(path, headers=auth(customer_c))).status_code == 404, path
    r = await api.get("/api/v1/invoices", params={"period": month}, headers=auth(customer_c))
    assert r.status_code == 200 and r.json()["items"] == []
    r = await api.post(f"/api/v1/invoices/{inv_a.id}/credit-notes", json={"reason": "bitte"}, headers=auth(customer_a))
    assert r.status_code == 403
    for path in (f"/api/v1/billing/runs/{month}", f"{EXPORTS}/datev?month={month}", f"{COLLECTIONS}?month={month}"):
        assert (await api.get(path, headers=auth(customer_a))).status_code == 403, path
    assert (await collect(api, customer_a, month))[0].status_code == 403
    r = await api.post(f"/api/v1/invoices/{draft.id}/approve", headers=auth(customer_c))
    assert r.status_code == 403

    # finance sees all three
    r = await api.get("/api/v1/invoices", params={"period": month, "limit": 100}, headers=auth(finance))
    assert {i["number"] for i in r.json()["items"] if i["customer_number"] in numbers} == {inv_a.number, inv_b.number,
                                                                                             None}  # fmt: skip

    # credit notes: a line that does not exist, a draft
    r = await api.post(f"/api/v1/invoices/{inv_a.id}/credit-notes", json={"line_indexes": [7], "reason": "falsch"},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 422 and "no line 7" in r.json()["detail"], r.text
    r = await api.post(f"/api/v1/invoices/{draft.id}/credit-notes", json={"reason": "Entwurf"}, headers=auth(finance))
    assert r.status_code == 409 and "draft" in r.json()["detail"], r.text

    # a draft has no files yet: 409 says so rather than a 404 that reads like a lost file
    r = await api.get(f"/api/v1/invoices/{draft.id}/pdf", headers=auth(finance))
    assert r.status_code == 409 and "issued" in r.json()["detail"], r.text
    r = await api.post(f"/api/v1/invoices/{draft.id}/reject", json={"reason": "Test beendet"}, headers=auth(finance))
    assert r.status_code == 200, r.text


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.1)


@pytest.mark.parametrize("month", ["2033-13", "abc", "2033-1", "0000-00", "２０３３-０１", "2033-01-01"])
async def test_bad_months_are_422_on_every_billing_route(api, engine, month):
    _, finance = make_user(engine, Role.FINANCE)
    set_seller(engine, new_series(), datev_consultant_number=29098, datev_client_number=55003)
    calls = [
        ("POST", "/api/v1/billing/runs", {"json": {"month": month}}),
        ("GET", f"/api/v1/billing/runs/{month}", {}),
        ("POST", f"/api/v1/billing/runs/{month}/approve", {}),
        ("GET", "/api/v1/invoices", {"params": {"period": month}}),
        ("GET", f"{EXPORTS}/datev", {"params": {"month": month}}),
        ("GET", f"{EXPORTS}/bmd", {"params": {"month": month}}),
        ("POST", COLLECTIONS, {"json": {"month": month, "collection_date": "2099-01-02"}}),
        ("GET", COLLECTIONS, {"params": {"month": month}}),
    ]
    for method, path, kwargs in calls:
        r = await api.request(method, path, headers=auth(finance), **kwargs)
        assert r.status_code == 422 and "month" in r.text, (method, path, r.status_code, r.text)


async def test_bad_bodies_are_422(api, client, engine):
    month = "2033-03"
    set_seller(engine, new_series())
    c = billing_customer(engine, start=date(2033, 3, 1))
    _, finance = make_user(engine, Role.FINANCE)
    number = c.tenant.customer_number
    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number], "dryrun": True},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 422 and "dryrun" in r.text, r.text
    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number]},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202
    for _ in range(300):
        rows = rows_of(engine, (c,))
        if number in rows and rows[number].status == "draft":
            break
        await _sleep()
    draft = rows_of(engine, (c,))[number]
    base = f"/api/v1/invoices/{draft.id}"
    for path, body in (
        (f"{base}/lines/0", {"quantity": "-1", "reason": "weniger"}),
        (f"{base}/lines/0", {"quantity": "abc", "reason": "weniger"}),
        (f"{base}/lines/0", {"quantity": "NaN", "reason": "weniger"}),
        (f"{base}/lines/0", {"quantity": "Infinity", "reason": "weniger"}),
        (f"{base}/lines/0", {"quantity": "1e400", "reason": "weniger"}),
        (f"{base}/lines/0", {"unit_price": "NaN", "reason": "weniger"}),
        (f"{base}/lines/0", {"unit_price": "0.001", "reason": "weniger"}),
        (f"{base}/lines/0", {"description": "", "reason": "weniger"}),
        (f"{base}/lines/10001", {"quantity": "1", "reason": "weniger"}),
        (f"{base}/lines/0", {"quantity": "1", "reason": "weniger", "price": "3"}),
        (f"{base}/lines/0", {"quantity": "1"}),
        (f"{base}/lines/-1", {"quantity": "1", "reason": "weniger"}),
        (f"{base}/lines/x", {"quantity": "1", "reason": "weniger"}),
    ):
        r = await api.patch(path, json=body, headers=auth(finance))
        assert r.status_code == 422, (path, body, r.status_code, r.text)
    r = await api.patch(f"{base}/lines/5", json={"quantity": "1", "reason": "weniger"}, headers=auth(finance))
    assert r.status_code == 422 and "no line 5" in r.json()["detail"], r.text
    for path, body in ((f"{base}/reject", {"reason": "nein", "why": "x"}), (f"{base}/reject", {}),
                       (f"{base}/credit-notes", {"reason": "falsch", "lines": [0]}),
                       (f"{base}/credit-notes", {"reason": "falsch", "line_indexes": [-1]})):  # fmt: skip
        r = await api.post(path, json=body, headers=auth(finance))
        assert r.status_code == 422, (path, body, r.status_code, r.text)
    r = await api.post(COLLECTIONS, json={"month": month, "collection_date": "morgen"}, headers=auth(finance))
    assert r.status_code == 422 and "collection_date" in r.text
    r = await api.get("/api/v1/invoices/not-a-uuid", headers=auth(finance))
    assert r.status_code == 422
    # the draft is still as composed and can be rejected
    r = await api.post(f"{base}/reject", json={"reason": "Test beendet"}, headers=auth(finance))
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text


async def test_documents_no_export_can_take_are_left_out_and_named(api, client, engine):
    """An issued document that a file can never take must not block the month's export: a CHF contract's invoice
    (DATEV, BMD and SEPA take EUR only) or a customer number without digits (no DATEV/BMD customer account, and the
    issued document keeps that number). It is left out and named in X-Left-Out; the rest of the month is exported."""
    month = "2033-04"
    prefix = new_series()
    set_seller(engine, prefix, datev_consultant_number=29098, datev_client_number=55003, account_mapping=ONE_ACCOUNT)
    start = date(2033, 4, 1)
    euro = billing_customer(engine, start=start, mandate=True, auto_approve=True)
    swiss = billing_customer(engine, start=start, country="CH", subdivision="CH-BE", vat_id="CHE-116.281.710 MWST",
                             mandate=True, auto_approve=True)  # fmt: skip
    lettered = billing_customer(engine, start=start, auto_approve=True)
    with session_scope(engine) as s:
        contract = s.get(type(swiss.contract), swiss.contract.id)
        contract.currency = "CHF"
        s.add(contract)
        tenant = s.get(type(lettered.tenant), lettered.tenant.id)
        tenant.customer_number = "KD-" + "".join(chr(65 + int(c, 16)) for c in uuid.uuid4().hex[:8])
        s.add(tenant)
        lettered.tenant.customer_number = tenant.customer_number
    _, finance = make_user(engine, Role.FINANCE)
    done = await run_month(api, client, finance, month, (euro, swiss, lettered))
    assert (done.issued, done.failed) == (3, 0), done
    rows = rows_of(engine, (euro, swiss, lettered))
    eur, chf = rows[euro.tenant.customer_number], rows[swiss.tenant.customer_number]
    no_account = rows[lettered.tenant.customer_number]
    assert no_account.currency == "EUR"
    assert (eur.currency, chf.currency) == ("EUR", "CHF")
    issue_month = f"{eur.issue_date:%Y-%m}"
    assert f"{chf.issue_date:%Y-%m}" == issue_month

    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    assert f"{chf.number} (CHF)" in r.headers["x-left-out"]
    assert (f"{no_account.number} (no customer account for {no_account.customer_number}: set debtor_account in its "
            "billing profile)") in r.headers["x-left-out"]  # fmt: skip
    _, bookings = parse_datev(r.content)
    numbers = {b["Belegfeld 1"] for b in bookings}
    assert eur.number in numbers and not numbers & {chf.number, no_account.number}

    r = await api.get(f"{EXPORTS}/bmd", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    assert f"{chf.number} (CHF)" in r.headers["x-left-out"]
    assert f"{no_account.number} (no customer account" in r.headers["x-left-out"]
    numbers = {row["belegnr"] for row in parse_bmd(r.content)}
    assert eur.number in numbers and not numbers & {chf.number, no_account.number}

    # Its billing profile names its account: the issued invoice is booked to it from now on.
    r = await api.patch(f"/api/v1/tenants/{lettered.tenant.id}/billing", json={"debtor_account": "69001"},
                        headers=auth(finance))  # fmt: skip
    assert r.status_code == 200 and r.json()["debtor_account"] == "69001", r.text
    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert no_account.number not in r.headers["x-left-out"]
    _, bookings = parse_datev(r.content)
    assert {b["Konto"] for b in bookings if b["Belegfeld 1"] == no_account.number} == {"69001"}
    r = await api.get(f"{EXPORTS}/bmd", params={"month": issue_month}, headers=auth(finance))
    assert {row["konto"] for row in parse_bmd(r.content) if row["belegnr"] == no_account.number} == {"69001"}

    r, pain008 = await collect(api, finance, issue_month)
    assert r.status_code == 201, r.text
    assert f"{chf.number} (CHF)" in r.json()["left_out"]
    ends = end_to_end_ids(pain008)
    assert eur.number in ends and chf.number not in ends


async def test_an_invoice_is_collected_once_and_a_mandate_first_then_recurring(api, client, engine):
    """Two invoices on one new mandate (September and October, both issued today) go into one collection: the first
    as FRST, the second as RCUR; the profile moves on to RCUR. A second collection of the month leaves both out
    (a second upload would debit the customer twice); the stored file downloads as it was created."""
    set_seller(engine, new_series())
    customer = billing_customer(engine, start=date(2033, 9, 1), mandate=True, auto_approve=True)
    _, finance = make_user(engine, Role.FINANCE)
    numbers = []
    for month in ("2033-09", "2033-10"):
        done = await run_month(api, client, finance, month, (customer,))
        assert done.issued == 1, done
        with Session(engine) as s:
            numbers.append(s.exec(select(Invoice.number).where(Invoice.tenant_id == customer.tenant.id,
                                                              Invoice.period == month)).one())  # fmt: skip
    with Session(engine) as s:
        issue_date = s.exec(select(Invoice.issue_date).where(Invoice.number == numbers[0])).one()
    issue_month = f"{issue_date:%Y-%m}"
    first, second = sorted(numbers)

    r, pain008 = await collect(api, finance, issue_month)
    assert r.status_code == 201, r.text
    collection = r.json()
    mine = {i["invoice_number"]: i["sequence"] for i in collection["items"] if i["invoice_number"] in numbers}
    assert mine == {first: "FRST", second: "RCUR"}
    assert {n: end_to_end_ids(pain008)[n] for n in numbers} == mine
    assert collection["transactions"] == len(collection["items"]) and collection["message_id"].startswith("MSPHUB-")
    profile = await api.get(f"/api/v1/tenants/{customer.tenant.id}/billing", headers=auth(finance))
    assert profile.json()["sepa_sequence"] == "recurring"

    r, again = await collect(api, finance, issue_month)
    collected = [f"{n} (collected in {collection['message_id']})" for n in (first, second)]
    if r.status_code == 201:  # other tests' mandate invoices of this issue month, not collected yet
        assert set(collected) <= set(r.json()["left_out"]) and not set(numbers) & set(end_to_end_ids(again))
    else:
        assert r.status_code == 404 and all(c in r.json()["detail"] for c in collected), r.text

    listed = await api.get(COLLECTIONS, params={"month": issue_month}, headers=auth(finance))
    assert collection["id"] in {c["id"] for c in listed.json()}
    file = await api.get(f"{COLLECTIONS}/{collection['id']}/file", headers=auth(finance))
    assert file.content == pain008
    assert (await api.get(f"{COLLECTIONS}/{uuid.uuid4()}/file", headers=auth(finance))).status_code == 404


async def test_two_customers_on_one_debtor_account_are_refused_until_one_has_its_own(api, client, engine):
    """K10815 and A10815 would both be debtor 10815 by their digits: DATEV and BMD would merge their open items.
    The export refuses the month naming both and the fix; a debtor account in one billing profile (unique, digits
    only) resolves it."""
    month = "2033-08"
    set_seller(engine, new_series(), datev_consultant_number=29098, datev_client_number=55003,
               account_mapping=ONE_ACCOUNT)  # fmt: skip
    start = date(2033, 8, 1)
    first = billing_customer(engine, start=start, auto_approve=True)
    second = billing_customer(engine, start=start, auto_approve=True)
    with session_scope(engine) as s:
        tenant = s.get(type(second.tenant), second.tenant.id)
        tenant.customer_number = "A" + first.tenant.customer_number[1:]
        s.add(tenant)
        second.tenant.customer_number = tenant.customer_number
    _, finance = make_user(engine, Role.FINANCE)
    done = await run_month(api, client, finance, month, (first, second))
    assert (done.issued, done.failed) == (2, 0), done
    rows = rows_of(engine, (first, second))
    issue_month = f"{rows[first.tenant.customer_number].issue_date:%Y-%m}"
    digits = first.tenant.customer_number[1:]
    for kind in ("datev", "bmd"):
        r = await api.get(f"{EXPORTS}/{kind}", params={"month": issue_month}, headers=auth(finance))
        assert r.status_code == 422, (kind, r.text)
        assert f"would share {'debtor' if kind == 'datev' else 'BMD'} account {digits}" in r.json()["detail"]
        assert "give one of them its own" in r.json()["detail"]

    billing = f"/api/v1/tenants/{second.tenant.id}/billing"
    for bad in ("1234a", "0815", "12345678901", ""):
        r = await api.patch(billing, json={"debtor_account": bad}, headers=auth(finance))
        assert r.status_code == 422 and "debtor_account" in r.text, (bad, r.text)
    r = await api.patch(billing, json={"debtor_account": "69815"}, headers=auth(finance))
    assert r.status_code == 200, r.text
    r = await api.patch(f"/api/v1/tenants/{first.tenant.id}/billing", json={"debtor_account": "69815"},
                        headers=auth(finance))  # fmt: skip
    assert r.status_code == 409 and "debtor account 69815 is another customer's" in r.text, r.text

    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    _, bookings = parse_datev(r.content)
    by_number = {b["Belegfeld 1"]: b["Konto"] for b in bookings}
    assert by_number[rows[first.tenant.customer_number].number] == digits
    assert by_number[rows[second.tenant.customer_number].number] == "69815"


async def test_decisions_on_an_issued_invoice_and_odd_credit_requests(api, client, engine):
    month = "2033-05"
    prefix = new_series()
    set_seller(engine, prefix, datev_consultant_number=29098, datev_client_number=55003)
    c = billing_customer(engine, start=date(2033, 5, 1), auto_approve=True, mandate=True,
                         entries=((datetime(2033, 5, 5, 9, 0, tzinfo=BERLIN), 60, "remote"),))  # fmt: skip
    _, finance = make_user(engine, Role.FINANCE)
    done = await run_month(api, client, finance, month, (c,))
    assert done.issued == 1, done
    row = rows_of(engine, (c,))[c.tenant.customer_number]
    assert len(row.lines) == 2
    # 23 x 14.90 + 1 h x 110.00 = 452.70 net, 19 % = 86.01, 538.71 gross
    assert row.gross_total == Decimal("538.71")
    base = f"/api/v1/invoices/{row.id}"
    issue_month = f"{row.issue_date:%Y-%m}"

    # an issued invoice is final: finance's draft decisions answer 409, never 500
    for method, path, body in (("POST", f"{base}/approve", None), ("POST", f"{base}/reject", {"reason": "zu spät"}),
                               ("PATCH", f"{base}/lines/0", {"quantity": "1", "reason": "zu spät"}),
                               ("POST", f"{base}/recompose", None)):  # fmt: skip
        r = await api.request(method, path, json=body, headers=auth(finance))
        assert r.status_code == 409, (method, path, r.status_code, r.text)

    # an empty selection would credit nothing; the same line twice would credit it twice
    for indexes in ([], [1, 1]):
        r = await api.post(f"{base}/credit-notes", json={"line_indexes": indexes, "reason": "falsch"},
                           headers=auth(finance))  # fmt: skip
        assert r.status_code == 422 and "line_indexes" in r.text, (indexes, r.status_code, r.text)
    r = await api.post(f"{base}/credit-notes", json={"line_indexes": [1], "reason": "Stunde war Kulanz"},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202, r.text
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    note = (await api.get(r.headers["location"], headers=auth(finance))).json()
    assert (note["status"], note["gross_total"]) == ("issued", "130.90")  # 110.00 + 19 %

    # DATEV: the credit note credits the customer (H) with its gross
    r = await api.get(f"{EXPORTS}/datev", params={"month": issue_month}, headers=auth(finance))
    assert r.status_code == 200, r.text
    _, bookings = parse_datev(r.content)
    [credit] = [b for b in bookings if b["Belegfeld 1"] == note["number"]]
    assert (credit["Soll/Haben-Kennzeichen"], dec(credit["Umsatz (ohne Soll/Haben-Kz)"])) == ("H", Decimal("130.90"))

    # SEPA after the credit: collecting 538.71 would take the credited 130.90 too; the invoice is left out, named
    r, pain008 = await collect(api, finance, issue_month)
    named = f"{row.number} (credited by {note['number']})"
    if r.status_code == 201:  # other tests' mandate invoices of the same issue month are still collected
        assert named in r.json()["left_out"] and row.number not in end_to_end_ids(pain008)
    else:
        assert r.status_code == 404 and named in r.json()["detail"], r.text


@pytest.mark.parametrize("invoice_format", [InvoiceFormat.XRECHNUNG, InvoiceFormat.ZUGFERD])
async def test_credit_note_of_an_einvoice_customer_is_an_einvoice_too(api, client, engine, en16931, invoice_format):
    """The receiver's system that took the XRechnung/ZUGFeRD invoice must get the credit note in the same format:
    type code 381 with the credited invoice as BT-25, valid EN 16931."""
    month = "2033-06" if invoice_format == InvoiceFormat.XRECHNUNG else "2033-07"
    set_seller(engine, new_series())
    c = billing_customer(engine, start=date.fromisoformat(f"{month}-01"), invoice_format=invoice_format,
                         auto_approve=True)  # fmt: skip
    with session_scope(engine) as s:
        profile = s.exec(select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == c.tenant.id)).one()
        profile.buyer_reference = "991-01234-56"
        s.add(profile)
    _, finance = make_user(engine, Role.FINANCE)
    done = await run_month(api, client, finance, month, (c,))
    assert done.issued == 1, done
    invoice = rows_of(engine, (c,))[c.tenant.customer_number]
    r = await api.post(f"/api/v1/invoices/{invoice.id}/credit-notes", json={"reason": "Vertrag storniert"},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202, r.text
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    note = (await api.get(r.headers["location"], headers=auth(finance))).json()
    assert note["status"] == "issued" and sorted(note["files"]) == ["pdf", "xml"], note
    xml = await api.get(f"/api/v1/invoices/{note['id']}/xml", headers=auth(finance))
    assert xml.status_code == 200, xml.text
    fatal = [f"{x['id']}: {x['text']}" for x in en16931(xml.content) if x["flag"] == "fatal"]
    assert fatal == [], fatal
    root = etree.fromstring(xml.content)
    assert root.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=CII) == ["381"]
    assert root.xpath("//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=CII) == [
        invoice.number]  # fmt: skip
    if invoice_format == InvoiceFormat.ZUGFERD:
        pdf = await api.get(f"/api/v1/invoices/{note['id']}/pdf", headers=auth(finance))
        assert get_facturx_xml_from_pdf(io.BytesIO(pdf.content), check_xsd=True)[1] == xml.content
