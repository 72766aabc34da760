"""The 837P claim file (X12 005010X222A1): claims in, checked text out (docs/formats.md)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ccmdesk.errors import KnownError
from ccmdesk.rules.catalog import CLAIM_DIAGNOSES, CLAIM_POINTERS
from ccmdesk.rules.claims import PostalAddress
from ccmdesk.rules.validation import npi_error

IMPLEMENTATION = "005010X222A1"
ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
# Segments end with `~` and a line break, so a person can read the file in an editor.
SEGMENT_END = TERMINATOR + "\n"

PayerKind = Literal["medicare", "medicare_advantage", "medicaid", "commercial", "self"]
Relationship = Literal["self", "spouse", "child", "other"]

# SBR09, the claim filing indicator, from the payer's kind. A `self` payer has no claim file.
FILING_INDICATOR: dict[str, str] = {
    "medicare": "MB",
    "medicare_advantage": "16",
    "medicaid": "MC",
    "commercial": "CI",
}
# PAT01, the patient's relationship to the insured when they are not the insured.
RELATIONSHIP_CODE: dict[str, str] = {"spouse": "01", "child": "19", "other": "G8"}

MAX_DIAGNOSES = CLAIM_DIAGNOSES  # HI carries diagnoses A-L, as box 21 does
MAX_POINTERS = CLAIM_POINTERS  # SV107 points at up to four of them, as box 24E does
MAX_CLAIM_ID = 20  # CLM01 allows 38, but Medicare keeps only the first 20 (docs/formats.md)

_PLAIN_MRN = re.compile(r"[A-Za-z0-9]+")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# What is left of text in the file: docs/formats.md, "The 837P claim file".
_FORBIDDEN = re.compile(r"[^A-Z0-9 .,\-'&/]")
_SPACES = re.compile(r" {2,}")


class ClaimFileRefused(KnownError):
    """The claim file would not pass the 837P check; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" ({more} more problem{'s' if more != 1 else ''})" if more else ""
        super().__init__(
            f"The claim file was not written: {first.sentence()}{tail}. "
            "Correct it and export again."
        )


@dataclass(frozen=True)
class Problem:
    """One thing the 837P check found wrong, placed at a claim (None: the file's envelope or
    billing provider) and a segment."""

    claim_id: str | None
    segment: str  # the segment id, e.g. "SV1"
    position: int  # the segment's number in the file, from 1 (the ISA)
    message: str

    def sentence(self) -> str:
        where = f"claim {self.claim_id}" if self.claim_id else "the file"
        place = f" (segment {self.position} of the file)" if self.position else ""
        return f"{where}, segment {self.segment}{place}: {self.message.rstrip('.')}"


# The N3/N4 address: the same parts the claim edits check (street, city, state, ZIP).
Address = PostalAddress


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A: who sends the file (the practice, or its billing service)."""

    name: str
    id: str
    phone: str


@dataclass(frozen=True)
class Receiver:
    """Loop 1000B: the clearinghouse that receives the file."""

    name: str
    id: str


@dataclass(frozen=True)
class Envelope:
    """ISA/GS/ST settings; `control_number` numbers ISA13, GS06, ST02 and BHT03."""

    control_number: int
    created: dt.datetime  # the file's date and time (ISA09/10, GS04/05, BHT04/05)
    usage: Literal["T", "P"] = "T"  # ISA15: test until the practice switches to production
    qualifier: str = "ZZ"  # ISA05
    interchange_id: str = ""  # ISA06 and GS02; blank: the submitter id


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2010AA: the group, or the billing practitioner when the practice has no group NPI
    (then `person` is set, `name` is their last name and `first_name` their first, if any)."""

    name: str
    npi: str
    address: Address  # a 9-digit ZIP
    tin: str
    tin_kind: Literal["ein", "ssn"] = "ein"
    taxonomy: str = ""  # PRV*BI in 2000A when set
    first_name: str = ""
    person: bool = False  # a practitioner (NM102 1), also implied by a first name


@dataclass(frozen=True)
class Practitioner:
    """Loop 2310B, the rendering provider, when their NPI differs from the billing provider's."""

    last_name: str
    first_name: str
    npi: str


@dataclass(frozen=True)
class Patient:
    last_name: str
    first_name: str
    birth_date: dt.date
    sex: Literal["F", "M"]
    address: Address


@dataclass(frozen=True)
class Insured:
    """The insured person's name when the patient is not the insured."""

    last_name: str
    first_name: str


@dataclass(frozen=True)
class ServiceLine:
    code: str
    units: int
    charge_cents: int
    service_date: dt.date
    pointers: tuple[int, ...]  # 1-based places in the claim's diagnoses, up to four
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """One patient-month: one CLM with all of its billed codes."""

    claim_id: str
    patient: Patient
    member_id: str
    payer_name: str
    payer_edi_id: str
    payer_kind: PayerKind
    diagnoses: tuple[str, ...]  # ICD-10-CM, in the order on the claim; dots allowed
    lines: tuple[ServiceLine, ...]
    relationship: Relationship = "self"
    insured: Insured | None = None  # required when relationship is not "self"
    place_of_service: str = "11"
    accept_assignment: bool = True
    rendering: Practitioner | None = None
    # The claim's own billing provider (loop 2010AA) when it is not the file's: a practice
    # without a group NPI bills under each patient's practitioner. Claims of one provider
    # must follow each other in the file's claims.
    billing_provider: BillingProvider | None = None

    @property
    def total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


@dataclass(frozen=True)
class Interchange:
    """One claim file: one interchange, one group, one transaction, for one payer."""

    envelope: Envelope
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[Claim, ...]


# --- text rules ---------------------------------------------------------------------------


def claim_id(mrn: str, month: str) -> str:
    """CLM01 for a patient-month (`month` is YYYY-MM): `<MRN>-<YYYYMM>` when the MRN is ASCII
    letters and digits and the result fits in 20 characters, else the first 8 characters of the
    upper-case hex SHA-256 of the MRN, `-`, `YYYYMM` (docs/formats.md)."""
    match = _MONTH.fullmatch(month)
    if match is None:
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    yyyymm = match[1] + match[2]
    direct = f"{mrn}-{yyyymm}"
    if _PLAIN_MRN.fullmatch(mrn) and len(direct) <= MAX_CLAIM_ID:
        return direct
    digest = hashlib.sha256(mrn.encode("utf-8")).hexdigest().upper()
    return f"{digest[:8]}-{yyyymm}"


def clean(text: str) -> str:
    """Text as the file carries it: upper-case ASCII, accents dropped, separators and other
    characters outside `A-Z 0-9 . , - ' & /` and the space removed, spaces made single."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").upper()
    ascii_text = re.sub(r"\s", " ", ascii_text)
    return _SPACES.sub(" ", _FORBIDDEN.sub("", ascii_text)).strip()


def amount(cents: int) -> str:
    """Dollars with two decimals: 6613 -> "66.13", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}{dollars}.{rest:02d}"


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isascii() and char.isdigit())


def _diagnosis(code: str) -> str:
    return clean(code).replace(".", "").replace(" ", "")


# --- the writer ---------------------------------------------------------------------------


class _Segments:
    """The file's segments in order, each written from its elements."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *elements: str) -> None:
        values = list(elements)
        while len(values) > 1 and values[-1] == "":
            values.pop()  # X12 drops trailing empty elements
        self.lines.append(ELEMENT.join(values))


def _isa_field(value: str, width: int) -> str:
    return value[:width].ljust(width)


def _billing_provider(out: _Segments, provider: BillingProvider, hl: int = 1) -> None:
    person = provider.person or bool(provider.first_name)
    out.add("HL", str(hl), "", "20", "1")
    if provider.taxonomy:
        out.add("PRV", "BI", "PXC", clean(provider.taxonomy))
    out.add(
        "NM1", "85", "1" if person else "2", clean(provider.name),
        clean(provider.first_name) if person else "", "", "", "", "XX", _digits(provider.npi),
    )  # fmt: skip
    _address(out, provider.address)
    # An SSN stands in for a practitioner billing under their own name (box 25).
    out.add("REF", "SY" if provider.tin_kind == "ssn" else "EI", _digits(provider.tin))


def _address(out: _Segments, address: Address) -> None:
    out.add("N3", clean(address.street))
    out.add("N4", clean(address.city), clean(address.state), _digits(address.zip))


def _claim(out: _Segments, claim: Claim, hl: int, billing_npi: str, parent: int = 1) -> int:
    """The claim's loops, from its subscriber HL under the billing provider's HL `parent`;
    returns the next free HL number."""
    is_insured = claim.relationship == "self"
    out.add("HL", str(hl), str(parent), "22", "0" if is_insured else "1")
    out.add(
        "SBR", "P", "18" if is_insured else "", "", "", "", "", "", "",
        FILING_INDICATOR.get(claim.payer_kind, ""),
    )  # fmt: skip
    patient = claim.patient
    if is_insured:
        out.add(
            "NM1", "IL", "1", clean(patient.last_name), clean(patient.first_name), "", "", "",
            "MI", clean(claim.member_id),
        )  # fmt: skip
        _address(out, patient.address)
        out.add("DMG", "D8", patient.birth_date.strftime("%Y%m%d"), patient.sex)
    else:
        insured = claim.insured or Insured("", "")
        out.add(
            "NM1", "IL", "1", clean(insured.last_name), clean(insured.first_name), "", "", "",
            "MI", clean(claim.member_id),
        )  # fmt: skip
    out.add("NM1", "PR", "2", clean(claim.payer_name), "", "", "", "", "PI",
            clean(claim.payer_edi_id))  # fmt: skip
    next_hl = hl + 1
    if not is_insured:
        out.add("HL", str(next_hl), str(hl), "23", "0")
        out.add("PAT", RELATIONSHIP_CODE.get(claim.relationship, ""))
        out.add("NM1", "QC", "1", clean(patient.last_name), clean(patient.first_name))
        _address(out, patient.address)
        out.add("DMG", "D8", patient.birth_date.strftime("%Y%m%d"), patient.sex)
        next_hl += 1
    out.add(
        "CLM", claim.claim_id, amount(claim.total_cents), "", "",
        COMPONENT.join((_digits(claim.place_of_service), "B", "1")),
        "Y", "A" if claim.accept_assignment else "C", "Y", "Y",
    )  # fmt: skip
    codes = [_diagnosis(code) for code in claim.diagnoses]
    out.add("HI", *(("ABK" if i == 0 else "ABF") + COMPONENT + c for i, c in enumerate(codes)))
    rendering = claim.rendering
    if rendering is not None and _digits(rendering.npi) != _digits(billing_npi):
        out.add(
            "NM1", "82", "1", clean(rendering.last_name), clean(rendering.first_name), "", "", "",
            "XX", _digits(rendering.npi),
        )  # fmt: skip
    for number, line in enumerate(claim.lines, start=1):
        procedure = COMPONENT.join(["HC", clean(line.code), *(clean(m) for m in line.modifiers)])
        out.add("LX", str(number))
        out.add(
            "SV1", procedure, amount(line.charge_cents), "UN", str(line.units), "", "",
            COMPONENT.join(str(p) for p in line.pointers),
        )  # fmt: skip
        out.add("DTP", "472", "D8", line.service_date.strftime("%Y%m%d"))
    return next_hl


def _by_provider(interchange: Interchange) -> list[tuple[BillingProvider, list[Claim]]]:
    """The claims in runs of one billing provider, in the file's order (the file's own
    provider, with no claims, when there are none)."""
    runs: list[tuple[BillingProvider, list[Claim]]] = []
    for claim in interchange.claims:
        provider = claim.billing_provider or interchange.billing_provider
        if runs and runs[-1][0] == provider:
            runs[-1][1].append(claim)
        else:
            runs.append((provider, [claim]))
    return runs or [(interchange.billing_provider, [])]


def _segments(interchange: Interchange) -> _Segments:
    envelope, submitter, receiver = (
        interchange.envelope, interchange.submitter, interchange.receiver,
    )  # fmt: skip
    number = envelope.control_number
    sender = clean(envelope.interchange_id or submitter.id)
    created = envelope.created
    out = _Segments()
    out.add(
        "ISA", "00", " " * 10, "00", " " * 10, _isa_field(clean(envelope.qualifier), 2),
        _isa_field(sender, 15), "ZZ", _isa_field(clean(receiver.id), 15),
        created.strftime("%y%m%d"), created.strftime("%H%M"), REPETITION, "00501",
        f"{number:09d}", "0", envelope.usage, COMPONENT,
    )  # fmt: skip
    out.add(
        "GS", "HC", sender, clean(receiver.id), created.strftime("%Y%m%d"),
        created.strftime("%H%M"), str(number), "X", IMPLEMENTATION,
    )  # fmt: skip
    st_control = f"{number:04d}"
    st_start = len(out.lines)
    out.add("ST", "837", st_control, IMPLEMENTATION)
    out.add(
        "BHT", "0019", "00", str(number), created.strftime("%Y%m%d"), created.strftime("%H%M"),
        "CH",
    )  # fmt: skip
    out.add("NM1", "41", "2", clean(submitter.name), "", "", "", "", "46", clean(submitter.id))
    out.add("PER", "IC", clean(submitter.name), "TE", _digits(submitter.phone))
    out.add("NM1", "40", "2", clean(receiver.name), "", "", "", "", "46", clean(receiver.id))
    hl = 1
    for provider, claims in _by_provider(interchange):
        _billing_provider(out, provider, hl)
        parent, hl = hl, hl + 1
        for claim in claims:
            hl = _claim(out, claim, hl, provider.npi, parent)
    out.add("SE", str(len(out.lines) - st_start + 1), st_control)
    out.add("GE", "1", str(number))
    out.add("IEA", "1", f"{number:09d}")
    return out


def write_837p(interchange: Interchange) -> str:
    """The file's text, unchecked: tests and `checked_837p` use it."""
    return "".join(line + SEGMENT_END for line in _segments(interchange).lines)


# --- the check ----------------------------------------------------------------------------


def _owners(text: str) -> list[str | None]:
    """For each segment of a file, the claim it belongs to: a subscriber HL opens a claim's
    block (this writer puts one patient-month under each subscriber HL), whose CLM01 names it;
    the header, the billing provider and the trailers belong to none."""
    owners: list[str | None] = []
    block: list[int] | None = None
    current: str | None = None
    for index, segment in enumerate(text.split(TERMINATOR)):
        elements = segment.strip().split(ELEMENT)
        if elements[0] == "HL" and elements[3:4] == ["22"]:
            block, current = [], None
        elif elements[0] in ("HL", "SE", "GE", "IEA") and elements[3:4] != ["23"]:
            block, current = None, None
        owners.append(current)
        if block is not None:
            block.append(index)
            if elements[0] == "CLM" and len(elements) > 1:
                current = elements[1]
                for member in block:
                    owners[member] = current
    return owners


def validate_837p(text: str) -> list[Problem]:
    """Every problem pyx12 finds in the file against 005010X222A1, each placed at its claim and
    segment; an empty list when the file is valid."""
    # Imported here: pyx12 and its maps are needed only by an export, not to open the app.
    import pyx12.params
    import pyx12.x12n_document

    # pyx12 logs each problem it finds; they come back to the caller as Problems instead.
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    found = io.StringIO()
    # ParamsBase, not params(): the latter reads ~/.pyx12.conf.xml, and a person's own
    # settings must not change what the check accepts.
    param = pyx12.params.ParamsBase()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_json=found
        )
    except Exception as failure:  # pyx12 raises its own errors on a file it cannot walk
        return [Problem(None, "ISA", 1, f"the file cannot be read as 837P: {failure}")]
    if not found.getvalue():
        # pyx12 gives up before its report when the file does not open with a whole ISA.
        return [Problem(None, "ISA", 1, "this is not an X12 file: it must begin with a whole ISA")]
    report: dict[str, Any] = json.loads(found.getvalue())
    problems: list[Problem] = []

    @functools.cache
    def owners() -> list[str | None]:
        # Which claim each segment belongs to: worked out only once there is a problem to
        # place, never for a clean file (the common case, 1,000 claims long).
        return _owners(text)

    def owner(position: int) -> str | None:
        found = owners()
        return found[position - 1] if 0 < position <= len(found) else None

    for isa in report["interchanges"]:
        problems.extend(_envelope_problems("ISA", isa))
        for gs in isa["groups"]:
            problems.extend(_envelope_problems("GS", gs))
            for st in gs["transactions"]:
                problems.extend(_envelope_problems("ST", st))
                for seg in st["segments"]:
                    line = int(seg["cur_line"])
                    for error in seg["errors"]:
                        problems.append(
                            Problem(owner(line), seg["seg_id"], line, _message(error, None))
                        )
                    for element in seg["elements"]:
                        for error in element["errors"]:
                            problems.append(
                                Problem(owner(line), seg["seg_id"], line, _message(error, element))
                            )
    if not valid and not problems:
        # Never seen; kept so that pyx12's own verdict, not our reading of it, decides.
        problems.append(Problem(None, "ISA", 1, "pyx12 found the file invalid"))
    return problems


def _envelope_problems(segment: str, node: dict[str, Any]) -> Iterable[Problem]:
    for error in node["errors"]:
        yield Problem(None, segment, int(node.get("cur_line") or 0), str(error["err_str"]))


def _message(error: dict[str, Any], element: dict[str, Any] | None) -> str:
    text = str(error["err_str"])
    if element is not None:
        text = f"element {element['ele_pos']} ({element['name']}): {text}"
    value = error.get("err_val")
    # pyx12 often quotes the value in its sentence already; say it once.
    return f"{text} [{value}]" if value not in (None, "") and str(value) not in text else text


def _precheck(interchange: Interchange) -> list[Problem]:
    """What pyx12 cannot see, or what the writer would have to cut or guess: envelope ids that
    do not fit, claim ids that are not unique or not plain, and pointers at no diagnosis."""
    problems: list[Problem] = []

    def header(segment: str, message: str) -> None:
        problems.append(Problem(None, segment, 0, message))

    envelope = interchange.envelope
    sender = clean(envelope.interchange_id or interchange.submitter.id)
    if not 0 < len(sender) <= 15:
        header("ISA", "the interchange id (ISA06) must be 1 to 15 characters")
    if not 0 < len(clean(interchange.receiver.id)) <= 15:
        header("ISA", "the receiver id (ISA08) must be 1 to 15 characters")
    if not 0 < len(clean(envelope.qualifier)) <= 2:
        header("ISA", "the interchange qualifier (ISA05) must be 1 or 2 characters")
    if not 0 < envelope.control_number <= 999_999_999:
        header("ISA", "the control number must be from 1 to 999999999")
    for provider, _ in _by_provider(interchange):
        if len(_digits(provider.address.zip)) != 9:
            header("N4", "the billing provider's address needs a 9-digit ZIP code")
        if (error := npi_error(provider.npi)) is not None:
            header("NM1", f"billing provider: {error}")
        if len(_digits(provider.tin)) != 9:
            header("REF", "the practice's tax id (EIN or SSN) must be 9 digits")
    if not interchange.claims:
        header("ST", "a claim file needs at least one claim")
    seen: set[str] = set()
    for claim in interchange.claims:
        ident = claim.claim_id

        def refuse(segment: str, message: str, ident: str = ident) -> None:
            problems.append(Problem(ident, segment, 0, message))

        if not re.fullmatch(r"[A-Za-z0-9-]{1,20}", ident):
            refuse("CLM", "the claim id must be 1 to 20 letters, digits or dashes")
        if ident in seen:
            refuse("CLM", "the claim id is used twice in the file")
        seen.add(ident)
        if claim.payer_kind not in FILING_INDICATOR:
            refuse("SBR", f"a {claim.payer_kind} payer takes no claim file")
        if claim.relationship != "self":
            if claim.payer_kind == "medicare":
                refuse("SBR", "for Medicare the patient is always the insured")
            if claim.insured is None or not clean(claim.insured.last_name):
                refuse("NM1", "the insured's name is needed when the patient is not the insured")
        if len(_digits(claim.patient.address.zip)) not in (5, 9):
            refuse("N4", "the patient's ZIP code must be 5 or 9 digits")
        if claim.rendering is not None and (error := npi_error(claim.rendering.npi)):
            refuse("NM1", f"rendering provider: {error}")
        if not claim.diagnoses:
            refuse("HI", "the claim needs at least one diagnosis")
        if len(claim.diagnoses) > MAX_DIAGNOSES:
            refuse("HI", f"a claim carries at most {MAX_DIAGNOSES} diagnoses")
        if not claim.lines:
            refuse("SV1", "the claim needs at least one service line")
        for number, line in enumerate(claim.lines, start=1):
            if not 0 < len(line.pointers) <= MAX_POINTERS:
                refuse("SV1", f"line {number} needs 1 to {MAX_POINTERS} diagnosis pointers")
            if any(not 0 < p <= min(len(claim.diagnoses), MAX_DIAGNOSES) for p in line.pointers):
                refuse("SV1", f"line {number} points at a diagnosis the claim does not carry")
            if line.units < 1 or line.charge_cents < 0:
                refuse("SV1", f"line {number} needs at least one unit and a charge of $0 or more")
    return problems


def checked_837p(interchange: Interchange) -> str:
    """The file's text once pyx12 finds no error in it; else ClaimFileRefused naming the claim
    and segment of each problem (the export then writes nothing)."""
    problems = _precheck(interchange)
    if problems:  # refused before a file is written to check
        raise ClaimFileRefused(problems)
    text = write_837p(interchange)
    problems = validate_837p(text)
    if problems:
        raise ClaimFileRefused(problems)
    return text
