"""soc incident lifecycle: vendor status updates, P1 paging acknowledgement, per-integration triage settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triage_settings", sa.JSON(), nullable=True))

    with op.batch_alter_table("soc_alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "vendor_status",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                server_default="new",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("vendor_updated_at", models.types.UtcDateTime(), nullable=True))

    with op.batch_alter_table("soc_incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("vendor_resolved_at", models.types.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("paged_level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", models.types.UtcDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_soc_incidents_acknowledged_by_users"),
            "users",
            ["acknowledged_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("soc_incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_soc_incidents_acknowledged_by_users"), type_="foreignkey")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("paged_level")
        batch_op.drop_column("vendor_resolved_at")
        batch_op.drop_column("vendor_status")

    with op.batch_alter_table("soc_alerts", schema=None) as batch_op:
        batch_op.drop_column("vendor_updated_at")
        batch_op.drop_column("vendor_status")

    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.drop_column("triage_settings")
