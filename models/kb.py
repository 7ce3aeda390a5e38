"""Knowledge base: articles (the current version's text, searched through `models/kb_search.py`), every version
of them, their tags (for filtering) and their links to tickets."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.kb import ArticleLanguage
from domain.tickets import Visibility
from models.base import id_field
from models.types import UtcDateTime, enum_type


class KbContent(SQLModel):
    """What an edit changes, and each version keeps."""

    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)  # Markdown
    visibility: Visibility = Field(sa_type=enum_type(Visibility))
    language: ArticleLanguage = Field(sa_type=enum_type(ArticleLanguage, length=8))
    category: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)


class KbArticle(KbContent, table=True):
    __tablename__ = "kb_articles"
    __table_args__ = (Index(None, "visibility"), Index(None, "category"))

    id: uuid.UUID = id_field()
    # None: MSP-wide (every customer's readers, by visibility); else one customer's article.
    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    version: int  # the current one; every edit adds a KbArticleVersion
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class KbArticleVersion(KbContent, table=True):
    """One state of an article as it was saved: who saved it and when."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: uuid.UUID = id_field()
    article_id: uuid.UUID = Field(foreign_key="kb_articles.id", index=True, ondelete="CASCADE")
    version: int
    edited_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    edited_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class KbArticleTag(SQLModel, table=True):
    """The current version's tags, one row each, so `?tag=` filters on both databases alike."""

    __tablename__ = "kb_article_tags"
    __table_args__ = (UniqueConstraint("article_id", "tag"),)

    id: uuid.UUID = id_field()
    article_id: uuid.UUID = Field(foreign_key="kb_articles.id", index=True, ondelete="CASCADE")
    tag: str = Field(max_length=64, index=True)


class KbTicketLink(SQLModel, table=True):
    __tablename__ = "kb_ticket_links"
    __table_args__ = (UniqueConstraint("article_id", "ticket_id"),)

    id: uuid.UUID = id_field()
    article_id: uuid.UUID = Field(foreign_key="kb_articles.id", index=True, ondelete="CASCADE")
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    linked_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    linked_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
