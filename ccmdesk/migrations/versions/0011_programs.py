"""programs: program periods, last visit, G0506 flag, APCM attestation, 99484 fees

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ccmdesk.models.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# General BHI, Physician Fee Schedule national non-facility amounts in cents (the sources are
# in docs/billing-rules.md, "Codes and families"). A migration keeps its own copy, as 0002 does;
# a year the practice has no schedule for gets none, and a fee the practice already set is kept.
FEES = {2025: {"99484": 5305}, 2026: {"99484": 5745}}


def upgrade() -> None:
    op.create_table(
        "program_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("from_month", sa.String(length=7), nullable=False),
        sa.Column("program", sa.String(length=10), nullable=False),
        sa.Column("focus_condition", sa.String(length=8), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "program IN ('ccm', 'pcm_focus', 'apcm')", name=op.f("ck_program_period_program")
        ),
        sa.CheckConstraint(
            "(program = 'pcm_focus') = (focus_condition IS NOT NULL)",
            name=op.f("ck_program_period_focus"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"],
            name=op.f("fk_program_period_patient_id_patient"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_period")),
        sa.UniqueConstraint(
            "patient_id", "from_month", name=op.f("uq_program_period_patient_id")
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_program_period_patient_id"), "program_period", ["patient_id"])
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(sa.Column("last_visit_date", sa.Date(), nullable=True))
    with op.batch_alter_table("enrollment") as batch_op:
        batch_op.add_column(
            sa.Column("initiating_visit_g0506", sa.Boolean(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(sa.Column("apcm_attested_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("apcm_attested_at", UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_practice_apcm_attested_by_id_staff"), "staff", ["apcm_attested_by_id"], ["id"]
        )
    _add_fees(op.get_bind())


def _add_fees(connection: sa.Connection) -> None:
    fee = sa.table(
        "fee_schedule_amount",
        sa.column("year", sa.Integer),
        sa.column("code", sa.String),
        sa.column("amount_cents", sa.Integer),
    )
    years = set(connection.scalars(sa.select(fee.c.year).distinct()))
    for year, codes in FEES.items():
        if year not in years:
            continue
        for code, cents in codes.items():
            present = connection.scalar(
                sa.select(sa.func.count()).where(fee.c.year == year, fee.c.code == code)
            )
            if not present:
                connection.execute(fee.insert().values(year=year, code=code, amount_cents=cents))


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_constraint(op.f("fk_practice_apcm_attested_by_id_staff"), type_="foreignkey")
        batch_op.drop_column("apcm_attested_at")
        batch_op.drop_column("apcm_attested_by_id")
    with op.batch_alter_table("enrollment") as batch_op:
        batch_op.drop_column("initiating_visit_g0506")
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_column("last_visit_date")
    op.drop_index(op.f("ix_program_period_patient_id"), table_name="program_period")
    op.drop_table("program_period")
