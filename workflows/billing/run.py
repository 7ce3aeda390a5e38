"""The monthly billing run `billing-<YYYY-MM>`: one child `invoice-<customer>-<YYYY-MM>` per customer, at most
`MAX_COMPOSING` composing at once (a child counts until it reports its draft), progress as a query and in the search
attribute `BillingProgress`. The run stays open until every invoice is issued, rejected or has nothing to bill; a bad
customer's draft carries its problem and does not hold up the others.

And `BillingScheduleTick`, what the Temporal Schedule starts on the 1st at 03:00 Europe/Berlin: it starts the run of
the month before (a run of that month already started by hand is left as it is)."""

import asyncio
import uuid

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from domain.contracts.billing import (
    BillingActivity,
    BillingRunInput,
    CustomerRef,
    DraftStatus,
    InvoiceInput,
    InvoiceOutcome,
    ListCustomers,
    RunProgress,
    ScheduleTickInput,
    month_before,
)
from domain.processes import (
    BILLING_PERIOD,
    BILLING_PROCESS,
    BILLING_PROGRESS,
    BILLING_TASK_QUEUE,
    PROCESS,
    billing_workflow_id,
    invoice_search_attributes,
    invoice_workflow_id,
)
from workflows.billing.invoice import InvoiceWorkflow
from workflows.policies import DB_RETRY, DB_TIMEOUT

MAX_COMPOSING = 8
# The draft id of a customer's month is derived, not drawn: a second run of the month finds the same draft.
DRAFT_NAMESPACE = uuid.UUID("5d0f4f0e-7a43-4c39-9d56-2b8c3f6a1e42")
PROGRESS_EVERY = 10  # upsert the progress attribute every N changes (and at the end): fewer history events


def draft_id_for(tenant_id: uuid.UUID, month: str) -> uuid.UUID:
    return uuid.uuid5(DRAFT_NAMESPACE, f"{tenant_id}/{month}")


@workflow.defn(name="BillingRun")
class BillingRunWorkflow:
    def __init__(self) -> None:
        self._progress = RunProgress(month="")
        self._status: dict[str, DraftStatus] = {}  # customer number -> last reported status
        self._counts: dict[DraftStatus, int] = dict.fromkeys(DraftStatus, 0)  # customers per status in _status
        self._composing: set[str] = set()
        self._changes = 0
        self._start_failure: Exception | None = None

    @workflow.run
    async def run(self, inp: BillingRunInput) -> RunProgress:
        self._progress = RunProgress(month=inp.month, dry_run=inp.dry_run)
        workflow.upsert_search_attributes([PROCESS.value_set(BILLING_PROCESS), BILLING_PERIOD.value_set(inp.month)])
        customers: list[CustomerRef] = await workflow.execute_activity(
            BillingActivity.LIST_CUSTOMERS,
            ListCustomers(month=inp.month, customer_numbers=inp.customer_numbers),
            result_type=list[CustomerRef],
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._progress.total = len(customers)
        self._show_progress(force=True)
        waits = []
        for customer in customers:
            # A freed slot is taken in the same workflow task that saw it freed. The start is not awaited here: it
            # takes a round trip through the server, and awaited one at a time the starts, not the children, were
            # the run's bound (one start per workflow task, ~6 customers per second whatever MAX_COMPOSING).
            await workflow.wait_condition(
                lambda: len(self._composing) < MAX_COMPOSING or self._start_failure is not None
            )
            if self._start_failure is not None:
                raise self._start_failure
            self._composing.add(customer.customer_number)
            waits.append(asyncio.create_task(self._bill(inp, customer)))
        await asyncio.gather(*waits)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._progress.finished = True
        self._show_progress(force=True)
        return self._progress

    async def _start(self, inp: BillingRunInput, customer: CustomerRef):  # noqa: ANN202
        child_input = InvoiceInput(
            draft_id=draft_id_for(customer.tenant_id, inp.month),
            tenant_id=customer.tenant_id,
            customer_number=customer.customer_number,
            month=inp.month,
            dry_run=inp.dry_run,
            parent_workflow_id=workflow.info().workflow_id,
            requested_by=inp.started_by,
            reminder_days=inp.reminder_days,
        )
        return await workflow.start_child_workflow(
            InvoiceWorkflow.run,
            child_input,
            id=invoice_workflow_id(customer.customer_number, inp.month),
            task_queue=BILLING_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=invoice_search_attributes(customer.customer_number, inp.month),
        )

    async def _bill(self, inp: BillingRunInput, customer: CustomerRef) -> None:
        try:
            child = await self._start(inp, customer)
        except Exception as err:
            self._start_failure = self._start_failure or err  # the run fails with it, as if it had been awaited
            raise
        await self._outcome(customer.customer_number, child)

    async def _outcome(self, customer_number: str, child) -> None:  # noqa: ANN001
        """A child's end frees its slot at once; a child that waits for finance says so by signal before."""
        try:
            outcome: InvoiceOutcome = await child
        except ChildWorkflowError:
            outcome = None  # its failure is in its own history; the others go on
        self._record(customer_number, outcome.status if outcome else DraftStatus.FAILED)

    @workflow.signal
    def invoice_changed(self, outcome: InvoiceOutcome) -> None:
        self._record(outcome.customer_number, outcome.status)

    def _record(self, customer_number: str, status: DraftStatus) -> None:
        self._composing.discard(customer_number)
        previous = self._status.get(customer_number)
        if previous == status:
            return
        self._status[customer_number] = status
        counts = self._counts  # kept as the statuses change: recounting all customers each time grew quadratically
        if previous is not None:
            counts[previous] -= 1
        counts[status] += 1
        p = self._progress
        p.drafted, p.issued, p.failed = (
            counts[DraftStatus.DRAFT],
            counts[DraftStatus.ISSUED],
            counts[DraftStatus.FAILED],
        )
        p.rejected, p.nothing = counts[DraftStatus.REJECTED], counts[DraftStatus.NOTHING]
        self._changes += 1
        self._show_progress()

    def _show_progress(self, force: bool = False) -> None:
        if force or self._changes % PROGRESS_EVERY == 0:
            workflow.upsert_search_attributes([BILLING_PROGRESS.value_set(self._progress.label())])

    @workflow.query
    def progress(self) -> RunProgress:
        return self._progress


@workflow.defn(name="BillingScheduleTick")
class BillingScheduleTickWorkflow:
    @workflow.run
    async def run(self, inp: ScheduleTickInput) -> str:
        month = month_before(workflow.now(), inp.timezone)
        try:
            await workflow.start_child_workflow(
                BillingRunWorkflow.run,
                BillingRunInput(month=month),
                id=billing_workflow_id(month),
                task_queue=BILLING_TASK_QUEUE,
                parent_close_policy=ParentClosePolicy.ABANDON,  # the run outlives this tick by days
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except WorkflowAlreadyStartedError:
            return f"{billing_workflow_id(month)} was already started"
        return f"{billing_workflow_id(month)} started"
