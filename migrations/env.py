"""Alembic environment: the hub's SQLModel metadata, URL from the config the hub passes in."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)
from models.kb_search import is_search_object

config = context.config
target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Autogenerate leaves the knowledge base's search objects (FTS5 tables, GIN index) alone: no table has them."""
    return not is_search_object(name)


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                         prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() if hasattr(connectable, "connect") else connectable as connection:
        # Batch mode lets SQLite alter tables by copying them.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
