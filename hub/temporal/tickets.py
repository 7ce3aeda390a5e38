"""Client calls of the ticket process: open a ticket (start-with-update), change it (updates), read its state and
clock (queries), start the workflow of a ticket opened elsewhere, and add a hub note (signal)."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts.tickets import (
    NewTicket,
    SystemNote,
    TicketOpened,
    TicketState,
    TicketWorkflowInput,
    opened_ticket_input,
    ticket_listing,
)
from domain.processes import (
    CUSTOMER_ID,
    PROCESS,
    TICKET_PRIORITY,
    TICKET_PROCESS,
    TICKET_STATUS,
    TICKETS_TASK_QUEUE,
    ticket_workflow_id,
)
from domain.sla import SlaCarry
from hub.temporal.errors import workflow_call
from workflows.tickets.ticket import TicketWorkflow

UPDATE_WAIT = timedelta(seconds=10)


async def open_ticket(client: Client, ticket: NewTicket, wait: timedelta = UPDATE_WAIT) -> TicketState:
    """Start `ticket-<id>` (or attach to it, if a retry already started it) and wait until its row exists.

    The workflow creates the row itself, so a ticket never exists without its workflow; the id is derived from
    the idempotency key, so a retried request lands on the same workflow and the same ticket. Raises
    `WorkflowUnavailable` when Temporal does not answer in time."""
    start = WithStartWorkflowOperation(
        TicketWorkflow.run,
        TicketWorkflowInput(ticket=ticket),
        id=ticket_workflow_id(ticket.ticket_id),
        task_queue=TICKETS_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, ticket.customer_number),
                SearchAttributePair(TICKET_PRIORITY, ticket.priority.value),
                SearchAttributePair(TICKET_STATUS, "new"),
                SearchAttributePair(PROCESS, TICKET_PROCESS),
            ]
        ),
        static_summary=f"{ticket.priority.value} [{ticket.customer_number}] {ticket.title}"[:200],
    )
    async with workflow_call(f"ticket {ticket.ticket_id}", ended="the ticket is closed"):
        return await client.execute_update_with_start_workflow(
            TicketWorkflow.wait_created, start_workflow_operation=start, rpc_timeout=wait
        )


async def update_ticket(client: Client, ticket_id: UUID, update: Any, request: Any, wait: timedelta = UPDATE_WAIT):  # noqa: ANN201
    """Run one update of the ticket's workflow (`TicketWorkflow.transition`, `.comment`, ...) and return its answer.
    Raises `WorkflowRejected` (with the workflow's reason) or `WorkflowUnavailable`."""
    handle = client.get_workflow_handle(ticket_workflow_id(ticket_id))
    async with workflow_call(f"ticket {ticket_id}", ended="ticket is closed"):
        return await handle.execute_update(update, request, rpc_timeout=wait)


async def query_ticket(client: Client, ticket_id: UUID) -> TicketState:
    return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.state)


async def query_sla(client: Client, ticket_id: UUID) -> SlaCarry | None:
    """The running ticket's SLA clock; None when no SLA applies. Raises RPCError when the workflow is gone."""
    return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.sla)


async def start_opened_ticket(client: Client, ticket: NewTicket, opened: TicketOpened, memo: dict[str, str]) -> None:
    """Start the workflow of a ticket whose row and SLA clock were written already (a SOC incident opens its ticket
    this way): the run begins where a continued run would. Idempotent: never a second run of this ticket, even if
    an earlier attempt's run has ended since."""
    inp = opened_ticket_input(ticket, opened)
    attributes, summary = ticket_listing(inp.state, inp.sla)
    try:
        await client.start_workflow(
            TicketWorkflow.run,
            inp,
            id=ticket_workflow_id(ticket.ticket_id),
            task_queue=TICKETS_TASK_QUEUE,
            search_attributes=TypedSearchAttributes([SearchAttributePair(a.key, a.value) for a in attributes]),
            memo={"summary": summary, **memo},
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # an earlier attempt started it (the id is the ticket's: there is only one)


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
