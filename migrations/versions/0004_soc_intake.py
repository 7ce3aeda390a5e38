"""soc intake

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:52:24.784621
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("webhook_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("remote_addr", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("body_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("body_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_integration_id"), ["integration_id"], unique=False)

    op.create_table(
        "soc_integrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("webhook_secret", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("previous_webhook_secret", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("field_mapping", sa.JSON(), nullable=True),
        sa.Column("credentials_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("poll_cursor", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_soc_integrations_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soc_integrations")),
    )
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_soc_integrations_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "soc_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("vendor_alert_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("incident_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("device_hostname", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True),
        sa.Column("detected_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("received_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("normalized", sa.JSON(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["soc_integrations.id"],
            name=op.f("fk_soc_alerts_integration_id_soc_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_soc_alerts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soc_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_soc_alerts_dedupe_key")),
    )
    with op.batch_alter_table("soc_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_soc_alerts_incident_key"), ["incident_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_soc_alerts_integration_id"), ["integration_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_soc_alerts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "soc_incidents",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("first_alert_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("last_alert_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("resolved_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_soc_incidents_asset_id_assets"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_soc_incidents_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_soc_incidents")),
    )
    with op.batch_alter_table("soc_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_soc_incidents_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_soc_incidents_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("soc_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soc_incidents_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_soc_incidents_tenant_id"))

    op.drop_table("soc_incidents")
    with op.batch_alter_table("soc_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soc_alerts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_soc_alerts_integration_id"))
        batch_op.drop_index(batch_op.f("ix_soc_alerts_incident_key"))

    op.drop_table("soc_alerts")
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soc_integrations_tenant_id"))

    op.drop_table("soc_integrations")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_integration_id"))

    op.drop_table("webhook_deliveries")
