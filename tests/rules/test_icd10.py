"""Tests for ccmdesk.rules.icd10: the bundled billable ICD-10-CM table and its look-ups."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import re
import subprocess
import sys
import warnings
from importlib.resources import files

import pytest

from ccmdesk.rules import icd10
from ccmdesk.rules.icd10 import Icd10Code, check, lookup, normalize, search, table_version

# Verified against the table (and the CMS tabular list it comes from).
E11_9 = Icd10Code("E11.9", "Type 2 diabetes mellitus without complications")
I10 = Icd10Code("I10", "Essential (primary) hypertension")
I50_22 = Icd10Code("I50.22", "Chronic systolic (congestive) heart failure")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("e119", "E11.9"),
        ("E11.9", "E11.9"),
        ("  e11.9 ", "E11.9"),
        ("e 11 9", "E11.9"),
        ("E11\u00a09", "E11.9"),  # no-break space pasted from a web page
        ("I10", "I10"),
        ("i10", "I10"),
        ("i5022", "I50.22"),
        ("s52001a", "S52.001A"),
        ("E11.", "E11"),  # a trailing dot left while typing
        ("E1", "E1"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E11.9", E11_9),
        ("e119", E11_9),
        ("I10", I10),
        (" i50.22 ", I50_22),
        ("I5022", I50_22),
    ],
)
def test_lookup_finds_billable_codes(text: str, expected: Icd10Code) -> None:
    assert lookup(text) == expected


@pytest.mark.parametrize("text", ["E11", "E11.2", "ZZZ.9", "E11.90", "hello", ""])
def test_lookup_rejects_non_billable_text(text: str) -> None:
    assert lookup(text) is None


def test_lookup_keeps_non_ascii_descriptions() -> None:
    found = lookup("C84.10")
    assert found is not None
    assert found.description == "Sézary disease, unspecified site"


def test_icd10code_is_frozen() -> None:
    with pytest.raises(AttributeError):
        E11_9.code = "E11.8"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["E11.9", "e119", "I10", "I50.22", "Z66", "U07.1"])
def test_check_accepts_billable_codes(text: str) -> None:
    assert check(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ZZZ.9", "'ZZZ.9' is not an ICD-10-CM code"),
        ("zzz9", "'ZZZ.9' is not an ICD-10-CM code"),
        ("E11.90", "'E11.90' is not an ICD-10-CM code"),
        ("E1", "'E1' is not an ICD-10-CM code"),
        ("hello world", "'hello world' is not an ICD-10-CM code"),
    ],
)
def test_check_rejects_non_codes(text: str, expected: str) -> None:
    assert check(text) == expected


def test_check_cuts_long_free_text_short() -> None:
    message = check("x" * 200)
    assert message is not None
    assert message.endswith("…' is not an ICD-10-CM code")
    assert len(message) < 80


def test_check_names_a_billable_child_of_a_category() -> None:
    # E11.00 is the first billable E11 code in sort order.
    assert check("E11") == (
        "'E11' is a category, not a billable code; choose a more specific code such as E11.00"
    )
    assert check("e11.") == check("E11")


def test_check_names_a_billable_child_of_a_subcategory() -> None:
    assert check("E11.2") == (
        "'E11.2' is a subcategory, not a billable code; choose a more specific code such as E11.21"
    )


def test_check_suggestions_are_billable() -> None:
    for text in ["E11", "I50", "I50.2", "S52.001", "T36.0X", "I1A"]:
        message = check(text)
        assert message is not None
        suggested = message.rsplit(" ", 1)[-1]
        assert suggested.startswith(normalize(text))
        assert check(suggested) is None


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_check_empty(text: str) -> None:
    message = check(text)
    assert message is not None
    assert "is empty" in message


@pytest.mark.parametrize("text", ["E119", "E11.9", "e11 9", "e11.9"])
def test_search_by_full_code_with_or_without_dot(text: str) -> None:
    assert search(text) == [E11_9]


def test_search_by_category_prefix() -> None:
    found = search("E11", limit=1000)
    codes = [entry.code for entry in found]
    assert "E11.9" in codes
    assert all(code.startswith("E11.") for code in codes)
    assert codes == sorted(codes)
    assert search("e11") == found[:50]


def test_search_by_partial_subcategory_without_dot() -> None:
    codes = [entry.code for entry in search("I502")]
    assert codes == ["I50.20", "I50.21", "I50.22", "I50.23"]


def test_search_respects_limit() -> None:
    assert len(search("S", limit=5)) == 5
    assert len(search("E11", limit=3)) == 3
    assert search("fracture", limit=0) == []


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_search_empty(text: str) -> None:
    assert search(text) == []


def test_search_words_type_2_diabetes() -> None:
    found = search("type 2 diabetes")
    assert E11_9 in found[:5]
    assert all(
        "type" in entry.description.lower() and "diabetes" in entry.description.lower()
        for entry in found
    )


def test_search_words_hypertension_finds_i10() -> None:
    assert I10 in search("hypertension")


def test_search_words_is_case_insensitive_and_handles_non_ascii() -> None:
    codes = {entry.code for entry in search("SÉZARY")}
    assert "C84.10" in codes
    assert codes == {entry.code for entry in search("sézary")}


def test_search_words_must_all_match() -> None:
    found = search("heart failure chronic systolic")
    assert I50_22 in found
    for entry in found:
        description = entry.description.lower()
        assert all(word in description for word in ["heart", "failure", "chronic", "systolic"])


def test_search_words_ranking() -> None:
    found = search("hypertension", limit=1000)
    common = [entry.code in icd10.COMMON_CHRONIC for entry in found]
    # Common chronic codes come first (I10 here) ...
    assert common == sorted(common, reverse=True)
    assert found[0].code == "I10"
    rest = [entry for entry, is_common in zip(found, common, strict=True) if not is_common]
    first = [entry.description.lower().startswith("hypertension") for entry in rest]
    # ... then descriptions starting with the first word ...
    assert first == sorted(first, reverse=True)
    assert first[0]
    # ... and within each group shorter descriptions, then code order.
    for group in (True, False):
        members = [entry for entry, starts in zip(rest, first, strict=True) if starts is group]
        keys = [(len(entry.description), entry.code) for entry in members]
        assert keys == sorted(keys)


def test_search_words_no_match() -> None:
    assert search("zzzz qqqq") == []


def test_search_text_with_code_and_words_is_a_word_search() -> None:
    # "B12" starts like a code, but with more words it is free text.
    codes = [entry.code for entry in search("B12 deficiency")]
    assert "D51.9" in codes  # Vitamin B12 deficiency anemia, unspecified


def test_table_version_format() -> None:
    assert re.fullmatch(r"\d+(\.\d+)+", table_version())


def test_import_is_lazy() -> None:
    """Importing the module neither imports simple_icd_10_cm nor reads the table."""
    script = (
        "import json, sys\n"
        "import ccmdesk.rules.icd10 as icd10\n"
        "before = [icd10._loaded is None, 'simple_icd_10_cm' in sys.modules]\n"
        "icd10.lookup('E11.9')\n"
        "after = [icd10._loaded is None, 'simple_icd_10_cm' in sys.modules]\n"
        "print(json.dumps({'before': before, 'after': after}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    state = json.loads(result.stdout)
    assert state["before"] == [True, False]
    # Using it loads the table, still without the package.
    assert state["after"] == [False, False]


def test_table_is_loaded_once() -> None:
    table = icd10._table()
    assert icd10._table() is table
    assert len(table.codes) == len(table.index) > 70_000


def _committed_rows() -> tuple[str, dict[str, str]]:
    resource = files("ccmdesk.resources") / "icd10cm" / "codes.tsv.gz"
    header, *lines = gzip.decompress(resource.read_bytes()).decode("utf-8").splitlines()
    rows = dict(line.split("\t") for line in lines)
    assert len(rows) == len(lines), "duplicate codes in the table"
    assert list(rows) == sorted(rows), "table is not sorted by code"
    return header, rows


@pytest.mark.slow
def test_committed_table_matches_simple_icd_10_cm() -> None:
    # The package reads its data through a deprecated importlib.resources call on import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    header, rows = _committed_rows()
    assert header == f"# simple-icd-10-cm {importlib.metadata.version('simple-icd-10-cm')}"

    expected: dict[str, str] = {}
    for code in cm.get_all_codes(True):
        if not cm.is_leaf(code):
            continue
        if "-" in code:
            # A few childless block ranges such as "C00-C96" count as leaves; they are not codes.
            assert cm.is_block(code)
            continue
        # The table collapses whitespace runs: some descriptions carry a tab (H35.3113).
        expected[code] = " ".join(cm.get_description(code).split())
    assert len(rows) == len(expected)
    assert rows == expected


@pytest.mark.parametrize(
    ("query", "expected_first"),
    [
        ("hypertension", "I10"),
        ("heart failure", "I50.9"),
        ("type 2 diabetes", "E11.9"),
        ("hyperlipidemia", "E78.5"),
        ("atrial fibrillation", "I48.91"),
    ],
)
def test_common_chronic_conditions_rank_first_for_everyday_words(
    query: str, expected_first: str
) -> None:
    assert icd10.search(query, limit=5)[0].code == expected_first


def test_every_common_chronic_code_is_a_billable_code() -> None:
    assert all(icd10.lookup(code) is not None for code in icd10.COMMON_CHRONIC)


def test_names_a_condition_takes_codes_and_their_headers_not_look_alikes() -> None:
    for code in ("E11.9", "e119", "I10", "E11", "E11.6", "J44"):
        assert icd10.names_a_condition(code), code
    for text in ("B12", "A1C", "E1", "Z99.99", "hello", ""):
        assert not icd10.names_a_condition(text), text
