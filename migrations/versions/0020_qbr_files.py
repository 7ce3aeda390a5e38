"""qbr_files: the rendered QBR decks (PowerPoint, PDF) per customer and quarter; vcio_items: roadmap, risks and
decisions of a customer

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 07:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qbr_files",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("quarter", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("customer_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_qbr_files_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "quarter", "kind", name=op.f("pk_qbr_files")),
    )
    op.create_table(
        "vcio_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", sa.Enum("roadmap", "risk", "decision", name="vciokind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "planned", "in_progress", "done", name="vciostatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("quarter", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
        sa.Column("estimated_cost", models.types.Money(14, 2), nullable=True),
        sa.Column("likelihood", sa.Integer(), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_vcio_items_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vcio_items")),
    )
    op.create_index(op.f("ix_vcio_items_tenant_id"), "vcio_items", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vcio_items_tenant_id"), table_name="vcio_items")
    op.drop_table("vcio_items")
    op.drop_table("qbr_files")
