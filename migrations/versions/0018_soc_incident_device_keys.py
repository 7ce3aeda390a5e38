"""soc_incidents: every device an incident's alerts name (a RocketCyber incident names several), by device key

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("soc_incidents", sa.Column("device_keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("soc_incidents", schema=None) as batch_op:
        batch_op.drop_column("device_keys")
