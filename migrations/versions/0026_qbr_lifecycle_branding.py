"""qbr_replacement_costs: the MSP's estimated replacement cost per device type (QBR budget outlook); seller_profile:
the QBR branding (raster logo, colours, PowerPoint template)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qbr_replacement_costs",
        sa.Column("asset_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cost", models.types.Money(14, 2), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_type"),
    )
    with op.batch_alter_table("seller_profile") as batch:
        batch.add_column(sa.Column("logo_image", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("brand_colour", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True))
        batch.add_column(sa.Column("accent_colour", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True))
        batch.add_column(sa.Column("qbr_template", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seller_profile") as batch:
        batch.drop_column("qbr_template")
        batch.drop_column("accent_colour")
        batch.drop_column("brand_colour")
        batch.drop_column("logo_image")
    op.drop_table("qbr_replacement_costs")
