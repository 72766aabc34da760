"""The superbill as a CMS-1500 source: every box read back by its number, old callers unchanged."""

from __future__ import annotations

import io
from dataclasses import replace

from pypdf import PdfReader

from ccmdesk.reports import pdf
from tests.helpers.reports import bill, boxes, claim_bill, rows


def text_of(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_every_box_reads_back_under_its_number() -> None:
    found = boxes(pdf.superbill_pdf(claim_bill()))
    assert found == found | {
        "Payer (carrier block)": "Medicare Part B",
        "1 Insurance type": "Medicare",
        "1a Insured's ID number": "1EG4TE5MK72",
        "2 Patient's name": "Patient S02",
        "3 Patient's birth date · sex": "01 Jan 1950 · F",
        "26 Patient's account no. (MRN)": "S02",
        "5 Patient's address": "2 Elm St",
        "5 Telephone": "(555) 010-2233",
        "QMB": "no",
        "4 Insured's name": "Patient S02",
        "6 Patient relationship to insured": "self",
        "7 Insured's address": "same as patient (5)",
        "9 Other insured's name": "Patient S02",
        "9a Other insured's policy no.": "MG-778812",
        "9d Other insurance plan name": "AARP Medigap Plan G",
        "11d Another health benefit plan?": "yes (9, 9a, 9d)",
        "12 Patient's signature (release)": "Signature on file",
        "13 Insured's signature (benefits)": "Signature on file",
        "25 Federal tax ID (EIN)": "12-3456789",
        "27 Accept assignment": "yes",
        "28 Total charge": "$164.13",
        "31 Signature of physician · date": "Ada Okafor · 05 Apr 2026",
        "32 Service facility": "Maple Clinic, 1 Main St, Springfield, IL 62701-1234",
        "33 Billing provider · phone":
            "Maple Clinic, 1 Main St, Springfield, IL 62701-1234 · (555) 010-0000",
        "24J Rendering practitioner": "Ada Okafor, MD · NPI 1000000012",
        "33a Billing provider NPI": "1245319599",
        "33b Taxonomy": "207Q00000X",
    }  # fmt: skip


def test_box_21_and_the_lines_of_box_24_read_back_row_by_row() -> None:
    document = pdf.superbill_pdf(claim_bill())
    lines = rows(document)
    assert ["21 Diagnoses · ICD Ind. 0"] in lines
    assert ["A", "E11.9", "Type 2 diabetes mellitus without complications"] in lines
    assert ["B", "I10", "Essential (primary) hypertension"] in lines
    assert ["31 Mar 2026", "11", "99490", "CCM, first 20 min", "AB", "1", "1000000012",
            "$66.13"] in lines  # fmt: skip
    assert ["31 Mar 2026", "11", "99439 25", "CCM, each further 20 min", "AB", "2",
            "1000000012", "$98.00"] in lines  # fmt: skip
    assert ["28 Total charge", "$164.13"] in lines
    header = " ".join(" ".join(line) for line in lines)
    for label in (
        "24A Date of",
        "24B",
        "24D Code ·",
        "24E Dx",
        "24G",
        "24J Rendering",
        "24F Charges",
    ):
        assert label in header, label


def test_a_line_may_carry_its_own_date_place_and_rendering_npi() -> None:
    own = pdf.ServiceLine("99484", "BHI, 20 min", 1, "B", 4900, date_of_service="30 Mar 2026",
                          place_of_service="22", rendering_npi="1234567893")  # fmt: skip
    lines = rows(pdf.superbill_pdf(claim_bill(lines=(own,), total_cents=4900)))
    assert ["30 Mar 2026", "22", "99484", "BHI, 20 min", "B", "1", "1234567893", "$49.00"] in lines


def test_no_other_insurance_and_a_patient_who_is_not_the_insured() -> None:
    document = pdf.superbill_pdf(
        claim_bill(
            practice=replace(claim_bill().practice, tin_kind="SSN", accept_assignment=False),
            payer_kind="medicare_advantage",
            relationship="spouse",
            insured_name="Okafor, Chidi",
            other_insured=None,
            signature_on_file=False,
            # No group NPI: the billing practitioner is the billing provider (box 33).
            billing_provider="Ada Okafor, MD",
            billing_npi="1000000012",
        )
    )
    found = boxes(document)
    assert found == found | {
        "1 Insurance type": "Medicare Advantage",
        "4 Insured's name": "Okafor, Chidi",
        "6 Patient relationship to insured": "spouse",
        "7 Insured's address": "—",
        "9 Other insured's name": "none",
        "9a Other insured's policy no.": "none",
        "9d Other insurance plan name": "none",
        "11d Another health benefit plan?": "no",
        "12 Patient's signature (release)": "Not on file",
        "13 Insured's signature (benefits)": "Not on file",
        "25 Federal tax ID (SSN)": "12-3456789",
        "27 Accept assignment": "no",
        "33 Billing provider · phone":
            "Ada Okafor, MD, 1 Main St, Springfield, IL 62701-1234 · (555) 010-0000",
        "33a Billing provider NPI": "1000000012",
    }  # fmt: skip


def test_the_patient_share_line_prints_the_sentence_it_is_given() -> None:
    waived = "Patient share: $0.00. Coinsurance waived for documented financial hardship, approved 02 Mar 2026 by Bo Biller."  # fmt: skip
    given = text_of(pdf.superbill_pdf(claim_bill(patient_share_text=waived)))
    assert " ".join(given.split()).count(waived) == 1
    assert "estimate, 20 %" not in given
    plain = text_of(pdf.superbill_pdf(claim_bill(patient_share_text="")))
    assert "Patient responsibility (estimate, 20 %)" in plain


def test_a_superbill_with_only_the_fields_of_before_prints_what_it_printed() -> None:
    old = bill("M1")  # built as services/export.py builds it today: no CMS-1500 extras
    document = pdf.superbill_pdf(old)
    written = text_of(document)
    for expected in ("Clinic", "Group NPI 1245319599", "TIN 12-3",
                     "Superbill · Chronic care management · March 2026",
                     "NOT SIGNED: the billing practitioner has not signed this month.",
                     "E11.9", "Type 2 diabetes mellitus without complications", "99490",
                     "CCM, first 20 min", "$66.13", "Patient responsibility (estimate, 20 %)",
                     "$13.23", "Countable (each second once)", "Consent: 04 Jan 2026, verbal",
                     "Appendix: time log", "Generated 01 Apr 2026 09:00 by Bo"):  # fmt: skip
        assert expected in written, expected
    found = boxes(document)
    assert found == found | {
        "Payer (carrier block)": "Medicare Part B",
        "1a Insured's ID number": "1EG4TE5MK72",
        "2 Patient's name": "Patient M1",
        "3 Patient's birth date · sex": "01 Jan 1950 · —",
        "26 Patient's account no. (MRN)": "M1",
        "5 Patient's address": "2 Elm St",
        "24J Rendering practitioner": "Ada Okafor, MD · NPI 1000000012",
        "33a Billing provider NPI": "1245319599",
        # What the caller did not say is printed as not recorded, never guessed.
        "1 Insurance type": "—",
        "5 Telephone": "—",
        "12 Patient's signature (release)": "—",
        "31 Signature of physician · date": "not signed yet",
        "33b Taxonomy": "—",
        # Before payers nobody recorded other coverage, and the practice defaults hold.
        "9 Other insured's name": "none",
        "25 Federal tax ID (EIN)": "12-3",
        "27 Accept assignment": "yes",
    }
    assert PdfReader(io.BytesIO(document)).metadata.title == "Superbill M1 2026-03"


def test_hostile_text_in_the_boxes_is_printed_as_written() -> None:
    nasty = 'Zoë & <b>Ana</b> "Q" &amp; &lt;'  # printed, never read as markup or entities
    document = pdf.superbill_pdf(
        claim_bill(
            phone="<i>555</i> & 1",
            relationship="other",
            insured_name=nasty,
            other_insured=pdf.OtherInsured("<script>x</script> & Co", "A&B<1>", nasty),
            service_facility="Annex <br/> & Co",
            patient_share_text="Patient share: <b>$0.00</b> & more.",
            lines=(pdf.ServiceLine("99490", "<u>CCM</u>", 1, "A", 6613, modifiers="<25>"),),
            total_cents=6613,
        )
    )
    found = boxes(document)
    assert found == found | {
        "5 Telephone": "<i>555</i> & 1",
        "4 Insured's name": nasty,
        "9 Other insured's name": nasty,
        "9a Other insured's policy no.": "A&B<1>",
        "9d Other insurance plan name": "<script>x</script> & Co",
        "32 Service facility": "Annex <br/> & Co",
    }
    written = text_of(document)
    assert "Patient share: <b>$0.00</b> & more." in written
    assert "99490 <25>" in written and "<u>CCM</u>" in written


def test_a_line_for_the_visits_claim_prints_after_the_total_with_its_day_and_note() -> None:
    visit = pdf.ServiceLine("G0506", "CCM initiation: extended assessment", 1, "AB", 6647,
                            date_of_service="02 Mar 2026",
                            note="add to the initiating visit's claim")  # fmt: skip
    document = pdf.superbill_pdf(claim_bill(visit_lines=(visit,)))
    lines = rows(document)
    total = lines.index(["28 Total charge", "$164.13"])
    g0506 = next(n for n, line in enumerate(lines) if "G0506" in line)
    assert g0506 > total + 1  # after the total and the share: not part of them
    assert lines[g0506][:3] == ["02 Mar 2026", "11", "G0506"] and lines[g0506][-1] == "$66.47"
    assert "add to the initiating visit's claim" in " ".join(text_of(document).split())
    assert boxes(document)["28 Total charge"] == "$164.13"


def test_a_page_break_never_parts_a_box_from_its_value() -> None:
    # Ever longer diagnosis lists push the provider boxes down the first page, past every
    # place a page could break inside them.
    codes = [(f"E{n:02d}.9", "A condition with a description long enough to wrap " * 2)
             for n in range(12)]  # fmt: skip
    for count in range(1, 13):
        document = pdf.superbill_pdf(claim_bill(diagnoses=tuple(codes[:count])))
        for page in range(len(PdfReader(io.BytesIO(document)).pages)):
            found = boxes(document, page)
            for label in ("24J Rendering practitioner", "31 Signature of physician · date"):
                assert found.get(label, "filled") != "", (count, page, label)
