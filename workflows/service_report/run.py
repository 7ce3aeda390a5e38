"""The monthly service report run `service-report-run-<YYYY-MM>`: one child `service-report-<customer>-<YYYY-MM>`
per customer with a contract in the month, a few at once (`workflows/customer_runs.py`); progress as a query and in
the memo `summary`. A customer whose report fails is counted and does not hold up the others.

And `ServiceReportScheduleTick`, what the Temporal Schedule starts on the 2nd of each month: the run of the month
before (in the schedule's zone), started once (a second tick of the same month finds it)."""

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from domain.contracts.qbr import CustomerRef
from domain.contracts.service_report import (
    ServiceReportActivity,
    ServiceReportInput,
    ServiceReportRunInput,
    ServiceReportRunProgress,
    ServiceReportTickInput,
)
from domain.processes import (
    PROCESS,
    REPORT_PERIOD,
    REPORTS_TASK_QUEUE,
    SERVICE_REPORT_RUN_PROCESS,
    service_report_run_workflow_id,
    service_report_search_attributes,
    service_report_workflow_id,
)
from domain.qbr.period import month_before
from workflows.customer_runs import CustomerRun
from workflows.policies import DB_RETRY, DB_TIMEOUT
from workflows.service_report.report import ServiceReportWorkflow


@workflow.defn(name="ServiceReportRun")
class ServiceReportRunWorkflow(CustomerRun):
    def __init__(self) -> None:
        super().__init__()
        self._progress = ServiceReportRunProgress(month="")

    @workflow.run
    async def run(self, inp: ServiceReportRunInput) -> ServiceReportRunProgress:
        self._progress = ServiceReportRunProgress(month=inp.month)
        workflow.upsert_search_attributes(
            [PROCESS.value_set(SERVICE_REPORT_RUN_PROCESS), REPORT_PERIOD.value_set([inp.month])]
        )
        customers: list[CustomerRef] = await workflow.execute_activity(
            ServiceReportActivity.LIST_CUSTOMERS,
            inp,
            result_type=list[CustomerRef],
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        await self._each_customer(customers, lambda customer: self._report(inp.month, customer))
        return self._progress

    async def _report(self, month: str, customer: CustomerRef) -> None:
        await workflow.execute_child_workflow(
            ServiceReportWorkflow.run,
            ServiceReportInput(
                tenant_id=customer.tenant_id,
                customer_number=customer.customer_number,
                customer_name=customer.name,
                month=month,
            ),  # fmt: skip
            id=service_report_workflow_id(customer.customer_number, month),
            task_queue=REPORTS_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=service_report_search_attributes(customer.customer_number, month),
        )

    def _summary(self) -> str:
        return f"Service report run {self._progress.month}: {self._progress.label()}"

    @workflow.query
    def progress(self) -> ServiceReportRunProgress:
        return self._progress


@workflow.defn(name="ServiceReportScheduleTick")
class ServiceReportScheduleTickWorkflow:
    @workflow.run
    async def run(self, inp: ServiceReportTickInput) -> str:
        month = str(month_before(workflow.now(), inp.timezone))
        workflow_id = service_report_run_workflow_id(month)
        try:
            await workflow.start_child_workflow(
                ServiceReportRunWorkflow.run,
                ServiceReportRunInput(month=month, customer_numbers=inp.customer_numbers),
                id=workflow_id,
                task_queue=REPORTS_TASK_QUEUE,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except WorkflowAlreadyStartedError:
            return f"{workflow_id} was already started"
        return f"{workflow_id} started"
