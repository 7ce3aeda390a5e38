"""customer_billing_profiles.debtor_account: the customer's account (Personenkonto) in the accountant's books,
unique, for the DATEV and BMD exports when the customer number gives none or two customers' numbers give the same

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_billing_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("debtor_account", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_customer_billing_profiles_debtor_account"), ["debtor_account"])


def downgrade() -> None:
    with op.batch_alter_table("customer_billing_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customer_billing_profiles_debtor_account"), type_="unique")
        batch_op.drop_column("debtor_account")
