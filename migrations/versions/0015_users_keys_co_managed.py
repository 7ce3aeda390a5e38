"""users and keys for real installations, co-managed IT: key expiry, co-management per customer and per ticket

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", models.types.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("co_managed", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("co_managed_categories", sa.JSON(), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("co_managed", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("co_managed")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("co_managed_categories")
        batch_op.drop_column("co_managed")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
