"""Client calls of the monthly service report: start one customer's report (attach to one still open), start the
month's run for all customers and read its progress, and the monthly Temporal Schedule."""

from temporalio.client import Client, Schedule, ScheduleCalendarSpec, ScheduleRange

from domain.contracts.service_report import (
    SERVICE_REPORT_SCHEDULE_TZ,
    ServiceReportInput,
    ServiceReportRunInput,
    ServiceReportRunProgress,
    ServiceReportTickInput,
)
from domain.processes import (
    REPORTS_TASK_QUEUE,
    SERVICE_REPORT_SCHEDULE_ID,
    service_report_run_workflow_id,
    service_report_search_attributes,
    service_report_workflow_id,
)
from hub.temporal.runs import batch_progress, ensure_schedule, start_or_attach, tick_schedule
from workflows.service_report.report import ServiceReportWorkflow
from workflows.service_report.run import ServiceReportRunWorkflow, ServiceReportScheduleTickWorkflow


async def start_service_report(client: Client, inp: ServiceReportInput) -> str:
    """One customer's report: `service-report-<customer>-<YYYY-MM>`. Returns the workflow id. A second start of an
    ended report runs again and finds the stored PDF and the recorded mails: nobody is mailed twice."""
    workflow_id = service_report_workflow_id(inp.customer_number, inp.month)
    attributes = service_report_search_attributes(inp.customer_number, inp.month)
    return await start_or_attach(client, ServiceReportWorkflow.run, inp, workflow_id, REPORTS_TASK_QUEUE,
                                 search_attributes=attributes)  # fmt: skip


async def start_service_report_run(client: Client, inp: ServiceReportRunInput) -> str:
    """The run of a month for all (or the named) customers: `service-report-run-<YYYY-MM>`."""
    workflow_id = service_report_run_workflow_id(inp.month)
    return await start_or_attach(client, ServiceReportRunWorkflow.run, inp, workflow_id, REPORTS_TASK_QUEUE)


async def service_report_run_progress(client: Client, month: str) -> tuple[ServiceReportRunProgress, str]:
    """The run's progress (query; its result once ended) and its Temporal status name."""
    workflow_id, empty = service_report_run_workflow_id(month), ServiceReportRunProgress(month=month)
    what, ended = f"service report run {month}", f"no service report run for {month}"
    return await batch_progress(client, workflow_id, ServiceReportRunWorkflow.progress, ServiceReportRunProgress,
                                empty, what, ended)  # fmt: skip


def service_report_schedule() -> Schedule:
    """06:00 Europe/Berlin on the 2nd of each month: the run of the month before (the 2nd, so the last day's time
    entries and tickets are in)."""
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(0),),
        hour=(ScheduleRange(6),),
        day_of_month=(ScheduleRange(2),),
        comment="Monthly service reports of the month before",
    )
    tick, zone = ServiceReportTickInput(timezone=SERVICE_REPORT_SCHEDULE_TZ), SERVICE_REPORT_SCHEDULE_TZ
    return tick_schedule(ServiceReportScheduleTickWorkflow.run, tick, SERVICE_REPORT_SCHEDULE_ID, REPORTS_TASK_QUEUE,
                         calendar, zone)  # fmt: skip


async def ensure_service_report_schedule(client: Client, *, paused: bool = False) -> str:
    """Create the schedule `service-report-monthly`, or bring an existing one to this shape keeping a pause someone
    set (idempotent: `psa temporal setup`, `psa dev` and worker start call it)."""
    return await ensure_schedule(client, SERVICE_REPORT_SCHEDULE_ID, service_report_schedule(), paused=paused)
