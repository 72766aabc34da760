"""sign-in: password and PIN hashes, failed attempts and lockout, the auto-lock setting

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("password_set_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("pin_hash", sa.String(255), nullable=True))
        batch_op.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(
            sa.Column("auto_lock_minutes", sa.Integer(), nullable=False, server_default="10")
        )


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_column("auto_lock_minutes")
    with op.batch_alter_table("staff") as batch_op:
        for column in ("locked_until", "failed_attempts", "pin_hash", "password_set_at",
                       "password_hash"):  # fmt: skip
            batch_op.drop_column(column)
