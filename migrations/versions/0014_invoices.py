"""invoices: drafts, issued invoices and credit notes, number series, rendered files; billed markers on time
entries and items; seller contact and credit note series

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 02:29:50.016267
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_number_counters",
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "fiscal_year", name=op.f("pk_invoice_number_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "kind", sa.Enum("invoice", "credit_note", name="invoicekind", native_enum=False, length=16), nullable=False
        ),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("run_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "failed",
                "approved",
                "issued",
                "rejected",
                "nothing",
                name="draftstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("contingent", sa.JSON(), nullable=True),
        sa.Column("carried_out_minutes", sa.Integer(), nullable=False),
        sa.Column("net_total", models.types.Money(14, 2), nullable=False),
        sa.Column("tax_total", models.types.Money(14, 2), nullable=False),
        sa.Column("gross_total", models.types.Money(14, 2), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("credit_of_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("approved_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_user_id"],
            ["users.id"],
            name=op.f("fk_invoices_approved_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["credit_of_id"], ["invoices.id"], name=op.f("fk_invoices_credit_of_id_invoices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoices_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("run_key", name=op.f("uq_invoices_run_key")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "invoice_files",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_files_invoice_id_invoices"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("invoice_id", "kind", name=op.f("pk_invoice_files")),
    )
    with op.batch_alter_table("contract_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_contract_items_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"], ondelete="RESTRICT"
        )

    with op.batch_alter_table("customer_billing_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False, server_default="de")
        )

    with op.batch_alter_table("seller_profile", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credit_note_prefix", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="GS"
            )
        )
        batch_op.add_column(sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))

    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_time_entries_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_time_entries_invoice_id_invoices"), type_="foreignkey")
        batch_op.drop_column("invoice_id")

    with op.batch_alter_table("customer_billing_profiles", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("seller_profile", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_name")
        batch_op.drop_column("credit_note_prefix")

    with op.batch_alter_table("contract_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contract_items_invoice_id_invoices"), type_="foreignkey")
        batch_op.drop_column("invoice_id")

    op.drop_table("invoice_files")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_status"))
        batch_op.drop_index(batch_op.f("ix_invoices_period"))

    op.drop_table("invoices")
    op.drop_table("invoice_number_counters")
