"""Knowledge base: articles, their versions, search hits, ticket links and suggestions."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, field_validator

from api.schemas.common import Body, multiline, not_null, text
from domain.kb import ArticleLanguage
from domain.tickets import Visibility

Title = text(200)
Markdown = multiline(100_000, min_length=1)
Category = text(64)


def _tags(values: list[str]) -> list[str]:
    """Lower-cased, each once, in the order given (a filter `?tag=` matches regardless of case)."""
    return list(dict.fromkeys(v.lower() for v in values))


Tags = Annotated[list[text(64)], Field(max_length=20), AfterValidator(_tags)]


class ArticleCreate(Body):
    title: Title
    body: Markdown = Field(description="Markdown")
    visibility: Visibility = Field(
        Visibility.INTERNAL, description="internal (MSP only), co_managed (and the customer's IT), public"
    )
    tenant_id: UUID | None = Field(
        None, description="The customer the article belongs to; none: MSP-wide (customer IT: its own customer)"
    )
    category: Category | None = None
    tags: Tags = []
    language: ArticleLanguage = ArticleLanguage.DE


class ArticleUpdate(Body):
    """Every change saves a new version; `expected_version` refuses a change made on an older one (409)."""

    title: Title | None = None
    body: Markdown | None = None
    visibility: Visibility | None = None
    category: Category | None = None
    tags: Tags | None = None
    language: ArticleLanguage | None = None
    expected_version: int | None = Field(None, ge=1)

    _required = field_validator("title", "body", "visibility", "tags", "language")(not_null)


class ArticleFields(BaseModel):
    visibility: Visibility
    language: ArticleLanguage
    category: str | None
    tags: list[str]
    title: str


class ArticleSummary(ArticleFields):
    id: UUID
    tenant_id: UUID | None
    version: int
    updated_at: datetime
    updated_by_user_id: UUID | None


class ArticlePublic(ArticleSummary):
    body: str
    created_at: datetime
    created_by_user_id: UUID | None


class ArticleVersionPublic(ArticleFields):
    article_id: UUID
    version: int
    body: str
    edited_at: datetime
    edited_by_user_id: UUID | None


class SearchHit(BaseModel):
    article: ArticleSummary
    score: float = Field(description="Higher is better; comparable within one answer only")


class SearchResults(BaseModel):
    items: list[SearchHit]
    terms: list[str] = Field(description="The words searched for (letters and digits, lower case)")


class TicketLinkPublic(BaseModel):
    article_id: UUID
    ticket_id: UUID
    linked_at: datetime
    linked_by_user_id: UUID | None


class LinkedTicket(BaseModel):
    ticket_id: UUID
    number: str
    title: str
    status: str
    linked_at: datetime


class Suggestion(BaseModel):
    article: ArticleSummary
    score: float
    same_category: bool


class CategoryCount(BaseModel):
    category: str
    articles: int
