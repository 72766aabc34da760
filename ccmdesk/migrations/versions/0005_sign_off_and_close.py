"""sign-off and month close: what was signed, closed months, the attestation, append-only audit

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_REFUSE = "the audit trail is append-only"


def upgrade() -> None:
    with op.batch_alter_table("monthly_review") as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("summary_hash", sa.String(64), nullable=False, server_default="")
        )
    op.create_index(
        "ux_monthly_review_in_force",
        "monthly_review",
        ["patient_id", "month"],
        unique=True,
        sqlite_where=sa.text("voided_at IS NULL"),
        postgresql_where=sa.text("voided_at IS NULL"),
    )
    op.create_table(
        "month_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(100), nullable=False),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_by", sa.String(100), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_month_close"),
    )
    op.create_index(
        "ux_month_close_in_force",
        "month_close",
        ["month"],
        unique=True,
        sqlite_where=sa.text("reopened_at IS NULL"),
        postgresql_where=sa.text("reopened_at IS NULL"),
    )
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(sa.Column("attestation", sa.Text(), nullable=False, server_default=""))
    # No code path updates or deletes an audit event; the database refuses it too, so a slip in
    # a later version cannot rewrite history. (Someone with the file can drop the triggers;
    # `ccmdesk audit verify` is what catches that.)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb} BEFORE {verb.upper()} ON audit_event "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
            )
    else:
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb} BEFORE {verb.upper()} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(
            f"DROP TRIGGER audit_event_no_{verb}"
            + (" ON audit_event" if op.get_bind().dialect.name == "postgresql" else "")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_event_append_only()")
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_column("attestation")
    op.drop_index("ux_month_close_in_force", table_name="month_close")
    op.drop_table("month_close")
    op.drop_index("ux_monthly_review_in_force", table_name="monthly_review")
    with op.batch_alter_table("monthly_review") as batch_op:
        batch_op.drop_column("summary_hash")
        batch_op.drop_column("summary")
