"""SOC poller: `soc-poll-<source>-<tenant>`, one short run per schedule tick and integration.

Each run reads pages (activity `soc.poll_page`: fetch one page from the persisted cursor, hand every alert
to its incident workflow, record old threats' updates, quarantine unreadable items, then persist the cursor)
until the vendor has no more pages or `max_pages` were read, and completes; the next tick continues from the
persisted cursor. The workflow holds no cursor and does no I/O. The schedule that starts it is managed by
`hub/temporal/soc.py`.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.contracts.soc import PollPageRequest, PollPageResult, SocActivity, SocPollInput, SocPollResult
from domain.processes import CUSTOMER_ID, PROCESS, SOC_POLL_PROCESS

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
        workflow.upsert_search_attributes([PROCESS.value_set(SOC_POLL_PROCESS)])
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
            result.add(page)
            result.has_more = page.has_more
            if not page.has_more:
                break
        return result

    async def _page(self, request: PollPageRequest, result: SocPollResult) -> PollPageResult:
        try:
            return await workflow.execute_activity(
                SocActivity.POLL_PAGE,
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
