"""The monthly billing run: start it (or attach to the open run of the month), watch its progress, approve every
waiting draft of a month at once. Finance and MSP admins only."""

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import select

from api.deps import BillingWriter, SessionDep, SettingsDep, TemporalDep
from api.problems import Problem
from api.schemas.invoices import ApproveAllResult, RunRequest, RunStarted, RunStatus
from domain.contracts.billing import ApproveRequest, BillingRunInput, DraftStatus, InvoiceKind, parse_month
from domain.contracts.tickets import Actor
from domain.processes import billing_workflow_id
from hub.temporal import billing as billing_client
from hub.temporal.errors import WorkflowRejected
from models import Invoice

router = APIRouter(prefix="/billing/runs", tags=["billing runs"])


# ASCII digits only: int() also reads full-width or Arabic-Indic digits and "2033-1", so without this the routes
# took months the documented YYYY-MM (and the body's pattern) refuse, and "２０３３-０１" started the 2033-01 run.
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def month_or_422(month: str) -> str:
    try:
        if not _MONTH.fullmatch(month):
            raise ValueError(f"{month!r} is not a billing month; expected YYYY-MM, e.g. 2026-11")
        return parse_month(month)
    except ValueError as err:
        raise Problem(422, f"month: {err}", errors=[{"field": "month", "message": str(err)}]) from None


@router.post("", status_code=202, response_model=RunStarted, summary="Start the billing run of a month")
async def start_run(
    body: RunRequest, principal: BillingWriter, client: TemporalDep, settings: SettingsDep, request: Request
):
    inp = BillingRunInput(month=body.month, dry_run=body.dry_run, customer_numbers=body.customer_numbers,
                          started_by=principal.user_id, reminder_days=settings.billing_reminder_days)  # fmt: skip
    workflow_id = await billing_client.start_run(client, inp)
    url = str(request.url_for("run_status", month=body.month))
    started = RunStarted(month=body.month, workflow_id=workflow_id, progress_url=url)
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})


@router.get("/{month}", response_model=RunStatus, summary="Progress of a month's run", name="run_status")
async def run_status(month: str, principal: BillingWriter, client: TemporalDep):
    month = month_or_422(month)
    try:
        progress, status = await billing_client.run_progress(client, month)
    except WorkflowRejected as err:
        raise Problem(404, f"no billing run for {month}") from err
    return RunStatus(workflow_id=billing_workflow_id(month), temporal_status=status,
                     **progress.model_dump(exclude={"month"}), month=month)  # fmt: skip


@router.post("/{month}/approve", response_model=ApproveAllResult, summary="Approve every waiting draft of a month")
async def approve_all(month: str, principal: BillingWriter, session: SessionDep, client: TemporalDep):
    month = month_or_422(month)
    drafts = session.exec(
        select(Invoice)
        .where(Invoice.period == month, Invoice.kind == InvoiceKind.INVOICE, Invoice.status == DraftStatus.DRAFT)
        .order_by(Invoice.customer_number)
    ).all()
    session.rollback()  # nothing to write here: do not hold a read transaction across the updates
    req = ApproveRequest(actor=Actor(user_id=principal.user_id, role=principal.role))
    approved, refused = [], []
    for draft in drafts:
        try:
            await billing_client.approve(client, draft.workflow_id, req)
            approved.append(draft.customer_number)
        except WorkflowRejected as err:
            refused.append({"customer_number": draft.customer_number, "reason": str(err)})
    return ApproveAllResult(approved=approved, refused=refused)
