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
