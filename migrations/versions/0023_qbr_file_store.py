"""qbr_files: the decks move to the file store (path), content only for decks stored before; version for rebuilds

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qbr_files") as batch:
        batch.add_column(sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # Decks only in the file store have no bytes to put back: they are dropped (the next QBR run renders them again).
    op.execute("DELETE FROM qbr_files WHERE content IS NULL")
    with op.batch_alter_table("qbr_files") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column("version")
        batch.drop_column("path")
