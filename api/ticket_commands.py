"""Client-side commands for ticket workflows: start-with-update and updates, with errors as domain exceptions."""

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.sla import SlaCarry
from domain.ticket_flow import TicketWorkflowInput
from domain.tickets import NewTicket, TicketState
from workflows.common import (
    CUSTOMER_ID,
    PROCESS,
    TICKET_PRIORITY,
    TICKET_STATUS,
    TICKETS_TASK_QUEUE,
    ticket_workflow_id,
)
from workflows.ticket import TicketWorkflow


class TicketRejected(Exception):
    """The workflow refused the change (invalid transition, closed ticket); the message says why."""


class TicketPending(Exception):
    """The workflow did not answer in time (worker down or busy); the change may still happen."""


async def open_ticket(client: Client, ticket: NewTicket, wait: timedelta = timedelta(seconds=10)) -> TicketState:
    """Start `ticket-<id>` (or attach to it, if a retry already started it) and wait until its row exists.

    The workflow creates the row itself, so a ticket never exists without its workflow; the id is derived from
    the idempotency key, so a retried request lands on the same workflow and the same ticket.
    """
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
                SearchAttributePair(PROCESS, "ticket"),
            ]
        ),
        static_summary=f"{ticket.priority.value} [{ticket.customer_number}] {ticket.title}"[:200],
    )
    try:
        return await client.execute_update_with_start_workflow(
            TicketWorkflow.wait_created, start_workflow_operation=start, rpc_timeout=wait
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        _reraise_if_cancelled()
        raise TicketPending(str(ticket.ticket_id)) from err
    except RPCError as err:
        if err.status in _NOT_NOW:
            raise TicketPending(str(ticket.ticket_id)) from err
        raise


async def update_ticket(
    client: Client, ticket_id: object, update, request, wait: timedelta = timedelta(seconds=10)
) -> TicketState:
    handle = client.get_workflow_handle(ticket_workflow_id(ticket_id))
    try:
        return await handle.execute_update(update, request, rpc_timeout=wait)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise TicketRejected(message) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        _reraise_if_cancelled()
        raise TicketPending(str(ticket_id)) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise TicketRejected("ticket is closed") from err
        if err.status in _NOT_NOW:
            raise TicketPending(str(ticket_id)) from err
        raise


# Not an answer about the ticket: the update timed out, was aborted, or its workflow task is failing for now.
_NOT_NOW = (
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.FAILED_PRECONDITION,
)


def _reraise_if_cancelled() -> None:
    """The SDK uses the same error for our own cancellation (client gone): that must propagate."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def query_ticket(client: Client, ticket_id: object) -> TicketState:
    return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.state)


async def query_sla(client: Client, ticket_id: object) -> SlaCarry | None:
    """The running ticket's SLA clock; None when no SLA applies. Raises RPCError when the workflow is gone."""
    return await client.get_workflow_handle(ticket_workflow_id(ticket_id)).query(TicketWorkflow.sla)
