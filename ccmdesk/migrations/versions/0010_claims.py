"""claims: practice claim settings, waivers, enrolment history and sent claims

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from ccmdesk.models.base import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = (
    ("street", 200), ("city", 100), ("state", 2), ("zip", 10), ("taxonomy", 10),
    ("submitter_id", 80), ("submitter_name", 60), ("submitter_phone", 20),
    ("receiver_id", 80), ("receiver_name", 60), ("isa_id", 15),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("practice") as batch_op:
        for name, length in _TEXT_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.add_column(
            sa.Column("tin_kind", sa.String(length=3), nullable=False, server_default="ein")
        )
        batch_op.add_column(
            sa.Column("accept_assignment", sa.Boolean(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("collects_signature", sa.Boolean(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("isa_qualifier", sa.String(length=2), nullable=False, server_default="ZZ")
        )
        batch_op.add_column(
            sa.Column("usage", sa.String(length=1), nullable=False, server_default="T")
        )
        batch_op.add_column(
            sa.Column("control_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(op.f("ck_practice_tin_kind"), "tin_kind IN ('ein', 'ssn')")
        batch_op.create_check_constraint(op.f("ck_practice_usage"), "usage IN ('T', 'P')")
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(
            sa.Column("cannot_pay", sa.Boolean(), nullable=False, server_default="0")
        )
    op.create_table(
        "enrolment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "step IN ('offered', 'consented', 'declined', 'revoked')",
            name=op.f("ck_enrolment_event_step"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('cost share', 'not interested', 'enrolled elsewhere', "
            "'not eligible', 'other')",
            name=op.f("ck_enrolment_event_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"],
            name=op.f("fk_enrolment_event_patient_id_patient"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_event")),
    )  # fmt: skip
    op.create_index(op.f("ix_enrolment_event_patient_id"), "enrolment_event", ["patient_id"])
    op.create_table(
        "waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("from_month", sa.String(length=7), nullable=False),
        sa.Column("to_month", sa.String(length=7), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "to_month IS NULL OR to_month >= from_month", name=op.f("ck_waiver_order")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_waiver_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff.id"], name=op.f("fk_waiver_approved_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiver")),
        sa.UniqueConstraint("patient_id", "from_month", name=op.f("uq_waiver_patient_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_waiver_patient_id"), "waiver", ["patient_id"])
    op.create_table(
        "sent_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("claim_id", sa.String(length=20), nullable=False),
        sa.Column("payer_id", sa.String(length=20), nullable=False),
        sa.Column("file", sa.String(length=100), nullable=False),
        sa.Column("control_number", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_sent_claim_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_claim")),
    )  # fmt: skip
    op.create_index("ix_sent_claim_patient_month", "sent_claim", ["patient_id", "month"])
    op.create_index(op.f("ix_sent_claim_month"), "sent_claim", ["month"])
    _history_from_enrollment(op.get_bind())


def _history_from_enrollment(connection: sa.Connection) -> None:
    """Start each patient's enrolment history from what the enrollment row already says: the
    consent and the revocation, recorded by the upgrade (docs/payers.md, "Enrolment history")."""
    enrollment = sa.table(
        "enrollment", sa.column("patient_id"), sa.column("consent_date"),
        sa.column("consent_revoked_date"),
    )  # fmt: skip
    event = sa.table(
        "enrolment_event",
        *(sa.column(name) for name in (
            "patient_id", "step", "day", "reason", "note", "recorded_at", "recorded_by",
        )),
    )  # fmt: skip
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = connection.execute(
        sa.select(
            enrollment.c.patient_id, enrollment.c.consent_date, enrollment.c.consent_revoked_date
        ).order_by(enrollment.c.patient_id)
    ).all()
    values = []
    for patient_id, consented, revoked in rows:
        for step, day in (("consented", consented), ("revoked", revoked)):
            if day is not None:
                values.append(
                    {"patient_id": patient_id, "step": step, "day": day, "reason": None,
                     "note": "From the enrollment record, on upgrade.", "recorded_at": now,
                     "recorded_by": "upgrade"}
                )  # fmt: skip
    if values:
        connection.execute(event.insert(), values)


def downgrade() -> None:
    op.drop_table("sent_claim")
    op.drop_table("waiver")
    op.drop_table("enrolment_event")
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_column("cannot_pay")
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_constraint(op.f("ck_practice_usage"), type_="check")
        batch_op.drop_constraint(op.f("ck_practice_tin_kind"), type_="check")
        for name in ("control_number", "usage", "isa_qualifier", "collects_signature",
                     "accept_assignment", "tin_kind"):  # fmt: skip
            batch_op.drop_column(name)
        for name, _length in reversed(_TEXT_COLUMNS):
            batch_op.drop_column(name)
