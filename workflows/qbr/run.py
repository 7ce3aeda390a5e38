"""The quarterly QBR run `qbr-run-<YYYY>-Q<n>`: one child `qbr-<customer>-<YYYY>-Q<n>` per customer with a contract
in the quarter, a few at once (`workflows/customer_runs.py`); progress as a query and in the memo `summary`. A
customer whose deck fails is counted and does not hold up the others.

And `QbrScheduleTick`, what the Temporal Schedule starts on the first seven days of January, April, July and
October: on the first working day of the quarter (the MSP's holidays) it starts the run of the quarter before;
on the other days it does nothing (a calendar spec cannot say "first working day")."""

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec
from domain.contracts.billing import local_day
from domain.contracts.qbr import CustomerRef, QbrActivity, QbrInput, QbrRunInput, QbrRunProgress, QbrTickInput
from domain.processes import (
    PROCESS,
    QBR_RUN_PROCESS,
    REPORT_PERIOD,
    REPORTS_TASK_QUEUE,
    qbr_run_workflow_id,
    qbr_search_attributes,
    qbr_workflow_id,
)
from domain.qbr.quarter import quarter_due
from workflows.customer_runs import CustomerRun
from workflows.policies import DB_RETRY, DB_TIMEOUT
from workflows.qbr.review import QbrWorkflow


@workflow.defn(name="QbrRun")
class QbrRunWorkflow(CustomerRun):
    def __init__(self) -> None:
        super().__init__()
        self._progress = QbrRunProgress(quarter="")

    @workflow.run
    async def run(self, inp: QbrRunInput) -> QbrRunProgress:
        self._progress = QbrRunProgress(quarter=inp.quarter)
        workflow.upsert_search_attributes([PROCESS.value_set(QBR_RUN_PROCESS), REPORT_PERIOD.value_set([inp.quarter])])
        customers: list[CustomerRef] = await workflow.execute_activity(
            QbrActivity.LIST_CUSTOMERS,
            inp,
            result_type=list[CustomerRef],
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        await self._each_customer(customers, lambda customer: self._review(inp.quarter, customer))
        return self._progress

    async def _review(self, quarter: str, customer: CustomerRef) -> None:
        await workflow.execute_child_workflow(
            QbrWorkflow.run,
            QbrInput(
                tenant_id=customer.tenant_id,
                customer_number=customer.customer_number,
                customer_name=customer.name,
                quarter=quarter,
            ),  # fmt: skip
            id=qbr_workflow_id(customer.customer_number, quarter),
            task_queue=REPORTS_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=qbr_search_attributes(customer.customer_number, quarter),
        )

    def _summary(self) -> str:
        return f"QBR run {self._progress.quarter}: {self._progress.label()}"

    @workflow.query
    def progress(self) -> QbrRunProgress:
        return self._progress


@workflow.defn(name="QbrScheduleTick")
class QbrScheduleTickWorkflow:
    @workflow.run
    async def run(self, inp: QbrTickInput) -> str:
        today = local_day(workflow.now(), inp.timezone)
        calendar = BusinessCalendar(CalendarSpec(time_zone=inp.timezone, country=inp.country,
                                                 subdivision=inp.subdivision, always_open=True))  # fmt: skip
        due = quarter_due(today, calendar.is_holiday)
        if due is None:
            return f"{today} is not the first working day of its quarter"
        quarter = str(due)
        try:
            await workflow.start_child_workflow(
                QbrRunWorkflow.run,
                QbrRunInput(quarter=quarter),
                id=qbr_run_workflow_id(quarter),
                task_queue=REPORTS_TASK_QUEUE,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except WorkflowAlreadyStartedError:
            return f"{qbr_run_workflow_id(quarter)} was already started"
        return f"{qbr_run_workflow_id(quarter)} started"
