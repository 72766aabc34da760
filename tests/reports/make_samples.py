"""Export the demo practice's previous month and keep sample PDFs and page images (not a test).

    PYTHONPATH=. python tests/reports/make_samples.py

Writes docs/samples/: the patient copies of two signed care plans (English and Spanish), the
superbill with the longest time log of a Medicare Part B patient,
an unsigned one, and the handoff report, as PDFs and as PNG pages (pdftoppm from poppler-utils). The demo practice is
given its claim settings first, and the longest log's patient a secondary payer, so that the
superbill shows every CMS-1500 box filled; the practitioners sign all but a few months, so that
the handoff's "Not in the claim file" lists each kind of reason without running for pages. One
more Part B patient is given a depression diagnosis, general BHI time and a G0506 initiating
visit in the month (superbill-bhi.pdf; the handoff's BHI rows and "Add to the visit's claim").
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from ccmdesk.db import Database, open_database
from ccmdesk.models import Enrollment, Patient, PatientCondition, Payer, Practice, SentClaim, Staff
from ccmdesk.reports.x12 import claim_id
from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import ServiceError, Services
from ccmdesk.ui.first_start import setup_actor
from tests.helpers.care_plans import signed_plan

UNSIGNED = 3  # months left for the practitioners to sign

REPO = Path(__file__).resolve().parents[2]


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        db = open_database(f"sqlite:///{folder / 'ccmdesk.sqlite3'}")
        services = Services(db)
        services.demo.create(setup_actor())
        today = services.now().astimezone(services.practice_zone()).date()
        month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        doctor = services.staff.actor_for("dr-okafor")
        biller = services.staff.actor_for("bill-chen")
        queue = services.review.queue(doctor, month)
        ready = [row for row, status in queue.rows if status == "ready to sign"]
        # The longest log of a Part B patient, whom a Medigap plan suits as secondary payer.
        part_b = part_b_patients(db)
        longest = max(
            (row for row in ready if row.mrn in part_b),
            key=lambda row: row.result.countable_seconds,
        )
        services.payers.save(
            biller,
            PayerRecord("medigap-g", "AARP Medigap Plan G", "commercial", "36273", "ccm;pcm"),
        )
        claim_settings(db, longest.mrn)
        left = [row.mrn for row in ready if row.mrn != longest.mrn][:UNSIGNED]
        others = [row.mrn for row in ready if row.mrn not in left and row.mrn != longest.mrn]
        already_sent = others[0]
        # A CCM patient: from 2026 an APCM month bills no 99484 (the demo has APCM ones).
        programs = {row.mrn: row.result.program for row in ready}
        with_bhi = next(mrn for mrn in others[1:] if mrn in part_b and programs.get(mrn) == "ccm")
        bhi_and_g0506(services, db, with_bhi, month)
        for practitioner in ("dr-okafor", "np-lindqvist"):
            signer = services.staff.actor_for(practitioner)
            rows = services.review.queue(signer, month).rows
            mrns = [r.mrn for r, status in rows if status == "ready to sign" and r.mrn not in left]
            if mrns:
                services.review.sign_many(signer, month, mrns)
        # One claim an earlier export sent: listed as already sent.
        sent(db, already_sent, month)
        result = services.export.export(biller, month, folder / "export")
        bills = folder / "export" / "superbills"
        unsigned = bills / f"{month}-{left[0]}.pdf"
        samples = {
            "superbill-long-log.pdf": bills / f"{month}-{longest.mrn}.pdf",
            "superbill-unsigned.pdf": unsigned,
            "superbill-bhi.pdf": bills / f"{month}-{with_bhi}.pdf",
            "handoff.pdf": folder / "export" / f"handoff-{month}.pdf",
        }
        for name, source in samples.items():
            shutil.copyfile(source, out / name)
            write_pages(out / name, 80)
        print(f"{len(result.files)} files exported for {month}")
        care_plan_copies(services, db, out)
    return 0


def write_pages(pdf: Path, dpi: int) -> None:
    """The PDF's pages as PNGs next to it (NAME-1.png, ...), at `dpi`."""
    # A shorter document than last time must not leave its old last pages behind.
    for stale in pdf.parent.glob(f"{pdf.stem}-*.png"):
        stale.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(pdf.with_suffix(""))], check=True
    )
    print(f"wrote {pdf} and its pages")


def claim_settings(db: Database, mrn: str) -> None:
    """The demo practice's claim settings, and a secondary payer for one patient, set on the
    rows (the demo itself stays as it was)."""
    with db.session() as session:
        practice = session.scalars(select(Practice)).one()
        practice.street, practice.city, practice.state, practice.zip = (
            "120 Harbor Street, Suite 4", "Portland", "ME", "04101-4620",
        )  # fmt: skip
        practice.tin_kind, practice.taxonomy = "ein", "207Q00000X"
        practice.submitter_id, practice.submitter_name, practice.submitter_phone = (
            "RIVERBEND01", "Riverbend Family Medicine", "2075550142",
        )  # fmt: skip
        practice.receiver_id, practice.receiver_name = "CLEARCO", "Clear Claims Co"
        # The Medicare payers have a clearinghouse id; MaineCare and Anthem not yet.
        for payer in session.scalars(select(Payer).where(Payer.kind.like("medicare%"))):
            payer.edi_payer_id = "MCRB1" if payer.kind == "medicare" else "HHMA1"
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        medigap = session.scalars(select(Payer).where(Payer.payer_id == "medigap-g")).one()
        patient.secondary_payer_id, patient.secondary_member_id = medigap.id, "MG-7720145"


def bhi_and_g0506(services: Services, db: Database, mrn: str, month: str) -> None:
    """The patient's depression (F33.1, last on the list), 25 minutes of general BHI time by
    the RN and a G0506 initiating visit on the month's 3rd day."""
    first = dt.date.fromisoformat(f"{month}-01")
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        patient.conditions.append(PatientCondition(position=len(patient.conditions), code="F33.1"))
        enrollment = session.scalars(
            select(Enrollment).where(Enrollment.patient_id == patient.id)
        ).one()
        enrollment.initiating_visit_date = first.replace(day=3)
        enrollment.initiating_visit_g0506 = True
    nurse = services.staff.actor_for("rn-lee")
    zone = services.practice_zone()
    # The first evening the nurse is free (the demo's day work ends before then).
    for day in range(20, 28):
        start = dt.datetime.combine(first.replace(day=day), dt.time(18, 5), zone)
        try:
            services.entries.add_manual(
                nurse, mrn, start, start + dt.timedelta(minutes=25), reason="Sample",
                service="bhi", activity="Behavioral health follow-up",
                note="PHQ-9 reviewed; care plan goals for depression updated.",
            )  # fmt: skip
            return
        except ServiceError:
            continue
    raise SystemExit("no free evening for the sample's BHI time")


def part_b_patients(db: Database) -> set[str]:
    with db.read() as session:
        return set(
            session.scalars(
                select(Patient.mrn)
                .join(Payer, Payer.id == Patient.primary_payer_id)
                .where(Payer.payer_id == "mcr-b")
            )
        )


def sent(db: Database, mrn: str, month: str) -> None:
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        payer = session.get_one(Payer, patient.primary_payer_id).payer_id
        session.add(
            SentClaim(
                patient_id=patient.id, month=month, claim_id=claim_id(mrn, month),
                payer_id=payer, file=f"claims-{month}-{payer}.x12", control_number=1,
                sent_on=dt.date.today(), sent_at=dt.datetime.now(dt.UTC), sent_by="bill-chen",
                total_cents=0,
            )
        )  # fmt: skip


# A diabetes and hypertension plan as a nurse writes it, in English and in Spanish.
PLAN_EN = PlanContent(
    problems="E11.9 Type 2 diabetes mellitus without complications\n"
    "I10 Essential (primary) hypertension",
    outcomes="Blood sugar and blood pressure kept in range, so the heart, kidneys and eyes stay "
    "healthy. With regular care the outlook is good.",
    goals="- HbA1c below 7.5% by the next review\n"
    "- Blood pressure below 130/80 at home, most days\n"
    "- Walk 20 minutes, 5 days a week",
    symptoms="Low sugar (shaky, sweaty, confused): eat 15 g of fast sugar (4 glucose tablets or "
    "half a cup of juice), check again in 15 minutes.\n"
    "Blood pressure above 180/110 twice, or a bad headache: call the office the same day.",
    interventions="- Grace Lee, RN: a call every month; reviews your sugar and pressure logs\n"
    "- Dr. Okafor: adjusts your medicines at each visit\n"
    "- You: check your sugar each morning and your pressure twice a week",
    medications="Metformin 500 mg twice a day with meals.\n"
    "Lisinopril 10 mg each morning.\n"
    "Bring all your pill bottles to each visit.",
    community="Diabetes self-management class at the Portland Public Library (free, Tuesdays).\n"
    "Meals on Wheels: the nurse can refer you.",
    coordination="Eye exam once a year (Maine Eye Center).\nPodiatry check of the feet in spring.",
)
PLAN_ES = PlanContent(
    problems="E11.9 Diabetes tipo 2\nI10 Presión arterial alta",
    outcomes="Mantener el azúcar y la presión en rango protege el corazón, los riñones y los "
    "ojos. Con un cuidado regular, el pronóstico es bueno.",
    goals="- HbA1c menor de 7.5% para la próxima revisión\n"
    "- Presión arterial menor de 130/80 en casa, la mayoría de los días\n"
    "- Caminar 20 minutos, 5 días a la semana",
    symptoms="Azúcar baja (temblor, sudor, confusión): coma 15 g de azúcar rápida (4 tabletas de "
    "glucosa o media taza de jugo) y vuelva a medir en 15 minutos.\n"
    "Presión arriba de 180/110 dos veces, o un dolor de cabeza fuerte: llame a la oficina el "
    "mismo día.",
    interventions="- Grace Lee, RN: le llama cada mes y revisa sus registros de azúcar y presión\n"
    "- Dra. Okafor: ajusta sus medicinas en cada cita\n"
    "- Usted: mide su azúcar cada mañana y su presión dos veces por semana",
    medications="Metformina 500 mg dos veces al día con las comidas.\n"
    "Lisinopril 10 mg cada mañana.\n"
    "Traiga todos sus frascos de pastillas a cada cita.",
    community="Clase de manejo de la diabetes en español, Centro Comunitario de Portland "
    "(gratis, los jueves).\nComidas a domicilio: la enfermera puede hacer la referencia.",
    coordination="Examen de la vista una vez al año (Maine Eye Center).\n"
    "Revisión de los pies con el podólogo en primavera.",
)


def care_plan_copies(services: Services, db: Database, out: Path) -> None:
    """Two patients with diabetes and hypertension, a plan each written by the nurse and signed
    by their practitioner; the second prefers Spanish. Their patient copies, as PDF and pages."""
    with db.session() as session:
        practice = session.scalars(select(Practice)).one()
        practice.after_hours_phone = "(207) 555-0199"
        found = session.scalars(
            select(Patient).where(Patient.conditions.any(PatientCondition.code == "E11.9"))
        ).all()
        staff = {s.id: s.staff_id for s in session.scalars(select(Staff))}
        # Dr. Okafor's and Grace Lee's patients: the people the plans name.
        pair = [
            p
            for p in found
            if any(c.code == "I10" for c in p.conditions)
            and staff.get(p.billing_practitioner_id or 0) == "dr-okafor"
            and staff.get(p.care_manager_id or 0) == "rn-lee"
        ][:2]
        mrns = [p.mrn for p in pair]
        practitioners = [staff[p.billing_practitioner_id or 0] for p in pair]
        pair[1].preferred_language = "es"
    nurse = services.staff.actor_for("rn-lee")
    today = services.now().astimezone(services.practice_zone()).date()
    plans = zip(mrns, practitioners, (PLAN_EN, PLAN_ES), ("en", "es"), strict=True)
    for mrn, practitioner, content, language in plans:
        signer = services.staff.actor_for(practitioner)
        review_on = today + dt.timedelta(days=182)
        signed_plan(services, mrn, author=nurse, signer=signer, base=content, review_on=review_on)
        copy = out / f"care-plan-copy-{language}.pdf"
        services.care_plans.write_patient_copy(nurse, mrn, copy)
        write_pages(copy, 60)


if __name__ == "__main__":
    sys.exit(main(REPO / "docs" / "samples"))
