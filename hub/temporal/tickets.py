"""Client calls of the ticket process: open a ticket (start-with-update), change it (updates), read its state and
clock (queries), start the workflow of a ticket opened elsewhere, and add a hub note (signal)."""

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowExecutionStatus
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
    TICKET_ASSIGNEE,
    TICKET_PRIORITY,
    TICKET_PROCESS,
    TICKET_QUEUE,
    TICKET_STATUS,
    TICKETS_TASK_QUEUE,
    UNASSIGNED,
    ticket_workflow_id,
)
from domain.sla import SlaCarry
from hub.temporal.errors import WorkflowUnavailable, cannot_connect, workflow_call
from workflows.tickets.ticket import TicketWorkflow

UPDATE_WAIT = timedelta(seconds=10)
# Asking whether Temporal holds a workflow is one quick read; an outage must not double the caller's wait.
DESCRIBE_WAIT = timedelta(seconds=3)


class TicketPending(WorkflowUnavailable):
    """Temporal holds the new ticket's running workflow, but no worker has written its row in time: the ticket is
    durable and appears once a worker runs (API: 202). A `WorkflowUnavailable`, so callers that only retry still do."""


async def open_ticket(client: Client, ticket: NewTicket, wait: timedelta | None = None) -> TicketState:
    """Start `ticket-<id>` (or attach to it, if a retry already started it) and wait until its row exists.

    The workflow creates the row itself, so a ticket never exists without its workflow; the id is derived from
    the idempotency key, so a retried request lands on the same workflow and the same ticket. Raises
    `TicketPending` when Temporal confirms it holds the running workflow but the row is not there in time, and
    `WorkflowUnavailable` when Temporal cannot be reached or has not confirmed the start: then the ticket may not
    exist, and the caller retries with the same id."""
    workflow_id = ticket_workflow_id(ticket.ticket_id)
    start = WithStartWorkflowOperation(
        TicketWorkflow.run,
        TicketWorkflowInput(ticket=ticket),
        id=workflow_id,
        task_queue=TICKETS_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, ticket.customer_number),
                SearchAttributePair(TICKET_PRIORITY, ticket.priority.value),
                SearchAttributePair(TICKET_STATUS, "new"),
                SearchAttributePair(PROCESS, TICKET_PROCESS),
                SearchAttributePair(TICKET_ASSIGNEE, [UNASSIGNED]),
                *([SearchAttributePair(TICKET_QUEUE, ticket.queue)] if ticket.queue else []),
            ]
        ),
        static_summary=static_summary(ticket),
    )
    try:
        async with workflow_call(f"ticket {ticket.ticket_id}", ended="the ticket is closed"):
            return await client.execute_update_with_start_workflow(
                TicketWorkflow.wait_created, start_workflow_operation=start, rpc_timeout=wait or UPDATE_WAIT
            )
    except WorkflowUnavailable as err:
        # A timeout says nothing about the start: only Temporal's own record of the workflow makes it durable.
        if await _running(client, workflow_id):
            raise TicketPending(f"ticket {ticket.ticket_id} is being created") from err
        raise WorkflowUnavailable(f"{err}, and Temporal has not confirmed that it started it") from err


def static_summary(ticket: NewTicket) -> str:
    """The line the Temporal UI lists the ticket's workflow under (its number and state are search attributes)."""
    return f"{ticket.priority.value} [{ticket.customer_number}] {ticket.title}"[:200]


async def _running(client: Client, workflow_id: str) -> bool:
    """Whether Temporal holds a running workflow under this id; False when it cannot say within a few seconds."""
    try:
        description = await asyncio.wait_for(
            client.get_workflow_handle(workflow_id).describe(rpc_timeout=DESCRIBE_WAIT), DESCRIBE_WAIT.total_seconds()
        )
    except (RPCError, TimeoutError):
        return False  # not found, or no answer: either way not confirmed
    except RuntimeError as err:
        if not cannot_connect(err):
            raise
        return False
    return description.status == WorkflowExecutionStatus.RUNNING


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


async def start_opened_ticket(client: Client, ticket: NewTicket, opened: TicketOpened, memo: dict[str, str]) -> None:
    """Start the workflow of a ticket whose row and SLA clock were written already (a SOC incident opens its ticket
    this way): the run begins where a continued run would. Idempotent: never a second run of this ticket, even if
    an earlier attempt's run has ended since."""
    inp = opened_ticket_input(ticket, opened)
    attributes = ticket_listing(inp.state, inp.sla)
    try:
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
