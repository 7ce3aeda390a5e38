"""Replies and notes of a ticket, and its whole history (events), by visibility: MSP staff read all, customer IT
public and co-managed ones on co-managed tickets, customers public ones (`access.readable`)."""

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session, col, select

from api.deps import AnyUser, Principal, SessionDep, TemporalDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.tickets.access import actor, co_managed_access, load_ticket, readable, run_update
from api.schemas.tickets import CommentBody, TicketCommentPublic, TicketEventPublic
from domain.contracts.tickets import CommentRequest
from domain.roles import Role
from domain.tickets import EventKind, Visibility, comment_refusal
from models import Ticket, TicketEvent
from workflows.tickets.ticket import TicketWorkflow

router = APIRouter()

# External technicians reply (publicly) on the tickets of their queues.
WRITERS = (Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT, Role.CUSTOMER_USER, Role.EXTERNAL_TECH)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]


def _events(ticket: Ticket, readable: frozenset[Visibility]):  # noqa: ANN202
    """The ticket's events the caller may read (`access.readable`)."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if readable != frozenset(Visibility):
        query = query.where(col(TicketEvent.visibility).in_(sorted(readable)))
    return query


def _comment_public(event: TicketEvent) -> TicketCommentPublic:
    return TicketCommentPublic(
        id=event.id,
        ticket_id=event.ticket_id,
        at=event.at,
        author_user_id=event.actor_user_id,
        author_role=(event.data or {}).get("author_role"),
        visibility=event.visibility,
        body=event.body or "",
    )


def _load_comment(session: Session, ticket: Ticket, comment_id: UUID, principal: Principal) -> TicketEvent:
    query = _events(ticket, readable(session, ticket, principal)).where(
        TicketEvent.id == comment_id, TicketEvent.kind == EventKind.COMMENTED
    )
    event = session.exec(query).one_or_none()
    if event is None:
        raise not_found("comment", comment_id)
    return event


@router.get("/{ticket_id}/events", response_model=Page[TicketEventPublic], summary="The ticket's history")
def list_events(
    ticket_id: UUID,
    principal: AnyUser,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[list[EventKind] | None, Query()] = None,
):
    ticket = load_ticket(session, ticket_id, principal)
    query = _events(ticket, readable(session, ticket, principal))
    if kind:
        query = query.where(col(TicketEvent.kind).in_(kind))
    query = query.order_by(col(TicketEvent.at), col(TicketEvent.id))
    return paginate(session, query, page, lambda e: TicketEventPublic.model_validate(e, from_attributes=True))


@router.get(
    "/{ticket_id}/comments",
    response_model=Page[TicketCommentPublic],
    summary="Replies and notes, oldest first (customer roles: public replies only)",
)
def list_comments(
    ticket_id: UUID,
    principal: AnyUser,
    session: SessionDep,
    page: PageDep,
    visibility: Annotated[Visibility | None, Query(description="public, co_managed or internal")] = None,
):
    ticket = load_ticket(session, ticket_id, principal)
    query = _events(ticket, readable(session, ticket, principal)).where(TicketEvent.kind == EventKind.COMMENTED)
    if visibility is not None:
        query = query.where(TicketEvent.visibility == visibility)
    query = query.order_by(col(TicketEvent.at), col(TicketEvent.id))
    return paginate(session, query, page, _comment_public)


@router.get("/{ticket_id}/comments/{comment_id}", response_model=TicketCommentPublic, summary="One reply or note")
def get_comment(ticket_id: UUID, comment_id: UUID, principal: AnyUser, session: SessionDep):
    ticket = load_ticket(session, ticket_id, principal)
    return _comment_public(_load_comment(session, ticket, comment_id, principal))


@router.post(
    "/{ticket_id}/comments",
    response_model=TicketCommentPublic,
    status_code=201,
    summary="Reply or add a note; answers with the comment and its Location",
)
async def comment(
    ticket_id: UUID,
    body: CommentBody,
    principal: Writer,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
):
    ticket = load_ticket(session, ticket_id, principal)
    # Nobody writes what they could not read (customer IT shares the ticket, not the MSP's internal notes).
    if refusal := comment_refusal(principal.role, body.visibility, co_managed_access(session, ticket, principal)):
        raise Problem(403, refusal)
    comment_id = uuid.uuid4()
    req = CommentRequest(actor=actor(principal), body=body.body, visibility=body.visibility, comment_id=comment_id)
    await run_update(session, temporal, ticket, TicketWorkflow.comment, req)
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}/comments/{comment_id}"
    return _comment_public(_load_comment(session, ticket, comment_id, principal))
