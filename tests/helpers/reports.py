"""Superbills ready to render, and PDF pages read back, for the PDF and rendering tests."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any

from pypdf import PdfReader

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


def claim_bill(mrn: str = "S02", **changes: Any) -> pdf.Superbill:
    """A signed superbill with every CMS-1500 box filled in: a Medicare patient with a
    secondary payer, two diagnoses and two code lines."""
    base = bill(mrn)
    full = replace(
        base,
        practice=pdf.PracticeHeader(
            "Maple Clinic",
            "1 Main St, Springfield, IL 62701-1234",
            "(555) 010-0000",
            "1245319599",
            "12-3456789",
            tin_kind="EIN",
            taxonomy="207Q00000X",
        ),
        payer_kind="medicare",
        sex="F",
        phone="(555) 010-2233",
        other_insured=pdf.OtherInsured("AARP Medigap Plan G", "MG-778812"),
        signature_on_file=True,
        diagnoses=(
            ("E11.9", "Type 2 diabetes mellitus without complications"),
            ("I10", "Essential (primary) hypertension"),
        ),
        lines=(
            pdf.ServiceLine("99490", "CCM, first 20 min", 1, "AB", 6613),
            pdf.ServiceLine("99439", "CCM, each further 20 min", 2, "AB", 9800, modifiers="25"),
        ),
        total_cents=16413,
        patient_share_cents=0,
        patient_share_text="Patient share: $0.00; the coinsurance ($32.83) to the secondary "
        "payer: AARP Medigap Plan G.",
        sign_off=pdf.SignOff("Ada Okafor", "05 Apr 2026 10:12", "I attest.", day="05 Apr 2026"),
    )
    return replace(full, **changes)


# --- reading a rendered superbill back -----------------------------------------------------------


def pdf_words(document: bytes) -> str:
    """The PDF's text, every page, with wrapped lines and table cells joined by single spaces."""
    reader = PdfReader(io.BytesIO(document))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


LABEL_SIZE = pdf.LABEL_SIZE  # the small print of a box's number and name


@dataclass(frozen=True)
class Fragment:
    x: float
    y: float
    size: float
    text: str


def fragments(document: bytes, page: int = 0) -> list[Fragment]:
    """The text pieces of one page where they are drawn, top to bottom, left to right."""
    found: list[Fragment] = []

    def seen(value: str, cm: Any, tm: Any, _font: Any, size: float) -> None:
        if value.strip():
            x, y = round(cm[4] + tm[4], 1), round(cm[5] + tm[5], 1)
            found.append(Fragment(x, y, size, value.strip()))

    PdfReader(io.BytesIO(document)).pages[page].extract_text(visitor_text=seen)
    return sorted(found, key=lambda f: (-f.y, f.x))


def boxes(document: bytes, page: int = 0) -> dict[str, str]:
    """Each box's label (small print) and the value printed under it in the same column,
    its wrapped lines joined with spaces."""
    pieces = fragments(document, page)
    found: dict[str, str] = {}
    for n, piece in enumerate(pieces):
        if piece.size != LABEL_SIZE:
            continue
        label, value, y = [piece.text], [], piece.y
        for below in pieces[n + 1 :]:
            if abs(below.x - piece.x) > 0.5:
                continue
            if y - below.y > 14:  # a gap: the column's next box or table
                break
            if below.size == LABEL_SIZE:
                if value:
                    break
                label.append(below.text)  # a label wrapped onto a second line
            else:
                value.append(below.text)
            y = below.y
        found.setdefault(" ".join(label), " ".join(value))
    return found


def rows(document: bytes, page: int = 0) -> list[list[str]]:
    """The page's lines of text, each as its pieces from left to right."""
    lines: dict[float, list[Fragment]] = {}
    for piece in fragments(document, page):
        lines.setdefault(piece.y, []).append(piece)
    return [[p.text for p in sorted(line, key=lambda p: p.x)] for line in lines.values()]
