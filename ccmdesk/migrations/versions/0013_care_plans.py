"""care plans: versions, copies given, condition templates, patient copy texts

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ccmdesk.models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The practice's starting templates; it edits them in ccmdesk. A migration keeps its own copy:
# later edits must not rewrite history. (key, name, ICD-10-CM prefixes, goals, symptoms,
# interventions)
TEMPLATES = (
    (
        "diabetes",
        "Diabetes",
        "E08;E09;E10;E11;E13",
        "HbA1c below 7.0% (or the individual target) within 6 months.\n"
        "Fasting glucose 80-130 mg/dL on home checks.\n"
        "Daily foot check; yearly eye and kidney screening done.",
        "Low sugar (shaky, sweaty, confused): take 15 g of fast sugar, recheck in 15 minutes.\n"
        "Sugar over 300 mg/dL twice, or vomiting: call the practice the same day.",
        "Nurse care manager: monthly call to review glucose log and medications.\n"
        "Physician: adjust diabetes medications at each review.\n"
        "Dietitian referral for meal planning.",
    ),
    (
        "hypertension",
        "Hypertension",
        "I10;I11;I12;I13;I15;I16",
        "Blood pressure below 130/80 on home readings within 3 months.\n"
        "Sodium under 2,300 mg a day; 150 minutes of activity a week.",
        "Headache, blurred vision or chest pain with high readings: call 911.\n"
        "Readings above 180/110 twice: call the practice the same day.",
        "Nurse care manager: review home readings monthly.\n"
        "Physician: adjust blood-pressure medications when above target.\n"
        "Patient: check and log blood pressure three times a week.",
    ),
    (
        "heart_failure",
        "Heart failure",
        "I50;I11.0;I13.0;I13.2",
        "Weight within 2 lb of dry weight.\n"
        "No heart-failure hospital stay in the next 6 months.\n"
        "Walks 10 minutes a day without stopping.",
        "Weight up 2-3 lb in a day or 5 lb in a week, more swelling or breathlessness: call "
        "the practice the same day.\n"
        "Breathless at rest or chest pain: call 911.",
        "Patient: weigh every morning and log it.\n"
        "Nurse care manager: weekly weight review during changes, monthly when stable.\n"
        "Physician and cardiology: adjust diuretics and heart medications.",
    ),
    (
        "copd",
        "COPD",
        "J44;J43",
        "Fewer than 2 flare-ups needing steroids this year.\n"
        "Uses inhalers with correct technique at each check.\n"
        "Flu, pneumococcal and COVID-19 vaccines up to date.",
        "More cough, sputum or breathlessness: start the action plan and call the practice.\n"
        "Lips or fingertips blue, or cannot speak in full sentences: call 911.",
        "Nurse care manager: review inhaler use and the COPD action plan monthly.\n"
        "Physician: adjust inhalers; refer to pulmonary rehabilitation.\n"
        "Smoking cessation support when the patient smokes.",
    ),
    (
        "ckd",
        "Chronic kidney disease",
        "N18;I12;I13",
        "Blood pressure below 130/80.\n"
        "eGFR and urine albumin checked every 3-6 months.\n"
        "No medicines harmful to the kidneys (NSAIDs) in use.",
        "Much less urine, new swelling or sudden weight gain: call the practice the same day.",
        "Nurse care manager: track lab dates and blood pressure monthly.\n"
        "Physician: adjust doses to kidney function; nephrology referral when eGFR below 30.\n"
        "Dietitian: low-sodium, kidney-friendly diet.",
    ),
    (
        "depression",
        "Depression",
        "F32;F33;F34.1",
        "PHQ-9 below 10 within 3 months, and a 50% drop from the first score.\n"
        "Takes antidepressant as prescribed; keeps counselling appointments.",
        "Feeling worse, not sleeping, or unable to manage daily tasks: call the practice.\n"
        "Thoughts of self-harm: call or text 988, or call 911.",
        "Nurse care manager: PHQ-9 each month and follow-up calls.\n"
        "Physician: adjust medication at 4-6 week reviews.\n"
        "Behavioural health referral for counselling.",
    ),
)

COPY_TEXTS = (
    (
        "en",
        "Your care plan",
        "This is the plan you and your care team made together. Keep it where you can find it, "
        "and bring it to your visits.",
        "If your symptoms get worse, or you have a question about your medicines, call your care "
        "team. When the office is closed, call the after-hours number; someone will help you.",
        "Call 911 for chest pain, trouble breathing, signs of a stroke (face drooping, arm "
        "weakness, trouble speaking), or any emergency.",
        "We will review this plan with you by the date shown. Call us any time your needs change.",
    ),
    (
        "es",
        "Su plan de cuidado",
        "Este es el plan que usted y su equipo de cuidado hicieron juntos. Guárdelo en un lugar "
        "fácil de encontrar y tráigalo a sus citas.",
        "Si sus síntomas empeoran, o tiene preguntas sobre sus medicinas, llame a su equipo de "
        "cuidado. Cuando la oficina esté cerrada, llame al número de fuera de horario; alguien le "
        "ayudará.",
        "Llame al 911 si tiene dolor de pecho, dificultad para respirar, señales de un derrame "
        "cerebral (cara caída, debilidad en un brazo, dificultad para hablar) o cualquier "
        "emergencia.",
        "Revisaremos este plan con usted antes de la fecha indicada. Llámenos cuando cambien sus "
        "necesidades.",
    ),
)


def upgrade() -> None:
    # Columns only (see 0012): a constraint would rebuild the patient table.
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(
            sa.Column(
                "preferred_language", sa.String(length=2), nullable=False, server_default="en"
            )
        )
    with op.batch_alter_table("practice") as batch_op:
        batch_op.add_column(
            sa.Column("after_hours_phone", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_table(
        "care_plan_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("symptoms", sa.Text(), nullable=False),
        sa.Column("interventions", sa.Text(), nullable=False),
        sa.Column("medications", sa.Text(), nullable=False),
        sa.Column("community", sa.Text(), nullable=False),
        sa.Column("coordination", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("attestation", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_care_plan_version_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["staff.id"], name=op.f("fk_care_plan_version_signed_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_version")),
        sa.UniqueConstraint("patient_id", "number", name=op.f("uq_care_plan_version_patient_id")),
    )
    op.create_index(op.f("ix_care_plan_version_patient_id"), "care_plan_version", ["patient_id"])
    op.create_index(op.f("ix_care_plan_version_signed_on"), "care_plan_version", ["signed_on"])
    op.create_table(
        "care_plan_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "method IN ('in_person', 'mail', 'portal')", name=op.f("ck_care_plan_copy_method")
        ),
        sa.CheckConstraint("language IN ('en', 'es')", name=op.f("ck_care_plan_copy_language")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["care_plan_version.id"],
            name=op.f("fk_care_plan_copy_version_id_care_plan_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_copy")),
    )
    op.create_index(op.f("ix_care_plan_copy_version_id"), "care_plan_copy", ["version_id"])
    templates = op.create_table(
        "care_plan_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefixes", sa.String(length=200), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("symptoms", sa.Text(), nullable=False),
        sa.Column("interventions", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_template")),
        sa.UniqueConstraint("key", name=op.f("uq_care_plan_template_key")),
    )
    texts = op.create_table(
        "patient_copy_text",
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("worse", sa.Text(), nullable=False),
        sa.Column("emergency", sa.Text(), nullable=False),
        sa.Column("closing", sa.Text(), nullable=False),
        sa.CheckConstraint("language IN ('en', 'es')", name=op.f("ck_patient_copy_text_language")),
        sa.PrimaryKeyConstraint("language", name=op.f("pk_patient_copy_text")),
    )
    op.bulk_insert(
        templates,
        [
            {
                "key": key,
                "name": name,
                "prefixes": prefixes,
                "goals": goals,
                "symptoms": symptoms,
                "interventions": interventions,
                "position": position,
            }
            for position, (key, name, prefixes, goals, symptoms, interventions) in enumerate(
                TEMPLATES
            )
        ],
    )
    op.bulk_insert(
        texts,
        [
            dict(
                zip(
                    ("language", "title", "intro", "worse", "emergency", "closing"),
                    row,
                    strict=True,
                )
            )
            for row in COPY_TEXTS
        ],
    )


def downgrade() -> None:
    op.drop_table("patient_copy_text")
    op.drop_table("care_plan_template")
    op.drop_index(op.f("ix_care_plan_copy_version_id"), table_name="care_plan_copy")
    op.drop_table("care_plan_copy")
    op.drop_index(op.f("ix_care_plan_version_signed_on"), table_name="care_plan_version")
    op.drop_index(op.f("ix_care_plan_version_patient_id"), table_name="care_plan_version")
    op.drop_table("care_plan_version")
    with op.batch_alter_table("practice") as batch_op:
        batch_op.drop_column("after_hours_phone")
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_column("preferred_language")
