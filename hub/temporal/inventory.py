"""Client calls of the inventory sync: sync one customer now (attach to its sync still running), and the daily
Temporal Schedule `inventory-daily` that syncs every customer with an active source."""

from temporalio.client import Client, Schedule, ScheduleCalendarSpec, ScheduleRange
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.contracts.inventory import INVENTORY_SCHEDULE_TZ, InventoryRunInput, InventorySyncInput
from domain.processes import (
    INVENTORY_SCHEDULE_ID,
    INVENTORY_TASK_QUEUE,
    inventory_sync_search_attributes,
    inventory_sync_workflow_id,
)
from hub.temporal.errors import workflow_call
from hub.temporal.runs import ensure_schedule, tick_schedule
from workflows.inventory.sync import InventoryRunWorkflow, InventorySyncWorkflow


async def start_inventory_sync(client: Client, inp: InventorySyncInput) -> str:
    """`inventory-sync-<customer>`; a sync still running is attached to (no second one). Returns the workflow id."""
    workflow_id = inventory_sync_workflow_id(inp.customer_number)
    async with workflow_call(workflow_id, ended=f"{workflow_id} has ended"):
        await client.start_workflow(
            InventorySyncWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=INVENTORY_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=inventory_sync_search_attributes(inp.customer_number),
        )
    return workflow_id


def inventory_schedule() -> Schedule:
    """05:30 Europe/Berlin every day: the snapshot of the day is there before the working day starts."""
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(30),),
        hour=(ScheduleRange(5),),
        comment="Inventory and device health of every customer with an active source",
    )
    return tick_schedule(InventoryRunWorkflow.run, InventoryRunInput(), INVENTORY_SCHEDULE_ID, INVENTORY_TASK_QUEUE,
                         calendar, INVENTORY_SCHEDULE_TZ)  # fmt: skip


async def ensure_inventory_schedule(client: Client, *, paused: bool = False) -> str:
    """Create `inventory-daily`, or bring it to this shape keeping a pause someone set (idempotent)."""
    return await ensure_schedule(client, INVENTORY_SCHEDULE_ID, inventory_schedule(), paused=paused)
