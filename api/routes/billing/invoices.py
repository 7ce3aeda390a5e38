"""Invoices and credit notes: list and read them (customers: their own issued ones), finance's decisions on a draft
(approve, reject, adjust a line, recompose after a fix: Temporal updates of the invoice's workflow), credit notes for
an issued invoice, and the stored files (PDF, e-invoice XML) for download."""

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from api.deps import BillingWriter, CurrentUser, Principal, SessionDep, TemporalDep, get_scoped
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.billing.runs import month_or_422
from api.schemas.common import CustomerNumber
from api.schemas.invoices import (
    AdjustBody,
    CreditNoteBody,
    CreditNoteStarted,
    InvoicePublic,
    LinePublic,
    RejectBody,
)
from domain.contracts.billing import (
    AdjustLineRequest,
    ApproveRequest,
    DraftStatus,
    InvoiceKind,
    RecomposeRequest,
    RejectRequest,
)
from domain.contracts.tickets import Actor
from hub.temporal import billing as billing_client
from models import Invoice, InvoiceFile
from models.invoice import credited_lines

router = APIRouter(prefix="/invoices", tags=["invoices"])


def _lines(row: Invoice) -> list[LinePublic]:
    return [
        LinePublic(
            index=i,
            description=line["description"],
            quantity=line["quantity"],
            unit=line["unit"],
            unit_price=line["unit_price"],
            net_amount=line["net_amount"],
            tax_class=line["tax_class"],
            revenue_type=line.get("revenue_type", "other"),
            source_kind=line["source"]["kind"],
            source_ids=line["source"]["ids"],
            period_start=line.get("period_start"),
            period_end=line.get("period_end"),
            removed=bool(line.get("removed")),
        )
        for i, line in enumerate(row.lines)
    ]


def _public(session: Session, row: Invoice, with_lines: bool = True) -> InvoicePublic:
    files = session.exec(select(InvoiceFile.kind).where(InvoiceFile.invoice_id == row.id)).all() if with_lines else []
    values = row.model_dump(exclude={"lines", "document"})
    return InvoicePublic.model_validate(values | {"files": sorted(files), "lines": _lines(row) if with_lines else []})


def load_invoice(session: Session, invoice_id: UUID, principal: Principal) -> Invoice:
    """An invoice the caller may see: customers see their own tenant's issued ones only (a draft is internal)."""
    row = get_scoped(session, Invoice, invoice_id, principal, "invoice")
    if not principal.is_msp and row.status != DraftStatus.ISSUED:
        raise not_found("invoice", invoice_id)
    return row


def _actor(principal: Principal) -> Actor:
    return Actor(user_id=principal.user_id, role=principal.role)


@router.get("", response_model=Page[InvoicePublic], summary="List invoices and credit notes (customers: their own)")
def list_invoices(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    period: Annotated[str | None, Query(description="YYYY-MM of the service")] = None,
    status: DraftStatus | None = None,
    kind: InvoiceKind | None = None,
    customer_number: Annotated[CustomerNumber | None, Query()] = None,
    tenant_id: UUID | None = None,
):
    query = select(Invoice).order_by(col(Invoice.period).desc(), Invoice.customer_number, Invoice.created_at)
    if not principal.is_msp:
        query = query.where(Invoice.tenant_id == principal.tenant_id, Invoice.status == DraftStatus.ISSUED)
    if period is not None:
        query = query.where(Invoice.period == month_or_422(period))
    for column, value in ((Invoice.status, status), (Invoice.kind, kind), (Invoice.tenant_id, tenant_id),
                          (Invoice.customer_number, customer_number)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    return paginate(session, query, page, lambda row: _public(session, row, with_lines=False))


@router.get("/{invoice_id}", response_model=InvoicePublic, summary="One invoice with its lines")
def get_invoice(invoice_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(session, load_invoice(session, invoice_id, principal))


@router.get("/{invoice_id}/pdf", summary="The invoice as PDF (ZUGFeRD: with the e-invoice inside)",
            responses={200: {"content": {"application/pdf": {}}}})  # fmt: skip
def invoice_pdf(invoice_id: UUID, principal: CurrentUser, session: SessionDep):
    return _file(session, load_invoice(session, invoice_id, principal), "pdf")


@router.get("/{invoice_id}/xml", summary="The e-invoice (XRechnung / ZUGFeRD CII XML)",
            responses={200: {"content": {"application/xml": {}}}})  # fmt: skip
def invoice_xml(invoice_id: UUID, principal: CurrentUser, session: SessionDep):
    return _file(session, load_invoice(session, invoice_id, principal), "xml")


def _file(session: Session, row: Invoice, kind: str) -> Response:
    f = session.get(InvoiceFile, (row.id, kind))
    if f is None:
        if row.status != DraftStatus.ISSUED:
            raise Problem(409, f"invoice {row.id} is {row.status.value}: files exist once it is issued")
        raise Problem(404, f"invoice {row.number} has no {kind} file (its customer's format does not include it)")
    headers = {"Content-Disposition": f'attachment; filename="{f.filename}"', "ETag": f'"{f.sha256}"'}
    return Response(f.content, media_type=f.media_type, headers=headers)


def _draft(session: Session, invoice_id: UUID, principal: Principal) -> Invoice:
    row = load_invoice(session, invoice_id, principal)
    session.rollback()  # the update goes through the workflow: no read transaction held meanwhile
    return row


@router.post("/{invoice_id}/approve", response_model=InvoicePublic, summary="Approve a draft (it is then issued)")
async def approve_invoice(invoice_id: UUID, principal: BillingWriter, session: SessionDep, client: TemporalDep):
    row = _draft(session, invoice_id, principal)
    await billing_client.approve(client, row.workflow_id, ApproveRequest(actor=_actor(principal)))
    session.refresh(row)
    return _public(session, row)


@router.post("/{invoice_id}/reject", response_model=InvoicePublic, summary="Reject a draft with a reason")
async def reject_invoice(
    invoice_id: UUID, body: RejectBody, principal: BillingWriter, session: SessionDep, client: TemporalDep
):
    row = _draft(session, invoice_id, principal)
    await billing_client.reject(client, row.workflow_id, RejectRequest(actor=_actor(principal), reason=body.reason))
    session.refresh(row)
    return _public(session, row)


@router.patch("/{invoice_id}/lines/{line_index}", response_model=InvoicePublic, summary="Adjust a draft line")
async def adjust_invoice_line(
    invoice_id: UUID,
    line_index: Annotated[int, Path(ge=0, le=10_000)],
    body: AdjustBody,
    principal: BillingWriter,
    session: SessionDep,
    client: TemporalDep,
):
    row = load_invoice(session, invoice_id, principal)
    if row.status == DraftStatus.DRAFT and line_index >= len(row.lines):
        # A line that does not exist is a bad request (422, as for credit notes), not a conflict with the draft's
        # state: the workflow's refusal would come back as 409.
        raise Problem(422, f"line_index: draft {row.id} has no line {line_index} (it has {len(row.lines)})",
                      errors=[{"field": "line_index", "message": f"no line {line_index}"}])  # fmt: skip
    session.rollback()  # the update goes through the workflow: no read transaction held meanwhile
    req = AdjustLineRequest(actor=_actor(principal), line_index=line_index, **body.model_dump())
    await billing_client.adjust_line(client, row.workflow_id, req)
    session.refresh(row)
    return _public(session, row)


@router.post("/{invoice_id}/recompose", status_code=202, summary="Compose a draft again after a fix")
async def recompose_invoice(invoice_id: UUID, principal: BillingWriter, session: SessionDep, client: TemporalDep):
    row = _draft(session, invoice_id, principal)
    await billing_client.recompose(client, row.workflow_id, RecomposeRequest(actor=_actor(principal)))
    return JSONResponse({"id": str(row.id), "status": "recomposing"}, status_code=202)


@router.post("/{invoice_id}/credit-notes", status_code=202, response_model=CreditNoteStarted,
             summary="Credit an issued invoice (all lines or some)")  # fmt: skip
async def credit_invoice(
    invoice_id: UUID,
    body: CreditNoteBody,
    principal: BillingWriter,
    session: SessionDep,
    client: TemporalDep,
    request: Request,
):
    row = load_invoice(session, invoice_id, principal)
    if row.kind != InvoiceKind.INVOICE or row.status != DraftStatus.ISSUED:
        raise Problem(409, f"only an issued invoice can be credited; this one is {row.kind.value} {row.status.value}")
    bad = [i for i in body.line_indexes or () if i >= len(row.lines) or row.lines[i].get("removed")]
    if bad:
        raise Problem(422, f"line_indexes: invoice {row.number} has no line {bad[0]}",
                      errors=[{"field": "line_indexes", "message": f"no line {bad[0]}"}])  # fmt: skip
    wanted = body.line_indexes if body.line_indexes is not None else [i for i, x in enumerate(row.lines)
                                                                      if not x.get("removed")]  # fmt: skip
    credited = credited_lines(session, row)
    if again := sorted(set(wanted) & credited):
        raise Problem(409, f"line {again[0]} of {row.number} is already credited")
    session.rollback()
    draft_id = uuid.uuid4()
    inp = billing_client.new_credit_note_input(draft_id, row.tenant_id, row.customer_number, row.period, row.id,
                                               body.line_indexes, body.reason, principal.user_id)  # fmt: skip
    workflow_id = await billing_client.start_credit_note(client, inp, row.number)
    url = str(request.url_for("get_invoice", invoice_id=draft_id))
    started = CreditNoteStarted(id=draft_id, workflow_id=workflow_id, credit_of=row.number)
    return JSONResponse(started.model_dump(mode="json"), status_code=202, headers={"Location": url})

