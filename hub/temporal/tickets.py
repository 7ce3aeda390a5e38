"""Client calls of the ticket process: start the workflow of an opened ticket (`hub.tickets.intake` writes its
row first), change it (updates), read its state and clock (queries), and add a hub note (signal)."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts.tickets import (
    NewTicket,
    SystemNote,
    TicketOpened,
    TicketState,
    opened_ticket_input,
    ticket_listing,
)
from domain.processes import (
    TICKET_START_SWEEP_SCHEDULE_ID,
    TICKETS_TASK_QUEUE,
    ticket_workflow_id,
)
from domain.sla import SlaCarry
from hub.temporal.errors import workflow_call
from hub.temporal.runs import ensure_schedule
from workflows.tickets.start_sweep import TicketStartSweepWorkflow
from workflows.tickets.ticket import TicketWorkflow

UPDATE_WAIT = timedelta(seconds=10)


def static_summary(ticket: NewTicket) -> str:
    """The line the Temporal UI lists the ticket's workflow under (its number and state are search attributes)."""
    return f"{ticket.priority.value} [{ticket.customer_number}] {ticket.title}"[:200]


async def update_ticket(client: Client, ticket_id: UUID, update: Any, request: Any, wait: timedelta | None = None):  # noqa: ANN201
    """Run one update of the ticket's workflow (`TicketWorkflow.transition`, `.comment`, ...) and return its answer.
    Raises `WorkflowRejected` (with the workflow's reason) or `WorkflowUnavailable`."""
    handle = client.get_workflow_handle(ticket_workflow_id(ticket_id))
    async with workflow_call(f"ticket {ticket_id}", ended="ticket is closed"):
        return await handle.execute_update(update, request, rpc_timeout=wait or UPDATE_WAIT)


async def query_ticket(client: Client, ticket_id: UUID) -> TicketState:
    return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.state)


async def query_sla(client: Client, ticket_id: UUID) -> SlaCarry | None:
    """The running ticket's SLA clock; None when no SLA applies. Raises `WorkflowRejected` when the workflow is gone,
    `WorkflowUnavailable` when Temporal cannot be asked now (callers fall back to the recorded clock)."""
    async with workflow_call(f"ticket {ticket_id}", ended="the ticket is closed"):
        return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.sla)


async def start_opened_ticket(
    client: Client, ticket: NewTicket, opened: TicketOpened, memo: dict[str, str] | None = None
) -> None:
    """Start the workflow of a ticket whose row and SLA clock are written (`hub.tickets.intake`), with its
    search attributes. Idempotent: never a second run of this ticket, even if an earlier attempt's run has ended
    since. Raises `WorkflowUnavailable` when Temporal did not confirm the start."""
    inp = opened_ticket_input(ticket, opened)
    attributes = ticket_listing(inp.state, inp.sla)
    try:
        async with workflow_call(f"ticket {ticket.ticket_id}", ended="the ticket is closed"):
            await client.start_workflow(
                TicketWorkflow.run,
                inp,
                id=ticket_workflow_id(ticket.ticket_id),
                task_queue=TICKETS_TASK_QUEUE,
                search_attributes=TypedSearchAttributes([SearchAttributePair(a.key, a.value) for a in attributes]),
                memo=memo,
                static_summary=static_summary(ticket),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
    except WorkflowAlreadyStartedError:
        pass  # an earlier attempt started it (the id is the ticket's: there is only one)


async def wait_opened(client: Client, ticket_id: UUID, wait: timedelta | None = None) -> TicketState:
    """The ticket's state once its workflow has routed it by the customer's RACI matrix. Raises
    `WorkflowUnavailable` when no worker has done so in time (the routing follows when one runs)."""
    handle = client.get_workflow_handle(ticket_workflow_id(ticket_id))
    async with workflow_call(f"ticket {ticket_id}", ended="the ticket is closed"):
        return await handle.execute_update(TicketWorkflow.wait_opened, rpc_timeout=wait or UPDATE_WAIT)


async def note_ticket(client: Client, ticket_id: UUID, note: SystemNote) -> bool:
    """Add an internal hub note under its own id (sent twice, still one note). False when the ticket's workflow has
    ended: a closed ticket takes no notes."""
    handle = client.get_workflow_handle(ticket_workflow_id(ticket_id))
    try:
        await handle.signal(TicketWorkflow.keyed_system_note, note)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


def start_sweep_schedule() -> Schedule:
    """Every minute: start the workflow of tickets whose row is written but whose start was not confirmed."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            TicketStartSweepWorkflow.run, id=TICKET_START_SWEEP_SCHEDULE_ID, task_queue=TICKETS_TASK_QUEUE
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_start_sweep_schedule(client: Client) -> str:
    """Create `ticket-start-sweep`, or bring it to this shape keeping a pause someone set (idempotent)."""
    return await ensure_schedule(client, TICKET_START_SWEEP_SCHEDULE_ID, start_sweep_schedule())
