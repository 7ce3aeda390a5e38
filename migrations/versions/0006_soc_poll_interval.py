"""soc poll interval kept with the integration (the schedule is rebuilt from it)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_interval_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.drop_column("poll_interval_minutes")
