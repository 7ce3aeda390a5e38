"""co-managed IT: RACI matrix per customer with its history; external technicians (role external_tech) with an
access expiry per user

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLE_TENANT = (
    "(role IN ('customer_it', 'customer_user'{extra}) AND tenant_id IS NOT NULL) "
    "OR (role IN ('msp_admin', 'msp_tech', 'finance') AND tenant_id IS NULL)"
)


def upgrade() -> None:
    op.create_table(
        "raci_matrices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("matrix", sa.JSON(), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_raci_matrices_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_raci_matrices_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raci_matrices")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_raci_matrices_tenant_id")),
    )
    op.create_table(
        "raci_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_raci_changes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_raci_changes_actor_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raci_changes")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_raci_changes_tenant_id_version")),
    )
    op.create_index(op.f("ix_raci_changes_tenant_id"), "raci_changes", ["tenant_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_expires_at", models.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_users_role_tenant"), type_="check")
        batch_op.create_check_constraint("role_tenant", _ROLE_TENANT.format(extra=", 'external_tech'"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_tenant"), type_="check")
        batch_op.create_check_constraint("role_tenant", _ROLE_TENANT.format(extra=""))
        batch_op.drop_column("access_expires_at")
    op.drop_index(op.f("ix_raci_changes_tenant_id"), table_name="raci_changes")
    op.drop_table("raci_changes")
    op.drop_table("raci_matrices")
