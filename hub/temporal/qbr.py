"""Client calls of the quarterly business review: build one customer's deck (attach to a build still open), start
the quarterly run for all customers and read its progress, and the quarterly Temporal Schedule."""

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.contracts.qbr import QBR_SCHEDULE_TZ, QbrInput, QbrRunInput, QbrRunProgress, QbrTickInput
from domain.processes import (
    QBR_SCHEDULE_ID,
    REPORTS_TASK_QUEUE,
    qbr_run_workflow_id,
    qbr_search_attributes,
    qbr_workflow_id,
)
from hub.temporal.errors import workflow_call
from workflows.qbr.review import QbrWorkflow
from workflows.qbr.run import QbrRunWorkflow, QbrScheduleTickWorkflow


async def start_qbr(client: Client, inp: QbrInput) -> str:
    """Start `qbr-<customer>-<YYYY>-Q<n>`, or attach to the build of that quarter still running. A build that has
    ended is started again: it finds its stored files and writes nothing twice. Returns the workflow id."""
    workflow_id = qbr_workflow_id(inp.customer_number, inp.quarter)
    async with workflow_call(f"QBR {workflow_id}", ended="the QBR build has ended"):
        await client.start_workflow(
            QbrWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=REPORTS_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=qbr_search_attributes(inp.customer_number, inp.quarter),
        )
    return workflow_id


async def start_qbr_run(client: Client, inp: QbrRunInput) -> str:
    workflow_id = qbr_run_workflow_id(inp.quarter)
    async with workflow_call(f"QBR run {inp.quarter}", ended="the QBR run has ended"):
        await client.start_workflow(
            QbrRunWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=REPORTS_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    return workflow_id


async def qbr_run_progress(client: Client, quarter: str) -> tuple[QbrRunProgress, str]:
    """The run's progress (query; its result once ended) and its Temporal status name."""
    handle = client.get_workflow_handle(qbr_run_workflow_id(quarter), result_type=QbrRunProgress)
    async with workflow_call(f"QBR run {quarter}", ended=f"no QBR run for {quarter}"):
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            return await handle.query(QbrRunWorkflow.progress), "running"
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result(), "completed"
        return QbrRunProgress(quarter=quarter), description.status.name.lower()


def qbr_schedule() -> Schedule:
    """06:00 Europe/Berlin on the first seven days of each quarter's first month; the tick acts on the first working
    day only (a calendar spec cannot say "first working day"), so at most one run per quarter is started."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            QbrScheduleTickWorkflow.run,
            QbrTickInput(timezone=QBR_SCHEDULE_TZ),
            id=QBR_SCHEDULE_ID,
            task_queue=REPORTS_TASK_QUEUE,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    second=(ScheduleRange(0),),
                    minute=(ScheduleRange(0),),
                    hour=(ScheduleRange(6),),
                    day_of_month=(ScheduleRange(1, 7),),
                    month=(ScheduleRange(1, 10, 3),),
                    comment="QBR run of the quarter before, on the quarter's first working day",
                )
            ],
            time_zone_name=QBR_SCHEDULE_TZ,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_qbr_schedule(client: Client, *, paused: bool = False) -> str:
    """Create the schedule `qbr-quarterly`, or bring an existing one to this shape keeping a pause someone set
    (idempotent: `psa temporal setup`, `psa dev` and worker start call it)."""
    schedule = qbr_schedule()
    if paused:
        schedule.state.paused = True
    try:
        await client.create_schedule(QBR_SCHEDULE_ID, schedule)
        return QBR_SCHEDULE_ID
    except ScheduleAlreadyRunningError:
        pass

    def updater(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = current.description.schedule.state
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(QBR_SCHEDULE_ID).update(updater)
    return QBR_SCHEDULE_ID
