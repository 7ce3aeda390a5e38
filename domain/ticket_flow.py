"""Input of the ticket workflow: the new ticket, plus what a continued run carries over."""

from pydantic import BaseModel

from domain.sla import SlaCarry
from domain.tickets import NewTicket, TicketState


class TicketWorkflowInput(BaseModel):
    ticket: NewTicket
    # Set when the workflow continues as new; the ticket row exists already.
    state: TicketState | None = None
    sla: SlaCarry | None = None
