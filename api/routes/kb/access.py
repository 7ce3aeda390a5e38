"""What every knowledge base route shares: which articles a caller reads (`scope`), loading one, and whether the
caller may write an article of a given scope and visibility (`domain.kb`)."""

from uuid import UUID

from sqlmodel import Session, col, or_, select

from api.deps import Principal
from api.problems import Problem, not_found
from api.schemas.kb import ArticlePublic, ArticleSummary
from domain.kb import article_write_refusal, readable_article_visibilities
from domain.tickets import Visibility
from models import KbArticle, Tenant


def tenant_co_managed(session: Session, principal: Principal) -> bool:
    if principal.tenant_id is None:
        return False
    tenant = session.get(Tenant, principal.tenant_id)
    return tenant is not None and tenant.co_managed


def scope(session: Session, principal: Principal) -> list:
    """WHERE clauses on KbArticle: MSP roles read every article; customer roles MSP-wide articles and their own
    customer's, by visibility (`domain.kb.readable_article_visibilities`). Never another customer's."""
    if principal.is_msp:
        return []
    visibilities = readable_article_visibilities(principal.role, tenant_co_managed(session, principal))
    return [
        or_(col(KbArticle.tenant_id).is_(None), KbArticle.tenant_id == principal.tenant_id),
        col(KbArticle.visibility).in_(sorted(visibilities)),
    ]


def load_article(session: Session, article_id: UUID, principal: Principal) -> KbArticle:
    """An article the caller reads; any other (another customer's, a hidden visibility) is reported as missing."""
    article = session.exec(
        select(KbArticle).where(KbArticle.id == article_id, *scope(session, principal))
    ).one_or_none()
    if article is None:
        raise not_found("article", article_id)
    return article


def check_write(session: Session, principal: Principal, tenant_id: UUID | None, visibility: Visibility) -> None:
    refusal = article_write_refusal(
        principal.role,
        tenant_co_managed=tenant_co_managed(session, principal),
        own_tenant=tenant_id is not None and tenant_id == principal.tenant_id,
        is_global=tenant_id is None,
        visibility=visibility,
    )
    if refusal is not None:
        raise Problem(403, refusal)


def summary(article: KbArticle) -> ArticleSummary:
    return ArticleSummary.model_validate(article, from_attributes=True)


def public(article: KbArticle) -> ArticlePublic:
    return ArticlePublic.model_validate(article, from_attributes=True)
