"""PDF superbills and the handoff report (reportlab platypus, the bundled DejaVu font)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ccmdesk.rules.billing import dollars

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
INK = colors.HexColor("#1b2a33")
MUTED = colors.HexColor("#5b6770")
RULE = colors.HexColor("#c9d2d8")
SHADE = colors.HexColor("#eef2f4")
ALERT = colors.HexColor("#b3261e")
# A note longer than this is cut in the log table and printed whole after it: a table row
# cannot run across a page, so one enormous note would not fit anywhere.
NOTE_IN_TABLE = 400
DIAGNOSIS_LETTERS = "ABCDEFGHIJKL"

_fonts_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    """The bundled DejaVu Sans, embedded in every PDF: names in any script print the same."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        folder = files("ccmdesk.resources").joinpath("fonts")
        for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
            data = folder.joinpath(file).read_bytes()
            pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
        _fonts_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    _register_fonts()  # paragraphs resolve their fonts as they are made
    base = ParagraphStyle(
        "body", fontName=FONT, fontSize=9, leading=11.5, textColor=INK, splitLongWords=True
    )
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "muted": ParagraphStyle("muted", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=3
        ),
        "bold": ParagraphStyle("bold", parent=base, fontName=BOLD),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "alert": ParagraphStyle(
            "alert", parent=base, fontName=BOLD, fontSize=12, leading=15, textColor=ALERT
        ),
    }


def text(value: object) -> str:
    """Stored text made safe for a Paragraph: markup characters are printed, not obeyed."""
    return escape(str(value)).replace("\n", "<br/>")


# --- the data a superbill prints ---------------------------------------------------------------


@dataclass(frozen=True)
class PracticeHeader:
    name: str
    address: str
    phone: str
    group_npi: str
    tin: str


@dataclass(frozen=True)
class ServiceLine:
    code: str
    description: str
    units: int
    pointers: str  # diagnosis letters, "ABCD"
    charge_cents: int


@dataclass(frozen=True)
class LogLine:
    day: str  # "03 Mar 2026"
    span: str  # "09:15–09:40"
    minutes: str  # "25:00"
    staff: str
    activity: str
    service: str
    note: str


@dataclass(frozen=True)
class SignOff:
    name: str
    at: str  # local date and time
    attestation: str


@dataclass(frozen=True)
class Superbill:
    practice: PracticeHeader
    month: str  # YYYY-MM
    month_name: str  # "March 2026"
    practitioner: str  # "Adaeze Okafor, MD"
    practitioner_npi: str
    billing_npi: str
    patient_name: str
    dob: str
    mrn: str
    address: str
    payer: str
    member_id: str
    qmb: bool
    date_of_service: str
    place_of_service: str
    diagnoses: tuple[tuple[str, str], ...]  # (code, description), claim order
    lines: tuple[ServiceLine, ...]
    total_cents: int
    patient_share_cents: int
    minutes: tuple[tuple[str, str], ...]  # ("Clinical staff", "41:00")
    thresholds: tuple[str, ...]  # "20:00 reached on 25 Mar → 99490"
    excluded: tuple[tuple[str, str], ...]  # (reason in words, "15:00")
    consent: str  # "04 Nov 2025, verbal"
    care_plan: str
    sign_off: SignOff | None
    log: tuple[LogLine, ...]
    generated: str  # "23 Nov 2026 18:40 by Wei Chen"
    audit_head: str = ""


# --- page furniture ----------------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds the pages back until the end, so each can say "Page X of Y"."""

    footer_left = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawString(0.6 * inch, 0.45 * inch, self.footer_left)
            self.drawRightString(LETTER[0] - 0.6 * inch, 0.45 * inch, f"Page {number} of {total}")
            super().showPage()
        super().save()


def _canvas_with(footer: str) -> type[_NumberedCanvas]:
    return type("FooterCanvas", (_NumberedCanvas,), {"footer_left": footer})


def _build(story: list[Flowable], title: str, footer: str) -> bytes:
    _register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=LETTER,
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.75 * inch,
        title=title,
        author="ccmdesk",
        creator="ccmdesk",
        # The same data and generation time give the same bytes (no clock, no random id).
        invariant=1,
    )
    doc.build(story, canvasmaker=_canvas_with(footer))
    return out.getvalue()


def _grid(
    rows: list[list[Any]],
    widths: Sequence[float],
    *,
    header: bool = True,
    long: bool = False,
    numeric: Sequence[int] = (),
) -> Table:
    kind = LongTable if long else Table
    table = kind(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        # Cells given as plain strings (short, known shapes: dates, times, figures) are drawn
        # without a Paragraph each, which is most of a long log's cost.
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("FONTNAME", (0, 0), (-1, 0), BOLD)]
    for column in numeric:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


# --- the superbill -----------------------------------------------------------------------------


def superbill_pdf(bill: Superbill) -> bytes:
    """One patient-month's superbill, with its time log as an appendix."""
    s = _styles()
    p, width = bill.practice, LETTER[0] - 1.2 * inch

    def para(value: object, style: str = "body") -> Paragraph:
        return Paragraph(text(value), s[style])

    def label(name: str, value: object) -> Paragraph:
        return Paragraph(f'<font color="#5b6770">{text(name)}</font><br/>{text(value)}', s["body"])

    story: list[Flowable] = [
        _grid(
            [
                [
                    Paragraph(
                        f"<b>{text(p.name)}</b><br/>{text(p.address)}<br/>{text(p.phone)}",
                        s["body"],
                    ),
                    Paragraph(
                        f"Group NPI {text(p.group_npi or '—')}<br/>TIN {text(p.tin or '—')}",
                        s["right"],
                    ),
                ]
            ],
            [width * 0.65, width * 0.35],
            header=False,
        ),
        Spacer(1, 6),
        para(f"Superbill · Chronic care management · {bill.month_name}", "title"),
    ]
    if bill.sign_off is None:
        story.append(
            para("NOT SIGNED: the billing practitioner has not signed this month.", "alert")
        )
    story += [
        Spacer(1, 6),
        _grid(
            [
                [
                    label("Patient", bill.patient_name),
                    label("Date of birth", bill.dob),
                    label("MRN", bill.mrn),
                ],
                [
                    label("Address", bill.address or "—"),
                    label("Payer", bill.payer or "—"),
                    label("Member ID", bill.member_id or "—"),
                ],
                [
                    label(
                        "Rendering practitioner",
                        f"{bill.practitioner} · NPI {bill.practitioner_npi or '—'}",
                    ),
                    label("Billing NPI", bill.billing_npi or "—"),
                    label("QMB", "yes: patient owes $0.00" if bill.qmb else "no"),
                ],
                [
                    label("Service month", bill.month_name),
                    label("Date of service", bill.date_of_service),
                    label("Place of service", bill.place_of_service),
                ],
            ],
            [width * 0.44, width * 0.3, width * 0.26],
            header=False,
        ),
        para("Diagnoses", "h2"),
        _grid(
            [[para("", "bold"), para("ICD-10-CM", "bold"), para("Description", "bold")]]
            + [
                [para(DIAGNOSIS_LETTERS[n]), para(code), para(description or "—")]
                for n, (code, description) in enumerate(bill.diagnoses[: len(DIAGNOSIS_LETTERS)])
            ],
            [0.3 * inch, 0.9 * inch, width - 1.2 * inch],
        ),
        para("Services", "h2"),
        _grid(
            [[para(h, "bold") for h in ("Code", "Description", "Units", "Dx", "Charge")]]
            + [
                [
                    para(line.code),
                    para(line.description),
                    para(line.units),
                    para(line.pointers),
                    para(dollars(line.charge_cents), "right"),
                ]
                for line in bill.lines
            ]
            + [
                [
                    para(""),
                    para("Total charge", "bold"),
                    para(""),
                    para(""),
                    para(dollars(bill.total_cents), "right"),
                ],
                [
                    para(""),
                    para("Patient responsibility (estimate, 20 %)"),
                    para(""),
                    para(""),
                    para(dollars(bill.patient_share_cents), "right"),
                ],
            ],
            [0.7 * inch, width - 3.2 * inch, 0.5 * inch, 0.8 * inch, 1.2 * inch],
        ),
        para("Time this month", "h2"),
        _grid(
            [[para(name), para(value, "right")] for name, value in bill.minutes]
            + [[para(line), para("")] for line in bill.thresholds]
            + [
                [para(f"Not counted: {reason}"), para(value, "right")]
                for reason, value in bill.excluded
            ],
            [width - 1.2 * inch, 1.2 * inch],
            header=False,
        ),
        Spacer(1, 4),
        para(
            f"Consent: {bill.consent or 'none on file'} · Care plan: "
            f"{bill.care_plan or 'none on file'}"
        ),
    ]
    if bill.sign_off is not None:
        story.append(
            KeepTogether(
                [
                    para("Sign-off", "h2"),
                    para(f"Signed by {bill.sign_off.name} on {bill.sign_off.at}"),
                    para(bill.sign_off.attestation, "small"),
                ]
            )
        )
    story += _log_appendix(bill.log, s, width)
    story.append(Spacer(1, 8))
    story.append(
        para(
            f"Generated {bill.generated}"
            + (f" · audit trail head {bill.audit_head}" if bill.audit_head else ""),
            "muted",
        )
    )
    return _build(
        story,
        f"Superbill {bill.mrn} {bill.month}",
        f"{p.name} · {bill.patient_name} · MRN {bill.mrn} · {bill.month_name}",
    )


def _log_appendix(
    log: Sequence[LogLine], s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The time log, flowing onto further pages with its header repeated."""
    story: list[Flowable] = [Paragraph("Appendix: time log", s["h2"])]
    if not log:
        return [*story, Paragraph("No time was recorded this month.", s["body"])]
    long_notes: list[tuple[int, str]] = []
    rows: list[list[Any]] = [["Date", "Time", "Min", "Staff", "Activity", "Service", "Note"]]
    for n, line in enumerate(log, start=1):
        note = line.note
        if len(note) > NOTE_IN_TABLE:
            long_notes.append((n, note))
            note = note[:NOTE_IN_TABLE] + f" … (entry {n}: the whole note follows the table)"
        # Date, time, minutes and service are short and never wrap: plain strings. Names,
        # activities and notes are free text that must wrap: paragraphs.
        rows.append(
            [
                line.day,
                line.span,
                line.minutes,
                Paragraph(text(line.staff), s["small"]),
                Paragraph(text(line.activity), s["small"]),
                line.service,
                Paragraph(text(note), s["small"]) if note else "",
            ]
        )
    widths = [0.8, 0.85, 0.45, 1.1, 1.15, 0.7]
    widths.append(width / inch - sum(widths))
    story.append(_grid(rows, [w * inch for w in widths], long=True, numeric=(2,)))
    for n, note in long_notes:
        story.append(Paragraph(f"Note of entry {n}", s["bold"]))
        story.append(Paragraph(text(note), s["small"]))
    return story


# --- the handoff report ------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffRow:
    mrn: str
    patient: str
    practitioner: str
    codes: str
    amount_cents: int
    signed: bool
    reasons: tuple[tuple[str, str], ...] = ()  # (reason in words, how to mend it)


@dataclass(frozen=True)
class Handoff:
    practice: str
    month: str
    month_name: str
    enrolled_or_active: int
    billable: tuple[HandoffRow, ...]
    not_billed: tuple[HandoffRow, ...]
    amount_by_code: tuple[tuple[str, int], ...]
    staff_minutes: tuple[tuple[str, str, str], ...]  # (name, role, "123:45")
    generated: str
    audit_head: str = ""
    attachments: dict[str, bytes] = field(default_factory=dict)


def handoff_pdf(report: Handoff) -> bytes:
    """The team-to-billing handoff for a month, with the month's CSV files attached."""
    s = _styles()
    width = LETTER[0] - 1.2 * inch

    def para(value: object, style: str = "body") -> Paragraph:
        return Paragraph(text(value), s[style])

    signed = sum(1 for row in report.billable if row.signed)
    total = sum(cents for _, cents in report.amount_by_code)
    story: list[Flowable] = [
        para(report.practice, "muted"),
        para(f"Billing handoff · {report.month_name}", "title"),
        Spacer(1, 6),
        _grid(
            [
                [para("Patients enrolled or active"), para(report.enrolled_or_active, "right")],
                [para("Billable"), para(len(report.billable), "right")],
                [para("Not billable"), para(len(report.not_billed), "right")],
                [para("Billable and signed"), para(signed, "right")],
                [para("Billable, not signed yet"), para(len(report.billable) - signed, "right")],
            ]
            + [
                [para(f"Expected {code}"), para(dollars(c), "right")]
                for code, c in report.amount_by_code
            ]
            + [[para("Expected in all", "bold"), para(dollars(total), "right")]],
            [width - 1.5 * inch, 1.5 * inch],
            header=False,
        ),
    ]
    if not report.billable:
        story.append(Spacer(1, 6))
        story.append(para(f"Nothing is billable for {report.month_name}.", "alert"))
    story.append(para("Billable patients", "h2"))
    if report.billable:
        story.append(
            _grid(
                [
                    [
                        para(h, "bold")
                        for h in ("MRN", "Patient", "Practitioner", "Codes", "Amount", "Signed")
                    ]
                ]
                + [
                    [
                        para(r.mrn, "small"),
                        para(r.patient, "small"),
                        para(r.practitioner, "small"),
                        para(r.codes, "small"),
                        para(dollars(r.amount_cents), "right"),
                        para("yes" if r.signed else "NO"),
                    ]
                    for r in report.billable
                ],
                [w * inch for w in (0.9, 1.9, 1.6, 1.3, 0.8, 0.8)],
                long=True,
            )
        )
    else:
        story.append(para("None."))
    story.append(para("Not billed and why", "h2"))
    if report.not_billed:
        story.append(
            _grid(
                [[para(h, "bold") for h in ("MRN", "Patient", "Why", "What would mend it")]]
                + [
                    [
                        para(r.mrn, "small"),
                        para(r.patient, "small"),
                        Paragraph("<br/>".join(text(why) for why, _ in r.reasons), s["small"]),
                        Paragraph(
                            "<br/>".join(text(mend) for _, mend in r.reasons if mend), s["small"]
                        ),
                    ]
                    for r in report.not_billed
                ],
                [w * inch for w in (0.9, 1.6, 2.5, 2.3)],
                long=True,
            )
        )
    else:
        story.append(para("Every enrolled or active patient is billable."))
    story.append(para("Minutes by staff member", "h2"))
    story.append(
        _grid(
            [[para(h, "bold") for h in ("Staff member", "Role", "Minutes")]]
            + [
                [para(n, "small"), para(r, "small"), para(m, "right")]
                for n, r, m in report.staff_minutes
            ],
            [width - 2.7 * inch, 1.5 * inch, 1.2 * inch],
            long=True,
        )
    )
    story.append(Spacer(1, 8))
    names = ", ".join(sorted(report.attachments))
    story.append(
        para(
            f"Generated {report.generated}"
            + (f" · audit trail head {report.audit_head}" if report.audit_head else "")
            + (f" · attached: {names}" if names else ""),
            "muted",
        )
    )
    pdf = _build(
        story,
        f"Billing handoff {report.month}",
        f"{report.practice} · billing handoff · {report.month_name}",
    )
    return attach(pdf, report.attachments)


def attach(pdf: bytes, attachments: dict[str, bytes]) -> bytes:
    """The PDF with files embedded in it (the CSV data travels with the report)."""
    if not attachments:
        return pdf
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for name in sorted(attachments):
        writer.add_attachment(name, attachments[name])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def merge(documents: Sequence[bytes], progress: Callable[[int], None] | None = None) -> bytes:
    """Several PDFs one after the other, each keeping its own page numbers."""
    writer = PdfWriter()
    for n, document in enumerate(documents, start=1):
        writer.append(PdfReader(io.BytesIO(document)))
        if progress is not None:
            progress(n)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
