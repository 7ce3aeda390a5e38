"""SLA re-pin batch `sla-repin-<tenant|all>-<time>`: pages through the open tickets with an SLA (activity) and
signals each ticket workflow to re-pin itself; every ticket records its own outcome as a ticket event."""

import asyncio
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.roles import Role
    from domain.sla_repin import (
        LIST_REPIN_CANDIDATES,
        RepinBatchInput,
        RepinBatchResult,
        RepinCandidates,
    )
    from domain.tickets import Actor, RepinSlaRequest
    from workflows.common import PROCESS, ticket_workflow_id

PAGES_PER_RUN = 10  # continue-as-new after this many pages: the history stays small for any number of tickets
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name="SlaRepinBatch")
class SlaRepinBatchWorkflow:
    @workflow.run
    async def run(self, inp: RepinBatchInput) -> RepinBatchResult:
        workflow.upsert_search_attributes([PROCESS.value_set("sla-repin")])
        request = RepinSlaRequest(actor=Actor(user_id=inp.actor_user_id, role=Role.MSP_ADMIN))
        cursor, signalled, skipped = inp.after_ticket_id, inp.signalled, inp.skipped
        for _ in range(PAGES_PER_RUN):
            ids: list[UUID] = await workflow.execute_activity(
                LIST_REPIN_CANDIDATES,
                RepinCandidates(tenant_id=inp.tenant_id, after_ticket_id=cursor),
                result_type=list[UUID],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
            if not ids:
                return RepinBatchResult(signalled=signalled, skipped=skipped)
            results = await asyncio.gather(*(self._signal(i, request) for i in ids))
            signalled += sum(results)
            skipped += len(results) - sum(results)
            cursor = ids[-1]
        workflow.continue_as_new(
            inp.model_copy(update={"after_ticket_id": cursor, "signalled": signalled, "skipped": skipped})
        )

    @staticmethod
    async def _signal(ticket_id: UUID, request: RepinSlaRequest) -> bool:
        handle = workflow.get_external_workflow_handle(ticket_workflow_id(ticket_id))
        try:
            await handle.signal("repin_sla_requested", request)
        except FailureError:
            return False  # the ticket's workflow finished since the page was read
        return True
