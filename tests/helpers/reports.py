"""A superbill ready to render, for the PDF and rendering tests."""

from __future__ import annotations

from ccmdesk.reports import pdf


def bill(mrn: str, entries: int = 3) -> pdf.Superbill:
    return pdf.Superbill(
        practice=pdf.PracticeHeader("Clinic", "1 Main St", "555", "1245319599", "12-3"),
        month="2026-03",
        month_name="March 2026",
        practitioner="Ada Okafor, MD",
        practitioner_npi="1000000012",
        billing_npi="1245319599",
        patient_name=f"Patient {mrn}",
        dob="01 Jan 1950",
        mrn=mrn,
        address="2 Elm St",
        payer="Medicare Part B",
        member_id="1EG4TE5MK72",
        qmb=False,
        date_of_service="31 Mar 2026",
        place_of_service="11",
        diagnoses=(("E11.9", "Type 2 diabetes mellitus without complications"),),
        lines=(pdf.ServiceLine("99490", "CCM, first 20 min", 1, "A", 6613),),
        total_cents=6613,
        patient_share_cents=1323,
        minutes=(("Countable (each second once)", "21:00"),),
        thresholds=("20:00 of countable time reached on 30 Mar → 99490",),
        excluded=(),
        consent="04 Jan 2026, verbal",
        care_plan="05 Jan 2026",
        sign_off=None,
        log=tuple(
            pdf.LogLine("30 Mar 2026", "09:00–09:07", "7:00", "Nurse", "education", "CCM", "")
            for _ in range(entries)
        ),
        generated="01 Apr 2026 09:00 by Bo",
    )
