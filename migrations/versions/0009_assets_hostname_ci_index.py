"""assets: index for the case-insensitive hostname lookup of SOC enrichment

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assets_tenant_hostname_ci", "assets", ["tenant_id", sa.text("lower(hostname)")])


def downgrade() -> None:
    op.drop_index("ix_assets_tenant_hostname_ci", table_name="assets")
