"""`ticket-start-sweep`, every minute (Temporal Schedule): start the workflow of each ticket whose row was written
but whose start Temporal has not confirmed (`hub.tickets.intake`)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.contracts.tickets import TicketActivity
from domain.processes import PROCESS, TICKET_START_SWEEP_PROCESS

# The next sweep comes in a minute: a failed one is not retried for long.
SWEEP_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)


@workflow.defn(name="TicketStartSweep")
class TicketStartSweepWorkflow:
    @workflow.run
    async def run(self) -> int:
        workflow.upsert_search_attributes([PROCESS.value_set(TICKET_START_SWEEP_PROCESS)])
        return await workflow.execute_activity(
            TicketActivity.START_PENDING,
            result_type=int,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=SWEEP_RETRY,
        )
