"""Export the demo practice's previous month and keep sample PDFs and page images (not a test).

    python tests/reports/make_samples.py

Writes docs/samples/: the superbill with the longest time log of a Medicare Part B patient,
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
from ccmdesk.models import Enrollment, Patient, PatientCondition, Payer, Practice, SentClaim
from ccmdesk.reports.x12 import claim_id
from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import ServiceError, Services
from ccmdesk.ui.first_start import setup_actor

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
            # A shorter document than last time must not leave its old last pages behind.
            for stale in out.glob(f"{name.removesuffix('.pdf')}-*.png"):
                stale.unlink()
            shutil.copyfile(source, out / name)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    str(out / name),
                    str(out / name.removesuffix(".pdf")),
                ],
                check=True,
            )
            print(f"wrote {out / name} and its pages")
        print(f"{len(result.files)} files exported for {month}")
    return 0


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


if __name__ == "__main__":
    sys.exit(main(REPO / "docs" / "samples"))
