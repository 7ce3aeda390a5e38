"""Client calls of the SLA re-pin batch: one durable batch per customer (or all) and second."""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain.contracts.tickets import RepinBatchInput
from domain.processes import TICKETS_TASK_QUEUE, repin_batch_workflow_id
from hub.temporal.errors import workflow_call
from workflows.tickets.sla_repin import SlaRepinBatchWorkflow


async def start_repin_batch(client: Client, inp: RepinBatchInput) -> str:
    """Start `sla-repin-<tenant|all>-<time>`; a repeat within the same second attaches to the same batch. Returns
    its workflow id; raises `WorkflowUnavailable` when Temporal cannot be reached."""
    workflow_id = repin_batch_workflow_id(inp.tenant_id, inp.requested_at)
    async with workflow_call("the SLA re-pin batch", ended="the SLA re-pin batch has ended"):
        await client.start_workflow(
            SlaRepinBatchWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=TICKETS_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"SLA re-pin {'all customers' if inp.tenant_id is None else inp.tenant_id}",
        )
    return workflow_id
