"""PDF superbills and the handoff report (reportlab platypus, the bundled DejaVu font)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
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
INK_HEX, MUTED_HEX = "#1b2a33", "#5b6770"
INK = colors.HexColor(INK_HEX)
MUTED = colors.HexColor(MUTED_HEX)
RULE = colors.HexColor("#c9d2d8")
SHADE = colors.HexColor("#eef2f4")
ALERT = colors.HexColor("#b3261e")
# A note longer than this is cut in the log table and printed whole after it: a table row
# cannot run across a page, so one enormous note would not fit anywhere.
NOTE_IN_TABLE = 400
DIAGNOSIS_LETTERS = "ABCDEFGHIJKL"
# A heading starts a new page when less than this is left: room for it and a few rows.
HEADING_ROOM = 1.1 * inch

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


def warm_up() -> None:
    """Load what rendering needs (a worker process's first task would otherwise pay for it)."""
    _register_fonts()


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


def heading(title: str, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    """A section heading that never sits alone at the foot of a page, away from its table."""
    return [CondPageBreak(HEADING_ROOM), Paragraph(text(title), s["h2"])]


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
    created: dt.datetime | None = None  # the PDF's creation date (the export's generation time)


# --- page furniture ----------------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds the pages back until the end, so each can say "Page X of Y"."""

    footer_left = ""
    created: dt.datetime | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        if self.created is not None:
            # Private to reportlab, so types-reportlab leaves it out; the PDF's dates come from it.
            self._doc._timeStamp = _time_stamp(self.created)  # type: ignore[attr-defined]

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # private to reportlab: no stub

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            page = f"Page {number} of {total}"
            room = LETTER[0] - 1.2 * inch - pdfmetrics.stringWidth(page, FONT, 7.5) - 12
            self.drawString(0.6 * inch, 0.45 * inch, clipped(self.footer_left, FONT, 7.5, room))
            self.drawRightString(LETTER[0] - 0.6 * inch, 0.45 * inch, page)
            super().showPage()
        super().save()


def clipped(value: str, font: str, size: float, width: float) -> str:
    """The text cut (with "…") to fit `width` points on one line; whole when it fits."""
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    while value and pdfmetrics.stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


def _canvas_with(footer: str, created: dt.datetime | None) -> type[_NumberedCanvas]:
    return type("FooterCanvas", (_NumberedCanvas,), {"footer_left": footer, "created": created})


def _time_stamp(at: dt.datetime) -> TimeStamp:
    """reportlab's creation and modification date, fixed at `at` (UTC). `invariant` alone
    would print 2000-01-01 in every file; the export's generation time keeps the same bytes
    for the same data and generation time (SOURCE_DATE_EPOCH) and tells the truth otherwise."""
    stamp = TimeStamp(1)
    utc = at.astimezone(dt.UTC)
    stamp.t = utc.timestamp()
    stamp.lt = utc.timetuple()
    stamp.YMDhms = tuple(stamp.lt)[:6]
    stamp.dhh = stamp.dmm = 0
    stamp.tzname = "UTC"
    return stamp


def _build(
    story: list[Flowable], title: str, footer: str, created: dt.datetime | None = None
) -> bytes:
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
    doc.build(story, canvasmaker=_canvas_with(footer, created))
    return out.getvalue()


PAD = 3  # points of padding on each side of a table cell


@functools.cache
def _cell_style(font: str, size: float, color: str, right: bool) -> ParagraphStyle:
    return ParagraphStyle(
        f"cell-{font}-{size}-{color}-{right}",
        fontName=font,
        fontSize=size,
        leading=_leading(size),
        textColor=colors.HexColor(color),
        alignment=TA_RIGHT if right else TA_LEFT,
        splitLongWords=True,
    )


def _leading(size: float) -> float:
    return round(size * 1.27, 1)


def fitted(value: str, width: float, font: str, size: float, color: str, right: bool) -> Any:
    """A table cell's text: as a plain string when it fits its column on one line, which the
    table draws without a Paragraph (parsing and wrapping those is most of a superbill's cost);
    otherwise a Paragraph in the same font, so long free text wraps instead of spilling."""
    # Tabs, carriage returns and other control characters would print as the font's missing
    # glyph box in a plain string; a Paragraph reads them as the spaces they mean.
    if value.isprintable() and pdfmetrics.stringWidth(value, font, size) <= width - 2 * PAD:
        return value
    return Paragraph(text(value), _cell_style(font, size, color, right))


def _grid(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header: bool = True,
    long: bool = False,
    numeric: Sequence[int] = (),
    size: float = 7.5,
    bold_rows: Sequence[int] = (),
    muted_rows: Sequence[int] = (),
    ruled_rows: Sequence[int] | None = None,
) -> Table:
    """A table of text cells (strings, fitted to their columns) and ready-made flowables.
    Row numbers count from 0; negative ones from the end. Every row is ruled below unless
    `ruled_rows` names the ones to rule."""
    _register_fonts()
    count = len(rows)
    bold = {r % count for r in bold_rows} | ({0} if header else set())
    muted = {r % count for r in muted_rows}
    cells = [
        [
            value
            if isinstance(value, Flowable)
            else fitted(
                str(value),
                widths[c],
                BOLD if r in bold else FONT,
                size,
                MUTED_HEX if r in muted else INK_HEX,
                c in numeric,
            )
            for c, value in enumerate(row)
        ]
        for r, row in enumerate(rows)
    ]
    kind = LongTable if long else Table
    table = kind(cells, colWidths=list(widths), repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, size, _leading(size)),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if ruled_rows is None:
        style.append(("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE))
    else:
        style += [("LINEBELOW", (0, r), (-1, r), 0.25, RULE) for r in ruled_rows]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    for r in sorted(bold):
        style.append(("FONT", (0, r), (-1, r), BOLD, size, _leading(size)))
    for r in sorted(muted):
        style.append(("TEXTCOLOR", (0, r), (-1, r), MUTED))
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
    practitioner = f"{bill.practitioner} · NPI {bill.practitioner_npi or '—'}"
    story += [
        Spacer(1, 6),
        # Each label sits in a muted row above its value; the rule falls under the values.
        _grid(
            [
                ["Patient", "Date of birth", "MRN"],
                [bill.patient_name, bill.dob, bill.mrn],
                ["Address", "Payer", "Member ID"],
                [bill.address or "—", bill.payer or "—", bill.member_id or "—"],
                ["Rendering practitioner", "Billing NPI", "QMB"],
                [
                    practitioner,
                    bill.billing_npi or "—",
                    "yes: patient owes $0.00" if bill.qmb else "no",
                ],
                ["Service month", "Date of service", "Place of service"],
                [bill.month_name, bill.date_of_service, bill.place_of_service],
            ],
            [width * 0.44, width * 0.3, width * 0.26],
            header=False,
            size=9,
            muted_rows=(0, 2, 4, 6),
            ruled_rows=(1, 3, 5, 7),
        ),
        *heading("Diagnoses", s),
        _grid(
            [["", "ICD-10-CM", "Description"]]
            + [
                [DIAGNOSIS_LETTERS[n], code, description or "—"]
                for n, (code, description) in enumerate(bill.diagnoses[: len(DIAGNOSIS_LETTERS)])
            ],
            [0.3 * inch, 0.9 * inch, width - 1.2 * inch],
            size=9,
        ),
        *heading("Services", s),
        _grid(
            [["Code", "Description", "Units", "Dx", "Charge"]]
            + [
                [line.code, line.description, line.units, line.pointers, dollars(line.charge_cents)]
                for line in bill.lines
            ]
            + [
                ["", "Total charge", "", "", dollars(bill.total_cents)],
                [
                    "",
                    "Patient responsibility (estimate, 20 %)",
                    "",
                    "",
                    dollars(bill.patient_share_cents),
                ],
            ],
            [0.7 * inch, width - 3.2 * inch, 0.5 * inch, 0.8 * inch, 1.2 * inch],
            size=9,
            numeric=(4,),
            bold_rows=(-2,),
        ),
        *heading("Time this month", s),
        _grid(
            [[name, value] for name, value in bill.minutes]
            + [[line, ""] for line in bill.thresholds]
            + [[f"Not counted: {reason}", value] for reason, value in bill.excluded],
            [width - 1.2 * inch, 1.2 * inch],
            header=False,
            size=9,
            numeric=(1,),
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
        # What identifies the patient comes first: a long practice name is what gets cut.
        f"MRN {bill.mrn} · {bill.patient_name} · {bill.month_name} · {p.name}",
        bill.created,
    )


def _log_appendix(
    log: Sequence[LogLine], s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The time log, flowing onto further pages with its header repeated."""
    story: list[Flowable] = heading("Appendix: time log", s)
    if not log:
        return [*story, Paragraph("No time was recorded this month.", s["body"])]
    long_notes: list[tuple[int, str]] = []
    rows: list[list[str]] = [["Date", "Time", "Min", "Staff", "Activity", "Service", "Note"]]
    for n, line in enumerate(log, start=1):
        note = line.note
        if len(note) > NOTE_IN_TABLE:
            long_notes.append((n, note))
            note = note[:NOTE_IN_TABLE] + f" … (entry {n}: the whole note follows the table)"
        rows.append(
            [line.day, line.span, line.minutes, line.staff, line.activity, line.service, note]
        )
    # Min holds "1000:00" (an imported entry may be that long) without splitting the figure.
    widths = [0.8, 0.85, 0.55, 1.1, 1.1, 0.65]
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
    created: dt.datetime | None = None


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
                ["Patients enrolled or active", report.enrolled_or_active],
                ["Billable", len(report.billable)],
                ["Not billable", len(report.not_billed)],
                ["Billable and signed", signed],
                ["Billable, not signed yet", len(report.billable) - signed],
            ]
            + [[f"Expected {code}", dollars(c)] for code, c in report.amount_by_code]
            + [["Expected in all", dollars(total)]],
            [width - 1.5 * inch, 1.5 * inch],
            header=False,
            size=9,
            numeric=(1,),
            bold_rows=(-1,),
        ),
    ]
    if not report.billable:
        story.append(Spacer(1, 6))
        story.append(para(f"Nothing is billable for {report.month_name}.", "alert"))
    story += heading("Billable patients", s)
    if report.billable:
        story.append(
            _grid(
                [["MRN", "Patient", "Practitioner", "Codes", "Amount", "Signed"]]
                + [
                    [
                        r.mrn,
                        r.patient,
                        r.practitioner,
                        r.codes,
                        dollars(r.amount_cents),
                        "yes" if r.signed else "NO",
                    ]
                    for r in report.billable
                ],
                [w * inch for w in (0.9, 1.9, 1.6, 1.3, 0.8, 0.8)],
                long=True,
                numeric=(4,),
            )
        )
    else:
        story.append(para("None."))
    story += heading("Not billed and why", s)
    if report.not_billed:
        story.append(
            _grid(
                [["MRN", "Patient", "Why", "What would mend it"]]
                + [
                    [
                        r.mrn,
                        r.patient,
                        "\n".join(why for why, _ in r.reasons),
                        "\n".join(mend for _, mend in r.reasons if mend),
                    ]
                    for r in report.not_billed
                ],
                [w * inch for w in (0.9, 1.6, 2.5, 2.3)],
                long=True,
            )
        )
    else:
        story.append(para("Every enrolled or active patient is billable."))
    story += heading("Minutes by staff member", s)
    story.append(
        _grid(
            [["Staff member", "Role", "Minutes"]] + [list(row) for row in report.staff_minutes],
            [width - 2.7 * inch, 1.5 * inch, 1.2 * inch],
            long=True,
            numeric=(2,),
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
        report.created,
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


class Merger:
    """Several PDFs one after the other in one file, each keeping its own page numbers; added
    one at a time, so merging goes on while later ones are still rendering."""

    def __init__(self, title: str = "", created: dt.datetime | None = None) -> None:
        self._writer = PdfWriter()
        if title:
            info = {"/Title": title, "/Creator": "ccmdesk"}
            if created is not None:
                info["/CreationDate"] = created.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
            self._writer.add_metadata(info)
        self.documents = 0

    def add(self, document: bytes) -> None:
        self._writer.append(PdfReader(io.BytesIO(document)))
        self.documents += 1

    def getvalue(self) -> bytes:
        out = io.BytesIO()
        self._writer.write(out)
        return out.getvalue()
