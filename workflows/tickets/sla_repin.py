"""SLA re-pin batch `sla-repin-<tenant|all>-<time>`: pages through the open tickets with an SLA (activity) and
signals each ticket workflow to re-pin itself; every ticket records its own outcome as a ticket event."""

import asyncio
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import FailureError

from domain.contracts.tickets import (
    Actor,
    RepinBatchInput,
    RepinBatchResult,
    RepinCandidates,
    RepinSlaRequest,
    SlaActivity,
)
from domain.processes import PROCESS, SLA_REPIN_PROCESS, ticket_workflow_id
from domain.roles import Role
from workflows.policies import DB_RETRY, DB_TIMEOUT

PAGES_PER_RUN = 10  # continue-as-new after this many pages: the history stays small for any number of tickets


@workflow.defn(name="SlaRepinBatch")
class SlaRepinBatchWorkflow:
    @workflow.run
    async def run(self, inp: RepinBatchInput) -> RepinBatchResult:
        workflow.upsert_search_attributes([PROCESS.value_set(SLA_REPIN_PROCESS)])
        request = RepinSlaRequest(actor=Actor(user_id=inp.actor_user_id, role=Role.MSP_ADMIN))
        cursor, signalled, skipped = inp.after_ticket_id, inp.signalled, inp.skipped
        for _ in range(PAGES_PER_RUN):
            ids: list[UUID] = await workflow.execute_activity(
                SlaActivity.LIST_REPIN_CANDIDATES,
                RepinCandidates(tenant_id=inp.tenant_id, after_ticket_id=cursor),
                result_type=list[UUID],
                start_to_close_timeout=DB_TIMEOUT,
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
