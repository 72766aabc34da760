"""care team's day: phone numbers, call log, callbacks, notifications, reminder settings

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ccmdesk.models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OUTCOMES = "'reached', 'voicemail', 'no answer', 'wrong number', 'declined'"
KINDS = (
    "'falling_behind', 'long_stopwatch', 'no_stopwatch', 'callbacks_due', 'ready_to_sign', "
    "'month_close'"
)


def upgrade() -> None:
    # Columns only: SQLite adds them in place. A new constraint would rebuild the patient table,
    # and dropping the old one cascades to every row that refers to a patient.
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(
            sa.Column("mobile_phone", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("other_phone", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "preferred_call_time", sa.String(length=10), nullable=False, server_default=""
            )
        )
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(
            sa.Column("reminders_off", sa.Text(), nullable=False, server_default="")
        )
        for name, default in (
            ("stopwatch_limit_minutes", "60"),
            ("nudge_after_minutes", "10"),
            ("workday_start_minute", "480"),
            ("workday_end_minute", "1020"),
        ):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=default)
            )
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(
            sa.Column("reminders_off", sa.Text(), nullable=False, server_default="")
        )
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("time_entry_id", sa.Integer(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=100), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"],
            name=op.f("fk_callback_patient_id_patient"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["staff.id"], name=op.f("fk_callback_assigned_to_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["time_entry_id"], ["time_entry.id"],
            name=op.f("fk_callback_time_entry_id_time_entry"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )  # fmt: skip
    op.create_index(op.f("ix_callback_patient_id"), "callback", ["patient_id"])
    op.create_index(op.f("ix_callback_assigned_to_id"), "callback", ["assigned_to_id"])
    op.create_index("ix_callback_open_due", "callback", ["done_at", "cancelled_at", "due_at"])
    op.create_table(
        "call_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f("ck_call_attempt_outcome")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"],
            name=op.f("fk_call_attempt_patient_id_patient"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_call_attempt_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callback.id"],
            name=op.f("fk_call_attempt_callback_id_callback"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempt")),
    )  # fmt: skip
    op.create_index(op.f("ix_call_attempt_patient_id"), "call_attempt", ["patient_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_notification_kind")),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"],
            name=op.f("fk_notification_staff_id_staff"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("staff_id", "key", name=op.f("uq_notification_staff_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_notification_staff_id"), "notification", ["staff_id"])


def downgrade() -> None:
    op.drop_table("notification")
    op.drop_table("call_attempt")
    op.drop_table("callback")
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_column("reminders_off")
    with op.batch_alter_table("practice") as batch_op:
        for name in (
            "workday_end_minute",
            "workday_start_minute",
            "nudge_after_minutes",
            "stopwatch_limit_minutes",
            "reminders_off",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("patient") as batch_op:
        for name in ("preferred_call_time", "other_phone", "mobile_phone"):
            batch_op.drop_column(name)
