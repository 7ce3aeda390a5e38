"""Input of the ticket workflow: the new ticket, plus what a continued run carries over."""

from pydantic import BaseModel

from domain.sla import SlaCarry
from domain.tickets import NewTicket, TicketRecord, TicketState


class TicketWorkflowInput(BaseModel):
    ticket: NewTicket
    # Set when the workflow continues as new; the ticket row exists already.
    state: TicketState | None = None
    sla: SlaCarry | None = None


class TicketOpened(BaseModel):
    """Result of opening a ticket: its row, and the SLA clock's context and first plan where an SLA applies."""

    record: TicketRecord
    sla: SlaCarry | None = None
