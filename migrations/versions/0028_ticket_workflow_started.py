"""tickets.workflow_started_at: a ticket's row is written before its workflow starts; the sweep starts the workflow
of a row still without it (the API stopped between the two)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("workflow_started_at", models.types.UtcDateTime(timezone=True), nullable=True))
    # Every ticket so far was opened by its own workflow.
    op.execute("UPDATE tickets SET workflow_started_at = created_at")
    op.create_index(
        "ix_tickets_workflow_pending",
        "tickets",
        ["created_at"],
        sqlite_where=sa.text("workflow_started_at IS NULL"),
        postgresql_where=sa.text("workflow_started_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_workflow_pending", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("workflow_started_at")
