"""Client calls of the SOC processes: hand alerts over to their incident (update-with-start), a person's decisions
on an incident (updates), its live state (query), and the Temporal Schedules that start the vendor pollers."""

from datetime import timedelta
from uuid import UUID

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WithStartWorkflowOperation,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts.soc import (
    Acknowledgement,
    ContainmentDecision,
    ContainmentProposal,
    IncidentAlert,
    IncidentInput,
    IncidentState,
    PagingState,
    SocPollInput,
)
from domain.processes import (
    CUSTOMER_ID,
    PROCESS,
    SOC_POLL_PROCESS,
    SOC_TASK_QUEUE,
    incident_workflow_id,
    poll_workflow_id,
)
from domain.soc.alerts import correlation_key
from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable, workflow_call
from workflows.soc.incident import IncidentWorkflow
from workflows.soc.poller import SocPollerWorkflow


async def hand_over_and_wait(
    client: Client, items: list[IncidentAlert], wait: timedelta = timedelta(seconds=60), attempts: int = 3
) -> str | None:
    """The hand-over of the webhook inbox and the pollers: update-with-start of `incident-<key>` (`take_alerts`) that
    returns once the incident has handled the alerts, so the caller's limit on hand-overs at once limits the work queued
    in Temporal. The incident is started if no run is open. Returns the workflow id, or None when every attempt met a
    start race (the time-skipping test server answers "already started" when two hand-overs start the same incident at
    one moment; the next attempt reaches the running incident). Raises when the run is closing
    (`WorkflowUpdateFailedError`) or the answer takes longer than `wait`: the alerts stay with the caller, whose retry
    the incident de-duplicates."""
    key = _one_incident(items)
    workflow_id = incident_workflow_id(key)
    for _ in range(attempts):
        start = WithStartWorkflowOperation(
            IncidentWorkflow.run,
            IncidentInput(key=key),
            id=workflow_id,
            task_queue=SOC_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            await client.execute_update_with_start_workflow(
                IncidentWorkflow.take_alerts, items, start_workflow_operation=start, rpc_timeout=wait
            )
            return workflow_id
        except WorkflowAlreadyStartedError:
            continue
    return None


def _one_incident(items: list[IncidentAlert]) -> str:
    key = correlation_key(items[0].alert, items[0].customer_number)
    if any(correlation_key(i.alert, i.customer_number) != key for i in items[1:]):
        raise ValueError("a hand-over takes the alerts of one incident")
    return key


async def acknowledge_page(client: Client, key: str, ack: Acknowledgement) -> PagingState:
    """Acknowledge the on-call page of a P1 incident. Raises `WorkflowRejected` / `WorkflowUnavailable`."""
    handle = client.get_workflow_handle(incident_workflow_id(key))
    async with workflow_call(f"incident {key}", ended="the incident is closed; nothing to acknowledge"):
        return await handle.execute_update(IncidentWorkflow.acknowledge, ack, rpc_timeout=timedelta(seconds=30))


async def decide_containment(client: Client, key: str, decision: ContainmentDecision) -> ContainmentProposal:
    """Approve or reject the proposed containment; approval runs the vendor action before the answer."""
    handle = client.get_workflow_handle(incident_workflow_id(key))
    async with workflow_call(f"incident {key}", ended="the incident is closed; nothing to decide"):
        return await handle.execute_update(
            IncidentWorkflow.decide_containment, decision, rpc_timeout=timedelta(seconds=90)
        )


async def incident_state(client: Client, key: str) -> IncidentState | None:
    """The running incident's state; None once it has closed (its row and its ticket keep what happened), or when
    Temporal cannot be asked now: a read then answers from the row instead of failing."""
    try:
        async with workflow_call(f"incident {key}", ended="the incident is closed"):
            return await client.get_workflow_handle(incident_workflow_id(key)).query(IncidentWorkflow.state)
    except (WorkflowRejected, WorkflowUnavailable, RPCError):
        return None


DEFAULT_POLL_INTERVAL = timedelta(minutes=5)


async def ensure_poll_schedule(
    client: Client,
    integration_id: UUID,
    every: timedelta | None = None,
    *,
    source: str,
    customer_number: str | None = None,
    max_pages: int = 10,
    task_queue: str = SOC_TASK_QUEUE,
    paused: bool = False,
    note: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> str:
    """Create, or update in place, the schedule `soc-poll-<source>-<customer_number or integration id>` that
    starts `SocPollerWorkflow` every `every`; a tick while a run is still busy is skipped. Returns its id.

    `every=None` keeps the interval an existing schedule has (a new one gets `DEFAULT_POLL_INTERVAL`): the
    interval lives only in the schedule. `paused` travels inside the create/update itself: a separate
    pause next to an update can be overtaken by it on the server (seen on the dev server); `note` says why.

    `source` and `customer_number` come from the caller (API/CLI), which has the database; this module does
    not import tables. The server appends the tick's time to the workflow id of each run."""
    schedule_id = poll_workflow_id(source, customer_number or str(integration_id))
    attributes = [SearchAttributePair(PROCESS, SOC_POLL_PROCESS)]
    if customer_number:
        attributes.append(SearchAttributePair(CUSTOMER_ID, customer_number))

    def build(interval: timedelta, state: ScheduleState) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(
                SocPollerWorkflow.run,
                SocPollInput(integration_id=integration_id, max_pages=max_pages),
                id=schedule_id,
                task_queue=task_queue,
                typed_search_attributes=TypedSearchAttributes(attributes),
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            state=state,
        )

    try:
        await client.create_schedule(
            schedule_id,
            build(every or DEFAULT_POLL_INTERVAL, ScheduleState(paused=paused, note=note)),
            rpc_timeout=rpc_timeout,
        )
        return schedule_id
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(schedule_id)

    def updater(current: ScheduleUpdateInput) -> ScheduleUpdate:
        intervals = current.description.schedule.spec.intervals
        interval = every or (intervals[0].every if intervals else DEFAULT_POLL_INTERVAL)
        return ScheduleUpdate(schedule=build(interval, ScheduleState(paused=paused, note=note)))

    await handle.update(updater, rpc_timeout=rpc_timeout)
    return schedule_id


async def pause_poll_schedule(
    client: Client,
    source: str,
    customer_number: str,
    *,
    note: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> bool:
    """Pause the poll schedule of this source and customer if there is one; False when there is none."""
    handle = client.get_schedule_handle(poll_workflow_id(source, customer_number))
    try:
        await handle.pause(note=note, rpc_timeout=rpc_timeout)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
