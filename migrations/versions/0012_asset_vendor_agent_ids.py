"""assets: the EDR vendor's agent ids (agent UUID, agent id) and the IP, so SOC alerts find their device by its agent
first, then by serial, host name and IP

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no batch table rebuild, which would drop SQLite's lower(hostname) index.
    op.add_column("assets", sa.Column("agent_uuid", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.add_column("assets", sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.add_column("assets", sa.Column("ip_address", sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True))
    op.create_index("uq_assets_tenant_agent_uuid", "assets", ["tenant_id", "agent_uuid"], unique=True)
    op.create_index("ix_assets_tenant_agent_id", "assets", ["tenant_id", "agent_id"])
    op.create_index("ix_assets_tenant_serial", "assets", ["tenant_id", "serial"])


def downgrade() -> None:
    op.drop_index("ix_assets_tenant_serial", table_name="assets")
    op.drop_index("ix_assets_tenant_agent_id", table_name="assets")
    op.drop_index("uq_assets_tenant_agent_uuid", table_name="assets")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("ip_address")
        batch_op.drop_column("agent_id")
        batch_op.drop_column("agent_uuid")
    # The batch rebuild (SQLite) lost the expression index: put it back.
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_assets_tenant_hostname_ci", table_name="assets", if_exists=True)
        op.create_index("ix_assets_tenant_hostname_ci", "assets", ["tenant_id", sa.text("lower(hostname)")])
