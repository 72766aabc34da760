"""payers: the practice's payer list and each patient's primary and secondary coverage

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ccmdesk.rules import payers as rules

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("edi_payer_id", sa.String(length=80), nullable=False),
        sa.Column("covers", sa.String(length=40), nullable=False),
        sa.Column("coinsurance_percent", sa.Integer(), nullable=False),
        sa.Column("min_diagnoses", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('medicare', 'medicare_advantage', 'medicaid', 'commercial', 'self')",
            name=op.f("ck_payer_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer")),
        sa.UniqueConstraint("payer_id", name=op.f("uq_payer_payer_id")),
    )
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(sa.Column("primary_payer_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "insured_relationship", sa.String(length=10), nullable=False,
                server_default="self",
            )
        )  # fmt: skip
        for column in ("insured_last_name", "insured_first_name"):
            batch_op.add_column(
                sa.Column(column, sa.String(length=100), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("secondary_payer_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("secondary_member_id", sa.String(length=40), nullable=False,
                      server_default="")
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("signature_on_file", sa.String(length=3), nullable=False,
                      server_default="")
        )  # fmt: skip
        batch_op.create_foreign_key(
            op.f("fk_patient_primary_payer_id_payer"), "payer", ["primary_payer_id"], ["id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_patient_secondary_payer_id_payer"), "payer", ["secondary_payer_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_patient_primary_payer_id"), ["primary_payer_id"])
        batch_op.create_index(op.f("ix_patient_secondary_payer_id"), ["secondary_payer_id"])
        batch_op.create_check_constraint(
            op.f("ck_patient_insured_relationship"),
            "insured_relationship IN ('self', 'spouse', 'child', 'other')",
        )
        batch_op.create_check_constraint(
            op.f("ck_patient_signature_on_file"), "signature_on_file IN ('', 'yes', 'no')"
        )
    # The models give these their defaults; the server defaults only filled existing rows.
    with op.batch_alter_table("patient") as batch_op:
        for column in (
            "insured_relationship", "insured_last_name", "insured_first_name",
            "secondary_member_id", "signature_on_file",
        ):  # fmt: skip
            batch_op.alter_column(column, server_default=None)
    _payers_from_patient_text(op.get_bind())


def _payers_from_patient_text(connection: sa.Connection) -> None:
    """Seed Medicare Part B and make one payer per (name, type) the patients name, pointing
    each patient's primary coverage at it (docs/payers.md, "From before payers")."""
    payer = sa.table(
        "payer",
        *(sa.column(name) for name in (
            "id", "payer_id", "name", "kind", "edi_payer_id", "covers", "coinsurance_percent",
            "min_diagnoses", "notes", "retired",
        )),
    )  # fmt: skip
    patient = sa.table("patient", sa.column("id"), sa.column("payer"), sa.column("payer_type"),
                       sa.column("primary_payer_id"))  # fmt: skip

    def insert(record: rules.PayerRecord) -> int:
        connection.execute(
            payer.insert().values(
                payer_id=record.payer_id, name=record.name, kind=record.kind,
                edi_payer_id="", covers=record.covers,
                coinsurance_percent=record.coinsurance_percent, min_diagnoses=None, notes="",
                retired=False,
            )
        )  # fmt: skip
        # A lightweight table has no primary key to report: read the new row's id back.
        return int(
            connection.execute(
                sa.select(payer.c.id).where(payer.c.payer_id == record.payer_id)
            ).scalar_one()
        )

    taken = [rules.MEDICARE_PART_B_ID]
    part_b = insert(rules.MEDICARE_PART_B_RECORD)
    rows = connection.execute(
        sa.select(patient.c.id, patient.c.payer, patient.c.payer_type).order_by(patient.c.id)
    ).all()
    # Each payer keyed by (name case-folded, kind); the first spelling met names it.
    members: dict[tuple[str, str], list[int]] = {}
    spelling: dict[tuple[str, str], str] = {}
    for patient_id, name, payer_type in rows:
        if rules.is_medicare_part_b(name or "", payer_type or ""):
            members.setdefault(("", ""), []).append(patient_id)
            continue
        named = rules.legacy_key(name or "", payer_type or "")
        if named is None:
            continue
        key = (named[0].casefold(), named[1])
        spelling.setdefault(key, named[0])
        members.setdefault(key, []).append(patient_id)
    ids = {("", ""): part_b}
    kind_order = {kind: i for i, kind in enumerate(rules.PAYER_KINDS)}
    for key in sorted(spelling, key=lambda k: (k[0], kind_order[k[1]])):
        record = rules.legacy_payer(spelling[key], key[1], taken)
        taken.append(record.payer_id)
        ids[key] = insert(record)
    for key, patient_ids in members.items():
        connection.execute(
            patient.update().where(patient.c.id.in_(patient_ids)).values(primary_payer_id=ids[key])
        )


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_constraint(op.f("ck_patient_signature_on_file"), type_="check")
        batch_op.drop_constraint(op.f("ck_patient_insured_relationship"), type_="check")
        batch_op.drop_index(op.f("ix_patient_secondary_payer_id"))
        batch_op.drop_index(op.f("ix_patient_primary_payer_id"))
        batch_op.drop_constraint(op.f("fk_patient_secondary_payer_id_payer"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_patient_primary_payer_id_payer"), type_="foreignkey")
        for column in (
            "signature_on_file", "secondary_member_id", "secondary_payer_id",
            "insured_first_name", "insured_last_name", "insured_relationship",
            "primary_payer_id",
        ):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table("payer")
