"""knowledge base: articles with versions, tags and links to tickets; full-text search (PostgreSQL: GIN index on
a German/English tsvector; SQLite: an FTS5 table kept in sync by triggers)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay the expression `models/kb_search.py` queries (`_pg_document`), or the index is not used.
_CONFIG = "CASE WHEN language = 'en' THEN 'english'::regconfig ELSE 'german'::regconfig END"
PG_DOCUMENT = (
    f"setweight(to_tsvector({_CONFIG}, title), 'A') || "
    f"setweight(to_tsvector({_CONFIG}, tags), 'B') || "
    f"setweight(to_tsvector({_CONFIG}, body), 'D')"
)

# ß is indexed as ss (the search words are folded alike); tags are indexed as their words, not their JSON.
_FTS_ROW = (
    "new.id, replace(new.title, 'ß', 'ss'), "
    "replace(coalesce((SELECT group_concat(value, ' ') FROM json_each(new.tags)), ''), 'ß', 'ss'), "
    "replace(new.body, 'ß', 'ss')"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_articles_fts USING fts5("
    "article_id UNINDEXED, title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN "
    f"INSERT INTO kb_articles_fts (article_id, title, tags, body) VALUES ({_FTS_ROW}); END",
    "CREATE TRIGGER kb_articles_fts_update AFTER UPDATE OF title, tags, body ON kb_articles BEGIN "
    "DELETE FROM kb_articles_fts WHERE article_id = old.id; "
    f"INSERT INTO kb_articles_fts (article_id, title, tags, body) VALUES ({_FTS_ROW}); END",
    "CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN "
    "DELETE FROM kb_articles_fts WHERE article_id = old.id; END",
]


def _visibility() -> sa.Enum:
    return sa.Enum("public", "internal", "co_managed", name="visibility", native_enum=False, length=32,
                   create_constraint=False)


def _language() -> sa.Enum:
    return sa.Enum("de", "en", name="articlelanguage", native_enum=False, length=8, create_constraint=False)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("visibility", _visibility(), nullable=False),
        sa.Column("language", _language(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_articles_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_kb_articles_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"], ["users.id"], name=op.f("fk_kb_articles_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index(op.f("ix_kb_articles_tenant_id"), "kb_articles", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_kb_articles_visibility"), "kb_articles", ["visibility"], unique=False)
    op.create_index(op.f("ix_kb_articles_category"), "kb_articles", ["category"], unique=False)
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("visibility", _visibility(), nullable=False),
        sa.Column("language", _language(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("edited_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_versions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["edited_by_user_id"], ["users.id"], name=op.f("fk_kb_article_versions_edited_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint("article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")),
    )
    op.create_index(op.f("ix_kb_article_versions_article_id"), "kb_article_versions", ["article_id"], unique=False)
    op.create_table(
        "kb_article_tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_tags_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_tags")),
        sa.UniqueConstraint("article_id", "tag", name=op.f("uq_kb_article_tags_article_id_tag")),
    )
    op.create_index(op.f("ix_kb_article_tags_article_id"), "kb_article_tags", ["article_id"], unique=False)
    op.create_index(op.f("ix_kb_article_tags_tag"), "kb_article_tags", ["tag"], unique=False)
    op.create_table(
        "kb_ticket_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("linked_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_ticket_links_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_kb_ticket_links_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_user_id"], ["users.id"], name=op.f("fk_kb_ticket_links_linked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_ticket_links")),
        sa.UniqueConstraint("article_id", "ticket_id", name=op.f("uq_kb_ticket_links_article_id_ticket_id")),
    )
    op.create_index(op.f("ix_kb_ticket_links_article_id"), "kb_ticket_links", ["article_id"], unique=False)
    op.create_index(op.f("ix_kb_ticket_links_ticket_id"), "kb_ticket_links", ["ticket_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (({PG_DOCUMENT}))")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS kb_articles_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    op.drop_table("kb_ticket_links")
    op.drop_table("kb_article_tags")
    op.drop_table("kb_article_versions")
    op.drop_table("kb_articles")
