"""Full-text search over knowledge base articles, one interface over two backends:

- PostgreSQL: a tsvector of title (weight A), tags (B) and body (D), stemmed with the `german` or `english` text
  search configuration by the article's language, GIN-indexed by the expression (migration 0019); a search is
  matched in both configurations and ranked by `ts_rank`.
- SQLite: an FTS5 table `kb_articles_fts` (tokenizer `porter unicode61 remove_diacritics 2`) kept in sync with
  `kb_articles` by triggers (migration 0019, SQLite only); ranked by bm25 with the same column weights. Porter
  stems English only, so every word is searched as a prefix (`Drucker` finds `Druckers` and `Druckern`), and the
  triggers index `ß` as `ss` like the search words (`Grösse` finds `Größe`), as PostgreSQL's German stemmer does.

Callers give the words (`domain.kb.search_terms`, letters and digits only: no query syntax reaches a backend) and
the scope as WHERE clauses on KbArticle; answers are (article, score), best first, higher is better."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from models.kb import KbArticle

FTS_TABLE = "kb_articles_fts"
PG_INDEX = "ix_kb_articles_search"


def _pg_document(table: str) -> str:
    """The indexed expression: the migration's index is built from the same text (its columns unqualified);
    tests/api/test_kb_search.py proves the planner uses the index for it."""
    config = f"CASE WHEN {table}.language = 'en' THEN 'english'::regconfig ELSE 'german'::regconfig END"
    return (
        f"setweight(to_tsvector({config}, {table}.title), 'A') || "
        f"setweight(to_tsvector({config}, {table}.tags), 'B') || "
        f"setweight(to_tsvector({config}, {table}.body), 'D')"
    )



def is_search_object(name: str | None) -> bool:
    """The objects only one backend has (FTS5 table and its shadow tables, the GIN index), which the tables'
    metadata does not describe: schema comparisons leave them out."""
    return bool(name) and (name.startswith(FTS_TABLE) or name == PG_INDEX)


def postgres_match(terms: Sequence[str], match_all: bool) -> tuple[ColumnElement, ColumnElement, None]:
    text = (" " if match_all else " or ").join(terms)  # websearch syntax: words are ANDed, `or` between them ORs
    query = sa.func.websearch_to_tsquery(sa.literal_column("'german'::regconfig"), text).op("||")(
        sa.func.websearch_to_tsquery(sa.literal_column("'english'::regconfig"), text)
    )
    document = sa.literal_column(_pg_document(KbArticle.__tablename__))
    return document.op("@@")(query), sa.func.ts_rank(document, query), None


def sqlite_match(terms: Sequence[str], match_all: bool) -> tuple[ColumnElement, ColumnElement, sa.TableClause]:
    fts = sa.table(FTS_TABLE, sa.column("article_id"))
    match = (" " if match_all else " OR ").join(f'"{t}"*' for t in terms)
    matches = sa.literal_column(FTS_TABLE).op("MATCH")(sa.bindparam("kb_match", match))
    # bm25 is lower for better matches; weights per column: article_id (unindexed), title, tags, body.
    score = -sa.func.bm25(sa.literal_column(FTS_TABLE), 0.0, 10.0, 5.0, 1.0)
    return matches, score, fts


def search_articles(
    session: Session,
    terms: Sequence[str],
    *,
    scope: Sequence[ColumnElement],
    match_all: bool = True,
    limit: int = 20,
    offset: int = 0,
) -> list[tuple[KbArticle, float]]:
    """Articles within `scope` that contain all (or, `match_all=False`, any) of `terms`, best first."""
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    backend = postgres_match if dialect == "postgresql" else sqlite_match
    matches, score, fts = backend(terms, match_all)
    query = select(KbArticle, score.label("score"))
    if fts is not None:
        query = query.join(fts, fts.c.article_id == KbArticle.id)
    query = query.where(matches, *scope).order_by(sa.desc("score"), KbArticle.title, KbArticle.id)
    rows = session.exec(query.limit(limit).offset(offset)).all()
    return [(article, float(value)) for article, value in rows]
