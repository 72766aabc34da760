"""The patient's copy of a signed care plan: plain words, large type, English or Spanish."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from ccmdesk.reports.pdf import (
    BOLD,
    FONT,
    INK,
    MUTED,
    MUTED_HEX,
    RULE,
    SHADE,
    canvas_with,
    warm_up,
)
from ccmdesk.reports.pdf import text as markup_safe
from ccmdesk.rules import icd10
from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.rules.intervals import MONTH_NAMES

# Large type for readers with poor sight (body 14 pt or more; docs/patient-copy.md).
BODY, HEADING, TITLE, FOOTER = 14.0, 19.0, 26.0, 11.0
MARGIN = 0.75 * inch
FOOTER_CHARS = 200  # far more than one footer line holds
EMERGENCY_INK = colors.HexColor("#8c1d18")
EMERGENCY_SHADE = colors.HexColor("#fdecea")

# The copy's fixed words in each language. The practice's own words (title, opening, what to
# do when worse, when to call 911, closing) come with the copy; these never change.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your care plan",
        "for": "For {name}",
        "team": "Your care team",
        "practitioner": "Your doctor or provider",
        "care_manager": "Your care manager",
        "office": "Office phone",
        "after_hours": "After-hours phone",
        "no_office_phone": "Ask your care team for the office phone number.",
        "no_after_hours": (
            "When the office is closed, call the office phone and listen for what to do."
        ),
        "problems": "Your health problems",
        "outcomes": "What we expect",
        "goals": "Your goals",
        "interventions": "What we will do, and who does it",
        "worse": "When symptoms get worse",
        "emergency": "Emergency",
        "medications": "Your medicines",
        "community": "Help in your community",
        "coordination": "Your other doctors and services",
        "review": "Next review",
        "footer": "Care plan version {number}, signed {date} by {signer}",
        "page": "Page {number} of {total}",
        "document": "Care plan for {name}",
    },
    "es": {
        "title": "Su plan de cuidado",
        "for": "Para {name}",
        "team": "Su equipo de cuidado",
        "practitioner": "Su médico o proveedor",
        "care_manager": "Su coordinador de cuidado",
        "office": "Teléfono de la oficina",
        "after_hours": "Teléfono fuera de horario",
        "no_office_phone": "Pida a su equipo de cuidado el número de teléfono de la oficina.",
        "no_after_hours": (
            "Cuando la oficina esté cerrada, llame al teléfono de la oficina y escuche qué hacer."
        ),
        "problems": "Sus problemas de salud",
        "outcomes": "Lo que esperamos",
        "goals": "Sus metas",
        "interventions": "Lo que haremos, y quién lo hace",
        "worse": "Cuando los síntomas empeoran",
        "emergency": "Emergencia",
        "medications": "Sus medicinas",
        "community": "Ayuda en su comunidad",
        "coordination": "Sus otros médicos y servicios",
        "review": "Próxima revisión",
        "footer": "Plan de cuidado, versión {number}, firmado el {date} por {signer}",
        "page": "Página {number} de {total}",
        "document": "Plan de cuidado de {name}",
    },
}
MONTHS = {
    "en": MONTH_NAMES,
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}  # fmt: skip


@dataclass(frozen=True)
class PatientCopy:
    """Everything the patient copy prints, in the language it is printed in."""

    language: str  # "en" or "es" (rules.care_plan.LANGUAGES)
    practice_name: str
    practice_address: str
    phone: str
    after_hours_phone: str  # blank: a sentence says what to do instead
    patient_name: str
    version: int
    signed_on: dt.date
    signed_by: str  # "Adaeze Okafor, MD"
    practitioner: str  # the billing practitioner, with credentials
    care_manager: str  # blank: none on file
    content: PlanContent
    # The practice's words for this language (services.care_plans.CopyTexts).
    title: str = ""
    intro: str = ""
    worse: str = ""
    emergency: str = ""
    closing: str = ""
    created: dt.datetime | None = None  # the PDF's creation date; None: reportlab's 2000-01-01


def long_date(day: dt.date, language: str) -> str:
    """A date written out: "May 4, 2027" or "4 de mayo de 2027"."""
    month = MONTHS[language][day.month - 1]
    if language == "es":
        return f"{day.day} de {month} de {day.year}"
    return f"{month} {day.day}, {day.year}"


def short_date(day: dt.date, language: str) -> str:
    """The footer's date: "4 Nov 2026" or "4 nov 2026"."""
    return f"{day.day} {MONTHS[language][day.month - 1][:3]} {day.year}"


# A token shaped like an ICD-10-CM code ("E11.9", "I10", "e119"), standing alone.
_CODE_TOKEN = re.compile(r"(?<![\w.])[A-Za-z][0-9][0-9A-Za-z](?:\.?[0-9A-Za-z]{1,4})?(?![\w])")


def without_codes(line: str) -> str:
    """A problem line as a patient reads it: the ICD-10-CM codes left out ("E11.9 Type 2
    diabetes" and "Type 2 diabetes (E11.9)" both read "Type 2 diabetes"). Words that only
    look like codes ("B12", "A1c") stay."""
    found = _CODE_TOKEN.sub(lambda m: "" if icd10.names_a_condition(m[0]) else m[0], line)
    if found == line:
        return line
    found = re.sub(r"\(\s*[,;/]?\s*\)|\[\s*\]", "", found)  # brackets left empty
    found = re.sub(r"^[\s\-–—:;,./]+", "", found)  # "E11.9 - Type 2 ..." leaves "- Type 2 ..."
    found = re.sub(r"[ \t]+([,.;:])", r"\1", found)  # "Hypertension I10." leaves " ."
    return re.sub(r"[ \t]{2,}", " ", found).strip()


def printable(value: str) -> str:
    """Stored text as it prints: control characters (a NUL, an escape) left out, tabs as
    spaces, line ends kept. Markup is escaped after this (reports.pdf.text)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(
        c for c in value if c == "\n" or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
    )


def _styles() -> dict[str, ParagraphStyle]:
    warm_up()  # the DejaVu fonts: accents and any script print
    body = ParagraphStyle(
        "copy-body",
        fontName=FONT,
        fontSize=BODY,
        leading=BODY * 1.45,
        textColor=INK,
        spaceAfter=5,
        splitLongWords=True,
    )
    return {
        "body": body,
        "bullet": ParagraphStyle(
            "copy-bullet",
            parent=body,
            leftIndent=22,
            bulletIndent=4,
            bulletFontName=FONT,
            bulletFontSize=BODY,
        ),
        "sub": ParagraphStyle("copy-sub", parent=body, fontName=BOLD, spaceBefore=4),
        "title": ParagraphStyle(
            "copy-title",
            parent=body,
            fontName=BOLD,
            fontSize=TITLE,
            leading=TITLE * 1.25,
            spaceAfter=4,
        ),
        "for": ParagraphStyle(
            "copy-for", parent=body, fontName=BOLD, fontSize=17, leading=23, spaceAfter=10
        ),
        "practice": ParagraphStyle("copy-practice", parent=body, textColor=MUTED, spaceAfter=14),
        "h": ParagraphStyle(
            "copy-h",
            parent=body,
            fontName=BOLD,
            fontSize=HEADING,
            leading=HEADING * 1.3,
            spaceBefore=16,
            spaceAfter=6,
        ),
        "label": ParagraphStyle("copy-label", parent=body, textColor=MUTED, spaceAfter=0),
        "phone": ParagraphStyle(
            "copy-phone",
            parent=body,
            fontName=BOLD,
            fontSize=20,
            leading=26,
            backColor=SHADE,
            borderColor=RULE,
            borderWidth=1,
            borderPadding=10,
            leftIndent=10,
            rightIndent=10,
            spaceBefore=14,
            spaceAfter=18,  # the shading reaches 10 points past the text: room between phones
        ),
        "emergency": ParagraphStyle(
            "copy-emergency",
            parent=body,
            fontName=BOLD,
            textColor=EMERGENCY_INK,
            backColor=EMERGENCY_SHADE,
            borderColor=EMERGENCY_INK,
            borderWidth=2,
            borderPadding=10,
            borderRadius=4,
            leftIndent=10,  # the border is drawn outside the text: keep it inside the margins
            rightIndent=10,
            spaceBefore=14,
            spaceAfter=16,
        ),
        "review": ParagraphStyle(
            "copy-review", parent=body, fontName=BOLD, fontSize=20, leading=26
        ),
        "closing": ParagraphStyle("copy-closing", parent=body, spaceBefore=18),
    }


def _para(value: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    return Paragraph(markup_safe(printable(value)), style, bulletText=bullet)


def _lines(value: str, s: dict[str, ParagraphStyle], plain_codes: bool = False) -> list[Flowable]:
    """A plan element as paragraphs, a line each: "- " and "• " lines as bullets, a short line
    ending in ":" (a template's condition name) in bold, a blank line as a little space."""
    story: list[Flowable] = []
    for raw in printable(value).split("\n"):
        line = without_codes(raw) if plain_codes else raw
        stripped = line.strip()
        if not stripped:
            if story:
                story.append(Spacer(1, 4))
            continue
        if stripped[:2] in ("- ", "* ", "• "):
            story.append(_para(stripped[2:].strip(), s["bullet"], "•"))
        elif stripped.endswith(":") and len(stripped) <= 60:
            story.append(_para(stripped, s["sub"]))
        else:
            story.append(_para(stripped, s["body"]))
    return story


def _section(title: str, body: list[Flowable], s: dict[str, ParagraphStyle]) -> list[Flowable]:
    """A heading that never sits alone at the foot of a page."""
    return [CondPageBreak(1.3 * inch), Paragraph(markup_safe(title), s["h"]), *body]


def _team(copy: PatientCopy, w: dict[str, str], s: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The practitioner and care manager by name, then the two phones, large and shaded."""
    story: list[Flowable] = []
    for label, name in (
        (w["practitioner"], copy.practitioner),
        (w["care_manager"], copy.care_manager),
    ):
        if printable(name).strip():
            story += [_para(label, s["label"]), _para(name.strip(), s["sub"])]
    story.append(Spacer(1, 6))
    phones = []
    for label, number, missing in (
        (w["office"], copy.phone, w["no_office_phone"]),
        (w["after_hours"], copy.after_hours_phone, w["no_after_hours"]),
    ):
        shown = printable(number).strip()
        said = (
            markup_safe(shown)
            if shown
            else f'<font name="{FONT}" size="{BODY}">{markup_safe(missing)}</font>'
        )
        label_markup = (
            f'<font name="{FONT}" size="{BODY}" color="{MUTED_HEX}">{markup_safe(label)}</font>'
        )
        phones.append(f"{label_markup}<br/>{said}")
    # Both phones in one shaded paragraph: even a number that runs for pages splits instead
    # of failing to fit a table cell.
    story.append(Paragraph('<br/><font size="8"> </font><br/>'.join(phones), s["phone"]))
    return story


def _story(copy: PatientCopy) -> list[Flowable]:
    w, s = WORDS[copy.language], _styles()
    content = copy.content
    story: list[Flowable] = [
        _para(copy.title.strip() or w["title"], s["title"]),
        _para(w["for"].format(name=copy.patient_name), s["for"]),
    ]
    practice = " · ".join(
        p for p in (copy.practice_name.strip(), copy.practice_address.strip()) if p
    )
    if practice:
        story.append(_para(practice, s["practice"]))
    story += _lines(copy.intro, s)
    story += _section(w["team"], _team(copy, w, s), s)
    story += _section(w["problems"], _lines(content.problems, s, plain_codes=True), s)
    story += _section(w["outcomes"], _lines(content.outcomes, s), s)
    story += _section(w["goals"], _lines(content.goals, s), s)
    story += _section(w["interventions"], _lines(content.interventions, s), s)
    worse = _lines(content.symptoms, s) + _lines(copy.worse, s)
    if printable(copy.emergency).strip():
        # Drawn by the paragraph itself (its border and shading), so even long words split
        # across pages instead of failing to fit a box.
        emergency = markup_safe(printable(copy.emergency).strip())
        box = Paragraph(f"{markup_safe(w['emergency'])}<br/>{emergency}", s["emergency"])
        worse.append(KeepTogether([box]))  # on one page when it fits; a longer one splits
    story += _section(w["worse"], worse, s)
    story += _section(w["medications"], _lines(content.medications, s), s)
    story += _section(w["community"], _lines(content.community, s), s)
    story += _section(w["coordination"], _lines(content.coordination, s), s)
    if content.review_on is not None:
        review = long_date(content.review_on, copy.language)
        story += _section(
            w["review"],
            [_para(review, s["review"])],
            s,
        )
    if printable(copy.closing).strip():
        story.append(_para(copy.closing.strip(), s["closing"]))
    return story


def patient_copy_pdf(copy: PatientCopy) -> bytes:
    """The patient copy as PDF bytes: letter size, large type, "Page X of Y" in its language."""
    if copy.language not in WORDS:
        raise ValueError(f"no patient copy words for language {copy.language!r}")
    w = WORDS[copy.language]
    footer = w["footer"].format(
        number=copy.version,
        date=short_date(copy.signed_on, copy.language),
        signer=printable(copy.signed_by).replace("\n", " ").strip(),
    )
    # clipped() shortens a character at a time: a name hundreds of characters long is cut
    # first, far past what fits on a line, so every page's footer stays quick.
    footer = footer[:FOOTER_CHARS]
    story = _story(copy)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=0.9 * inch,
        title=printable(w["document"].format(name=copy.patient_name)).replace("\n", " "),
        author=printable(copy.practice_name).replace("\n", " ") or "ccmdesk",
        creator="ccmdesk",
        lang=copy.language,
        invariant=1,  # the same copy and creation time give the same bytes
    )
    canvas = canvas_with(
        footer,
        copy.created,
        page_words=w["page"],
        footer_size=FOOTER,
        margin=MARGIN,
        baseline=0.5 * inch,
        gap=16.0,
    )
    doc.build(story, canvasmaker=canvas)
    return out.getvalue()
