"""soc quarantine: items whose hand-over kept failing (later also unreadable polled or refused webhook items), set
aside so that they block nobody, and re-playable

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "soc_quarantine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=220), nullable=True),
        sa.Column("released_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_soc_quarantine_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["soc_integrations.id"],
            name=op.f("fk_soc_quarantine_integration_id_soc_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soc_quarantine")),
    )
    with op.batch_alter_table("soc_quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_soc_quarantine_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_soc_quarantine_integration_id"), ["integration_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("soc_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soc_quarantine_integration_id"))
        batch_op.drop_index(batch_op.f("ix_soc_quarantine_tenant_id"))
    op.drop_table("soc_quarantine")
