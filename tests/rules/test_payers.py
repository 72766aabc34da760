"""Payer ids, kinds, covers, coinsurance, minimum diagnoses and Medicare coverage rules."""

from __future__ import annotations

import pytest

from ccmdesk.rules.payers import (
    PayerRecord,
    coverage_errors,
    legacy_key,
    payer_from_text,
    slug,
    unique_payer_id,
    validate_payer,
)


def fields(record: PayerRecord) -> list[str]:
    return [error.field for error in validate_payer(record)]


def test_a_valid_payer_has_no_errors() -> None:
    record = PayerRecord("aetna-ma", "Aetna Medicare", "medicare_advantage", covers="ccm;pcm")
    assert validate_payer(record) == []


@pytest.mark.parametrize("payer_id", ["", "Aetna", "aetna_ma", "a" * 21, "aetna ma", "é"])
def test_a_payer_id_is_lower_case_letters_digits_and_dashes_up_to_20(payer_id: str) -> None:
    assert fields(PayerRecord(payer_id, "Aetna", "commercial")) == ["payer_id"]


def test_name_and_kind_are_required_and_kind_is_one_of_five() -> None:
    assert fields(PayerRecord("x", "", "")) == ["name", "kind"]
    errors = validate_payer(PayerRecord("x", "X", "hmo"))
    assert [str(e) for e in errors] == [
        "kind: 'hmo' is not a payer kind; use one of medicare, medicare_advantage, medicaid, "
        "commercial, self"
    ]


@pytest.mark.parametrize(
    ("covers", "ok"),
    [
        ("ccm;pcm;apcm;bhi", True),
        ("unknown", True),
        ("bhi", True),
        ("", False),
        ("ccm;rpm", False),
        ("ccm;unknown", False),
    ],
)
def test_covers_lists_programs_or_says_unknown(covers: str, ok: bool) -> None:
    assert fields(PayerRecord("x", "X", "commercial", covers=covers)) == ([] if ok else ["covers"])


@pytest.mark.parametrize(("percent", "ok"), [(0, True), (100, True), (-1, False), (101, False)])
def test_coinsurance_is_0_to_100(percent: int, ok: bool) -> None:
    record = PayerRecord("x", "X", "commercial", coinsurance_percent=percent)
    assert fields(record) == ([] if ok else ["coinsurance_percent"])


@pytest.mark.parametrize(("count", "ok"), [(None, True), (1, True), (12, True), (0, False),
                                           (13, False)])  # fmt: skip
def test_min_diagnoses_is_blank_or_1_to_12(count: int | None, ok: bool) -> None:
    record = PayerRecord("x", "X", "commercial", min_diagnoses=count)
    assert fields(record) == ([] if ok else ["min_diagnoses"])


def test_notes_may_hold_lines_but_the_name_may_not() -> None:
    assert fields(PayerRecord("x", "X", "self", notes="portal\nphone")) == []
    assert fields(PayerRecord("x", "X\nY", "self")) == ["name"]


def test_text_in_gives_defaults_a_self_payer_pays_all_and_reads_numbers() -> None:
    record, errors = payer_from_text({"payer_id": " Cash ", "name": "Cash", "kind": "SELF"})
    assert errors == []
    assert record == PayerRecord("cash", "Cash", "self", covers="unknown", coinsurance_percent=100)
    record, errors = payer_from_text(
        {"payer_id": "bc", "name": "BC", "kind": "commercial", "covers": "BHI; ccm",
         "min_diagnoses": "2"}
    )  # fmt: skip
    assert errors == []
    assert (record.covers, record.coinsurance_percent, record.min_diagnoses) == ("ccm;bhi", 20, 2)
    _, errors = payer_from_text(
        {"payer_id": "bc", "name": "BC", "kind": "commercial", "coinsurance_percent": "20%"}
    )
    assert [str(e) for e in errors] == ["coinsurance_percent: '20%' is not a whole number"]


def test_slugs_and_clashes_stay_within_20_characters() -> None:
    assert slug("  Blue Cross & Blue Shield ") == "blue-cross-blue-shie"
    assert slug("United/UHC (MA)") == "united-uhc-ma"
    assert unique_payer_id("Aetna", ["aetna"]) == "aetna-2"
    assert unique_payer_id("Aetna", ["aetna", "aetna-2"]) == "aetna-3"
    assert unique_payer_id("Blue Cross & Blue Shield", ["blue-cross-blue-shie"]) == (
        "blue-cross-blue-sh-2"
    )


def test_old_text_names_a_payer_by_name_and_kind() -> None:
    assert legacy_key("", "") is None
    assert legacy_key(" Aetna ", "") == ("Aetna", "commercial")
    assert legacy_key("", "medicaid") == ("Medicaid", "medicaid")


def test_a_medicare_patient_is_the_insured_with_a_valid_mbi() -> None:
    assert coverage_errors("medicare", "1EG4TE5MK73", "self", None) == []
    errors = coverage_errors("medicare", "X1", "spouse", "'X1' is not an MBI")
    assert [e.field for e in errors] == ["relationship", "primary_member_id"]
    assert "a Medicare patient is always the insured" in errors[0].message
    assert coverage_errors("commercial", "X1", "spouse", "'X1' is not an MBI") == []
