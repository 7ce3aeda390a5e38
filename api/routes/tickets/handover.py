"""Hand-over of a co-managed ticket between the customer's IT and the MSP, with a reason: `hand-back-to-customer`
pauses the MSP's SLA clocks while the customer's IT holds it, `escalate-to-msp` makes the MSP responsible again."""

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter
from sqlmodel import Session
from temporalio.client import Client

from api.deps import MspStaffOrCustomerIt, Principal, SessionDep, TemporalDep
from api.problems import Problem
from api.routes.tickets.access import actor, co_managed_access, load_ticket, send_update
from api.schemas.tickets import HandOverBody, TicketPublic
from domain.contracts.tickets import HandOverRequest
from models import Tenant, Ticket
from workflows.tickets.ticket import TicketWorkflow

router = APIRouter()


def _co_managed_ticket(session: Session, ticket_id: UUID, principal: Principal) -> Ticket:
    """Only a ticket shared with the customer's IT changes hands (customer IT's own, unshared ticket does not)."""
    ticket = load_ticket(session, ticket_id, principal)
    if principal.is_msp:
        tenant = session.get(Tenant, ticket.tenant_id)
        shared = ticket.co_managed and tenant is not None and tenant.co_managed
    else:
        shared = co_managed_access(session, ticket, principal)
    if not shared:
        raise Problem(409, "the ticket is not co-managed: share it with the customer's IT first (PUT .../co-managed)")
    return ticket


async def _hand_over(
    session: Session,
    temporal: Client,
    ticket_id: UUID,
    principal: Principal,
    body: HandOverBody,
    update: Callable,
) -> TicketPublic:
    ticket = _co_managed_ticket(session, ticket_id, principal)
    req = HandOverRequest(actor=actor(principal), reason=body.reason)
    return await send_update(session, temporal, ticket, update, req)


@router.post(
    "/{ticket_id}/hand-back-to-customer",
    response_model=TicketPublic,
    summary="The customer's IT takes the ticket over; the MSP's SLA clocks pause",
)
async def hand_back_to_customer(
    ticket_id: UUID, body: HandOverBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    return await _hand_over(session, temporal, ticket_id, principal, body, TicketWorkflow.hand_back_to_customer)


@router.post(
    "/{ticket_id}/escalate-to-msp",
    response_model=TicketPublic,
    summary="The MSP takes the ticket (back); its SLA clocks run on",
)
async def escalate_to_msp(
    ticket_id: UUID, body: HandOverBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    return await _hand_over(session, temporal, ticket_id, principal, body, TicketWorkflow.escalate_to_msp)
