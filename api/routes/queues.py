"""Queues and their members: MSP queues (servicedesk, soc) and queues shared with one customer, whose IT staff
(customer_it) work them with the MSP. MSP admins create queues and manage members (audited); MSP staff read all,
customer IT its own customer's queues. "My queues": the tickets of the queues the caller is a member of."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session, col, select

from api.crud import ensure_unique, get_or_422
from api.deps import MspAdmin, Principal, SessionDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import not_found
from api.routes.tickets.access import ticket_public, visible
from api.schemas.common import audit_event, field_error
from api.schemas.queues import QueueCreate, QueueMemberPublic, QueuePublic
from api.schemas.tickets import TicketPublic
from domain.roles import MSP_ROLES, Role
from models import Queue, QueueMember, Tenant, Ticket, User

router = APIRouter(prefix="/queues", tags=["queues"])
QueueReader = Annotated[Principal, Depends(require_roles(*MSP_ROLES, Role.CUSTOMER_IT))]
QUEUE_WORKERS = frozenset({Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT, Role.EXTERNAL_TECH})
# "My queues" for everyone who is a member; external technicians see nothing else of the queues.
MemberReader = Annotated[Principal, Depends(require_roles(*MSP_ROLES, Role.CUSTOMER_IT, Role.EXTERNAL_TECH))]


def _public(queue: Queue) -> QueuePublic:
    return QueuePublic.model_validate(queue, from_attributes=True)


def _seen(principal: Principal):  # noqa: ANN202
    """The queues the caller may see: MSP staff all, customer IT its customer's shared queues."""
    query = select(Queue)
    return query if principal.is_msp else query.where(Queue.tenant_id == principal.tenant_id)


def _load(session: Session, queue_id: UUID, principal: Principal) -> Queue:
    queue = session.exec(_seen(principal).where(Queue.id == queue_id)).one_or_none()
    if queue is None:
        raise not_found("queue", queue_id)
    return queue


@router.post("", response_model=QueuePublic, status_code=201, summary="Create an MSP queue or a customer's queue")
def create_queue(body: QueueCreate, principal: MspAdmin, session: SessionDep, response: Response):
    if body.tenant_id is not None:
        get_or_422(session, Tenant, body.tenant_id, "tenant_id", "tenant")
    ensure_unique(session, Queue, "name", f"a queue named {body.name!r} exists already", Queue.name == body.name)
    queue = Queue(name=body.name, display_name=body.display_name, tenant_id=body.tenant_id)
    session.add(queue)
    session.flush()
    session.add(audit_event(principal, queue.tenant_id, "queue", queue.id, "created", body.model_dump()))
    response.headers["Location"] = f"/api/v1/queues/{queue.id}"
    return _public(queue)


@router.get("", response_model=Page[QueuePublic], summary="List queues (customer IT: its customer's)")
def list_queues(principal: QueueReader, session: SessionDep, page: PageDep, tenant_id: UUID | None = None):
    query = _seen(principal).order_by(col(Queue.name))
    if tenant_id is not None:
        query = query.where(Queue.tenant_id == tenant_id)
    return paginate(session, query, page, _public)


@router.get("/mine/tickets", response_model=Page[TicketPublic], summary="Tickets of the queues I am a member of")
def my_queue_tickets(
    principal: MemberReader,
    session: SessionDep,
    page: PageDep,
    unassigned: Annotated[bool, Query(description="Only those no person has taken yet")] = False,
    include_closed: bool = False,
):
    mine = select(Queue.name).join(QueueMember, col(QueueMember.queue_id) == Queue.id)
    mine = mine.where(QueueMember.user_id == principal.user_id)
    query = visible(select(Ticket), principal).where(col(Ticket.queue).in_(mine))
    if unassigned:
        query = query.where(col(Ticket.assignee_user_id).is_(None))
    if not include_closed:
        query = query.where(Ticket.status != "closed")
    query = query.order_by(col(Ticket.priority), col(Ticket.created_at))
    return paginate(session, query, page, ticket_public)


@router.get("/{queue_id}", response_model=QueuePublic, summary="One queue")
def get_queue(queue_id: UUID, principal: QueueReader, session: SessionDep):
    return _public(_load(session, queue_id, principal))


@router.get("/{queue_id}/members", response_model=Page[QueueMemberPublic], summary="The queue's members")
def list_members(queue_id: UUID, principal: QueueReader, session: SessionDep, page: PageDep):
    _load(session, queue_id, principal)
    query = select(QueueMember).where(QueueMember.queue_id == queue_id).order_by(col(QueueMember.created_at))
    return paginate(session, query, page, lambda m: QueueMemberPublic.model_validate(m, from_attributes=True))


@router.put(
    "/{queue_id}/members/{user_id}", response_model=QueueMemberPublic, summary="Add a member (again: no change)"
)
def add_member(queue_id: UUID, user_id: UUID, principal: MspAdmin, session: SessionDep):
    queue = _load(session, queue_id, principal)
    user = session.get(User, user_id)
    fits = user is not None and user.is_active and user.role in QUEUE_WORKERS
    if fits and user.role in (Role.CUSTOMER_IT, Role.EXTERNAL_TECH):
        fits = queue.tenant_id is not None and user.tenant_id == queue.tenant_id  # only its own customer's queues
    if not fits:
        raise field_error("user_id", f"{user_id} is not an active technician or IT user of this queue's customer")
    member = session.exec(
        select(QueueMember).where(QueueMember.queue_id == queue_id, QueueMember.user_id == user_id)
    ).one_or_none()
    if member is None:
        member = QueueMember(queue_id=queue_id, user_id=user_id)
        session.add(member)
        session.flush()
        data = {"queue": queue.name, "user_id": user_id}
        session.add(audit_event(principal, queue.tenant_id, "queue", queue.id, "member_added", data))
    return QueueMemberPublic.model_validate(member, from_attributes=True)


@router.delete("/{queue_id}/members/{user_id}", status_code=204, summary="Remove a member")
def remove_member(queue_id: UUID, user_id: UUID, principal: MspAdmin, session: SessionDep):
    queue = _load(session, queue_id, principal)
    member = session.exec(
        select(QueueMember).where(QueueMember.queue_id == queue_id, QueueMember.user_id == user_id)
    ).one_or_none()
    if member is None:
        raise not_found("queue member", user_id)
    session.delete(member)
    data = {"queue": queue.name, "user_id": user_id}
    session.add(audit_event(principal, queue.tenant_id, "queue", queue.id, "member_removed", data))
    return Response(status_code=204)
