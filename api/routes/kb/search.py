"""Full-text search over the articles the caller reads, ranked (`models/kb_search.py`: PostgreSQL or SQLite FTS5)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.deps import CurrentUser, SessionDep
from api.routes.kb.access import scope, summary
from api.schemas.common import field_error
from api.schemas.kb import SearchHit, SearchResults
from domain.kb import search_terms
from models import KbArticle, KbArticleTag
from models.kb_search import search_articles

router = APIRouter()


@router.get("/search", response_model=SearchResults, summary="Articles containing every word of q, best first")
def search(
    principal: CurrentUser,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200, description="Words; German and English stemming on PostgreSQL")],
    category: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    tenant_id: Annotated[UUID | None, Query(description="Articles of this customer")] = None,
    any_word: Annotated[bool, Query(description="Articles containing any of the words, not all")] = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
):
    terms = search_terms(q)
    if not terms:
        raise field_error("q", "give at least one word (letters or digits)")
    where = scope(session, principal)
    if category is not None:
        where.append(KbArticle.category == category)
    if tag is not None:
        where.append(col(KbArticle.id).in_(select(KbArticleTag.article_id).where(KbArticleTag.tag == tag.lower())))
    if tenant_id is not None:
        where.append(KbArticle.tenant_id == tenant_id)
    hits = search_articles(session, terms, scope=where, match_all=not any_word, limit=limit, offset=offset)
    return SearchResults(items=[SearchHit(article=summary(a), score=s) for a, s in hits], terms=terms)
