"""Activities of the billing run before the number: which customers to bill, composing a draft (or a credit note),
finance's line adjustments and status decisions. All keyed by the draft id the workflow chose: a retry finds its row.

Bad data never raises into a retry loop: it becomes a problem on the draft (status `failed`), which finance sees and
clears by fixing the data and recomposing."""

from dataclasses import asdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.billing.compose_data import load_period
from domain.billing.compose import compose_draft as compose_lines
from domain.billing.invoice import line_amount
from domain.billing.money import money
from domain.billing.recurring import BillingMonth
from domain.billing.stored import line_from_dict, line_to_dict, tax_case_to_dict, totals_for
from domain.billing.tax import Party, TaxClass, TaxError, tax_case
from domain.contracts.billing import (
    AdjustDraft,
    BillingActivity,
    ComposeDraft,
    CustomerRef,
    DraftCreditNote,
    DraftStatus,
    DraftSummary,
    InvoiceKind,
    ListCustomers,
    SetDraftStatus,
)
from domain.processes import credit_note_workflow_id, invoice_workflow_id
from hub.db import session_scope
from hub.logging import get_logger
from models import AuditEvent, CustomerBillingProfile, Invoice, SellerProfile, Tenant, TimeEntry
from models.base import utcnow
from models.invoice import credited_lines

log = get_logger(__name__)
APPROVED_BY_CONTRACT = "approved by contract"
ALLOWED = {
    DraftStatus.APPROVED: (DraftStatus.DRAFT,),
    DraftStatus.REJECTED: (DraftStatus.DRAFT, DraftStatus.FAILED),
}


def summary_of(row: Invoice, auto_approve: bool = False) -> DraftSummary:
    return DraftSummary(
        draft_id=row.id,
        status=row.status,
        kind=row.kind,
        number=row.number,
        net_total=row.net_total,
        tax_total=row.tax_total,
        gross_total=row.gross_total,
        line_count=len(row.lines),
        problems=list(row.problems),
        auto_approve=auto_approve,
    )


def refuse(message: str, kind: str = "BillingDataError") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def seller_party(seller: SellerProfile) -> Party:
    return Party(seller.country, seller.vat_id)


def buyer_party(profile: CustomerBillingProfile) -> Party:
    return Party(profile.country, profile.vat_id, profile.is_business)


def tax_cases(seller: SellerProfile, profile: CustomerBillingProfile, supply_date: date) -> dict[str, Any]:
    """The tax case of each tax class between this seller and buyer: stored with the draft, so totals, PDF and
    e-invoice all use the same (TaxError when it cannot be decided)."""
    return {
        c.value: tax_case_to_dict(tax_case(seller_party(seller), buyer_party(profile), c, supply_date))
        for c in TaxClass
    }


def apply_totals(row: Invoice) -> None:
    lines = [line_from_dict(line) for line in row.lines if not line.get("removed")]
    cases = (row.document or {}).get("tax_cases")
    if not cases:
        row.net_total = row.tax_total = row.gross_total = Decimal("0.00")
        return
    totals = totals_for(lines, cases)
    row.net_total, row.tax_total, row.gross_total = totals.tax_exclusive, totals.tax_total, totals.tax_inclusive


def audit(session: Session, row: Invoice, action: str, actor: UUID | None, data: dict[str, Any]) -> None:
    session.add(AuditEvent.of(actor, row.tenant_id, "invoice", row.id, action, data))


def _closed_month_entries(session: Session, tenant: Tenant, month: BillingMonth) -> list[str]:
    """Billable time entries from before `month`, never billed, in a month already invoiced: booked too late."""
    issued = set(
        session.exec(
            select(Invoice.period).where(
                Invoice.tenant_id == tenant.id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status == DraftStatus.ISSUED,
            )
        )
    )
    if not issued:
        return []
    tz = ZoneInfo(tenant.time_zone)
    start = datetime.combine(month.first, time(0), tzinfo=tz)
    late = session.exec(
        select(TimeEntry).where(
            TimeEntry.tenant_id == tenant.id,
            TimeEntry.billable == True,  # noqa: E712
            col(TimeEntry.invoice_id).is_(None),
            TimeEntry.started_at < start,
        )
    )
    problems = []
    for entry in late:
        local = entry.started_at.astimezone(tz)
        if f"{local.year:04d}-{local.month:02d}" in issued:
            problems.append(
                f"time entry {entry.id} ({local:%d.%m.%Y}, {entry.minutes} min) belongs to "
                f"{local:%Y-%m}, which is already invoiced: bill it with a one-off item or move it"
            )
    return problems


class BillingDraftActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=BillingActivity.LIST_CUSTOMERS)
    def list_customers(self, req: ListCustomers) -> list[CustomerRef]:
        with session_scope(self.engine) as session:
            query = select(Tenant.id, Tenant.customer_number).join(
                CustomerBillingProfile, col(CustomerBillingProfile.tenant_id) == Tenant.id
            )
            if req.customer_numbers is not None:
                query = query.where(col(Tenant.customer_number).in_(req.customer_numbers))
            rows = session.exec(query.order_by(Tenant.customer_number)).all()
        found = {number for _, number in rows}
        missing = sorted(set(req.customer_numbers or ()) - found)
        if missing:
            raise refuse(f"no customer with a billing profile: {', '.join(missing)}", "UnknownCustomer")
        return [CustomerRef(tenant_id=tid, customer_number=number) for tid, number in rows]

    @activity.defn(name=BillingActivity.COMPOSE_DRAFT)
    def compose_draft(self, req: ComposeDraft) -> DraftSummary:
        month = BillingMonth.parse(req.month)
        # Read and compose in one read transaction (one snapshot), without the SQLite write lock that session_scope
        # holds for the worker: composing is the CPU-heavy part and other activities need not wait for it.
        with Session(self.engine, expire_on_commit=False) as session:
            existing = session.get(Invoice, req.draft_id)
            if existing is not None and existing.status == DraftStatus.ISSUED:
                return summary_of(existing)
            tenant = session.get(Tenant, req.tenant_id)
            if tenant is None:
                raise refuse(f"tenant {req.tenant_id} does not exist", "UnknownCustomer")
            profile = session.exec(
                select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == tenant.id)
            ).one_or_none()
            seller = session.get(SellerProfile, 1)
            previous = session.exec(
                select(Invoice).where(
                    Invoice.tenant_id == tenant.id,
                    Invoice.kind == InvoiceKind.INVOICE,
                    Invoice.status == DraftStatus.ISSUED,
                    Invoice.period == str(_previous(month)),
                )
            ).one_or_none()
            carried_in = previous.carried_out_minutes if previous else 0
            period = load_period(session, tenant.id, month, carried_in)
            composition = compose_lines(period)
            problems = list(composition.problems) + _closed_month_entries(session, tenant, month)
            cases: dict[str, Any] = {}
            if seller is None:
                problems.append("the MSP's invoicing data is missing: set it with PUT /api/v1/billing/seller")
            if profile is None:
                problems.append(f"{tenant.customer_number} has no billing profile")
            if seller is not None and profile is not None:
                try:
                    cases = tax_cases(seller, profile, month.last)
                except TaxError as err:
                    problems.append(str(err))
        lines = [line_to_dict(line) for line in composition.lines]
        if not lines and not problems:
            status = DraftStatus.NOTHING
        else:
            status = DraftStatus.FAILED if problems else DraftStatus.DRAFT
        approve = status == DraftStatus.DRAFT and req.approve_by_contract and period.auto_approve
        with session_scope(self.engine) as session:
            row = session.get(Invoice, req.draft_id)
            if row is not None and row.status == DraftStatus.ISSUED:
                return summary_of(row)  # issued by another attempt meanwhile: it stays as it is
            if row is None:
                row = Invoice(
                    id=req.draft_id,
                    tenant_id=tenant.id,
                    customer_number=tenant.customer_number,
                    kind=InvoiceKind.INVOICE,
                    period=str(month),
                    run_key=f"{tenant.id}/{month}",
                    workflow_id=invoice_workflow_id(tenant.customer_number, str(month)),
                    status=status,
                )
            was_approved = row.status == DraftStatus.APPROVED and row.approved_at is not None
            row.status = status
            row.currency = period.currency
            row.lines = lines
            row.problems = problems
            row.contingent = asdict(composition.contingent) if composition.contingent else None
            row.carried_out_minutes = composition.carried_out_minutes
            row.document = {"tax_cases": cases}
            row.reason = None
            row.updated_at = utcnow()
            if approve:  # as set_draft_status records it; a retry after the commit records it once
                row.status, row.reason = DraftStatus.APPROVED, APPROVED_BY_CONTRACT
                row.approved_by_user_id, row.approved_at = None, row.updated_at
                if not was_approved:
                    audit(session, row, DraftStatus.APPROVED.value, None, {"reason": APPROVED_BY_CONTRACT})
            apply_totals(row)
            session.add(row)
            session.flush()
            log.info("draft composed", draft_id=str(row.id), customer=row.customer_number, status=row.status.value,
                     lines=len(lines), problems=len(problems))  # fmt: skip
            return summary_of(row, auto_approve=period.auto_approve)

    @activity.defn(name=BillingActivity.SET_DRAFT_STATUS)
    def set_draft_status(self, req: SetDraftStatus) -> DraftSummary:
        with session_scope(self.engine) as session:
            row = locked_draft(session, req.draft_id)
            if row.status == req.status:
                return summary_of(row)  # a retry after the commit
            if row.status not in ALLOWED.get(req.status, ()):
                message = f"invoice {row.id} is {row.status.value}; it cannot become {req.status.value}"
                raise refuse(message, "WrongState")
            actor = req.actor.user_id if req.actor else None
            row.status = req.status
            row.reason = req.reason
            if req.status == DraftStatus.APPROVED:
                row.approved_by_user_id, row.approved_at = actor, utcnow()
            row.updated_at = utcnow()
            audit(session, row, req.status.value, actor, {"reason": req.reason} if req.reason else {})
            session.add(row)
            return summary_of(row)

    @activity.defn(name=BillingActivity.ADJUST_DRAFT)
    def adjust_draft(self, req: AdjustDraft) -> DraftSummary:
        change = req.request
        with session_scope(self.engine) as session:
            row = locked_draft(session, req.draft_id)
            if row.status != DraftStatus.DRAFT:
                raise refuse(f"only a draft can be adjusted; invoice {row.id} is {row.status.value}", "WrongState")
            if change.line_index >= len(row.lines):
                raise refuse(f"line_index {change.line_index}: the draft has {len(row.lines)} lines", "BadRequest")
            old = dict(row.lines[change.line_index])
            new = dict(old)
            if change.remove:
                new["removed"] = True  # kept in place: indexes stay stable, a retried removal removes nothing else
            else:
                if change.description is not None:
                    new["description"] = change.description
                if change.quantity is not None:
                    new["quantity"] = str(change.quantity)
                if change.unit_price is not None:
                    new["unit_price"] = str(money(change.unit_price))
                if change.quantity is not None or change.unit_price is not None:
                    net = line_amount(Decimal(new["quantity"]), Decimal(new["unit_price"]))
                    new["net_amount"] = str(net)
            lines = list(row.lines)
            lines[change.line_index] = new
            row.lines = lines
            apply_totals(row)
            row.updated_at = utcnow()
            audit(session, row, "line_adjusted", change.actor.user_id,
                  {"line_index": change.line_index, "old": old, "new": new, "reason": change.reason})  # fmt: skip
            session.add(row)
            return summary_of(row)

    @activity.defn(name=BillingActivity.DRAFT_CREDIT_NOTE)
    def draft_credit_note(self, req: DraftCreditNote) -> DraftSummary:
        with session_scope(self.engine) as session:
            existing = session.get(Invoice, req.draft_id)
            if existing is not None:
                return summary_of(existing)
            original = session.get(Invoice, req.invoice_id)
            if original is None or original.kind != InvoiceKind.INVOICE or original.status != DraftStatus.ISSUED:
                message = f"invoice {req.invoice_id} is not an issued invoice; only those are credited"
                raise refuse(message, "WrongState")
            indexes = credit_indexes(session, original, req.line_indexes)
            lines = [{k: v for k, v in original.lines[i].items() if k != "removed"} for i in indexes]
            row = Invoice(
                id=req.draft_id,
                tenant_id=original.tenant_id,
                customer_number=original.customer_number,
                kind=InvoiceKind.CREDIT_NOTE,
                period=original.period,
                workflow_id=credit_note_workflow_id(original.number or "", req.draft_id),
                status=DraftStatus.DRAFT,
                currency=original.currency,
                lines=lines,
                document={"tax_cases": original.document["tax_cases"], "credited_lines": indexes},
                credit_of_id=original.id,
                reason=req.reason,
            )
            apply_totals(row)
            session.add(row)
            audit(session, row, "credit_note_drafted", req.requested_by,
                  {"invoice": original.number, "lines": indexes, "reason": req.reason})  # fmt: skip
            session.flush()
            return summary_of(row)


def credit_indexes(session: Session, original: Invoice, wanted: list[int] | None) -> list[int]:
    """The lines to credit: valid indexes of `original`, none credited before by a credit note still standing."""
    billable = [i for i, line in enumerate(original.lines) if not line.get("removed")]
    indexes = billable if wanted is None else sorted(set(wanted))
    unknown = [i for i in indexes if i not in billable]
    if unknown:
        raise refuse(f"invoice {original.number} has no line {unknown[0]} (lines 0-{len(original.lines) - 1})",
                   "BadRequest")  # fmt: skip
    credited = credited_lines(session, original)
    again = [i for i in indexes if i in credited]
    if again:
        raise refuse(f"line {again[0]} of {original.number} is already credited", "AlreadyCredited")
    if not indexes:
        raise refuse(f"nothing left to credit on {original.number}", "AlreadyCredited")
    return indexes


def locked_draft(session: Session, draft_id: UUID) -> Invoice:
    row = session.exec(select(Invoice).where(Invoice.id == draft_id).with_for_update()).one_or_none()
    if row is None:
        raise refuse(f"invoice draft {draft_id} does not exist", "NotFound")
    return row


def _previous(month: BillingMonth) -> BillingMonth:
    return BillingMonth(month.year - 1, 12) if month.month == 1 else BillingMonth(month.year, month.month - 1)
