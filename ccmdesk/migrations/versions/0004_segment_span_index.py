"""month evaluation: a covering index over segment spans

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Evaluating a month reads every segment that starts before its end; with the end and the
    # entry in the index, SQLite answers from the index alone instead of visiting each row.
    # It replaces the started_at index, whose every use it also serves.
    op.create_index("ix_time_segment_span", "time_segment", ["started_at", "ended_at", "entry_id"])
    op.drop_index("ix_time_segment_started_at", table_name="time_segment")


def downgrade() -> None:
    op.create_index("ix_time_segment_started_at", "time_segment", ["started_at"])
    op.drop_index("ix_time_segment_span", table_name="time_segment")
