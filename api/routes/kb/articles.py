"""Articles: write (a new version per change), read, list, their versions, and the categories in use."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.deps import CurrentUser, MspStaff, NowDep, Principal, SessionDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.kb.access import check_write, load_article, public, scope, summary, tenant_co_managed
from api.schemas.common import field_error
from api.schemas.kb import (
    ArticleCreate,
    ArticlePublic,
    ArticleSummary,
    ArticleUpdate,
    ArticleVersionPublic,
    CategoryCount,
)
from domain.kb import KB_WRITER_ROLES, readable_article_visibilities
from domain.tickets import Visibility
from hub.security import audit
from models import KbArticle, KbArticleTag, KbArticleVersion, Tenant

router = APIRouter()

KbWriter = Annotated[Principal, Depends(require_roles(*KB_WRITER_ROLES))]
VERSIONED = ("title", "body", "visibility", "category", "tags", "language")


def _save_version(session: Session, article: KbArticle, principal: Principal) -> None:
    """The article's current state as its version `article.version`, and its tags as filter rows."""
    session.add(
        KbArticleVersion(
            article_id=article.id,
            version=article.version,
            edited_at=article.updated_at,
            edited_by_user_id=principal.user_id,
            **{name: getattr(article, name) for name in VERSIONED},
        )
    )
    session.exec(delete(KbArticleTag).where(col(KbArticleTag.article_id) == article.id))
    session.add_all(KbArticleTag(article_id=article.id, tag=tag) for tag in article.tags)


def _tenant_for(session: Session, principal: Principal, requested: UUID | None) -> UUID | None:
    """MSP staff: the named customer or none (MSP-wide); customer IT: its own customer, whatever it names."""
    if principal.is_msp:
        if requested is not None and session.get(Tenant, requested) is None:
            raise field_error("tenant_id", f"no tenant {requested}")
        return requested
    if requested is not None and requested != principal.tenant_id:
        raise not_found("tenant", requested)
    return principal.tenant_id


@router.post("/articles", response_model=ArticlePublic, status_code=201, summary="Write an article (version 1)")
def create_article(body: ArticleCreate, principal: KbWriter, session: SessionDep, now: NowDep, response: Response):
    tenant_id = _tenant_for(session, principal, body.tenant_id)
    check_write(session, principal, tenant_id, body.visibility)
    article = KbArticle(
        **body.model_dump(exclude={"tenant_id"}),
        tenant_id=tenant_id,
        version=1,
        created_at=now,
        created_by_user_id=principal.user_id,
        updated_at=now,
        updated_by_user_id=principal.user_id,
    )
    session.add(article)
    session.flush()
    _save_version(session, article, principal)
    session.flush()
    response.headers["Location"] = f"/api/v1/kb/articles/{article.id}"
    return public(article)


@router.get("/articles", response_model=Page[ArticleSummary], summary="Articles the caller reads, by title")
def list_articles(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    category: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    tenant_id: Annotated[UUID | None, Query(description="Articles of this customer")] = None,
    visibility: Visibility | None = None,
):
    query = select(KbArticle).where(*scope(session, principal))
    if category is not None:
        query = query.where(KbArticle.category == category)
    if tag is not None:
        tagged = select(KbArticleTag.article_id).where(KbArticleTag.tag == tag.lower())
        query = query.where(col(KbArticle.id).in_(tagged))
    if tenant_id is not None:
        query = query.where(KbArticle.tenant_id == tenant_id)
    if visibility is not None:
        query = query.where(KbArticle.visibility == visibility)
    return paginate(session, query.order_by(col(KbArticle.title), col(KbArticle.id)), page, summary)


@router.get("/categories", response_model=list[CategoryCount], summary="Categories of the articles the caller reads")
def list_categories(principal: CurrentUser, session: SessionDep):
    query = (
        select(KbArticle.category, func.count())
        .where(col(KbArticle.category).is_not(None), *scope(session, principal))
        .group_by(KbArticle.category)
        .order_by(KbArticle.category)
    )
    return [CategoryCount(category=name, articles=n) for name, n in session.exec(query).all()]


@router.get("/articles/{article_id}", response_model=ArticlePublic, summary="An article, its current version")
def get_article(article_id: UUID, principal: CurrentUser, session: SessionDep):
    return public(load_article(session, article_id, principal))


@router.patch("/articles/{article_id}", response_model=ArticlePublic, summary="Change an article: a new version")
def update_article(article_id: UUID, body: ArticleUpdate, principal: KbWriter, session: SessionDep, now: NowDep):
    article = load_article(session, article_id, principal)
    if body.expected_version is not None and body.expected_version != article.version:
        raise Problem(409, f"the article is at version {article.version}, not {body.expected_version}: reload it")
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True, exclude={"expected_version"}).items()
        if getattr(article, name) != value
    }
    if not changes:
        return public(article)
    check_write(session, principal, article.tenant_id, changes.get("visibility", article.visibility))
    for name, value in changes.items():
        setattr(article, name, value)
    article.version += 1
    article.updated_at, article.updated_by_user_id = now, principal.user_id
    _save_version(session, article, principal)
    session.flush()
    return public(article)


@router.delete("/articles/{article_id}", status_code=204, summary="Delete an article with its versions and links")
def delete_article(article_id: UUID, principal: MspStaff, session: SessionDep):
    article = load_article(session, article_id, principal)
    data = {"title": article.title, "version": article.version, "visibility": article.visibility.value}
    audit(session, principal.user_id, article.tenant_id, "kb_article", article.id, "deleted", data)
    session.delete(article)
    session.flush()
    return Response(status_code=204)


def _versions(session: Session, article: KbArticle, principal: Principal):  # noqa: ANN202
    """An old version is read only by who may read its own visibility (it may have been internal then)."""
    query = select(KbArticleVersion).where(KbArticleVersion.article_id == article.id)
    if not principal.is_msp:
        readable = readable_article_visibilities(principal.role, tenant_co_managed(session, principal))
        query = query.where(col(KbArticleVersion.visibility).in_(sorted(readable)))
    return query


def _version_public(version: KbArticleVersion) -> ArticleVersionPublic:
    return ArticleVersionPublic.model_validate(version, from_attributes=True)


@router.get(
    "/articles/{article_id}/versions",
    response_model=Page[ArticleVersionPublic],
    summary="The article's versions the caller reads, newest first",
)
def list_versions(article_id: UUID, principal: CurrentUser, session: SessionDep, page: PageDep):
    article = load_article(session, article_id, principal)
    query = _versions(session, article, principal).order_by(col(KbArticleVersion.version).desc())
    return paginate(session, query, page, _version_public)


@router.get("/articles/{article_id}/versions/{version}", response_model=ArticleVersionPublic, summary="One version")
def get_version(article_id: UUID, version: int, principal: CurrentUser, session: SessionDep):
    article = load_article(session, article_id, principal)
    row = session.exec(_versions(session, article, principal).where(KbArticleVersion.version == version)).first()
    if row is None:
        raise not_found("version", version)
    return _version_public(row)
