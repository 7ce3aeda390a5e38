"""qbr_customer_replacement_costs: a customer's own replacement cost per device type, overriding the MSP's in that
customer's QBR budget outlook

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qbr_customer_replacement_costs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("asset_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cost", models.types.Money(14, 2), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "asset_type"),
    )


def downgrade() -> None:
    op.drop_table("qbr_customer_replacement_costs")
