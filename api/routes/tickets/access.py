"""What every ticket route shares: which tickets a caller sees, loading one, and sending a change to its workflow."""

from uuid import UUID

from sqlmodel import Session, and_, col, or_, select, true

from api.deps import Principal
from api.problems import not_found
from api.schemas.common import field_error
from api.schemas.tickets import TicketPublic
from domain.contracts.tickets import Actor
from domain.roles import TICKET_AGENT_ROLES, Role
from domain.tickets import Visibility, readable_visibilities
from hub.temporal.tickets import update_ticket
from models import Queue, QueueMember, Tenant, Ticket, User

# Who a ticket may be assigned to besides the agents: an external technician of the ticket's customer.
ASSIGNABLE_ROLES = TICKET_AGENT_ROLES | {Role.EXTERNAL_TECH}


def _co_managed_here():  # noqa: ANN202
    """Tickets shared with the customer's IT: the ticket is co-managed and its customer still has co-management."""
    enabled = select(Tenant.id).where(Tenant.co_managed == true())
    return and_(Ticket.co_managed == true(), col(Ticket.tenant_id).in_(enabled))


def visible(query, principal: Principal):  # noqa: ANN001, ANN202
    """MSP staff see all tickets. Customer users see the tickets they requested or opened; customer IT those and
    its tenant's co-managed tickets; external technicians the tickets of their queues and those assigned to them.
    Never another tenant's."""
    if principal.is_msp:
        return query
    query = query.where(Ticket.tenant_id == principal.tenant_id)
    if principal.role == Role.EXTERNAL_TECH:
        queues = select(Queue.name).join(QueueMember, col(QueueMember.queue_id) == Queue.id)
        queues = queues.where(QueueMember.user_id == principal.user_id)
        return query.where(or_(col(Ticket.queue).in_(queues), Ticket.assignee_user_id == principal.user_id))
    own = or_(Ticket.requester_user_id == principal.user_id, Ticket.created_by_user_id == principal.user_id)
    if principal.role == Role.CUSTOMER_IT:
        return query.where(or_(own, _co_managed_here()))
    return query.where(own)


def co_managed_access(session: Session, ticket: Ticket, principal: Principal) -> bool:
    """Customer IT on a ticket shared with it: reads and writes co-managed notes there."""
    if principal.role != Role.CUSTOMER_IT or not ticket.co_managed:
        return False
    tenant = session.get(Tenant, ticket.tenant_id)
    return tenant is not None and tenant.co_managed


def readable(session: Session, ticket: Ticket, principal: Principal) -> frozenset[Visibility]:
    """The comment and event visibilities the caller reads on this (visible) ticket."""
    return readable_visibilities(principal.role, co_managed_access(session, ticket, principal))


def load_ticket(session: Session, ticket_id: UUID, principal: Principal) -> Ticket:
    ticket = session.exec(visible(select(Ticket).where(Ticket.id == ticket_id), principal)).one_or_none()
    if ticket is None:
        raise not_found("ticket", ticket_id)
    return ticket


def check_ticket_queue(session: Session, name: str | None, tenant_id: UUID, field: str = "queue") -> None:
    """A ticket's queue exists and takes this customer's tickets (an MSP queue, or the customer's own)."""
    if name is None:
        return
    queue = session.exec(select(Queue).where(Queue.name == name)).one_or_none()
    if queue is None or queue.tenant_id not in (None, tenant_id):
        raise field_error(field, f"no queue {name!r} for this ticket's customer")


def ticket_public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(ticket, from_attributes=True)


def actor(principal: Principal) -> Actor:
    return Actor(user_id=principal.user_id, role=principal.role)


def check_tenant_user(
    session: Session, user_id: UUID, tenant_id: UUID, field: str, *, agents_only: bool, ticket_id: UUID | None = None
) -> None:
    """An active user of the ticket's customer (or MSP staff); `agents_only`: who works tickets, and customer IT
    only on a ticket `ticket_id` it sees."""
    user = session.get(User, user_id)
    ok = (
        user is not None
        and user.is_active
        and (user.role in (Role.MSP_ADMIN, Role.MSP_TECH) if user.tenant_id is None else user.tenant_id == tenant_id)
    )
    if ok and agents_only:
        ok = user.role in ASSIGNABLE_ROLES
    if ok and agents_only and ticket_id is not None and user.role == Role.CUSTOMER_IT:
        them = Principal(user_id=user.id, role=user.role, tenant_id=user.tenant_id, display_name=user.display_name)
        if session.exec(visible(select(Ticket.id).where(Ticket.id == ticket_id), them)).first() is None:
            raise field_error(field, f"{user_id} is customer IT and does not see this ticket: share it first")
    if not ok:
        kind = "technician, customer IT user or external technician" if agents_only else "user"
        raise field_error(field, f"{user_id} is not an active {kind} of this ticket's customer")


async def run_update(session: Session, temporal, ticket: Ticket, update, request) -> None:  # noqa: ANN001
    """Run a workflow update; a refusal or no answer becomes a 409 or 503. Afterwards the session reads afresh."""
    session.commit()
    await update_ticket(temporal, ticket.id, update, request)
    session.expire_all()


async def send_update(session: Session, temporal, ticket: Ticket, update, request) -> TicketPublic:  # noqa: ANN001
    """`run_update`, answered with the ticket as it changed."""
    await run_update(session, temporal, ticket, update, request)
    return ticket_public(session.get(Ticket, ticket.id))
