"""PDF tables: short text drawn plainly, long or multi-line text wrapped in its column."""

from __future__ import annotations

from reportlab.platypus import Paragraph

from ccmdesk.reports import pdf


def fit(value: str, width: float) -> object:
    pdf.warm_up()
    return pdf.fitted(value, width, pdf.FONT, 9, pdf.INK_HEX, right=False)


def test_text_that_fits_its_column_is_a_plain_string() -> None:
    assert fit("Medicare Part B", 200) == "Medicare Part B"


def test_text_wider_than_its_column_or_on_several_lines_wraps() -> None:
    long = fit("Medicare Advantage Preferred Provider Organization Plan " * 2, 200)
    assert isinstance(long, Paragraph)
    assert isinstance(fit("one\ntwo", 200), Paragraph)
    # Wrapped text is printed as text, never obeyed as markup.
    assert "&lt;b&gt;" in fit("<b>" + "x" * 80, 100).text  # type: ignore[attr-defined]


def handoff(billable: int) -> bytes:
    def row(mrn: str, billed: bool) -> pdf.HandoffRow:
        reasons = () if billed else (("Countable time is below the first threshold.", "More."),)
        return pdf.HandoffRow(mrn, "Patient", "Dr. A", "99490x1" if billed else "", 6613 if billed else 0, False, reasons)  # fmt: skip

    return pdf.handoff_pdf(
        pdf.Handoff(
            practice="Clinic",
            month="2026-03",
            month_name="March 2026",
            enrolled_or_active=billable + 3,
            billable=tuple(row(f"B{n:03d}", True) for n in range(billable)),
            not_billed=tuple(row(f"N{n:03d}", False) for n in range(3)),
            amount_by_code=(("99490", 6613 * billable),),
            staff_minutes=(("Nurse", "clinical", "100:00"),),
            generated="01 Apr 2026 by Bo",
        )
    )


def test_a_heading_never_ends_a_page_without_its_table() -> None:
    import io

    from pypdf import PdfReader

    # Billable tables of every length that ends within the last few lines of the first page.
    for billable in range(30, 40):
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(handoff(billable))).pages]
        for page in pages:
            if "Not billed and why" in page:
                assert "N000" in page.split("Not billed and why", 1)[1], billable


def test_tabs_and_carriage_returns_wrap_as_spaces_instead_of_printing_boxes() -> None:
    assert isinstance(fit("BP 142/90\tcalled pt", 300), Paragraph)
    assert isinstance(fit("line one\r", 300), Paragraph)
    assert fit("BP 142/90 called pt", 300) == "BP 142/90 called pt"


def test_a_thousand_minute_entry_prints_whole_and_a_long_footer_keeps_the_mrn() -> None:
    import io
    from dataclasses import replace

    from pypdf import PdfReader

    from tests.helpers.reports import bill

    long_practice = pdf.PracticeHeader(
        "Saint Elizabeth's Regional Primary Care and Chronic Disease Management Associates",
        "1 Main St", "555", "1245319599", "12-3",
    )  # fmt: skip
    base = bill("MRN-LONG-0001", entries=70)
    entry = replace(base.log[0], minutes="1000:00", span="08:00–00:40")
    document = pdf.superbill_pdf(replace(base, practice=long_practice, log=(entry, *base.log)))
    pages = PdfReader(io.BytesIO(document)).pages
    assert len(pages) >= 2
    assert "1000:00" in pages[0].extract_text() + pages[1].extract_text()
    for number, page in enumerate(pages, start=1):
        *_, footer, page_number = page.extract_text().splitlines()
        assert footer.startswith("MRN MRN-LONG-0001 · Patient MRN-LONG-0001 · March 2026 · ")
        assert footer.endswith("…") and page_number == f"Page {number} of {len(pages)}"


def test_clipping_keeps_what_fits_and_marks_the_cut() -> None:
    pdf.warm_up()
    assert pdf.clipped("short", pdf.FONT, 7.5, 200) == "short"
    cut = pdf.clipped("x" * 500, pdf.FONT, 7.5, 100)
    assert cut.endswith("…") and len(cut) < 500
    assert pdf.pdfmetrics.stringWidth(cut, pdf.FONT, 7.5) <= 100


def test_month_and_day_names_never_follow_the_process_locale() -> None:
    import datetime as dt
    import re
    from pathlib import Path

    from ccmdesk.rules.intervals import date_text, date_time_text, month_label

    assert month_label("2026-03") == "March 2026"
    assert date_text(dt.date(2026, 3, 5)) == "05 Mar 2026"
    assert date_time_text(dt.datetime(2026, 3, 5, 14, 3)) == "05 Mar 2026 14:03"
    # Qt sets the locale at start-up: what is printed or signed must not use %b/%B/%a/%A.
    root = Path(pdf.__file__).resolve().parents[1]
    for path in root.rglob("*.py"):
        if "ui" not in path.relative_to(root).parts:
            assert not re.search(r"%[aAbB]", path.read_text(encoding="utf-8")), path


def test_months_kept_out_of_the_claim_file_for_the_same_reasons_share_one_why() -> None:
    import io
    from dataclasses import replace

    from pypdf import PdfReader

    unsigned = (("Not signed.", "Sign it."),)
    no_sex = (("No sex on file.", "Record it."), ("Not signed.", "Sign it."))
    left_out = tuple(
        pdf.LeftOut(f"M{n:03d}", "Patient", f"M{n:03d}-202603", no_sex if n == 7 else unsigned)
        for n in range(60)
    )
    report = pdf.Handoff(
        practice="Clinic", month="2026-03", month_name="March 2026", enrolled_or_active=60,
        billable=(), not_billed=(), amount_by_code=(), staff_minutes=(), generated="now",
        claims=pdf.ClaimFileNotes(left_out),
    )  # fmt: skip
    document = pdf.handoff_pdf(report)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(document)).pages)
    section = text.split("Not in the claim file", 1)[1]
    assert section.count("Not signed.") == 2 and section.count("No sex on file.") == 1
    # The reasons that keep the most months out come first, each month under its reasons.
    assert section.index("Why (59 months)") < section.index("Why (1 month)")
    assert all(f"M{n:03d}-202603" in section for n in range(60))
    assert section.index("M007-202603") > section.index("Why (1 month)")
    assert "Billable, in no claim file" in text
    nothing = pdf.handoff_pdf(replace(report, claims=pdf.ClaimFileNotes()))
    assert (
        "Every billable month goes in a claim file."
        in PdfReader(io.BytesIO(nothing)).pages[0].extract_text()
    )
    without = pdf.handoff_pdf(replace(report, claims=None))
    assert "claim file" not in PdfReader(io.BytesIO(without)).pages[0].extract_text()


def test_bhi_rows_are_marked_and_g0506_is_listed_for_the_visits_claim() -> None:
    import io

    from pypdf import PdfReader

    care = pdf.HandoffRow("A1", "Rivera, Ana", "Dr. A", "99490x1", 6613, True)
    bhi = pdf.HandoffRow("A1", "Rivera, Ana", "Dr. A", "99484x1", 5745, True, bhi=True)
    short = pdf.HandoffRow(
        "B2",
        "Lee, Bo",
        "Dr. A",
        "",
        0,
        True,
        (("Countable time is below the first threshold.", "More."),),
        bhi=True,
    )
    report = pdf.Handoff(
        practice="Clinic", month="2026-03", month_name="March 2026", enrolled_or_active=2,
        billable=(care, bhi), not_billed=(short,), amount_by_code=(("99484", 5745), ("99490", 6613)),
        staff_minutes=(), generated="now",
        visit_claims=(pdf.VisitClaim("A1", "Rivera, Ana", "02 Mar 2026", "G0506", 6647),),
    )  # fmt: skip
    reader = PdfReader(io.BytesIO(pdf.handoff_pdf(report)))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    # Patient-months are counted by their care management; the BHI rows apart.
    assert "Billable 1 Not billable 0" in text and "General BHI billable 1" in text
    assert "Rivera, Ana · BHI" in text and "Lee, Bo · BHI" in text
    assert "Expected in all $123.58" in text
    visit = text[text.index("Add to the visit's claim") :]
    assert "A1 Rivera, Ana 02 Mar 2026 G0506 $66.47" in visit
