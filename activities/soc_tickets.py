"""The SOC incident's ticket (patch incident-direct-v1): opened and noted from the incident's own workflow task.

Run as local activities of the incident. Opening writes the ticket row and its SLA clock (the ticket's own opening
code) and starts the ticket workflow where a continued run would begin; a note is the ticket's keyed system-note
signal. Neither needs a round trip of the incident through the server (no child-started or external-signal task),
and both are idempotent: a retried opening finds its row and its running workflow, a repeated note keeps its id."""

import asyncio

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.tickets import open_ticket
from domain.soc.incident_flow import OpenedTicket, OpenTicket, SocActivity, TicketNote
from domain.tickets import TicketCreation
from hub.logging import get_logger
from workflows.common import TICKETS_TASK_QUEUE, ticket_workflow_id
from workflows.ticket import TicketWorkflow, opened_ticket_input, ticket_listing

log = get_logger(__name__)


class SocTicketActivities:
    def __init__(self, engine: Engine, client: Client):
        self.engine = engine
        self.client = client

    @activity.defn(name=SocActivity.OPEN_TICKET)
    async def open_ticket(self, req: OpenTicket) -> OpenedTicket:
        opened = await asyncio.to_thread(open_ticket, self.engine, TicketCreation(ticket=req.ticket, at=req.at))
        inp = opened_ticket_input(req.ticket, opened)
        attributes, summary = ticket_listing(inp.state, inp.sla)
        try:
            await self.client.start_workflow(
                TicketWorkflow.run,
                inp,
                id=ticket_workflow_id(req.ticket.ticket_id),
                task_queue=TICKETS_TASK_QUEUE,
                search_attributes=TypedSearchAttributes([SearchAttributePair(a.key, a.value) for a in attributes]),
                memo={"summary": summary, "incident": req.incident_key},
                # Never a second run of this ticket, even if an earlier attempt's run has ended since.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass  # an earlier attempt started it (the id is the ticket's: there is only one)
        return OpenedTicket(number=opened.record.number)

    @activity.defn(name=SocActivity.NOTE_TICKET)
    async def note_ticket(self, req: TicketNote) -> None:
        handle = self.client.get_workflow_handle(ticket_workflow_id(req.ticket_id))
        try:
            await handle.signal(TicketWorkflow.keyed_system_note, req.note)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            # The ticket's workflow has ended (closed ticket): a closed ticket takes no notes anyway.
            log.info("note for an ended ticket dropped", ticket_id=str(req.ticket_id))
