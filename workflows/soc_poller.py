"""SOC poller: `soc-poll-<source>-<tenant>`, one short run per schedule tick and integration.

Each run reads pages (activity `soc.poll_page`: fetch one page from the persisted cursor, hand every alert
to its incident workflow, then persist the cursor) until the vendor has no more pages or `max_pages` were read,
and completes; the next tick continues from the persisted cursor. The workflow holds no cursor and does no
I/O. `ensure_poll_schedule` creates or updates the Temporal Schedule that starts it (overlap: skip), paused or
not; `pause_poll_schedule` pauses it (hub/soc_schedules.py decides which, from the integration).
"""

from datetime import timedelta
from uuid import UUID

from temporalio import workflow
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
)
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

with workflow.unsafe.imports_passed_through():
    from domain.soc.polling import (
        PollPageRequest,
        PollPageResult,
        SocPollActivity,
        SocPollInput,
        SocPollResult,
        poll_workflow_id,
    )
    from workflows.common import CUSTOMER_ID, PROCESS, SOC_TASK_QUEUE

PROCESS_NAME = "soc-poll"
# A vendor outage is ridden out with backoff for about 15 minutes, then the run fails visibly; the schedule's
# next tick starts again from the persisted cursor. Non-retryable errors (auth, config) fail at once.
POLL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)
PAGE_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name="SocPoller")
class SocPollerWorkflow:
    @workflow.run
    async def run(self, inp: SocPollInput) -> SocPollResult:
        workflow.upsert_search_attributes([PROCESS.value_set(PROCESS_NAME)])
        result = SocPollResult(integration_id=inp.integration_id)
        request = PollPageRequest(
            integration_id=inp.integration_id,
            initial_lookback_hours=inp.initial_lookback_hours,
            page_size=inp.page_size,
        )
        while result.pages < inp.max_pages:
            page = await self._page(request, result)
            if result.customer_number is None:
                result.customer_number = page.customer_number
                workflow.upsert_search_attributes([CUSTOMER_ID.value_set(page.customer_number)])
                workflow.upsert_memo({"summary": f"SOC poll {page.source} [{page.customer_number}]"})
            if page.inactive:
                result.inactive = True
                break
            result.pages += 1
            result.fetched += page.fetched
            result.handed_over += page.handed_over
            result.skipped += page.skipped
            result.has_more = page.has_more
            if not page.has_more:
                break
        return result

    async def _page(self, request: PollPageRequest, result: SocPollResult) -> PollPageResult:
        try:
            return await workflow.execute_activity(
                SocPollActivity.POLL_PAGE,
                request,
                result_type=PollPageResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                retry_policy=POLL_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                # The vendor's or config's own words on the run, not a generic "activity task failed".
                raise ApplicationError(
                    f"SOC poll of integration {request.integration_id} failed after {result.pages} page(s): "
                    f"{cause.message}",
                    type=cause.type,
                    non_retryable=True,
                ) from err
            raise


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
    attributes = [SearchAttributePair(PROCESS, PROCESS_NAME)]
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
