"""Client calls of the billing processes: start a month's run (attach to an open one), its progress, finance's
decisions on an invoice (updates), credit notes, and the monthly Temporal Schedule."""

from datetime import timedelta
from uuid import UUID

from temporalio.client import (
    Client,
    ScheduleCalendarSpec,
    ScheduleRange,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts.billing import (
    AdjustLineRequest,
    ApproveRequest,
    BillingRunInput,
    DraftSummary,
    InvoiceInput,
    InvoiceKind,
    InvoiceState,
    RecomposeRequest,
    RejectRequest,
    RunProgress,
    ScheduleTickInput,
)
from domain.processes import (
    BILLING_SCHEDULE_ID,
    BILLING_TASK_QUEUE,
    billing_workflow_id,
    credit_note_workflow_id,
    invoice_search_attributes,
)
from hub.temporal.errors import WorkflowRejected, workflow_call
from hub.temporal.runs import batch_progress, ensure_schedule, tick_schedule
from workflows.billing.invoice import InvoiceWorkflow
from workflows.billing.run import BillingRunWorkflow, BillingScheduleTickWorkflow

UPDATE_TIMEOUT = timedelta(seconds=30)
SCHEDULE_TZ = "Europe/Berlin"


async def start_run(client: Client, inp: BillingRunInput) -> str:
    """Start `billing-<month>`, or attach to the run of that month that is still open. A run of a month that has
    ended is started again (it issues nothing twice: issued drafts stay as they are). Returns the workflow id."""
    workflow_id = billing_workflow_id(inp.month)
    async with workflow_call(f"billing run {inp.month}", ended="the run has ended"):
        await client.start_workflow(
            BillingRunWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=BILLING_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    return workflow_id


async def run_progress(client: Client, month: str) -> tuple[RunProgress, str]:
    """The run's progress (query; from its result once it has ended) and its Temporal status name."""
    workflow_id, empty = billing_workflow_id(month), RunProgress(month=month)
    what, ended = f"billing run {month}", f"no billing run for {month}"
    return await batch_progress(client, workflow_id, BillingRunWorkflow.progress, RunProgress, empty, what, ended)


async def invoice_state(client: Client, workflow_id: str) -> InvoiceState | None:
    """The live state of an invoice workflow; None once it has ended (the database row is the record then)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with workflow_call(f"invoice {workflow_id}", ended="the invoice workflow has ended"):
            return await handle.query(InvoiceWorkflow.state)
    except WorkflowRejected:
        return None


async def approve(client: Client, workflow_id: str, req: ApproveRequest) -> DraftSummary:
    async with workflow_call(f"invoice {workflow_id}", ended="the invoice is no longer waiting for approval"):
        return await client.get_workflow_handle(workflow_id).execute_update(
            InvoiceWorkflow.approve, req, rpc_timeout=UPDATE_TIMEOUT
        )


async def reject(client: Client, workflow_id: str, req: RejectRequest) -> DraftSummary:
    async with workflow_call(f"invoice {workflow_id}", ended="the invoice is no longer waiting for a decision"):
        return await client.get_workflow_handle(workflow_id).execute_update(
            InvoiceWorkflow.reject, req, rpc_timeout=UPDATE_TIMEOUT
        )


async def adjust_line(client: Client, workflow_id: str, req: AdjustLineRequest) -> DraftSummary:
    async with workflow_call(f"invoice {workflow_id}", ended="the invoice is no longer a draft"):
        return await client.get_workflow_handle(workflow_id).execute_update(
            InvoiceWorkflow.adjust_line, req, rpc_timeout=UPDATE_TIMEOUT
        )


async def recompose(client: Client, workflow_id: str, req: RecomposeRequest) -> None:
    async with workflow_call(f"invoice {workflow_id}", ended="the invoice is no longer a draft"):
        await client.get_workflow_handle(workflow_id).execute_update(
            InvoiceWorkflow.recompose, req, rpc_timeout=UPDATE_TIMEOUT
        )


async def start_credit_note(client: Client, inp: InvoiceInput, invoice_number: str) -> str:
    """Start the credit note's workflow (drafted, approved by whoever asked, issued in its own series)."""
    if inp.kind != InvoiceKind.CREDIT_NOTE or inp.credit_of is None:
        raise ValueError("a credit note needs kind credit_note and the invoice it corrects")
    workflow_id = credit_note_workflow_id(invoice_number, inp.draft_id)
    async with workflow_call(f"credit note for {invoice_number}", ended="the credit note workflow has ended"):
        await client.start_workflow(
            InvoiceWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=BILLING_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=invoice_search_attributes(inp.customer_number, inp.month),
        )
    return workflow_id


async def ensure_billing_schedule(client: Client, *, paused: bool = False) -> str:
    """The schedule `billing-monthly`: on the 1st of each month at 03:00 Europe/Berlin it starts the run of the month
    before. Created if missing, brought to this shape if it exists (idempotent at `psa temporal setup` and worker
    start); a tick while the last is still running is skipped."""
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(0),),
        hour=(ScheduleRange(3),),
        day_of_month=(ScheduleRange(1),),
        comment="billing run of the month before",
    )
    tick = ScheduleTickInput(timezone=SCHEDULE_TZ)
    schedule = tick_schedule(BillingScheduleTickWorkflow.run, tick, BILLING_SCHEDULE_ID, BILLING_TASK_QUEUE, calendar,
                             SCHEDULE_TZ)  # fmt: skip
    return await ensure_schedule(client, BILLING_SCHEDULE_ID, schedule, paused=paused)


async def billing_schedule_exists(client: Client) -> bool:
    try:
        await client.get_schedule_handle(BILLING_SCHEDULE_ID).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def new_credit_note_input(
    draft_id: UUID, tenant_id: UUID, customer_number: str, month: str, invoice_id: UUID,
    lines: list[int] | None, reason: str, requested_by: UUID,
) -> InvoiceInput:  # fmt: skip
    return InvoiceInput(draft_id=draft_id, tenant_id=tenant_id, customer_number=customer_number, month=month,
                        kind=InvoiceKind.CREDIT_NOTE, credit_of=invoice_id, credit_line_indexes=lines, reason=reason,
                        requested_by=requested_by)  # fmt: skip
