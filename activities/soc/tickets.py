"""The SOC incident's ticket, opened and noted from the incident's own workflow task (local activities).

Opening writes the ticket row and its SLA clock with the ticket's own opening code and starts the ticket workflow
where a continued run would begin; a note is the ticket's keyed system-note signal (on a closed ticket, whose
workflow has ended, it is kept in the ticket's history directly). Neither needs a round trip of
the incident through the server, and both are idempotent: a retried opening finds its row and its running
workflow, a repeated note keeps its id."""

import asyncio
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client

from domain.contracts.soc import OpenedTicket, OpenTicket, SocActivity, TicketNote
from domain.tickets import EventKind, Visibility
from hub.db import session_scope
from hub.logging import get_logger
from hub.temporal.tickets import note_ticket
from hub.tickets.intake import open_ticket
from models import Ticket, TicketEvent

log = get_logger(__name__)


class SocTicketActivities:
    def __init__(self, engine: Engine, client: Client):
        self.engine = engine
        self.client = client

    @activity.defn(name=SocActivity.OPEN_TICKET)
    async def open_ticket(self, req: OpenTicket) -> OpenedTicket:
        opened = await open_ticket(self.engine, self.client, req.ticket, at=req.at, memo={"incident": req.incident_key})
        return OpenedTicket(number=opened.record.number)

    @activity.defn(name=SocActivity.NOTE_TICKET)
    async def note_ticket(self, req: TicketNote) -> None:
        if not await note_ticket(self.client, req.ticket_id, req.note):
            # The ticket is closed and its workflow has ended: the note is kept in its history all the same.
            at = activity.info().current_attempt_scheduled_time  # the server's clock, as the ticket's other events
            kept = await asyncio.to_thread(keep_on_closed_ticket, self.engine, req, at)
            log.info("note kept on a closed ticket", ticket_id=str(req.ticket_id), kept=kept)


def keep_on_closed_ticket(engine: Engine, req: TicketNote, at: datetime) -> bool:
    """The note as an internal system note in a closed ticket's history, under its own id (a retry finds it). The
    ticket stays closed: what the SOC learns after closing (the vendor resolved the threat, or reopened it) is on
    record where the analyst and the reports look, and a person decides whether it calls for a new ticket. No
    workflow writes a closed ticket any more, so this write races with none. False when the ticket does not exist."""
    with session_scope(engine) as session:
        if session.get(TicketEvent, req.note.note_id) is not None:
            return True
        ticket = session.get(Ticket, req.ticket_id)
        if ticket is None:
            return False
        session.add(
            TicketEvent(
                id=req.note.note_id,
                ticket_id=ticket.id,
                tenant_id=ticket.tenant_id,
                kind=EventKind.COMMENTED,
                at=at,
                visibility=Visibility.INTERNAL,
                body=req.note.text[:20_000],
                data={"author_role": "system", "after_close": True},
            )
        )
    return True
