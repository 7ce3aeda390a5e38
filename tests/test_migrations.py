"""Alembic migrations and the SQLModel tables describe the same schema, on every database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models  # noqa: F401
from hub.db import alembic_config, make_engine, upgrade
from models.kb_search import is_search_object


def _described(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """The search backends' own objects (FTS5 tables, the GIN index) are no SQLModel table's."""
    return not is_search_object(name)


# SQLite cannot reflect expression indexes (contacts' lower(email)); PostgreSQL compares them.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning", "ignore:.*expression-based index")
def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _described})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    eng = make_engine(url)
    assert set(inspect(eng).get_table_names()) == {"alembic_version"}
    upgrade(url)
    assert "tickets" in inspect(eng).get_table_names()
    eng.dispose()
