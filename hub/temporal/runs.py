"""Client calls that every batch process shares: the start of a per-period workflow (attach to its open run), the
progress of a run (its query while it runs, its result once it
has completed), and the upkeep of a Temporal Schedule (created if missing, else brought to the given shape keeping a
pause someone set)."""

from collections.abc import Callable
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from hub.temporal.errors import WorkflowRejected, workflow_call

P = TypeVar("P")


async def start_or_attach(
    client: Client, run: Callable, inp: Any, workflow_id: str, task_queue: str, *, attach: bool = True, **options: Any
) -> str:
    """Start `workflow_id`, or attach to its run still open; one that has ended is started again (it finds what it
    stored and writes nothing twice). `attach=False`: a run still open is a conflict (WorkflowRejected)."""
    conflict = WorkflowIDConflictPolicy.USE_EXISTING if attach else WorkflowIDConflictPolicy.FAIL
    try:
        async with workflow_call(workflow_id, ended=f"{workflow_id} has ended"):
            await client.start_workflow(
                run,
                inp,
                id=workflow_id,
                task_queue=task_queue,
                id_conflict_policy=conflict,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                **options,
            )
    except WorkflowAlreadyStartedError as err:
        raise WorkflowRejected(f"{workflow_id} is running: try again when it has ended", "AlreadyRunning") from err
    return workflow_id


async def batch_progress(
    client: Client, workflow_id: str, query: Callable, result_type: type[P], empty: P, what: str, ended: str
) -> tuple[P, str]:
    """The run's progress and its Temporal status name (lower case); `empty` for a run that failed or was ended."""
    handle = client.get_workflow_handle(workflow_id, result_type=result_type)
    async with workflow_call(what, ended=ended):
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            return await handle.query(query), description.status.name.lower()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result(), "completed"
        return empty, description.status.name.lower()


def tick_schedule(
    run: Callable, arg: Any, schedule_id: str, task_queue: str, calendar: ScheduleCalendarSpec, time_zone: str
) -> Schedule:
    """A schedule that starts the tick workflow `run(arg)` at `calendar` in `time_zone`; a tick while the last one
    still runs is skipped."""
    return Schedule(
        action=ScheduleActionStartWorkflow(run, arg, id=schedule_id, task_queue=task_queue),
        spec=ScheduleSpec(calendars=[calendar], time_zone_name=time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule, *, paused: bool = False) -> str:
    """Create `schedule_id`, or bring an existing one to `schedule` keeping its pause state (idempotent: called at
    `psa temporal setup`, `psa dev` and worker start)."""
    if paused:
        schedule.state.paused = True
    try:
        await client.create_schedule(schedule_id, schedule)
        return schedule_id
    except ScheduleAlreadyRunningError:
        pass

    def updater(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = current.description.schedule.state  # keep a pause someone set
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(schedule_id).update(updater)
    return schedule_id
