"""month integrity: the bill a closed month was closed with, and flags on billed months

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("month_close") as batch_op:
        batch_op.add_column(sa.Column("bill", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "month_flag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("raised_by", sa.String(100), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_month_flag_month", "month_flag", ["month"])


def downgrade() -> None:
    op.drop_index("ix_month_flag_month", table_name="month_flag")
    op.drop_table("month_flag")
    with op.batch_alter_table("month_close") as batch_op:
        batch_op.drop_column("bill")
