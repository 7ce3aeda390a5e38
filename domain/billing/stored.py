"""Invoice lines, tax cases and issued documents as JSON (the database keeps them so): exact round trips, amounts as
strings, so an issued invoice re-renders to the same figures years later."""

from dataclasses import asdict, fields
from datetime import date
from decimal import Decimal
from typing import Any

from domain.billing.document import (
    Buyer,
    DirectDebit,
    DocumentKind,
    InvoiceDocument,
    PostalAddress,
    PrecedingInvoice,
    Seller,
    SequenceType,
)
from domain.billing.invoice import InvoiceLine, InvoiceTotals, LineSource, invoice_totals
from domain.billing.tax import TaxCase, TaxClass, VatCategory
from domain.billing.terms import RevenueType


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def line_to_dict(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "net_amount": str(line.net_amount),
        "tax_class": line.tax_class.value,
        "source": {"kind": line.source.kind, "ids": list(line.source.ids)},
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "period_end": line.period_end.isoformat() if line.period_end else None,
        "revenue_type": line.revenue_type.value,
    }


def line_from_dict(data: dict[str, Any]) -> InvoiceLine:
    return InvoiceLine(
        description=data["description"],
        quantity=Decimal(data["quantity"]),
        unit=data["unit"],
        unit_price=Decimal(data["unit_price"]),
        net_amount=Decimal(data["net_amount"]),
        tax_class=TaxClass(data["tax_class"]),
        source=LineSource(data["source"]["kind"], tuple(data["source"]["ids"])),
        period_start=_day(data.get("period_start")),
        period_end=_day(data.get("period_end")),
        revenue_type=RevenueType(data.get("revenue_type", RevenueType.OTHER.value)),
    )


def tax_case_to_dict(case: TaxCase) -> dict[str, Any]:
    return {**asdict(case), "category": case.category.value, "rate": str(case.rate)}


def tax_case_from_dict(data: dict[str, Any]) -> TaxCase:
    return TaxCase(**{**data, "category": VatCategory(data["category"]), "rate": Decimal(data["rate"])})


def totals_for(lines: list[InvoiceLine] | tuple[InvoiceLine, ...], cases: dict[str, Any]) -> InvoiceTotals:
    """Totals of `lines` with the stored tax case per tax class ({"standard": {...}, "reduced": {...}})."""
    parsed = {TaxClass(k): tax_case_from_dict(v) for k, v in cases.items()}
    return invoice_totals(lines, lambda tax_class: parsed[tax_class])


def _record(cls: type, data: dict[str, Any] | None) -> Any:  # noqa: ANN401
    if data is None:
        return None
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def document_to_dict(doc: InvoiceDocument, tax_cases: dict[str, Any]) -> dict[str, Any]:
    """The issued document without its totals (recomputed from the lines and `tax_cases`, which are stored)."""
    dd = doc.direct_debit
    return {
        "kind": doc.kind.value,
        "number": doc.number,
        "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat(),
        "period_start": doc.period_start.isoformat(),
        "period_end": doc.period_end.isoformat(),
        "currency": doc.currency,
        "language": doc.language,
        "seller": {**asdict(doc.seller), "address": asdict(doc.seller.address)},
        "buyer": {**asdict(doc.buyer), "address": asdict(doc.buyer.address)},
        "lines": [line_to_dict(line) for line in doc.lines],
        "tax_cases": tax_cases,
        "payment_terms_days": doc.payment_terms_days,
        "direct_debit": None
        if dd is None
        else {**asdict(dd), "mandate_signed_on": dd.mandate_signed_on.isoformat(), "sequence": dd.sequence.value},
        "preceding": None
        if doc.preceding is None
        else {"number": doc.preceding.number, "issue_date": doc.preceding.issue_date.isoformat()},
        "notes": list(doc.notes),
    }


def document_from_dict(data: dict[str, Any]) -> InvoiceDocument:
    lines = tuple(line_from_dict(line) for line in data["lines"])
    seller = dict(data["seller"])
    buyer = dict(data["buyer"])
    dd = data.get("direct_debit")
    preceding = data.get("preceding")
    return InvoiceDocument(
        kind=DocumentKind(data["kind"]),
        number=data["number"],
        issue_date=date.fromisoformat(data["issue_date"]),
        due_date=date.fromisoformat(data["due_date"]),
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        currency=data["currency"],
        language=data["language"],
        seller=_record(Seller, {**seller, "address": PostalAddress(**seller["address"])}),
        buyer=_record(Buyer, {**buyer, "address": PostalAddress(**buyer["address"])}),
        lines=lines,
        totals=totals_for(lines, data["tax_cases"]),
        payment_terms_days=data["payment_terms_days"],
        direct_debit=None
        if dd is None
        else DirectDebit(
            dd["mandate_id"],
            date.fromisoformat(dd["mandate_signed_on"]),
            dd["debtor_iban"],
            SequenceType(dd["sequence"]),
        ),  # fmt: skip
        preceding=None
        if preceding is None
        else PrecedingInvoice(preceding["number"], date.fromisoformat(preceding["issue_date"])),
        notes=tuple(data.get("notes", ())),
    )
