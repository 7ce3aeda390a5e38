"""users and keys for real installations, co-managed IT: key expiry, co-management per customer and per ticket,
queues and their members, hand-over between customer IT and MSP (paused SLA time)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_queues_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_index(op.f("ix_queues_tenant_id"), "queues", ["tenant_id"], unique=False)
    op.create_table(
        "queue_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("queue_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_queue_members_queue_id_queues"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_queue_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_members")),
        sa.UniqueConstraint("queue_id", "user_id", name=op.f("uq_queue_members_queue_id_user_id")),
    )
    op.create_index(op.f("ix_queue_members_queue_id"), "queue_members", ["queue_id"], unique=False)
    op.create_index(op.f("ix_queue_members_user_id"), "queue_members", ["user_id"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", models.types.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("co_managed", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("co_managed_categories", sa.JSON(), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("co_managed", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("customer_it_holds", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("ticket_sla", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_it_seconds", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_index(op.f("ix_queue_members_user_id"), table_name="queue_members")
    op.drop_index(op.f("ix_queue_members_queue_id"), table_name="queue_members")
    op.drop_table("queue_members")
    op.drop_index(op.f("ix_queues_tenant_id"), table_name="queues")
    op.drop_table("queues")
    with op.batch_alter_table("ticket_sla", schema=None) as batch_op:
        batch_op.drop_column("customer_it_seconds")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("customer_it_holds")
        batch_op.drop_column("co_managed")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("co_managed_categories")
        batch_op.drop_column("co_managed")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
