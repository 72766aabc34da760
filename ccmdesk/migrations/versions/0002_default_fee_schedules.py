"""default fee schedules: Medicare national non-facility amounts for CY2025 and CY2026

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Physician Fee Schedule national non-facility amounts, in cents (docs/billing-rules.md, "Codes
# and families", with their sources).
# A migration keeps its own copy: later edits to the practice's schedule must not rewrite history.
FEES = {
    2025: {
        "99490": 6049,
        "99439": 4593,
        "99491": 8216,
        "99437": 5758,
        "99487": 13165,
        "99489": 7052,
        "G0506": 6081,
        "99424": 8087,
        "99425": 5887,
        "99426": 6178,
        "99427": 5046,
        "G0556": 1520,
        "G0557": 4884,
        "G0558": 10707,
    },
    2026: {
        "99490": 6613,
        "99439": 5044,
        "99491": 8918,
        "99437": 6313,
        "99487": 14429,
        "99489": 7816,
        "G0506": 6647,
        "99424": 8751,
        "99425": 6146,
        "99426": 6780,
        "99427": 5411,
        "G0556": 1637,
        "G0557": 5378,
        "G0558": 11724,
    },
}

fee_table = sa.table(
    "fee_schedule_amount",
    sa.column("year", sa.Integer),
    sa.column("code", sa.String),
    sa.column("amount_cents", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(
        fee_table,
        [
            {"year": year, "code": code, "amount_cents": cents}
            for year, amounts in FEES.items()
            for code, cents in amounts.items()
        ],
    )


def downgrade() -> None:
    op.execute(fee_table.delete().where(fee_table.c.year.in_(list(FEES))))
