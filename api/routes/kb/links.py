"""Links between tickets and articles, both ways and scoped (a ticket the caller sees, an article it reads), and the
articles suggested for a ticket by its category and the words of its title and description."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import col, or_, select

from api.deps import CurrentUser, NowDep, Principal, SessionDep, require_roles
from api.problems import not_found
from api.routes.kb.access import load_article, scope, summary
from api.routes.tickets.access import load_ticket, visible
from api.schemas.common import field_error
from api.schemas.kb import ArticleSummary, LinkedTicket, Suggestion, TicketLinkPublic
from domain.kb import Candidate, rank_suggestions, suggestion_terms
from domain.roles import TICKET_AGENT_ROLES
from models import KbArticle, KbTicketLink, Ticket
from models.kb_search import search_articles

router = APIRouter()

# Who works tickets links articles to them (MSP technicians, customer IT on the tickets it sees).
Linker = Annotated[Principal, Depends(require_roles(*TICKET_AGENT_ROLES))]
SUGGESTION_POOL = 30


def _link_public(link: KbTicketLink) -> TicketLinkPublic:
    return TicketLinkPublic.model_validate(link, from_attributes=True)


@router.put(
    "/articles/{article_id}/tickets/{ticket_id}",
    response_model=TicketLinkPublic,
    summary="Link an article to a ticket (201; 200 if linked already)",
)
def link(article_id: UUID, ticket_id: UUID, principal: Linker, session: SessionDep, now: NowDep, response: Response):
    article = load_article(session, article_id, principal)
    ticket = load_ticket(session, ticket_id, principal)
    if article.tenant_id not in (None, ticket.tenant_id):
        raise field_error("article_id", "the article belongs to another customer than the ticket")
    existing = session.exec(
        select(KbTicketLink).where(KbTicketLink.article_id == article.id, KbTicketLink.ticket_id == ticket.id)
    ).one_or_none()
    if existing is not None:
        response.status_code = 200
        return _link_public(existing)
    row = KbTicketLink(article_id=article.id, ticket_id=ticket.id, linked_at=now, linked_by_user_id=principal.user_id)
    session.add(row)
    session.flush()
    response.status_code = 201
    return _link_public(row)


@router.delete("/articles/{article_id}/tickets/{ticket_id}", status_code=204, summary="Unlink")
def unlink(article_id: UUID, ticket_id: UUID, principal: Linker, session: SessionDep):
    article = load_article(session, article_id, principal)
    ticket = load_ticket(session, ticket_id, principal)
    row = session.exec(
        select(KbTicketLink).where(KbTicketLink.article_id == article.id, KbTicketLink.ticket_id == ticket.id)
    ).one_or_none()
    if row is None:
        raise not_found("link", f"{article_id} ↔ {ticket_id}")
    session.delete(row)
    session.flush()
    return Response(status_code=204)


@router.get(
    "/articles/{article_id}/tickets", response_model=list[LinkedTicket], summary="The article's tickets the caller sees"
)
def article_tickets(article_id: UUID, principal: CurrentUser, session: SessionDep):
    article = load_article(session, article_id, principal)
    query = visible(
        select(Ticket, KbTicketLink.linked_at)
        .join(KbTicketLink, col(KbTicketLink.ticket_id) == Ticket.id)
        .where(KbTicketLink.article_id == article.id),
        principal,
    ).order_by(col(KbTicketLink.linked_at), col(Ticket.number))
    return [
        LinkedTicket(ticket_id=t.id, number=t.number, title=t.title, status=t.status, linked_at=at)
        for t, at in session.exec(query).all()
    ]


@router.get(
    "/tickets/{ticket_id}/articles",
    response_model=list[ArticleSummary],
    summary="The ticket's articles the caller reads",
)
def ticket_articles(ticket_id: UUID, principal: CurrentUser, session: SessionDep):
    ticket = load_ticket(session, ticket_id, principal)
    query = (
        select(KbArticle)
        .join(KbTicketLink, col(KbTicketLink.article_id) == KbArticle.id)
        .where(KbTicketLink.ticket_id == ticket.id, *scope(session, principal))
        .order_by(col(KbTicketLink.linked_at), col(KbArticle.title))
    )
    return [summary(a) for a in session.exec(query).all()]


@router.get(
    "/tickets/{ticket_id}/suggestions",
    response_model=list[Suggestion],
    summary="Articles for a ticket: its category and the words of its title and description; linked ones left out",
)
def suggestions(
    ticket_id: UUID,
    principal: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
):
    ticket = load_ticket(session, ticket_id, principal)
    linked = select(KbTicketLink.article_id).where(KbTicketLink.ticket_id == ticket.id)
    # The caller's articles, and of those only MSP-wide ones and the ticket's customer's (an MSP technician reads
    # every customer's articles, but another customer's never fit this ticket).
    where = [
        *scope(session, principal),
        or_(col(KbArticle.tenant_id).is_(None), KbArticle.tenant_id == ticket.tenant_id),
        col(KbArticle.id).not_in(linked),
    ]
    found: dict[UUID, Candidate] = {}
    articles: dict[UUID, KbArticle] = {}
    terms = suggestion_terms(ticket.title, ticket.description)
    for article, score in search_articles(session, terms, scope=where, match_all=False, limit=SUGGESTION_POOL):
        found[article.id] = Candidate(article.id, article.title, score, article.category == ticket.category)
        articles[article.id] = article
    if ticket.category:
        same = select(KbArticle).where(*where, KbArticle.category == ticket.category).limit(SUGGESTION_POOL)
        for article in session.exec(same).all():
            articles[article.id] = article
            found.setdefault(article.id, Candidate(article.id, article.title, 0.0, True))
    ranked = rank_suggestions(list(found.values()), limit)
    return [
        Suggestion(article=summary(articles[c.article_id]), score=s, same_category=c.same_category) for c, s in ranked
    ]
