"""billing master data: the seller profile, customer billing profiles, the price list, one-off items and credits
of contracts, and the contracts' billing terms (time rules, hour contingent, auto-approve)

Revision ID: 0013
Revises: 0010 (0011 and 0012 are added in parallel; the chain is re-linked at merge)
Create Date: 2026-12-02 23:46:17.859210
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "unit",
            sa.Enum(
                "seat", "device", "server", "hour", "flat", "licence", name="lineunit", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("unit_price", models.types.Money(14, 2), nullable=False),
        sa.Column(
            "billing_cycle",
            sa.Enum("monthly", "quarterly", "yearly", "one_time", name="billingcycle", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "revenue_type",
            sa.Enum(
                "managed_services",
                "licences",
                "labour",
                "hardware",
                "other",
                name="revenuetype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "tax_class", sa.Enum("standard", "reduced", name="taxclass", native_enum=False, length=16), nullable=False
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
    )
    op.create_table(
        "seller_profile",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("legal_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("vat_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("tax_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("register_entry", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("iban", sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
        sa.Column("bic", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("sepa_creditor_id", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("invoice_number_prefix", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("invoice_number_digits", sa.Integer(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("datev_consultant_number", sa.Integer(), nullable=True),
        sa.Column("datev_client_number", sa.Integer(), nullable=True),
        sa.Column(
            "chart_of_accounts",
            sa.Enum("SKR03", "SKR04", name="chartofaccounts", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("account_mapping", sa.JSON(), nullable=False),
        sa.Column("logo_svg", sqlmodel.sql.sqltypes.AutoString(length=100000), nullable=True),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_profile")),
    )
    op.create_table(
        "customer_billing_profiles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("billing_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("billing_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("vat_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("is_business", sa.Boolean(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column(
            "invoice_format",
            sa.Enum("pdf", "xrechnung", "zugferd", name="invoiceformat", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("public_sector", sa.Boolean(), nullable=False),
        sa.Column("buyer_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("sepa_mandate_id", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("sepa_mandate_signed_on", sa.Date(), nullable=True),
        sa.Column("sepa_iban", sqlmodel.sql.sqltypes.AutoString(length=34), nullable=True),
        sa.Column(
            "sepa_sequence",
            sa.Enum("first", "recurring", name="mandatesequence", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customer_billing_profiles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_billing_profiles")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_customer_billing_profiles_tenant_id")),
    )
    op.create_table(
        "contract_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("one_off", "credit", name="itemkind", native_enum=False, length=16), nullable=False),
        sa.Column("product_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("quantity", models.types.Money(14, 3), nullable=False),
        sa.Column("unit_price", models.types.Money(14, 2), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column(
            "tax_class", sa.Enum("standard", "reduced", name="taxclass", native_enum=False, length=16), nullable=False
        ),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("billed_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_items_contract_id_contracts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_contract_items_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_items")),
    )
    with op.batch_alter_table("contract_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_items_contract_id"), ["contract_id"], unique=False)

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_terms", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("contingent", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("auto_approve", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("auto_approve")
        batch_op.drop_column("contingent")
        batch_op.drop_column("time_terms")

    with op.batch_alter_table("contract_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_items_contract_id"))

    op.drop_table("contract_items")
    op.drop_table("customer_billing_profiles")
    op.drop_table("seller_profile")
    op.drop_table("products")
