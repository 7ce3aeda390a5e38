"""The SOC incident's ticket, opened and noted from the incident's own workflow task (local activities).

Opening writes the ticket row and its SLA clock with the ticket's own opening code and starts the ticket workflow
where a continued run would begin; a note is the ticket's keyed system-note signal. Neither needs a round trip of
the incident through the server, and both are idempotent: a retried opening finds its row and its running
workflow, a repeated note keeps its id."""

import asyncio

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client

from activities.tickets.ticket import open_ticket
from domain.contracts.soc import OpenedTicket, OpenTicket, SocActivity, TicketNote
from domain.contracts.tickets import TicketCreation
from hub.logging import get_logger
from hub.temporal.tickets import note_ticket, start_opened_ticket

log = get_logger(__name__)


class SocTicketActivities:
    def __init__(self, engine: Engine, client: Client):
        self.engine = engine
        self.client = client

    @activity.defn(name=SocActivity.OPEN_TICKET)
    async def open_ticket(self, req: OpenTicket) -> OpenedTicket:
        opened = await asyncio.to_thread(open_ticket, self.engine, TicketCreation(ticket=req.ticket, at=req.at))
        await start_opened_ticket(self.client, req.ticket, opened, memo={"incident": req.incident_key})
        return OpenedTicket(number=opened.record.number)

    @activity.defn(name=SocActivity.NOTE_TICKET)
    async def note_ticket(self, req: TicketNote) -> None:
        if not await note_ticket(self.client, req.ticket_id, req.note):
            log.info("note for an ended ticket dropped", ticket_id=str(req.ticket_id))
