"""The EN 16931 e-invoice (documents.einvoice_cii) and the ZUGFeRD PDF (documents.zugferd).

Every sample invoice in both profiles goes through the official CEN EN 16931 Schematron for CII (tests/en16931.py,
the CEN artefacts kept in tests/fixtures/en16931), is read back
for its key values, and the XRechnung CIUS fields the Schematron does not check (BR-DE-…) are checked here.
"""

import dataclasses
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from facturx import get_facturx_xml_from_pdf
from lxml import etree
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from documents.einvoice_cii import CiiProfile, render_cii
from documents.zugferd import embed_in_pdf
from domain.billing.document import Buyer, InvoiceDocument, PostalAddress
from domain.billing.invoice import invoice_totals
from domain.billing.tax import Party, tax_case
from tests.billing_documents import ALL, GERMAN_SELLER, OCTOBER_END, german_invoice, month_lines
from tests.en16931 import failed_rules_checker

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
SELLER = f"{AGREEMENT}/ram:SellerTradeParty"
BUYER = f"{AGREEMENT}/ram:BuyerTradeParty"
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"

CASES = [(name, profile) for name in ALL for profile in CiiProfile]
CASE_IDS = [f"{name}-{profile.name}" for name, profile in CASES]


@pytest.fixture(scope="module")
def failed_rules() -> Callable[[bytes], list[dict]]:
    """All failed EN 16931 rules of an XML document."""
    return failed_rules_checker()


def fatal(rules: list[dict]) -> list[str]:
    return [f"{rule['id']}: {rule['text']}" for rule in rules if rule["flag"] == "fatal"]


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def text(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert found, f"nothing at {path}"
    return found[0].text if isinstance(found[0], etree._Element) else str(found[0])


def texts(root: etree._Element, path: str) -> list[str]:
    return [node.text if isinstance(node, etree._Element) else str(node) for node in root.xpath(path, namespaces=NS)]


@pytest.mark.parametrize(("name", "profile"), CASES, ids=CASE_IDS)
def test_every_sample_passes_the_en16931_rules(name: str, profile: CiiProfile, failed_rules) -> None:  # noqa: ANN001
    errors = fatal(failed_rules(render_cii(ALL[name](), profile)))
    assert errors == [], "\n".join(errors)


@pytest.mark.parametrize(("name", "profile"), CASES, ids=CASE_IDS)
def test_key_values_read_back(name: str, profile: CiiProfile) -> None:
    doc = ALL[name]()
    root = parse(render_cii(doc, profile))
    assert text(root, "//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        profile.value
    )
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == doc.number
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == doc.kind.value
    assert text(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == f"{doc.issue_date:%Y%m%d}"
    assert text(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == doc.currency
    assert text(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == (
        f"{doc.due_date:%Y%m%d}"
    )
    assert Decimal(text(root, f"{SUMMATION}/ram:LineTotalAmount")) == doc.totals.line_total
    assert Decimal(text(root, f"{SUMMATION}/ram:TaxBasisTotalAmount")) == doc.totals.tax_exclusive
    assert Decimal(text(root, f"{SUMMATION}/ram:TaxTotalAmount")) == doc.totals.tax_total
    assert text(root, f"{SUMMATION}/ram:TaxTotalAmount/@currencyID") == doc.currency
    assert Decimal(text(root, f"{SUMMATION}/ram:GrandTotalAmount")) == doc.totals.tax_inclusive
    assert Decimal(text(root, f"{SUMMATION}/ram:DuePayableAmount")) == doc.totals.amount_due
    assert text(root, f"{SUMMATION}/ram:GrandTotalAmount").count(".") == 1
    assert len(text(root, f"{SUMMATION}/ram:GrandTotalAmount").split(".")[1]) == 2  # two decimals
    # Lines: one per document line, net amounts and VAT breakdown as in the document.
    line_amounts = texts(root, "//ram:IncludedSupplyChainTradeLineItem//ram:LineTotalAmount")
    assert [Decimal(amount) for amount in line_amounts] == [line.net_amount for line in doc.lines]
    breakdown = [
        tuple(group.findtext(f"ram:{tag}", namespaces=NS) for tag in ("CategoryCode", "RateApplicablePercent",
                                                                     "BasisAmount", "CalculatedAmount"))
        for group in root.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS)
    ]  # fmt: skip
    assert [(code, Decimal(rate), Decimal(basis), Decimal(tax)) for code, rate, basis, tax in breakdown] == [
        (group.category.value, group.rate, group.taxable_amount, group.tax_amount) for group in doc.totals.groups
    ]
    assert text(root, f"{SETTLEMENT}/ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == (
        f"{doc.period_start:%Y%m%d}"
    )
    seller_address = text(root, f"{SELLER}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']")
    assert seller_address == doc.seller.contact_email
    assert text(root, f"{BUYER}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == doc.buyer.email
    assert text(root, f"{BUYER}/ram:ID") == doc.buyer.customer_number


def test_credit_note_has_type_381_and_the_preceding_invoice() -> None:
    doc = ALL["credit_note"]()
    root = parse(render_cii(doc, CiiProfile.XRECHNUNG))
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    reference = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert text(root, f"{reference}/ram:IssuerAssignedID") == "RE-2026-000123"
    assert text(root, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString") == "20261102"
    assert Decimal(text(root, f"{SUMMATION}/ram:DuePayableAmount")) == Decimal("130.90")  # positive, as documented
    # The seller pays a credit note: its own IBAN must not appear as the account to pay into.
    assert texts(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == []


def test_reverse_charge_has_category_ae_the_exemption_reason_and_both_vat_ids() -> None:
    doc = ALL["reverse_charge"]()
    root = parse(render_cii(doc, CiiProfile.EN16931))
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert texts(root, f"{tax}/ram:CategoryCode") == ["AE"]
    assert texts(root, f"{tax}/ram:ExemptionReasonCode") == ["VATEX-EU-AE"]
    assert texts(root, f"{tax}/ram:ExemptionReason") == [doc.totals.groups[0].note_de]
    assert set(texts(root, "//ram:IncludedSupplyChainTradeLineItem//ram:CategoryCode")) == {"AE"}
    assert text(root, f"{BUYER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "ATU13585627"
    assert text(root, f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE136695976"
    assert Decimal(text(root, f"{SUMMATION}/ram:TaxTotalAmount")) == Decimal("0.00")


def test_standard_rate_groups_carry_no_exemption_reason() -> None:
    root = parse(render_cii(ALL["german"](), CiiProfile.XRECHNUNG))
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReason") == []  # BR-S-10
    assert texts(root, f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == ["143/123/45678"]


def test_public_sector_buyer_reference_is_the_leitweg_id() -> None:
    for profile in CiiProfile:
        root = parse(render_cii(ALL["public_sector"](), profile))
        assert text(root, f"{AGREEMENT}/ram:BuyerReference") == "09162000-12345-67"


def test_private_customer_gets_the_customer_number_as_buyer_reference_in_xrechnung_only() -> None:
    doc = ALL["austrian"]()
    assert text(parse(render_cii(doc, CiiProfile.XRECHNUNG)), f"{AGREEMENT}/ram:BuyerReference") == "K20001"
    assert texts(parse(render_cii(doc, CiiProfile.EN16931)), f"{AGREEMENT}/ram:BuyerReference") == []


def test_direct_debit_has_mandate_creditor_id_and_debtor_iban() -> None:
    doc = ALL["german"]()
    root = parse(render_cii(doc, CiiProfile.XRECHNUNG))
    assert text(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "59"
    assert text(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID") == "MNDT-K10001-1"
    assert text(root, f"{SETTLEMENT}/ram:CreditorReferenceID") == "DE98ZZZ09999999999"
    assert text(root, "//ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == "DE02120300000000202051"


@pytest.mark.parametrize("name", ["austrian", "reverse_charge", "swiss", "public_sector"])
def test_credit_transfer_names_the_seller_iban_and_bic(name: str) -> None:
    doc = ALL[name]()
    root = parse(render_cii(doc, CiiProfile.XRECHNUNG))
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(root, f"{means}/ram:TypeCode") == "58"
    assert text(root, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == doc.seller.iban
    assert text(root, f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == doc.seller.bic
    assert text(root, f"{SETTLEMENT}/ram:PaymentReference") == doc.number


def test_swiss_invoice_is_in_chf() -> None:
    root = parse(render_cii(ALL["swiss"](), CiiProfile.EN16931))
    assert text(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == "CHF"
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == ["8.1", "2.6"]


def test_line_period_and_unit_code() -> None:
    root = parse(render_cii(ALL["german"](), CiiProfile.EN16931))
    first, second = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)[:2]
    assert text(first, "ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod/ram:StartDateTime/*") == (
        "20261017"
    )
    assert text(first, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount") == "14.90"
    assert second.xpath("ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod", namespaces=NS) == []
    assert text(second, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode") == "HUR"
    assert text(second, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity") == "1.5"


def _line_sums(root: etree._Element) -> list[tuple[Decimal, Decimal]]:
    """(quantity x net price + line charges - line allowances, net amount BT-131) of each line."""
    sums = []
    for line in root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS):
        computed = Decimal(text(line, ".//ram:BilledQuantity")) * Decimal(text(line, ".//ram:ChargeAmount"))
        for adjustment in line.xpath(".//ram:SpecifiedTradeAllowanceCharge", namespaces=NS):
            amount = Decimal(text(adjustment, "ram:ActualAmount"))
            assert text(adjustment, "ram:Reason")  # BR-42 / BR-44
            computed += amount if text(adjustment, "ram:ChargeIndicator/udt:Indicator") == "true" else -amount
        sums.append((computed.quantize(Decimal("0.01")), Decimal(text(line, ".//ram:LineTotalAmount"))))
    return sums


@pytest.mark.parametrize("name", list(ALL))
def test_line_net_amount_is_quantity_times_price_with_line_allowances(name: str) -> None:
    """PEPPOL-EN16931-R120, which receivers check though the CEN rules do not: the pro-rata workstation line
    (23 x 14.90 = 342.70, billed 165.82) carries the difference as a line allowance."""
    root = parse(render_cii(ALL[name](), CiiProfile.XRECHNUNG))
    for computed, net in _line_sums(root):
        assert computed == net


def test_a_line_billing_more_than_quantity_times_price_carries_a_charge(failed_rules) -> None:  # noqa: ANN001
    surcharge = dataclasses.replace(month_lines()[2], net_amount=Decimal("137.50"))  # 110.00 + 25 %
    seller_party = Party("DE", GERMAN_SELLER.vat_id)
    totals = invoice_totals([surcharge], lambda tax_class: tax_case(seller_party, Party("DE"), tax_class, OCTOBER_END))
    doc = dataclasses.replace(german_invoice(), lines=(surcharge,), totals=totals)
    xml = render_cii(doc, CiiProfile.XRECHNUNG)
    assert fatal(failed_rules(xml)) == []
    root = parse(xml)
    assert text(root, "//ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator/udt:Indicator") == "true"
    assert text(root, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == "27.50"
    assert _line_sums(root) == [(Decimal("137.50"), Decimal("137.50"))]


def test_notes_are_bt22() -> None:
    doc = dataclasses.replace(ALL["german"](), notes=("Vielen Dank für Ihren Auftrag.",))
    root = parse(render_cii(doc, CiiProfile.XRECHNUNG))
    assert texts(root, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == ["Vielen Dank für Ihren Auftrag."]


@pytest.mark.parametrize("name", list(ALL))
def test_xrechnung_cius_fields(name: str) -> None:
    """The German CIUS rules the EN 16931 Schematron does not check."""
    doc = ALL[name]()
    root = parse(render_cii(doc, CiiProfile.XRECHNUNG))
    # BR-DE-21: the XRechnung 3.0 specification identifier.
    assert text(root, "//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        XRECHNUNG_3
    )
    # BR-DE-1: payment instructions (BG-16); BR-DE-23/25: the account group its code needs.
    codes = texts(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode")
    assert len(codes) == 1
    if codes == ["58"]:
        assert texts(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
    if codes == ["59"]:
        assert texts(root, "//ram:DirectDebitMandateID") and texts(root, "//ram:PayerPartyDebtorFinancialAccount")
        assert texts(root, f"{SETTLEMENT}/ram:CreditorReferenceID")  # BR-DE-30
    # BR-DE-2, 5, 6, 7: seller contact with name, phone and e-mail.
    contact = f"{SELLER}/ram:DefinedTradeContact"
    assert text(root, f"{contact}/ram:PersonName") == doc.seller.contact_name
    assert text(root, f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber") == doc.seller.contact_phone
    assert text(root, f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID") == doc.seller.contact_email
    # BR-DE-3, 4, 8, 9: seller and buyer city and post code.
    for party in (SELLER, BUYER):
        assert text(root, f"{party}/ram:PostalTradeAddress/ram:CityName")
        assert text(root, f"{party}/ram:PostalTradeAddress/ram:PostcodeCode")
    # BR-DE-15: buyer reference.
    assert text(root, f"{AGREEMENT}/ram:BuyerReference") == (doc.buyer.buyer_reference or doc.buyer.customer_number)
    # BR-DE-16: the seller's VAT id or tax number with standard-rated or reverse-charge lines.
    assert texts(root, f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA' or @schemeID='FC']")
    # BR-DE-17: an allowed invoice type code.
    allowed_types = {"326", "380", "384", "389", "381", "875", "876", "877"}
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") in allowed_types
    # XRechnung 3: seller (BT-34) and buyer (BT-49) electronic addresses with a scheme.
    assert text(root, f"{SELLER}/ram:URIUniversalCommunication/ram:URIID/@schemeID") == "EM"
    assert text(root, f"{BUYER}/ram:URIUniversalCommunication/ram:URIID/@schemeID") == "EM"
    # BR-DE-18 reads payment terms starting with '#' as structured Skonto lines: ours are plain text.
    assert not text(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description").startswith("#")


def test_tampered_totals_fail_the_validator(failed_rules) -> None:  # noqa: ANN001
    doc = german_invoice()
    tampered = dataclasses.replace(
        doc, totals=dataclasses.replace(doc.totals, tax_total=doc.totals.tax_total + Decimal("0.01"))
    )
    ids = {rule.split(":")[0] for rule in fatal(failed_rules(render_cii(tampered, CiiProfile.XRECHNUNG)))}
    assert "BR-CO-14" in ids  # BT-110 is the sum of the groups' tax (BT-117)
    assert "BR-CO-15" in ids  # BT-112 = BT-109 + BT-110


def test_breakdown_that_does_not_match_the_lines_is_refused() -> None:
    doc = german_invoice()
    high, low = doc.totals.groups
    wrong = dataclasses.replace(
        doc,
        totals=dataclasses.replace(
            doc.totals, groups=(dataclasses.replace(high, taxable_amount=high.taxable_amount - Decimal(1)), low)
        ),
    )
    with pytest.raises(ValueError, match="VAT group"):
        render_cii(wrong, CiiProfile.EN16931)


def _not_subject_invoice() -> InvoiceDocument:
    """German MSP, Swiss business customer: not subject to German VAT (category O, VATEX-EU-O)."""
    buyer = Buyer("K10009", PostalAddress("Käserei Alpstein AG", "Dorfstrasse 2", "9057", "Weissbad", "CH"),
                  "info@alpstein.example", "CHE-116.281.710 MWST", None)  # fmt: skip
    lines = month_lines()
    seller_party = Party("DE", GERMAN_SELLER.vat_id)
    buyer_party = Party("CH", buyer.vat_id)
    totals = invoice_totals(lines, lambda tax_class: tax_case(seller_party, buyer_party, tax_class, OCTOBER_END))
    return dataclasses.replace(
        german_invoice(), number="RE-2026-000130", buyer=buyer, lines=lines, totals=totals, direct_debit=None,
        issue_date=date(2026, 11, 2), language="en",
    )  # fmt: skip


@pytest.mark.parametrize("profile", list(CiiProfile))
def test_not_subject_to_vat_drops_the_vat_ids_and_passes(profile: CiiProfile, failed_rules) -> None:  # noqa: ANN001
    doc = _not_subject_invoice()
    assert [group.category.value for group in doc.totals.groups] == ["O"]
    xml = render_cii(doc, profile)
    errors = fatal(failed_rules(xml))
    assert errors == [], "\n".join(errors)
    root = parse(xml)
    assert texts(root, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == []  # BR-O-02
    assert texts(root, f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == ["143/123/45678"]
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == ["VATEX-EU-O"]
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReason") == [doc.totals.groups[0].note_en]


def test_xrechnung_refuses_a_seller_without_full_contact() -> None:
    doc = german_invoice()
    no_phone = dataclasses.replace(doc, seller=dataclasses.replace(doc.seller, contact_phone=None))
    with pytest.raises(ValueError, match="contact phone"):
        render_cii(no_phone, CiiProfile.XRECHNUNG)
    assert texts(parse(render_cii(no_phone, CiiProfile.EN16931)), "//ram:TelephoneUniversalCommunication") == []


@pytest.mark.parametrize("profile", list(CiiProfile))
def test_small_business_without_vat_id_is_exempt_with_its_note(profile: CiiProfile, failed_rules) -> None:  # noqa: ANN001
    """A Kleinunternehmer (§ 19 UStG): category E, no VAT id, the tax number identifies it (BR-E-02, BR-DE-16)."""
    seller = dataclasses.replace(GERMAN_SELLER, vat_id=None)
    lines = month_lines()
    seller_party = Party("DE", None, small_business=True)
    totals = invoice_totals(lines, lambda tax_class: tax_case(seller_party, Party("DE"), tax_class, OCTOBER_END))
    doc = dataclasses.replace(german_invoice(), seller=seller, totals=totals)
    xml = render_cii(doc, profile)
    errors = fatal(failed_rules(xml))
    assert errors == [], "\n".join(errors)
    root = parse(xml)
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode") == ["E"]
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReason") == [
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
    ]
    assert texts(root, f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["FC"]
    assert Decimal(text(root, f"{SUMMATION}/ram:DuePayableAmount")) == Decimal("460.82")


# ZUGFeRD / Factur-X


def _pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Rechnung RE-2026-000123")
    page.showPage()
    page.save()
    return buffer.getvalue()


def test_zugferd_embeds_the_xml_as_factur_x_with_en16931_metadata() -> None:
    xml = render_cii(ALL["german"](), CiiProfile.EN16931)
    result = embed_in_pdf(_pdf(), xml)

    filename, extracted = get_facturx_xml_from_pdf(io.BytesIO(result), check_xsd=True)
    assert filename == "factur-x.xml"
    assert extracted == xml

    reader = PdfReader(io.BytesIO(result))
    assert reader.attachments["factur-x.xml"] == [xml]
    assert len(reader.pages) == 1
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    fx = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
    pdfaid = "{http://www.aiim.org/pdfa/ns/id/}"
    values = {element.tag: element.text for element in xmp.iter() if isinstance(element.tag, str)}
    assert values[f"{fx}ConformanceLevel"] == "EN 16931"
    assert values[f"{fx}DocumentFileName"] == "factur-x.xml"
    assert values[f"{fx}DocumentType"] == "INVOICE"
    assert values[f"{pdfaid}part"] == "3"  # PDF/A-3


def test_zugferd_refuses_xrechnung_xml() -> None:
    with pytest.raises(ValueError, match="EN 16931"):
        embed_in_pdf(_pdf(), render_cii(ALL["public_sector"](), CiiProfile.XRECHNUNG))


def test_zugferd_checks_the_xml_against_the_xsd() -> None:
    xml = render_cii(ALL["german"](), CiiProfile.EN16931)
    broken = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Unknown>380</ram:Unknown>")
    assert broken != xml
    with pytest.raises(Exception, match="Schema Definition"):
        embed_in_pdf(_pdf(), broken)
