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
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
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
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ccmdesk.reports.glance import Chart, Glance, Shape, Unit, colour, scaled
from ccmdesk.rules.billing import dollars
from ccmdesk.rules.claims import POINTER_LETTERS

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
# Box 1 in words: the payer kinds of rules/catalog.py as a clerk reads them.
PAYER_KIND_WORDS = {
    "medicare": "Medicare",
    "medicare_advantage": "Medicare Advantage",
    "medicaid": "Medicaid",
    "commercial": "Commercial (group health plan or other)",
    "self": "Self-pay: no claim",
}
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
        "tile": ParagraphStyle("tile", parent=base, fontName=BOLD, fontSize=14, leading=18),
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
    tin_kind: str = "EIN"  # box 25: "EIN" or "SSN" (a practice setting)
    taxonomy: str = ""  # box 33b: the billing provider's taxonomy code (a practice setting)
    accept_assignment: bool = True  # box 27 (a practice setting)


@dataclass(frozen=True)
class ServiceLine:
    code: str
    description: str
    units: int
    pointers: str  # diagnosis letters, "ABCD" (box 24E: up to four)
    charge_cents: int
    modifiers: str = ""  # box 24D beside the code, e.g. "25 59"
    # Blank: the superbill's own date of service, place of service and rendering NPI.
    date_of_service: str = ""
    place_of_service: str = ""
    rendering_npi: str = ""
    # Printed after the description: why a line is apart (G0506: "add to the initiating
    # visit's claim").
    note: str = ""


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
    day: str = ""  # box 31's date, "05 Apr 2026"; blank: `at` is printed


@dataclass(frozen=True)
class OtherInsured:
    """The secondary coverage (boxes 9, 9a, 9d and 11d)."""

    payer: str  # the secondary payer's name (9d)
    member_id: str  # 9a
    insured_name: str = ""  # 9; blank: the patient


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
    member_id: str  # the primary member id: box 1a, the insured's id
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
    # The CMS-1500 boxes (docs/formats.md, "The superbill's CMS-1500 boxes"). Blank text
    # prints "—": not recorded, never guessed.
    payer_kind: str = ""  # box 1: rules.catalog.PAYER_KINDS
    sex: str = ""  # box 3: "F" or "M"
    phone: str = ""  # box 5
    relationship: str = "self"  # box 6: self, spouse, child, other
    insured_name: str = ""  # box 4 when the patient is not the insured
    other_insured: OtherInsured | None = None  # None: no other coverage, "none" in box 9
    signature_on_file: bool | None = None  # boxes 12 and 13; None: not recorded
    icd_indicator: str = "0"  # box 21: 0 is ICD-10-CM
    service_facility: str = ""  # box 32; blank: the practice's name and address
    billing_provider: str = ""  # box 33's name; blank: the practice's name
    billing_address: str = ""  # box 33's address; blank: the practice's printed address
    # The patient-share sentence of the rules (estimate, QMB, waiver or secondary payer);
    # blank: the plain 20 % estimate as printed before payers existed.
    patient_share_text: str = ""
    # Lines billed on another claim (G0506 on the initiating visit's): printed after the
    # total, each dated its own day, and not in total_cents (docs/formats.md).
    visit_lines: tuple[ServiceLine, ...] = ()


# --- page furniture ----------------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds the pages back until the end, so each can say "Page X of Y" (in the words and
    the size a document sets: the patient copy prints its own language, larger)."""

    footer_left = ""
    created: dt.datetime | None = None
    page_words = "Page {number} of {total}"
    footer_size = 7.5
    margin = 0.6 * inch
    baseline = 0.45 * inch
    gap = 12.0  # between the footer's text and the page number

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
            size, margin, baseline = self.footer_size, self.margin, self.baseline
            self.setFont(FONT, size)
            self.setFillColor(MUTED)
            page = self.page_words.format(number=number, total=total)
            room = LETTER[0] - 2 * margin - pdfmetrics.stringWidth(page, FONT, size) - self.gap
            self.drawString(margin, baseline, clipped(self.footer_left, FONT, size, room))
            self.drawRightString(LETTER[0] - margin, baseline, page)
            super().showPage()
        super().save()


def clipped(value: str, font: str, size: float, width: float) -> str:
    """The text cut (with "…") to fit `width` points on one line; whole when it fits."""
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    while value and pdfmetrics.stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


def canvas_with(footer: str, created: dt.datetime | None, **style: Any) -> type[_NumberedCanvas]:
    """A canvas class with this footer and creation time (and the page words, footer size,
    margin, baseline or gap in `style`)."""
    return type(
        "FooterCanvas", (_NumberedCanvas,), {"footer_left": footer, "created": created, **style}
    )


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
    doc.build(story, canvasmaker=canvas_with(footer, created))
    return out.getvalue()


PAD = 3  # points of padding on each side of a table cell
LABEL_SIZE = 6.5  # the small print naming a CMS-1500 box above its value


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
    label_rows: Sequence[int] = (),
) -> Table:
    """A table of text cells (strings, fitted to their columns) and ready-made flowables.
    Row numbers count from 0; negative ones from the end. Every row is ruled below unless
    `ruled_rows` names the ones to rule. Label rows are small muted print sitting close above
    the row they name."""
    _register_fonts()
    count = len(rows)
    labels = {r % count for r in label_rows}
    bold = ({r % count for r in bold_rows} | ({0} if header else set())) - labels
    muted = {r % count for r in muted_rows} | labels
    cells = [
        [
            value
            if isinstance(value, Flowable)
            else fitted(
                str(value),
                widths[c],
                BOLD if r in bold else FONT,
                LABEL_SIZE if r in labels else size,
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
    for r in sorted(labels):
        style += [
            ("FONT", (0, r), (-1, r), FONT, LABEL_SIZE, _leading(LABEL_SIZE)),
            ("TOPPADDING", (0, r), (-1, r), 3),
            ("BOTTOMPADDING", (0, r), (-1, r), 0),
        ]
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
    story += [
        Spacer(1, 6),
        *heading("Patient and insured · CMS-1500 boxes 1–13", s),
        _boxes(_patient_boxes(bill), width),
        *heading("21 Diagnoses · ICD Ind. " + (bill.icd_indicator or "—"), s),
        _grid(
            [["", "ICD-10-CM", "Description"]]
            + [
                [POINTER_LETTERS[n], code, description or "—"]
                for n, (code, description) in enumerate(bill.diagnoses[: len(POINTER_LETTERS)])
            ],
            [0.3 * inch, 0.9 * inch, width - 1.2 * inch],
            size=9,
        ),
        *heading(f"24 Services · {bill.month_name}", s),
        _service_lines(bill, width),
        *heading("Provider · CMS-1500 boxes 25–33", s),
        _boxes(_provider_boxes(bill), width),
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


def _boxes(rows: Sequence[Sequence[tuple[str, str]]], width: float) -> Table:
    """CMS-1500 boxes three to a row: each box's number and name in small print above its
    value, so a clerk keying the form finds every box by its number (docs/formats.md)."""
    cells: list[list[str]] = []
    for row in rows:
        cells.append([label for label, _ in row])
        cells.append([value or "—" for _, value in row])
    table = _grid(
        cells,
        [width * 0.36, width * 0.32, width * 0.32],
        header=False,
        size=9,
        label_rows=range(0, len(cells), 2),
        ruled_rows=range(1, len(cells), 2),
    )
    # A page break never parts a box's name from its value.
    table.setStyle(TableStyle([("NOSPLIT", (0, r), (-1, r + 1)) for r in range(0, len(cells), 2)]))
    return table


def _patient_boxes(bill: Superbill) -> list[list[tuple[str, str]]]:
    payer_kind = PAYER_KIND_WORDS.get(bill.payer_kind, bill.payer_kind)
    self_insured = bill.relationship in ("", "self")
    insured = bill.insured_name or (bill.patient_name if self_insured else "")
    other = bill.other_insured
    if bill.signature_on_file is None:
        signature = ""
    else:
        signature = "Signature on file" if bill.signature_on_file else "Not on file"
    return [
        [
            ("Payer (carrier block)", bill.payer),
            ("1 Insurance type", payer_kind),
            ("1a Insured's ID number", bill.member_id),
        ],
        [
            ("2 Patient's name", bill.patient_name),
            ("3 Patient's birth date · sex", f"{bill.dob} · {bill.sex or '—'}"),
            ("26 Patient's account no. (MRN)", bill.mrn),
        ],
        [
            ("5 Patient's address", bill.address),
            ("5 Telephone", bill.phone),
            ("QMB", "yes: patient owes $0.00" if bill.qmb else "no"),
        ],
        [
            ("4 Insured's name", insured),
            ("6 Patient relationship to insured", bill.relationship or "self"),
            ("7 Insured's address", "same as patient (5)" if self_insured else ""),
        ],
        [
            (
                "9 Other insured's name",
                (other.insured_name or bill.patient_name) if other else "none",
            ),
            ("9a Other insured's policy no.", other.member_id if other else "none"),
            ("9d Other insurance plan name", other.payer if other else "none"),
        ],
        [
            ("11d Another health benefit plan?", "yes (9, 9a, 9d)" if other else "no"),
            ("12 Patient's signature (release)", signature),
            ("13 Insured's signature (benefits)", signature),
        ],
    ]


def _provider_boxes(bill: Superbill) -> list[list[tuple[str, str]]]:
    p = bill.practice
    if bill.sign_off is None:
        signed = "not signed yet"
    else:
        signed = f"{bill.sign_off.name} · {bill.sign_off.day or bill.sign_off.at}"
    provider = bill.billing_provider or p.name
    return [
        [
            (f"25 Federal tax ID ({p.tin_kind or 'EIN'})", p.tin),
            ("27 Accept assignment", "yes" if p.accept_assignment else "no"),
            ("28 Total charge", dollars(bill.total_cents)),
        ],
        [
            ("31 Signature of physician · date", signed),
            ("32 Service facility", bill.service_facility or f"{p.name}, {p.address}"),
            (
                "33 Billing provider · phone",
                f"{provider}, {bill.billing_address or p.address} · {p.phone or '—'}",
            ),
        ],
        [
            (
                "24J Rendering practitioner",
                f"{bill.practitioner} · NPI {bill.practitioner_npi or '—'}",
            ),
            ("33a Billing provider NPI", bill.billing_npi),
            ("33b Taxonomy", p.taxonomy),
        ],
    ]


def _service_lines(bill: Superbill, width: float) -> Table:
    """Box 24, one row a code line, then the total (28) and the patient's share."""
    widths = [0.88, 0.4, 0.85, 0.0, 0.55, 0.45, 0.85, 0.8]
    widths[3] = width / inch - sum(widths)
    size = 8.5
    header = [
        Paragraph(label, _cell_style(BOLD, LABEL_SIZE, INK_HEX, n in (5, 7)))
        for n, label in enumerate(
            ["24A Date of service", "24B POS", "24D Code · modifier", "Description",
             "24E Dx pointer", "24G Units", "24J Rendering NPI", "24F Charges"]
        )
    ]  # fmt: skip
    rows: list[list[Any]] = [header]

    def row(line: ServiceLine) -> list[Any]:
        return [
            line.date_of_service or bill.date_of_service,
            line.place_of_service or bill.place_of_service,
            f"{line.code} {line.modifiers}".strip(),
            line.description + (f" · {line.note}" if line.note else ""),
            line.pointers,
            line.units,
            line.rendering_npi or bill.practitioner_npi or "—",
            dollars(line.charge_cents),
        ]

    rows += [row(line) for line in bill.lines]
    share = bill.patient_share_text or "Patient responsibility (estimate, 20 %)"
    rows.append(["", "", "", "28 Total charge", "", "", "", dollars(bill.total_cents)])
    rows.append(["", "", "", share, "", "", "", dollars(bill.patient_share_cents)])
    total_row = len(rows) - 2
    spans = [total_row, total_row + 1]
    labels: list[int] = []
    if bill.visit_lines:
        # A line billed on another claim comes after the total it is not part of, under a
        # label saying so.
        labels.append(len(rows))
        spans.append(len(rows))
        rows.append(["", "", "", "Billed on another claim · not in the total", "", "", "", ""])
        rows += [row(line) for line in bill.visit_lines]
    table = _grid(
        rows,
        [w * inch for w in widths],
        size=size,
        numeric=(5, 7),
        bold_rows=(total_row,),
        label_rows=labels,
    )
    # The total's and the share's words run from the description to the charges column: the
    # share's sentence (why it is $0, the deductible it assumes) needs more than one column.
    table.setStyle(TableStyle([("SPAN", (3, row), (6, row)) for row in spans]))
    return table


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
    bhi: bool = False  # the month's general BHI, on a row of its own after its care management


@dataclass(frozen=True)
class VisitClaim:
    """A code that goes on the initiating visit's claim, not the month's (G0506)."""

    mrn: str
    patient: str
    day: str  # the visit's day, "02 Mar 2026"
    code: str
    amount_cents: int


@dataclass(frozen=True)
class LeftOut:
    """A billable month that goes in no claim file, and why (docs/formats.md)."""

    mrn: str
    patient: str
    claim_id: str
    reasons: tuple[tuple[str, str], ...]  # (why in words, how to mend it)


@dataclass(frozen=True)
class SecondaryClaim:
    """A billable month whose patient has a secondary payer, who is billed the coinsurance."""

    mrn: str
    patient: str
    claim_id: str
    payer: str  # the secondary payer's name
    member_id: str
    coinsurance_cents: int


@dataclass(frozen=True)
class Waived:
    """A billable month whose coinsurance a hardship waiver covers."""

    mrn: str
    patient: str
    sentence: str  # rules.billing.waiver_text


@dataclass(frozen=True)
class ClaimFileNotes:
    """What the handoff says about the claim files: the billable months left out of them,
    the claims that go on to a secondary payer, and the waived months."""

    left_out: tuple[LeftOut, ...] = ()
    secondary: tuple[SecondaryClaim, ...] = ()
    waived: tuple[Waived, ...] = ()


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
    claims: ClaimFileNotes | None = None  # None: the report says nothing of claim files
    visit_claims: tuple[VisitClaim, ...] = ()  # "Add to the visit's claim"
    glance: Glance | None = None  # the first page's charts; None: no such page


def handoff_pdf(report: Handoff) -> bytes:
    """The team-to-billing handoff for a month, with the month's CSV files attached."""
    s = _styles()
    width = LETTER[0] - 1.2 * inch

    def para(value: object, style: str = "body") -> Paragraph:
        return Paragraph(text(value), s[style])

    # The counts are of patient-months (their care management); BHI rows are counted apart.
    billable = [row for row in report.billable if not row.bhi]
    not_billed = [row for row in report.not_billed if not row.bhi]
    bhi_billable = len(report.billable) - len(billable)
    signed = sum(1 for row in billable if row.signed)
    total = sum(cents for _, cents in report.amount_by_code)
    story: list[Flowable] = []
    if report.glance is not None:
        story += glance_page(report.glance, report.practice, s, width)
    story += [
        para(report.practice, "muted"),
        para(f"Billing handoff · {report.month_name}", "title"),
        Spacer(1, 6),
        _grid(
            [
                ["Patients enrolled or active", report.enrolled_or_active],
                ["Billable", len(billable)],
                ["Not billable", len(not_billed)],
                ["Billable and signed", signed],
                ["Billable, not signed yet", len(billable) - signed],
            ]
            + ([["General BHI billable", bhi_billable]] if bhi_billable else [])
            + (
                [["Billable, in no claim file", len(report.claims.left_out)]]
                if report.claims is not None
                else []
            )
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
                        _marked(r),
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
    if report.visit_claims:
        story += _visit_claims(report.visit_claims, s, width)
    story += heading("Not billed and why", s)
    if report.not_billed:
        story.append(
            _grid(
                [["MRN", "Patient", "Why", "What would mend it"]]
                + [
                    [
                        r.mrn,
                        _marked(r),
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
    if report.claims is not None:
        story += _claim_file_sections(report.claims, s, width)
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


# --- the month at a glance (the handoff's first page) -----------------------------------------

CHART_HEIGHT = 3.45 * inch
CHART_GAP = 0.2 * inch
TICK_SIZE = 6.5
LEGEND_COLUMNS = 3  # room for a person's whole name beside its swatch


def glance_page(
    glance: Glance, practice: str, s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The month's tiles and its four charts, drawn with reportlab's own charts, on a page of
    their own (docs/formats.md, "The handoff report's first page")."""
    tiles = Table(
        [
            [Paragraph(text(t.value), s["tile"]) for t in glance.tiles],
            [Paragraph(text(t.label), s["muted"]) for t in glance.tiles],
        ],
        colWidths=[width / len(glance.tiles)] * len(glance.tiles),
    )
    tiles.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    half = (width - CHART_GAP) / 2
    drawings = [_chart_drawing(chart, half, CHART_HEIGHT) for chart in glance.charts]
    grid = Table(
        [drawings[i : i + 2] for i in range(0, len(drawings), 2)],
        colWidths=[half + CHART_GAP / 2] * 2,
    )
    grid.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), CHART_GAP / 2),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return [
        Paragraph(text(practice), s["muted"]),
        Paragraph(text(f"The month at a glance · {glance.month_name}"), s["title"]),
        Spacer(1, 8),
        tiles,
        Spacer(1, 6),
        grid,
        Paragraph(
            text(
                "The dashboard's figures for the month, counted as the billing panel counts "
                "them: Billable is every month that bills anything (general BHI alone "
                "included) and Signed every signed month, where the next page counts "
                "care-management months and general BHI apart. The pages after it list each "
                "patient."
            ),
            s["muted"],
        ),
        PageBreak(),
    ]


def _chart_drawing(chart: Chart, width: float, height: float) -> Drawing:
    """One chart with its title and its legend; a sentence in its place when it is empty."""
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, chart.title, fontName=BOLD, fontSize=8.5, fillColor=INK))
    drawing.add(
        String(0, height - 22, chart.axis, fontName=FONT, fontSize=TICK_SIZE, fillColor=MUTED)
    )
    if chart.footnote:  # at the foot, under the chart or under the sentence in its place
        drawing.add(
            String(0, 2, chart.footnote, fontName=FONT, fontSize=TICK_SIZE, fillColor=MUTED)
        )
    if chart.is_empty:
        drawing.add(
            String(width / 2, height / 2, chart.empty, fontName=FONT, fontSize=8,
                   fillColor=MUTED, textAnchor="middle")
        )  # fmt: skip
        return drawing
    legend = len(chart.series) > 1
    legend_rows = (len(chart.series) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS if legend else 0
    # Twelve months' names side by side would run into each other: the year goes below.
    names = [c.replace(" '", "\n'") for c in chart.categories]
    lines = max((n.count("\n") + 1 for n in names), default=1)
    # From the foot up: a footnote, the legend's rows, the category axis's label, the
    # categories' names.
    bottom = 4 + 11 * legend_rows
    if chart.footnote:
        bottom += 10
    if chart.category_axis:
        drawing.add(
            String(width / 2, bottom + 2, chart.category_axis, fontName=FONT,
                   fontSize=TICK_SIZE, fillColor=MUTED, textAnchor="middle")
        )  # fmt: skip
        bottom += 11
    if chart.shape is not Shape.FUNNEL:
        bottom += 8 * lines + 4
    else:
        bottom += 12  # the value axis's numbers
    top = height - 30
    plot: Any
    if chart.shape is Shape.FUNNEL:
        plot = HorizontalBarChart()
        plot.x, plot.y = 78, bottom
        plot.width, plot.height = width - plot.x - 24, top - bottom
        # The first category on top, as it is read.
        plot.categoryAxis.reverseDirection = 1
        plot.barLabelFormat = lambda value: f"{value:,.0f}"
        plot.barLabels.boxAnchor = "w"
        plot.barLabels.dx = 3
    else:
        plot = VerticalBarChart()
        plot.x, plot.y = 34, bottom
        plot.width, plot.height = width - plot.x - 4, top - bottom - (10 if chart.notes else 0)
        if chart.shape is Shape.STACKED:
            plot.categoryAxis.style = "stacked"
        if chart.notes:
            plot.barLabelArray = [list(chart.notes)]
            plot.barLabelFormat = "values"
            plot.barLabels.boxAnchor = "s"
            plot.barLabels.dy = 2
    plot.data = [tuple(scaled(v, chart.unit) for v in series.values) for series in chart.series]
    plot.categoryAxis.categoryNames = names
    plot.barLabels.fontName = FONT
    plot.barLabels.fontSize = TICK_SIZE
    plot.barLabels.fillColor = INK
    plot.valueAxis.valueMin = 0
    plot.valueAxis.rangeRound = "ceiling"  # the tallest bar under a ruled line, not at the top
    plot.valueAxis.labelTextFormat = (
        (lambda value: f"${value:,.0f}") if chart.unit is Unit.CENTS else (lambda v: f"{v:,.0f}")
    )
    for axis in (plot.categoryAxis, plot.valueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = TICK_SIZE
        axis.labels.fillColor = INK
        axis.strokeColor = RULE
    plot.valueAxis.visibleGrid = 1
    plot.valueAxis.gridStrokeColor = RULE
    plot.valueAxis.gridStrokeWidth = 0.25
    plot.categoryAxis.visibleTicks = 0
    plot.groupSpacing = 4
    for index in range(len(chart.series)):
        plot.bars[index].fillColor = colors.HexColor(colour(index))
        plot.bars[index].strokeColor = None
    drawing.add(plot)
    if legend:
        key = Legend()
        key.x, key.y = 4, 4 + 11 * legend_rows + (10 if chart.footnote else 0)
        key.fontName, key.fontSize = FONT, TICK_SIZE
        key.fillColor = INK
        key.alignment = "right"
        key.columnMaximum = legend_rows
        key.deltax = round((width - 8) / LEGEND_COLUMNS)
        key.dx = key.dy = 6
        key.dxTextSpace = 4
        key.deltay = 11
        key.boxAnchor = "nw"
        key.colorNamePairs = [
            (colors.HexColor(colour(i)), clipped(s.name, FONT, TICK_SIZE, key.deltax - 16))
            for i, s in enumerate(chart.series)
        ]
        drawing.add(key)
    return drawing


def _marked(row: HandoffRow) -> str:
    """The patient's name, marked on a general BHI row."""
    return f"{row.patient} · BHI" if row.bhi else row.patient


def _visit_claims(
    claims: Sequence[VisitClaim], s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The codes billed on the initiating visit's claim (G0506), apart from the month's
    claims and totals (docs/formats.md)."""
    story = heading("Add to the visit's claim", s)
    story.append(
        Paragraph(
            "Bill these on the claim of the patient's initiating visit, dated the visit's day; "
            "they are in no month's total and in no claim file of this export.",
            s["small"],
        )
    )
    story.append(
        _grid(
            [["MRN", "Patient", "Visit day", "Code", "Amount"]]
            + [[c.mrn, c.patient, c.day, c.code, dollars(c.amount_cents)] for c in claims],
            [w * inch for w in (0.9, width / inch - 4.0, 1.2, 1.0, 0.9)],
            long=True,
            numeric=(4,),
        )
    )
    return story


def _claim_file_sections(
    notes: ClaimFileNotes, s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The billable months the claim files leave out and why; the claims a secondary payer is
    billed after the primary; the months whose coinsurance is waived."""
    story = heading("Not in the claim file", s)
    if not notes.left_out:
        story.append(Paragraph("Every billable month goes in a claim file.", s["body"]))
    # Months kept out for the same reasons are listed under them once: a practice whose
    # clearinghouse settings are missing has every month kept out, and a thousand rows each
    # repeating the same sentences would run for a hundred pages (and take seconds to lay out).
    groups: dict[tuple[tuple[str, str], ...], list[LeftOut]] = {}
    for month in notes.left_out:
        groups.setdefault(month.reasons, []).append(month)
    # The reasons that keep the most months out first: their mend sends the most claims.
    for reasons, months in sorted(groups.items(), key=lambda g: (-len(g[1]), g[1][0].mrn)):
        count = f"{len(months)} month{'s' if len(months) != 1 else ''}"
        story += [
            CondPageBreak(HEADING_ROOM),
            _grid(
                [[f"Why ({count})", "What would mend it"]]
                + [[why, mend or "—"] for why, mend in reasons],
                [width / 2, width / 2],
            ),
            _grid(
                [["MRN", "Patient", "Claim id"]] + [[r.mrn, r.patient, r.claim_id] for r in months],
                [1.2 * inch, width - 2.9 * inch, 1.7 * inch],
                long=True,
                size=7.5,
            ),
            Spacer(1, 8),
        ]
    if notes.secondary:
        story += heading("Claims that go to a secondary payer", s)
        story.append(
            Paragraph(
                "Once the primary payer has paid, bill the coinsurance to the secondary payer; "
                "ccmdesk writes no secondary claim file yet.",
                s["small"],
            )
        )
        story.append(
            _grid(
                [["MRN", "Patient", "Claim id", "Secondary payer", "Member id", "Coinsurance"]]
                + [
                    [
                        r.mrn,
                        r.patient,
                        r.claim_id,
                        r.payer,
                        r.member_id or "—",
                        dollars(r.coinsurance_cents),
                    ]
                    for r in notes.secondary
                ],
                [w * inch for w in (0.8, 1.5, 1.1, 1.9, 1.1, 0.9)],
                long=True,
                numeric=(5,),
            )
        )
    if notes.waived:
        story += heading("Coinsurance waived", s)
        story.append(
            _grid(
                [["MRN", "Patient", "Waiver"]]
                + [[r.mrn, r.patient, r.sentence] for r in notes.waived],
                [0.8 * inch, 1.6 * inch, width - 2.4 * inch],
                long=True,
            )
        )
    return story


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
