"""contacts: e-mail unique per tenant regardless of case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 16:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The constraint goes first: SQLite's batch mode recreates the table and would lose an expression index made
    # before it. Creating the index fails if a tenant already has one address in two spellings (only rows written
    # around the API's check can): merge them first.
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_contacts_tenant_id_email", type_="unique")
    op.create_index("uq_contacts_tenant_email_ci", "contacts", ["tenant_id", sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_contacts_tenant_email_ci", table_name="contacts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_contacts_tenant_id_email", ["tenant_id", "email"])
