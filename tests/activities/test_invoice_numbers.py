"""Invoice numbers: drawn with the issue in one transaction, unique and gapless per series and fiscal year under
concurrent issuers (SQLite and PostgreSQL), never drawn twice for a retried issue, given back when an issue fails."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities.billing.drafts import apply_totals, tax_cases
from activities.billing.issue import BillingIssueActivities, format_number
from domain.billing.stored import document_from_dict
from domain.contracts.billing import DraftStatus, InvoiceKind, IssueInvoice
from hub.db import session_scope
from models import CustomerBillingProfile, Invoice, InvoiceNumberCounter, SellerProfile, TimeEntry
from tests.billing_setup import billing_customer, new_series, set_seller

BERLIN = ZoneInfo("Europe/Berlin")


def approved_draft(engine, customer, month: str = "2032-01", sources: list | None = None) -> uuid.UUID:  # noqa: ANN001
    draft_id = uuid.uuid4()
    with session_scope(engine) as s:
        seller = s.get(SellerProfile, 1)
        profile = s.exec(
            select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == customer.tenant.id)
        ).one()
        row = Invoice(
            id=draft_id, tenant_id=customer.tenant.id, customer_number=customer.tenant.customer_number,
            kind=InvoiceKind.INVOICE, period=month, workflow_id=f"test-{draft_id}", status=DraftStatus.APPROVED,
            lines=[{"description": "Managed Workstation", "quantity": "2", "unit": "C62", "unit_price": "50.00",
                    "net_amount": "100.00", "tax_class": "standard",
                    "source": {"kind": "time_entry" if sources else "contract_line",
                               "ids": [str(i) for i in sources or ["L1"]]}}],
            document={"tax_cases": tax_cases(seller, profile, date(2032, 1, 31))},
        )  # fmt: skip
        apply_totals(row)
        s.add(row)
    return draft_id


def test_concurrent_issues_draw_gapless_unique_numbers(engine):
    prefix = new_series()
    set_seller(engine, prefix)
    customer = billing_customer(engine, start=date(2032, 1, 1))
    drafts = [approved_draft(engine, customer) for _ in range(24)]
    issuer = BillingIssueActivities(engine)
    with ThreadPoolExecutor(max_workers=8) as pool:
        summaries = list(pool.map(lambda d: issuer.issue(IssueInvoice(draft_id=d, issue_date=date(2032, 2, 1))),
                                  drafts))  # fmt: skip
    numbers = sorted(s.number for s in summaries)
    assert numbers == [format_number(prefix, 2032, n, 5) for n in range(1, 25)]
    # a retried issue (the activity ran, its answer was lost) returns the same number and draws none
    again = issuer.issue(IssueInvoice(draft_id=drafts[0], issue_date=date(2032, 2, 3)))
    assert again.number == summaries[0].number
    with Session(engine) as s:
        assert s.get(InvoiceNumberCounter, (prefix, 2032)).last_value == 24
        row = s.get(Invoice, drafts[0])
        doc = document_from_dict(row.document)
    # the frozen document: 100.00 + 19 % = 119.00, due 14 days after the issue date
    assert (doc.number, doc.amount_due, doc.due_date) == (row.number, Decimal("119.00"), date(2032, 2, 15))
    assert doc.seller.vat_id == "DE136695976" and doc.buyer.customer_number == customer.tenant.customer_number


def test_a_failed_issue_gives_its_number_back(engine):
    prefix = new_series()
    set_seller(engine, prefix)
    customer = billing_customer(engine, start=date(2032, 1, 1),
                                entries=((datetime(2032, 1, 5, 9, tzinfo=BERLIN), 30, "remote"),))  # fmt: skip
    entry = customer.entries[0].id
    first = approved_draft(engine, customer, sources=[entry])
    second = approved_draft(engine, customer, sources=[entry])  # bills the same entry: stale once the first issues
    issuer = BillingIssueActivities(engine)
    assert issuer.issue(IssueInvoice(draft_id=first, issue_date=date(2032, 2, 1))).number.endswith("-00001")
    with pytest.raises(ApplicationError, match="billed meanwhile") as err:
        issuer.issue(IssueInvoice(draft_id=second, issue_date=date(2032, 2, 1)))
    assert err.value.non_retryable
    with Session(engine) as s:
        assert s.get(InvoiceNumberCounter, (prefix, 2032)).last_value == 1
        assert s.get(Invoice, second).number is None and s.get(Invoice, second).status == DraftStatus.APPROVED
        assert s.get(TimeEntry, entry).invoice_id == first
    third = approved_draft(engine, customer)
    assert issuer.issue(IssueInvoice(draft_id=third, issue_date=date(2032, 2, 1))).number.endswith("-00002")


def test_only_an_approved_draft_is_issued(engine):
    set_seller(engine, new_series())
    customer = billing_customer(engine, start=date(2032, 1, 1))
    draft = approved_draft(engine, customer)
    with session_scope(engine) as s:
        s.get(Invoice, draft).status = DraftStatus.DRAFT
    with pytest.raises(ApplicationError, match="only an approved draft"):
        BillingIssueActivities(engine).issue(IssueInvoice(draft_id=draft, issue_date=date(2032, 2, 1)))
