"""inventory sync: sources per customer (Datto RMM, Microsoft 365), RMM health on assets, licence sync columns,
daily health snapshots

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.types import UtcDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "inventory_sources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", AutoString(length=16), nullable=False),
        sa.Column("name", AutoString(length=100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("credentials_ref", AutoString(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_sync_at", UtcDateTime(), nullable=True),
        sa.Column("last_success_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", AutoString(length=2000), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_sources")),
        sa.UniqueConstraint("tenant_id", "kind", name=op.f("uq_inventory_sources_tenant_id_kind")),
    )
    op.create_index(op.f("ix_inventory_sources_tenant_id"), "inventory_sources", ["tenant_id"])
    op.create_table(
        "health_snapshots",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("taken_at", UtcDateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_health_snapshots")),
    )
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("rmm_uid", AutoString(length=100), nullable=True))
        batch.add_column(sa.Column("rmm_synced_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("rmm_gone_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("online", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("last_seen", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("antivirus_product", AutoString(length=100), nullable=True))
        batch.add_column(sa.Column("antivirus_status", AutoString(length=32), nullable=True))
        batch.add_column(sa.Column("patch_status", AutoString(length=32), nullable=True))
        batch.add_column(sa.Column("reboot_required", sa.Boolean(), nullable=True))
        batch.create_index("uq_assets_tenant_rmm_uid", ["tenant_id", "rmm_uid"], unique=True)
    with op.batch_alter_table("licences") as batch:
        batch.add_column(sa.Column("capability_status", AutoString(length=32), nullable=True))
        batch.add_column(sa.Column("synced_at", UtcDateTime(), nullable=True))
        batch.create_index("ix_licences_tenant_vendor_sku", ["tenant_id", "vendor", "sku"])


def downgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.drop_index("ix_licences_tenant_vendor_sku")
        batch.drop_column("synced_at")
        batch.drop_column("capability_status")
    with op.batch_alter_table("assets") as batch:
        batch.drop_index("uq_assets_tenant_rmm_uid")
        for column in ("reboot_required", "patch_status", "antivirus_status", "antivirus_product", "last_seen",
                       "online", "rmm_gone_at", "rmm_synced_at", "rmm_uid"):  # fmt: skip
            batch.drop_column(column)
    op.drop_index(op.f("ix_inventory_sources_tenant_id"), table_name="inventory_sources")
    op.drop_table("health_snapshots")
    op.drop_table("inventory_sources")
