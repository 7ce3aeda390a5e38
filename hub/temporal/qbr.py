"""Client calls of the quarterly business review: build one customer's deck (attach to a build still open), start
the quarterly run for all customers and read its progress, and the quarterly Temporal Schedule."""

from temporalio.client import (
    Client,
    Schedule,
    ScheduleCalendarSpec,
    ScheduleRange,
)

from domain.contracts.qbr import QBR_SCHEDULE_TZ, QbrInput, QbrRunInput, QbrRunProgress, QbrTickInput
from domain.processes import (
    QBR_SCHEDULE_ID,
    REPORTS_TASK_QUEUE,
    qbr_run_workflow_id,
    qbr_search_attributes,
    qbr_workflow_id,
)
from hub.temporal.runs import batch_progress, ensure_schedule, start_or_attach, tick_schedule
from workflows.qbr.review import QbrWorkflow
from workflows.qbr.run import QbrRunWorkflow, QbrScheduleTickWorkflow


async def start_qbr(client: Client, inp: QbrInput, *, attach: bool = True) -> str:
    """Build one customer's deck: `qbr-<customer>-<YYYY>-Q<n>`. Returns the workflow id. A rebuild (inp.version
    above the stored one) passes attach=False: attached to a running build its version would be lost."""
    search_attributes = qbr_search_attributes(inp.customer_number, inp.quarter)
    workflow_id = qbr_workflow_id(inp.customer_number, inp.quarter)
    return await start_or_attach(client, QbrWorkflow.run, inp, workflow_id, REPORTS_TASK_QUEUE, attach=attach,
                                 search_attributes=search_attributes)  # fmt: skip


async def start_qbr_run(client: Client, inp: QbrRunInput) -> str:
    """The run of a quarter for all (or the named) customers: `qbr-run-<YYYY>-Q<n>`."""
    return await start_or_attach(client, QbrRunWorkflow.run, inp, qbr_run_workflow_id(inp.quarter), REPORTS_TASK_QUEUE)


async def qbr_run_progress(client: Client, quarter: str) -> tuple[QbrRunProgress, str]:
    """The run's progress (query; its result once ended) and its Temporal status name."""
    workflow_id, empty = qbr_run_workflow_id(quarter), QbrRunProgress(quarter=quarter)
    what, ended = f"QBR run {quarter}", f"no QBR run for {quarter}"
    return await batch_progress(client, workflow_id, QbrRunWorkflow.progress, QbrRunProgress, empty, what, ended)


def qbr_schedule() -> Schedule:
    """06:00 Europe/Berlin on the first seven days of each quarter's first month; the tick acts on the first working
    day only (a calendar spec cannot say "first working day"), so at most one run per quarter is started."""
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(0),),
        hour=(ScheduleRange(6),),
        day_of_month=(ScheduleRange(1, 7),),
        month=(ScheduleRange(1, 10, 3),),
        comment="QBR run of the quarter before, on the quarter's first working day",
    )
    tick, zone = QbrTickInput(timezone=QBR_SCHEDULE_TZ), QBR_SCHEDULE_TZ
    return tick_schedule(QbrScheduleTickWorkflow.run, tick, QBR_SCHEDULE_ID, REPORTS_TASK_QUEUE, calendar, zone)


async def ensure_qbr_schedule(client: Client, *, paused: bool = False) -> str:
    """Create the schedule `qbr-quarterly`, or bring an existing one to this shape keeping a pause someone set
    (idempotent: `psa temporal setup`, `psa dev` and worker start call it)."""
    return await ensure_schedule(client, QBR_SCHEDULE_ID, qbr_schedule(), paused=paused)
