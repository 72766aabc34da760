"""The patient copy read back: both languages, large type, hostile text printed literally."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from pypdf import PdfReader

from ccmdesk.reports.care_plan_copy import (
    BODY,
    PatientCopy,
    long_date,
    patient_copy_pdf,
    printable,
    without_codes,
)
from ccmdesk.rules.care_plan import PlanContent
from tests.helpers.reports import fragments, pdf_words

PLAN = PlanContent(
    problems="E11.9 Type 2 diabetes mellitus without complications\nI10 - Hypertension\n"
    "Anemia (D51.0)\nVitamin B12 low",
    outcomes="Stable with monthly calls.",
    goals="HbA1c below 7.0% by October.\n- Walk 20 minutes a day",
    symptoms="Low sugar: eat 15 g of fast sugar, check again in 15 minutes.",
    interventions="Nurse Lee calls every month.",
    medications="Metformin 500 mg twice a day.",
    community="Diabetes class at the library.",
    coordination="Eye doctor once a year.",
    review_on=dt.date(2027, 5, 4),
)
ENGLISH = PatientCopy(
    language="en",
    practice_name="Maple Clinic",
    practice_address="1 Main St, Portland, ME 04101",
    phone="207-555-0100",
    after_hours_phone="207-555-0199",
    patient_name="Ana Rivera",
    version=3,
    signed_on=dt.date(2026, 11, 4),
    signed_by="Dr. A",
    practitioner="Dr. A, MD",
    care_manager="Grace Lee, RN",
    content=PLAN,
    title="Your care plan",
    intro="This is the plan you made with your care team.",
    worse="Call your care team.",
    emergency="Call 911 for chest pain.",
    closing="We will call you soon.",
)
SPANISH = dataclasses.replace(
    ENGLISH,
    language="es",
    patient_name="María Núñez",
    content=dataclasses.replace(PLAN, goals="Caminar 20 minutos al día; azúcar en ayunas < 130."),
    title="Su plan de cuidado",
    intro="Este es el plan que usted hizo con su equipo.",
    worse="Llame a su equipo de cuidado.",
    emergency="Llame al 911 si tiene dolor de pecho.",
    closing="Le llamaremos pronto.",
)
HEADINGS = {
    "en": ["Your care team", "Your health problems", "Your goals", "When symptoms get worse",
           "Your medicines", "Help in your community", "Next review"],
    "es": ["Su equipo de cuidado", "Sus problemas de salud", "Sus metas",
           "Cuando los síntomas empeoran", "Sus medicinas", "Ayuda en su comunidad",
           "Próxima revisión"],
}  # fmt: skip


def pages(document: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(document)).pages]


def flat(document: bytes) -> str:
    """Every page's text with all white space removed: wrapped lines join back up."""
    return "".join("".join(pages(document)).split())


def squeezed(value: str) -> str:
    return "".join(value.split())


@pytest.mark.parametrize("copy", [ENGLISH, SPANISH], ids=["en", "es"])
def test_each_language_prints_its_headings_in_order_with_the_phones_and_goals(
    copy: PatientCopy,
) -> None:
    text = flat(patient_copy_pdf(copy))
    places = [text.index(squeezed(h)) for h in HEADINGS[copy.language]]
    assert places == sorted(places)
    for expected in (copy.title, copy.patient_name, "207-555-0100", "207-555-0199",
                     copy.content.goals.replace("- ", "• "), "GraceLee,RN", "Dr.A,MD", copy.emergency):  # fmt: skip
        assert squeezed(expected) in text, expected
    # The practice's words follow the plan's own symptom management, the emergency last.
    assert (
        text.index(squeezed(PLAN.symptoms))
        < text.index(squeezed(copy.worse))
        < text.index(squeezed(copy.emergency))
    )


def test_the_spanish_copy_keeps_its_accents_and_writes_dates_out_in_spanish() -> None:
    document = patient_copy_pdf(SPANISH)
    text = pdf_words(document)
    for word in ("María Núñez", "Teléfono fuera de horario", "Próxima revisión",
                 "4 de mayo de 2027", "Página 1 de", "versión 3", "firmado el 4 nov 2026"):  # fmt: skip
        assert word in text, word
    assert "Page " not in text and "May 4" not in text


def test_the_english_copy_writes_its_dates_out_and_names_the_signed_version() -> None:
    text = pdf_words(patient_copy_pdf(ENGLISH))
    assert "May 4, 2027" in text
    assert "Care plan version 3, signed 4 Nov 2026 by Dr. A" in text


def test_every_page_says_page_x_of_y() -> None:
    long_goals = "\n".join(
        f"Goal {n}: walk a little further than the day before." for n in range(80)
    )
    document = patient_copy_pdf(
        dataclasses.replace(ENGLISH, content=dataclasses.replace(PLAN, goals=long_goals))
    )
    found = pages(document)
    assert len(found) >= 3
    for number, page in enumerate(found, start=1):
        assert page.rstrip().endswith(f"Page {number} of {len(found)}")


def test_the_problems_are_printed_without_their_icd10_codes() -> None:
    text = pdf_words(patient_copy_pdf(ENGLISH))
    section = text[text.index("Your health problems") : text.index("What we expect")]
    assert "Type 2 diabetes mellitus without complications" in section
    assert "Hypertension" in section and "Anemia" in section
    assert "Vitamin B12 low" in section  # a word that only looks like a code stays
    for code in ("E11.9", "I10", "D51.0", "()"):
        assert code not in section, code


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("E11.9 Type 2 diabetes", "Type 2 diabetes"),
        ("I10 - Hypertension", "Hypertension"),
        ("e119: Type 2 diabetes", "Type 2 diabetes"),
        ("Heart failure (I50.9)", "Heart failure"),
        ("E11 diabetes, J44.9 COPD", "diabetes, COPD"),
        ("Heart failure (I50.9), stable.", "Heart failure, stable."),
        ("Hypertension I10.", "Hypertension."),
        ("Vitamin B12 deficiency", "Vitamin B12 deficiency"),
        ("A1c 7.2", "A1c 7.2"),
    ],
)
def test_without_codes(line: str, expected: str) -> None:
    assert without_codes(line) == expected


def test_a_missing_after_hours_number_prints_a_sentence_in_the_copys_language() -> None:
    english = pdf_words(patient_copy_pdf(dataclasses.replace(ENGLISH, after_hours_phone=" ")))
    assert "After-hours phone When the office is closed, call the office phone" in english
    spanish = pdf_words(patient_copy_pdf(dataclasses.replace(SPANISH, after_hours_phone="")))
    assert "Teléfono fuera de horario Cuando la oficina esté cerrada" in spanish


def test_the_body_is_large_type() -> None:
    document = patient_copy_pdf(ENGLISH)
    sizes = {
        round(piece.size, 1)
        for page in range(len(pages(document)))
        for piece in fragments(document, page)
    }
    body = sizes - {11.0}  # the footer
    assert min(body) >= BODY
    assert max(body) >= 19  # headings and the title larger


# Right-to-left words on a line of their own: pypdf reorders a line that has them.
HOSTILE = (
    "<b>bold</b> </para> &amp; <font size=80>big</font> a\x00b\x1bc\x07 tab\there ☺ ♥ 😀\n"
    "שלום مرحبا"
)
LONG_WORD = "W" * 5000


def test_hostile_text_everywhere_prints_literally_and_nothing_is_lost() -> None:
    long_text = "\n".join(f"Line {n}: " + "keep taking it " * 12 for n in range(130))
    long_text += "\nTHE LAST LINE OF THE COORDINATION"
    assert len(long_text) > 20_000
    hostile = f"{HOSTILE}\n{LONG_WORD}"
    content = PlanContent(
        **{key: hostile for key in ("problems", "outcomes", "goals", "symptoms",
                                    "interventions", "medications", "community")},
        coordination=long_text,
        review_on=dt.date(2027, 5, 4),
    )  # fmt: skip
    copy = dataclasses.replace(
        SPANISH,
        practice_name=HOSTILE,
        practice_address=HOSTILE,
        phone=HOSTILE,
        after_hours_phone=HOSTILE,
        patient_name=HOSTILE,
        signed_by=HOSTILE,
        practitioner=HOSTILE,
        care_manager=HOSTILE,
        content=content,
        title=HOSTILE,
        intro=hostile,
        worse=hostile,
        emergency=hostile,
        closing=hostile,
    )
    document = patient_copy_pdf(copy)
    found = pages(document)
    # Each page's footer and page number (its last two lines) left out: text split across
    # pages joins up again.
    text = "".join("".join(p.rstrip().rsplit("\n", 2)[0] for p in found).split())
    # Markup is printed, not obeyed; control characters are left out, the rest kept.
    literal = squeezed("<b>bold</b> </para> &amp; <font size=80>big</font> abc tab here ☺ ♥")
    # The plan's 7 elements, the practice's 5 texts, its name, address and phones, the
    # patient's name and the two people of the care team.
    assert text.count(literal) == 19
    assert text.count(LONG_WORD) == 11  # the plan's 7 elements and 4 of the practice's texts
    assert "THELASTLINEOFTHECOORDINATION" in text
    assert squeezed(long_text) in text  # every line of it, in order
    # Right-to-left words print, their letters all there (pypdf reorders them as it reads);
    # 😀 prints too, though reportlab's map back to text has no room for it.
    assert set("שלום") <= set(text) and set("مرحبا") <= set(text)
    assert found[-1].rstrip().endswith(f"Página {len(found)} de {len(found)}")


def test_printable_leaves_out_control_characters_and_keeps_lines() -> None:
    assert printable("a\x00b\x1bc\r\nd\te\x7f") == "abc\nd e"


def test_long_date_in_each_language() -> None:
    assert long_date(dt.date(2027, 5, 4), "en") == "May 4, 2027"
    assert long_date(dt.date(2027, 5, 4), "es") == "4 de mayo de 2027"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        patient_copy_pdf(dataclasses.replace(ENGLISH, language="fr"))


def test_a_line_of_markup_characters_does_not_become_a_bullet_or_vanish() -> None:
    text = flat(patient_copy_pdf(dataclasses.replace(ENGLISH, intro="- <br/> first\n* & second")))
    assert "•<br/>first" in text and "•&second" in text
