"""The portal's pages. Who sees what is the API's: each page calls the API route functions (or their access
helpers) with the caller's `Principal`, so a ticket or article another tenant owns is a 404 here as there."""

import uuid
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from api.deps import NowDep, Principal, SessionDep, SettingsDep, TemporalDep, require_roles
from api.pagination import PageParams
from api.portal import texts
from api.portal.render import PortalRoute, page
from api.portal.session import Caller, check_csrf
from api.problems import Problem
from api.routes import queues
from api.routes.kb import access as kb_access
from api.routes.kb import search as kb_search
from api.routes.tickets import comments, lifecycle
from api.routes.tickets import sla as ticket_sla
from api.routes.tickets.access import co_managed_access, load_ticket
from api.schemas.tickets import CommentBody, TicketCreate
from domain.tickets import Priority, Visibility

router = APIRouter(route_class=PortalRoute)
FIRST_PAGE = PageParams(limit=100, offset=0)


def admit(alias: Any, principal: Principal) -> Principal:
    """The API's role check of an alias (e.g. `queues.MemberReader`) on this caller: a Problem 403 if refused."""
    return get_args(alias)[1].dependency(principal)


def allowed(alias: Any, principal: Principal) -> bool:
    try:
        admit(alias, principal)
    except Problem:
        return False
    return True


@router.get("/")
def home():
    return RedirectResponse("/portal/tickets", status_code=303)


@router.get("/tickets")
def my_tickets(request: Request, caller: Caller, session: SessionDep):
    p = caller.principal
    mine = lifecycle.list_tickets(p, session, FIRST_PAGE)["items"]
    in_queues = None
    if allowed(queues.MemberReader, p):
        in_queues = queues.my_queue_tickets(p, session, FIRST_PAGE)["items"]
    return page(request, "tickets.html", caller=caller, tickets=mine, queue_tickets=in_queues)


@router.get("/tickets/new")
def new_ticket_form(request: Request, caller: Caller):
    require_roles(*lifecycle.WRITERS)(caller.principal)
    return page(request, "new_ticket.html", caller=caller, form_id=uuid.uuid4(), priorities=list(Priority))


@router.post("/tickets/new")
async def new_ticket(
    request: Request,
    caller: Caller,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    now: NowDep,
    title: Annotated[str, Form(max_length=200)],
    form_id: Annotated[UUID, Form()],
    description: Annotated[str, Form(max_length=20_000)] = "",
    priority: Annotated[Priority, Form()] = Priority.P3,
    csrf: Annotated[str, Form(max_length=100)] = "",
):
    check_csrf(request, caller.session_data, csrf)
    p = require_roles(*lifecycle.WRITERS)(caller.principal)
    try:
        body = TicketCreate(title=title, description=description, priority=priority)
    except ValueError as err:
        raise Problem(422, f"Eingabe ungültig: {err}") from None
    # The form's id as the idempotency key: a second click on "Senden" opens no second ticket.
    created = await lifecycle.create_ticket(
        body, p, session, temporal, settings, now=now, response=Response(), idempotency_key=str(form_id)
    )
    ticket_id = created.id
    return RedirectResponse(f"/portal/tickets/{ticket_id}", status_code=303)


@router.get("/tickets/{ticket_id}")
async def ticket_detail(
    request: Request, ticket_id: UUID, caller: Caller, session: SessionDep, temporal: TemporalDep, now: NowDep
):
    p = caller.principal
    ticket = lifecycle.get_ticket(ticket_id, p, session)
    thread = comments.list_comments(ticket_id, p, session, PageParams(limit=200, offset=0))["items"]
    shared = co_managed_access(session, load_ticket(session, ticket_id, p), p)
    try:
        sla = await ticket_sla.get_sla(ticket_id, p, session, temporal, now)
    except Problem:
        sla = None  # Temporal not reachable: the page shows the ticket without its clocks
    return page(
        request,
        "ticket.html",
        caller=caller,
        ticket=ticket,
        comments=thread,
        sla_lines=texts.sla_words(sla, ticket.status, ticket.customer_it_holds),
        can_reply=allowed(comments.Writer, p),
        co_managed=shared,
    )


@router.post("/tickets/{ticket_id}/reply")
async def reply(
    request: Request,
    ticket_id: UUID,
    caller: Caller,
    session: SessionDep,
    temporal: TemporalDep,
    body: Annotated[str, Form(max_length=20_000)],
    visibility: Annotated[Visibility, Form()] = Visibility.PUBLIC,
    csrf: Annotated[str, Form(max_length=100)] = "",
):
    check_csrf(request, caller.session_data, csrf)
    p = require_roles(*comments.WRITERS)(caller.principal)
    try:
        comment = CommentBody(body=body, visibility=visibility)
    except ValueError:
        raise Problem(422, "Bitte geben Sie einen Text ein.") from None
    await comments.comment(ticket_id, comment, p, session, temporal, Response())
    return RedirectResponse(f"/portal/tickets/{ticket_id}", status_code=303)


@router.get("/kb")
def kb_search_page(
    request: Request,
    caller: Caller,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
):
    p = admit(kb_search.CurrentUser, caller.principal)
    hits = kb_search.search(p, session, q).items if q.strip() else []
    return page(request, "kb_search.html", caller=caller, q=q, hits=hits)


@router.get("/kb/{article_id}")
def kb_article(request: Request, article_id: UUID, caller: Caller, session: SessionDep):
    p = admit(kb_search.CurrentUser, caller.principal)
    article = kb_access.public(kb_access.load_article(session, article_id, p))
    return page(request, "kb_article.html", caller=caller, article=article)
