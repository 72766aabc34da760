"""Offline ICD-10-CM look-up, validation and search over the bundled table of billable codes."""

from __future__ import annotations

import bisect
import gzip
import heapq
import re
import threading
from dataclasses import dataclass
from importlib.resources import files

# The first line of codes.tsv.gz, written by tools/build_icd10_table.py.
_HEADER_PREFIX = "# simple-icd-10-cm "

# A complete or partial code after normalize(): letter, digit, then up to 5 more characters with
# the dot, if any, after the third. Anything else ("B12 deficiency", "E1.19") is not a code.
_CODE_SHAPE = re.compile(r"[A-Z][0-9](?:[0-9A-Z](?:\.?[0-9A-Z]{0,4})?)?")

# Only the characters a code can contain: letters, digits and the dot.
_CODE_CHARS = re.compile(r"[0-9A-Z.]+")

# Word-search ranks pack (tier, length, position) into one int; see _Table.rank.
_POSITIONS = 1_000_000
# Chronic conditions seen on most CCM panels rank first when they match: a nurse who types
# "hypertension" means I10 far more often than portal or neonatal hypertension.
COMMON_CHRONIC = frozenset({
    "I10", "E11.9", "E78.5", "E78.00", "I50.9", "I50.22", "I50.32", "J44.9",
    "J45.909", "N18.30", "N18.4", "I48.91", "I25.10", "E03.9", "E66.9", "F32.A", "F03.90",
    "G30.9", "M17.0", "M81.0", "G47.33", "K21.9", "M19.90", "D63.1", "F41.1", "G20.A1",
})  # fmt: skip
_MAX_RANKED_LENGTH = 999
_LATER_TIER = (_MAX_RANKED_LENGTH + 1) * _POSITIONS

# Longest piece of free text quoted back in a message; a pasted paragraph should not be echoed.
_MAX_ECHO = 40


@dataclass(frozen=True, slots=True)
class Icd10Code:
    """One billable ICD-10-CM code, dotted (e.g. "E11.9"), with its official description."""

    code: str
    description: str


@dataclass(frozen=True, slots=True)
class _Table:
    """The parsed table as parallel lists, so loading builds no per-code objects."""

    version: str
    codes: list[str]  # dotted and sorted
    # Same order as codes: the dot always sits after the third character and is a code's only
    # dot, so removing it never reorders codes; this lets "E119" and "E11.9" share one bisect.
    undotted: list[str]
    descriptions: list[str]
    lowered: list[str]  # descriptions in lowercase, computed once for word search
    index: dict[str, int]  # dotted code -> position
    # Word-search rank within a tier, precomputed: min(description length, 999) * _POSITIONS
    # + position. Ranking by one int each is several times faster than by tuples, and the
    # position is recovered as rank % _POSITIONS.
    rank: list[int]


_lock = threading.Lock()
_loaded: _Table | None = None


def _table() -> _Table:
    """The table, read on first use: importing this module must stay free for app start-up."""
    global _loaded
    table = _loaded
    if table is None:
        # A lock rather than functools.cache, so a background warm-up and a UI call that race
        # read the 550 kB file once instead of twice.
        with _lock:
            if _loaded is None:
                _loaded = _read_table()
            table = _loaded
    return table


def _read_table() -> _Table:
    resource = files("ccmdesk.resources") / "icd10cm" / "codes.tsv.gz"
    text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    header, _, body = text.partition("\n")
    if not header.startswith(_HEADER_PREFIX):
        raise RuntimeError(f"{resource} does not start with '{_HEADER_PREFIX}<version>'")
    # One split of the whole text runs in C and is several times faster than a Python loop
    # over 74k lines.
    fields = body.rstrip("\n").replace("\n", "\t").split("\t")
    codes = fields[0::2]
    descriptions = fields[1::2]
    if len(codes) != len(descriptions):
        raise RuntimeError(f"{resource} has a line without a tab-separated description")
    if len(codes) >= _POSITIONS:
        raise RuntimeError(f"{resource} has more codes than the search ranking can pack")
    # Codes are ASCII, so one replace over them all takes the fast path; the same trick on the
    # descriptions would not, as a few non-ASCII ones (Sézary) push str.lower() off it.
    undotted = "\t".join(codes).replace(".", "").split("\t")
    lengths = list(map(len, descriptions))
    if max(lengths) > _MAX_RANKED_LENGTH:
        lengths = [min(length, _MAX_RANKED_LENGTH) for length in lengths]
    return _Table(
        version=header.removeprefix(_HEADER_PREFIX).strip(),
        codes=codes,
        undotted=undotted,
        descriptions=descriptions,
        lowered=[description.lower() for description in descriptions],
        index=dict(zip(codes, range(len(codes)), strict=True)),
        rank=[length * _POSITIONS + position for position, length in enumerate(lengths)],
    )


def _entry(table: _Table, position: int) -> Icd10Code:
    return Icd10Code(table.codes[position], table.descriptions[position])


def normalize(text: str) -> str:
    """The canonical dotted form of what a user typed: "e11 9" and "E119" both give "E11.9"."""
    # All whitespace goes, including tabs and no-break spaces pasted from other programs; a
    # trailing dot ("E11.") is what someone typing towards a subcategory leaves behind.
    code = "".join(text.split()).upper().rstrip(".")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def lookup(text: str) -> Icd10Code | None:
    """The billable code that text normalizes to, or None."""
    table = _table()
    position = table.index.get(normalize(text))
    return None if position is None else _entry(table, position)


def description(code: str) -> str:
    """The code's description, or "" for a code not in the table."""
    found = lookup(code)
    return found.description if found is not None else ""


def check(text: str) -> str | None:
    """None for a billable ICD-10-CM code, else a message saying what is wrong with text."""
    code = normalize(text)
    if not code:
        return "ICD-10-CM code is empty"
    if not _CODE_SHAPE.fullmatch(code):
        return f"'{_echo(text, code)}' is not an ICD-10-CM code"
    table = _table()
    if code in table.index:
        return None
    child = _first_billable_below(table, code)
    if child is None:
        return f"'{code}' is not an ICD-10-CM code"
    # ICD-10-CM calls three-character codes categories and longer headers subcategories.
    kind = "category" if len(code) == 3 else "subcategory"
    return f"'{code}' is a {kind}, not a billable code; choose a more specific code such as {child}"


def _echo(text: str, code: str) -> str:
    """What to quote back for input that is not code-shaped."""
    # A typo such as "zzz9" reads best normalized ("ZZZ.9"); free text such as "hello" reads
    # best as typed rather than as "HEL.LO", and a pasted paragraph is cut short.
    if len(code) <= 8 and any(char.isdigit() for char in code) and _CODE_CHARS.fullmatch(code):
        return code
    shown = text.strip()
    return shown if len(shown) <= _MAX_ECHO else shown[: _MAX_ECHO - 1] + "…"


def _first_billable_below(table: _Table, code: str) -> str | None:
    """The first billable code in sort order that code is a proper prefix of, if any."""
    if len(code) < 3:
        # "E1" is a prefix of codes but names nothing in the classification.
        return None
    prefix = f"{code}." if len(code) == 3 else code
    position = bisect.bisect_left(table.codes, prefix)
    if position < len(table.codes) and table.codes[position].startswith(prefix):
        return table.codes[position]
    return None


def search(text: str, limit: int = 50) -> list[Icd10Code]:
    """Codes matching text: by code prefix when it looks like a code, otherwise by words."""
    if limit <= 0 or not text.strip():
        return []
    code = normalize(text)
    if _CODE_SHAPE.fullmatch(code):
        return _search_code_prefix(code, limit)
    return _search_words(text.lower().split(), limit)


def _search_code_prefix(code: str, limit: int) -> list[Icd10Code]:
    table = _table()
    # Compare without the dot so a partial code matches whether or not it was typed with one.
    prefix = code.replace(".", "")
    position = bisect.bisect_left(table.undotted, prefix)
    found: list[Icd10Code] = []
    while (
        len(found) < limit
        and position < len(table.undotted)
        and table.undotted[position].startswith(prefix)
    ):
        found.append(_entry(table, position))
        position += 1
    return found


def _search_words(words: list[str], limit: int) -> list[Icd10Code]:
    table = _table()
    lowered = table.lowered
    rank = table.rank
    first, *rest = words
    # Filter by one word at a time: the first pass scans every description in code order (the
    # order the strings sit in memory), later ones only the survivors.
    hits = [position for position, description in enumerate(lowered) if first in description]
    for word in rest:
        hits = [position for position in hits if word in lowered[position]]
    # Tiers: common chronic codes; the words as typed, at the start ("heart failure" -> "Heart
    # failure, unspecified"); descriptions starting with the first word; the phrase anywhere;
    # the rest.
    # Within a tier, shorter (more general) descriptions first, then code order. nsmallest keeps
    # only `limit` keys, so a one-letter query that matches every code costs one linear pass.
    phrase = " ".join(words)

    def tier(position: int) -> int:
        description = lowered[position]
        if table.codes[position] in COMMON_CHRONIC:
            return 0
        if description.startswith(phrase):
            return 1
        if description.startswith(first):
            return 2
        return 3 if phrase in description else 4

    keys = [rank[position] + tier(position) * _LATER_TIER for position in hits]
    return [_entry(table, key % _POSITIONS) for key in heapq.nsmallest(limit, keys)]


def table_version() -> str:
    """The simple-icd-10-cm version the bundled table was derived from, e.g. "1.5.0"."""
    return _table().version


_BEHAVIOURAL = re.compile(r"F(?:0[1-9]|[1-9][0-9])")


def behavioural_health(code: str) -> bool:
    """An ICD-10-CM code of chapter F, F01-F99: what opens general BHI and what a BHI line
    points at first (docs/billing-rules.md, "General BHI", "Diagnosis pointers")."""
    return _BEHAVIOURAL.match(code.strip().upper()) is not None


def names_a_condition(text: str) -> bool:
    """A billable code, or a category or subcategory with billable codes below it ("E11",
    "E11.6"): what the patient copy leaves out of a problem line. "B12" names nothing."""
    code = normalize(text)
    if not _CODE_SHAPE.fullmatch(code):
        return False
    table = _table()
    return code in table.index or _first_billable_below(table, code) is not None
