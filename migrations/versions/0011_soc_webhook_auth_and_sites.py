"""soc webhook: each integration's vendor sites/accounts (the site -> customer mapping) and its webhook
verification method (Standard Webhooks, a static secret header, a bearer token or an HMAC of the body); the hash
of a quarantined webhook item, so a redelivered refused item is held once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor_tenant_ids", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "webhook_auth",
                sqlmodel.sql.sqltypes.AutoString(length=32),
                nullable=False,
                server_default="standard_webhooks",
            )
        )
        batch_op.add_column(
            sa.Column("webhook_auth_header", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
    with op.batch_alter_table("soc_quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_soc_quarantine_item_sha256"), ["item_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("soc_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soc_quarantine_item_sha256"))
        batch_op.drop_column("item_sha256")
    with op.batch_alter_table("soc_integrations", schema=None) as batch_op:
        batch_op.drop_column("webhook_auth_header")
        batch_op.drop_column("webhook_auth")
        batch_op.drop_column("vendor_tenant_ids")
