"""The EN 16931 e-invoice of an issued invoice in UN/CEFACT CII syntax: XRechnung 3.0 (the German CIUS, for public
customers and anyone who asks for it) or the plain EN 16931 profile that ZUGFeRD/Factur-X embeds in the PDF.

Built with drafthorse and checked against the Factur-X EN 16931 XSD on the way out: both profiles use only elements
of the EN 16931 model, so one schema fits both. The business rules (BR-…, BR-CO-…) hold because the document's totals
are EN 16931's own (domain.billing.invoice): this module maps them and recomputes nothing; its one figure of its own
is the line allowance that explains a pro-rata line.
"""

from collections import defaultdict
from decimal import Decimal
from enum import StrEnum

from drafthorse.models.accounting import ApplicableTradeTax, TradeAllowanceCharge
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.trade import TradeSettlement
from drafthorse.models.tradelines import LineItem

from domain.billing.document import InvoiceDocument, PostalAddress
from domain.billing.invoice import InvoiceLine, VatGroup, line_amount
from domain.billing.tax import TaxClass, VatCategory

CENT = Decimal("0.01")
XSD = "FACTUR-X_EN16931"
PEPPOL_BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


class CiiProfile(StrEnum):
    """Specification identifier (BT-24) of the profile."""

    XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    EN16931 = "urn:cen.eu:en16931:2017"


# UNTDID 4461 payment means codes (BT-81).
SEPA_CREDIT_TRANSFER = "58"
SEPA_DIRECT_DEBIT = "59"
NOT_DEFINED = "1"

# Electronic address scheme (BT-34/BT-49) and tax scheme ids (BT-31/BT-32/BT-48).
EMAIL_SCHEME = "EM"
VAT_SCHEME = "VA"
TAX_NUMBER_SCHEME = "FC"


def render_cii(doc: InvoiceDocument, profile: CiiProfile) -> bytes:
    """The CII XML (UTF-8) of `doc` in `profile`. Raises ValueError when the document cannot be a valid e-invoice
    of that profile (lines that do not add up to the VAT breakdown; for XRechnung, an incomplete seller contact or
    no buyer reference), so the issuing activity reports it instead of a receiver's validator."""
    if profile == CiiProfile.XRECHNUNG:
        _check_xrechnung_contact(doc)
    invoice = Document()
    invoice.context.guideline_parameter.id = profile.value
    if profile == CiiProfile.XRECHNUNG:
        invoice.context.business_parameter.id = PEPPOL_BILLING_PROCESS  # BT-23: Peppol billing, as XRechnung 3 names it

    invoice.header.id = doc.number  # BT-1
    invoice.header.type_code = doc.kind.value  # BT-3
    invoice.header.issue_date_time = doc.issue_date  # BT-2
    for text in doc.notes:  # BT-22
        invoice.header.notes.add(IncludedNote(content=text))

    group_of = _group_per_line(doc)
    for index, line in enumerate(doc.lines, start=1):
        invoice.trade.items.add(_line_item(index, line, group_of[index - 1], doc.language))

    agreement = invoice.trade.agreement
    buyer_reference = _buyer_reference(doc, profile)
    if buyer_reference:
        agreement.buyer_reference = buyer_reference  # BT-10
    # BR-O-02: an invoice "not subject to VAT" carries no VAT identifiers at all.
    not_subject = any(group.category == VatCategory.NOT_SUBJECT for group in doc.totals.groups)
    _seller(agreement.seller, doc, with_vat_id=not not_subject)
    _buyer(agreement.buyer, doc, with_vat_id=not not_subject)

    _settlement(invoice.trade.settlement, doc)
    return invoice.serialize(schema=XSD)


def _check_xrechnung_contact(doc: InvoiceDocument) -> None:
    """BR-DE-2, 5, 6, 7: XRechnung wants the seller contact's name, phone and e-mail; the e-mail is also the seller's
    electronic address (BT-34), which XRechnung 3 requires."""
    seller = doc.seller
    missing = [
        name
        for name, value in (
            ("contact name", seller.contact_name),
            ("contact phone", seller.contact_phone),
            ("contact e-mail", seller.contact_email),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"{doc.number}: XRechnung needs the seller's {', '.join(missing)} (BG-6, BR-DE-2)")


def _amount(value: Decimal) -> Decimal:
    """Amounts with exactly two decimals (BR-DEC-…: at most two; two keep them readable)."""
    return value.quantize(CENT)


def _plain(value: Decimal) -> Decimal:
    """Quantities and rates without trailing zeros or an exponent: 23, 1.5, 8.1."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _price(value: Decimal) -> Decimal:
    """Unit prices with at least two decimals, more only when the price has them (0.125 per unit)."""
    return value.quantize(CENT) if value == value.quantize(CENT) else value.normalize()


def _exemption_reason(doc: InvoiceDocument, group: VatGroup) -> str | None:
    """BT-120 in the document's language; the VATEX code (BT-121) is language-neutral."""
    return group.note_en if doc.language == "en" else group.note_de


def _group_per_line(doc: InvoiceDocument) -> list[VatGroup]:
    """The VAT group (category, rate) each line belongs to. A line carries only its tax class; one document has one
    tax case per class, so with a single group every line is in it, and with two (standard and reduced rate of the
    same category) the standard class takes the higher rate. The taxable amounts are checked against the lines, so
    a mapping that does not reproduce the breakdown fails here and not at the receiver (BR-S-08, BR-AE-08, ...)."""
    groups = doc.totals.groups
    if not groups:
        raise ValueError(f"{doc.number}: no VAT breakdown (BG-23)")
    if len(groups) == 1:
        mapping = [groups[0] for _ in doc.lines]
    else:
        if len(groups) != 2 or len({group.category for group in groups}) != 1:
            raise ValueError(f"{doc.number}: VAT groups {[(g.category, g.rate) for g in groups]} do not map to lines")
        high, low = sorted(groups, key=lambda group: group.rate, reverse=True)
        mapping = [high if line.tax_class == TaxClass.STANDARD else low for line in doc.lines]
    taxable: dict[tuple[VatCategory, Decimal], Decimal] = defaultdict(Decimal)
    for line, group in zip(doc.lines, mapping, strict=True):
        taxable[(group.category, group.rate)] += line.net_amount
    for group in groups:
        if taxable[(group.category, group.rate)] != group.taxable_amount:
            raise ValueError(
                f"{doc.number}: lines of VAT group {group.category} {group.rate} % sum to "
                f"{taxable[(group.category, group.rate)]}, the breakdown says {group.taxable_amount}"
            )
    return mapping


def _line_item(index: int, line: InvoiceLine, group: VatGroup, language: str) -> LineItem:
    item = LineItem()
    item.document.line_id = str(index)  # BT-126
    item.product.name = line.description  # BT-153
    item.agreement.net.amount = _price(line.unit_price)  # BT-146
    item.delivery.billed_quantity = (_plain(line.quantity), line.unit)  # BT-129, BT-130
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = group.category.value  # BT-151
    if group.category != VatCategory.NOT_SUBJECT:  # BR-O-05: a line not subject to VAT has no rate
        item.settlement.trade_tax.rate_applicable_percent = _plain(group.rate)  # BT-152
    if line.period_start and line.period_end:  # BG-26
        item.settlement.period.start = line.period_start
        item.settlement.period.end = line.period_end
    adjustment = _pro_rata_adjustment(line, language)
    if adjustment is not None:
        item.settlement.allowance_charge.add(adjustment)
    item.settlement.monetary_summation.total_amount = _amount(line.net_amount)  # BT-131
    return item


def _pro_rata_adjustment(line: InvoiceLine, language: str) -> TradeAllowanceCharge | None:
    """A pro-rata line (part of a month) bills less than quantity x price. Receivers check BT-131 = BT-129 x BT-146
    + line charges - line allowances (Peppol's PEPPOL-EN16931-R120, many ERP imports), so the difference goes in
    as a line allowance (BG-27) with its reason, or a line charge (BG-28) should a line ever bill more."""
    difference = line_amount(line.quantity, line.unit_price) - line.net_amount
    if not difference:
        return None
    adjustment = TradeAllowanceCharge()
    adjustment.indicator = difference < 0  # ChargeIndicator: true for a charge
    adjustment.actual_amount = _amount(abs(difference))  # BT-136 / BT-141
    adjustment.reason = (  # BT-139 / BT-144 (BR-42 / BR-44: a reason or a code)
        "Pro rata for the service period" if language == "en" else "Anteilige Berechnung für den Leistungszeitraum"
    )
    return adjustment


def _buyer_reference(doc: InvoiceDocument, profile: CiiProfile) -> str | None:
    """BT-10. XRechnung requires it (BR-DE-15): the public customer's Leitweg-ID, and for everybody else the
    customer number, which is what private receivers route by in practice."""
    if doc.buyer.buyer_reference:
        return doc.buyer.buyer_reference
    if profile == CiiProfile.XRECHNUNG:
        if not doc.buyer.customer_number:
            raise ValueError(f"{doc.number}: XRechnung needs a buyer reference (BT-10) or a customer number")
        return doc.buyer.customer_number
    return None


def _address(party: TradeParty, address: PostalAddress) -> None:
    party.name = address.name  # BT-27 / BT-44
    party.address.line_one = address.street  # BT-35 / BT-50
    party.address.postcode = address.postal_code  # BT-38 / BT-53
    party.address.city_name = address.city  # BT-37 / BT-52
    party.address.country_id = address.country  # BT-40 / BT-55


def _seller(party: TradeParty, doc: InvoiceDocument, *, with_vat_id: bool) -> None:
    seller = doc.seller
    _address(party, seller.address)
    if seller.register_entry:
        # BT-30: with BT-31 the way a receiver identifies the seller (BR-CO-26), the only one when BR-O-02 drops it.
        party.legal_organization.id = seller.register_entry
    # BG-6 (BR-DE-2, 5, 6, 7); drafthorse leaves out an empty contact.
    if seller.contact_name:
        party.contact.person_name = seller.contact_name  # BT-41
    if seller.contact_phone:
        party.contact.telephone.number = seller.contact_phone  # BT-42
    if seller.contact_email:
        party.contact.email.address = seller.contact_email  # BT-43
    if seller.contact_email:
        party.electronic_address.uri_ID = (EMAIL_SCHEME, seller.contact_email)  # BT-34, mandatory in XRechnung 3
    if with_vat_id and seller.vat_id:
        party.tax_registrations.add(TaxRegistration(id=(VAT_SCHEME, seller.vat_id)))  # BT-31
    if seller.tax_number:
        party.tax_registrations.add(TaxRegistration(id=(TAX_NUMBER_SCHEME, seller.tax_number)))  # BT-32


def _buyer(party: TradeParty, doc: InvoiceDocument, *, with_vat_id: bool) -> None:
    buyer = doc.buyer
    party.id = buyer.customer_number  # BT-46
    _address(party, buyer.address)
    if buyer.email:
        party.electronic_address.uri_ID = (EMAIL_SCHEME, buyer.email)  # BT-49, mandatory in XRechnung 3
    if with_vat_id and buyer.vat_id:
        party.tax_registrations.add(TaxRegistration(id=(VAT_SCHEME, buyer.vat_id)))  # BT-48


def _settlement(settlement: TradeSettlement, doc: InvoiceDocument) -> None:
    totals = doc.totals
    debit = doc.direct_debit
    if debit:
        if not doc.seller.creditor_id:
            raise ValueError(f"{doc.number}: a direct debit needs the seller's creditor id (BT-90)")
        settlement.creditor_reference_id = doc.seller.creditor_id  # BT-90
    settlement.payment_reference = doc.payment_reference  # BT-83
    settlement.currency_code = doc.currency  # BT-5
    settlement.payment_means.add(_payment_means(doc))  # BG-16

    for group in totals.groups:  # BG-23
        tax = ApplicableTradeTax()
        tax.calculated_amount = _amount(group.tax_amount)  # BT-117
        tax.type_code = "VAT"
        if group.category != VatCategory.STANDARD:
            # BR-AE-10, BR-O-10, BR-E-10 want a reason; BR-S-10 forbids one on standard-rated groups.
            reason = _exemption_reason(doc, group)
            if reason:
                tax.exemption_reason = reason  # BT-120
            if group.exemption_code:
                tax.exemption_reason_code = group.exemption_code  # BT-121
        tax.basis_amount = _amount(group.taxable_amount)  # BT-116
        tax.category_code = group.category.value  # BT-118
        tax.rate_applicable_percent = _plain(group.rate)  # BT-119
        settlement.trade_tax.add(tax)

    settlement.period.start = doc.period_start  # BT-73
    settlement.period.end = doc.period_end  # BT-74

    terms = PaymentTerms()
    terms.description = _payment_terms_text(doc)  # BT-20
    terms.due = doc.due_date  # BT-9
    if debit:
        terms.debit_mandate_id = debit.mandate_id  # BT-89
    settlement.terms.add(terms)

    summation = settlement.monetary_summation  # BG-22
    summation.line_total = _amount(totals.line_total)  # BT-106
    summation.tax_basis_total = _amount(totals.tax_exclusive)  # BT-109
    summation.tax_total = (_amount(totals.tax_total), doc.currency)  # BT-110: the one amount CII gives a currencyID
    summation.grand_total = _amount(totals.tax_inclusive)  # BT-112
    summation.due_amount = _amount(totals.amount_due)  # BT-115

    if doc.preceding:  # BG-3
        settlement.invoice_referenced_document.issuer_assigned_id = doc.preceding.number  # BT-25
        settlement.invoice_referenced_document.issue_date_time = doc.preceding.issue_date  # BT-26


def _payment_means(doc: InvoiceDocument) -> PaymentMeans:
    means = PaymentMeans()
    if doc.direct_debit:
        means.type_code = SEPA_DIRECT_DEBIT
        means.payer_account.iban = doc.direct_debit.debtor_iban  # BT-91
    elif doc.is_credit_note:
        # The seller pays a credit note out (or sets it off); the seller's own account as payee (BG-17) would tell
        # the buyer to pay it. XRechnung only wants BG-16 present (BR-DE-1), so: instrument not defined, with a text.
        means.type_code = NOT_DEFINED
        means.information.add(
            "Refund or set-off against open invoices" if doc.language == "en"
            else "Erstattung oder Verrechnung mit offenen Rechnungen"
        )  # fmt: skip
    else:
        means.type_code = SEPA_CREDIT_TRANSFER
        means.payee_account.iban = doc.seller.iban  # BT-84
        if doc.seller.bic:
            means.payee_institution.bic = doc.seller.bic  # BT-86
    return means


def _payment_terms_text(doc: InvoiceDocument) -> str:
    due = doc.due_date
    if doc.language == "en":
        if doc.is_credit_note:
            return f"Credit note for invoice {doc.preceding.number}." if doc.preceding else "Credit note."
        if doc.direct_debit:
            return (
                f"The amount will be collected by SEPA direct debit on {due.isoformat()} "
                f"(mandate {doc.direct_debit.mandate_id}, creditor id {doc.seller.creditor_id})."
            )
        return f"Payable without deduction by {due.isoformat()} ({doc.payment_terms_days} days)."
    if doc.is_credit_note:
        return f"Gutschrift zur Rechnung {doc.preceding.number}." if doc.preceding else "Gutschrift."
    if doc.direct_debit:
        return (
            f"Der Betrag wird am {due:%d.%m.%Y} per SEPA-Lastschrift eingezogen "
            f"(Mandat {doc.direct_debit.mandate_id}, Gläubiger-ID {doc.seller.creditor_id})."
        )
    return f"Zahlbar ohne Abzug bis {due:%d.%m.%Y} ({doc.payment_terms_days} Tage)."
