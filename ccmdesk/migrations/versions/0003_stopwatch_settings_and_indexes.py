"""stopwatch: idle threshold and activity list settings; indexes for open timers and overlaps

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The migration keeps its own copy of the default list: later edits must not rewrite history.
DEFAULT_ACTIVITIES = "\n".join(
    (
        "Call with patient or caregiver",
        "Coordination with other providers",
        "Medication reconciliation",
        "Care plan review or revision",
        "Referrals and community resources",
        "Education",
        "Other",
    )
)


def upgrade() -> None:
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(
            sa.Column("idle_minutes", sa.Integer(), nullable=False, server_default="5")
        )
        batch_op.add_column(
            sa.Column("activities", sa.Text(), nullable=False, server_default=DEFAULT_ACTIVITIES)
        )
    # The open-timer lookup at every start and resume: a few rows instead of a staff member's
    # whole history. It replaces the staff_id index, which SQLite would otherwise prefer.
    op.create_index("ix_time_entry_staff_state", "time_entry", ["staff_id", "state"])
    op.drop_index("ix_time_entry_staff_id", table_name="time_entry")
    # The overlap check walks the segments that end after the new entry starts (recent ones).
    op.create_index("ix_time_segment_ended_at", "time_segment", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_time_segment_ended_at", table_name="time_segment")
    op.create_index("ix_time_entry_staff_id", "time_entry", ["staff_id"])
    op.drop_index("ix_time_entry_staff_state", table_name="time_entry")
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_column("activities")
        batch_op.drop_column("idle_minutes")
