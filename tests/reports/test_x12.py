"""The 837P claim file: claim ids, text rules, the segments written and the pyx12 check."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ccmdesk.errors import KnownError
from ccmdesk.reports import x12
from tests.helpers.x12 import (
    BILLING_NPI,
    RENDERING_NPI,
    claim,
    find,
    interchange,
    patient,
    segments,
)

ROOT = Path(__file__).resolve().parents[2]

# --- the claim id ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrn", "expected"),
    [
        ("1001", "1001-202603"),
        ("AB12cd", "AB12cd-202603"),  # letters keep their case: the same id in every file
        ("A234567890123", "A234567890123-202603"),  # 13 + 7 = 20 characters: still plain
        # 14 + 7 = 21 characters: hashed
        ("A2345678901234", "8E721DCB-202603"),
        ("10-01", "054F791D-202603"),  # a dash is not a letter or digit
        ("Müller1", "9AB0C138-202603"),  # letters outside ASCII are hashed too
        ("10 01", "320FC275-202603"),
    ],
)
def test_the_claim_id_is_the_mrn_and_month_or_a_hash_of_the_mrn(mrn: str, expected: str) -> None:
    assert x12.claim_id(mrn, "2026-03") == expected


def test_a_hashed_claim_id_is_the_first_8_upper_case_hex_digits_of_the_sha256() -> None:
    import hashlib

    mrn = "very-long-medical-record-number-0001"
    expected = hashlib.sha256(mrn.encode()).hexdigest()[:8].upper() + "-202612"
    assert x12.claim_id(mrn, "2026-12") == expected


def test_a_claim_id_needs_a_month_written_yyyy_mm() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        x12.claim_id("1001", "202603")


# --- text rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zoë Ångström", "ZOE ANGSTROM"),
        ("O'Neil-Smith, Ann & Co / 3", "O'NEIL-SMITH, ANN & CO / 3"),
        ("Ann*Marie~ 1:2^3", "ANNMARIE 123"),
        ("  two   spaces\tand\nlines ", "TWO SPACES AND LINES"),
        ("Suite #4 (rear) @ 5%", "SUITE 4 REAR 5"),
        ("李", ""),
    ],
)
def test_text_is_upper_case_ascii_without_separators(raw: str, expected: str) -> None:
    assert x12.clean(raw) == expected


@pytest.mark.parametrize(
    ("cents", "text"), [(6613, "66.13"), (4000, "40.00"), (5, "0.05"), (0, "0.00"), (-250, "-2.50")]
)
def test_amounts_are_dollars_with_two_decimals(cents: int, text: str) -> None:
    assert x12.amount(cents) == text


# --- a file of a few claims -----------------------------------------------------------------


def few_claims() -> x12.Interchange:
    return interchange(
        claim("1001", codes=3),
        claim("1002", codes=1, rendering=x12.Practitioner("Clinic", "Same", BILLING_NPI)),
        claim(
            "ab7",
            payer_name="Acme Health",
            payer_edi_id="ACME1",
            payer_kind="commercial",
            member_id="XQ-778 12",
            relationship="spouse",
            insured=x12.Insured("Okafor", "Ben"),
            accept_assignment=False,
            diagnoses=("F33.1", "E11.9", "I10", "J44.9", "N18.3"),
            lines=(
                x12.ServiceLine("99484", 1, 5073, dt.date(2026, 3, 30), (1,)),
                x12.ServiceLine("99490", 1, 6613, dt.date(2026, 3, 31), (2, 3, 4, 5), ("25",)),
            ),
            patient=patient(
                last_name="Zoë*Nuñez",
                address=x12.Address("9 Elm St, Apt 2", "Peoria", "IL", "61602-0001"),
            ),
        ),
    )


def test_a_file_of_a_few_claims_passes_the_837p_check() -> None:
    text = x12.write_837p(few_claims())
    assert x12.validate_837p(text) == []
    assert x12.checked_837p(few_claims()) == text


ONE_CLAIM = (
    "ISA*00*          *00*          *ZZ*SUB123         *ZZ*REC456         *260402*0930*^*00501*000000007*0*T*:~\n"
    "GS*HC*SUB123*REC456*20260402*0930*7*X*005010X222A1~\n"
    "ST*837*0007*005010X222A1~\n"
    "BHT*0019*00*7*20260402*0930*CH~\n"
    "NM1*41*2*SPRINGFIELD CLINIC*****46*SUB123~\n"
    "PER*IC*SPRINGFIELD CLINIC*TE*2175550100~\n"
    "NM1*40*2*CLEARING CO*****46*REC456~\n"
    "HL*1**20*1~\n"
    "PRV*BI*PXC*207Q00000X~\n"
    "NM1*85*2*SPRINGFIELD CLINIC*****XX*1245319599~\n"
    "N3*12 MAIN ST~\n"
    "N4*SPRINGFIELD*IL*627011234~\n"
    "REF*EI*123456789~\n"
    "HL*2*1*22*0~\n"
    "SBR*P*18*******MB~\n"
    "NM1*IL*1*OKAFOR*ADA****MI*1EG4TE5MK73~\n"
    "N3*5 OAK AVE~\n"
    "N4*SPRINGFIELD*IL*62702~\n"
    "DMG*D8*19500304*F~\n"
    "NM1*PR*2*MEDICARE PART B*****PI*12345~\n"
    "CLM*1001-202603*113.76***11:B:1*Y*A*Y*Y~\n"
    "HI*ABK:E119*ABF:I10~\n"
    "NM1*82*1*LEE*ANA****XX*1234567893~\n"
    "LX*1~\n"
    "SV1*HC:99490*66.13*UN*1***1:2~\n"
    "DTP*472*D8*20260331~\n"
    "LX*2~\n"
    "SV1*HC:99439*47.63*UN*1***1:2~\n"
    "DTP*472*D8*20260331~\n"
    "SE*28*0007~\n"
    "GE*1*7~\n"
    "IEA*1*000000007~\n"
)


def test_a_file_of_one_claim_whole_as_formats_md_shows_it() -> None:
    text = x12.checked_837p(interchange(claim("1001", codes=2)))
    assert text == ONE_CLAIM
    assert f"```\n{ONE_CLAIM}```" in (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")


def test_every_segment_ends_with_a_tilde_and_a_line_break_and_isa_is_fixed_width() -> None:
    text = x12.write_837p(few_claims())
    lines = text.splitlines()
    assert all(line.endswith("~") for line in lines)
    assert len(lines[0]) == 106
    assert text.isascii() and text == text.upper().replace("AB7-", "ab7-")


def test_the_envelope_carries_the_ids_usage_and_control_number() -> None:
    changed = replace(
        few_claims(),
        envelope=x12.Envelope(control_number=42, created=dt.datetime(2026, 4, 2, 9, 30),
                              usage="P", interchange_id="PRACTICE9"),
    )  # fmt: skip
    s = segments(x12.write_837p(changed))
    isa = s[0]
    assert isa[5:9] == ["ZZ", "PRACTICE9      ", "ZZ", "REC456         "]
    assert isa[9:11] == ["260402", "0930"] and isa[13] == "000000042" and isa[15] == "P"
    assert s[1] == ["GS", "HC", "PRACTICE9", "REC456", "20260402", "0930", "42", "X",
                    "005010X222A1"]  # fmt: skip
    assert s[2] == ["ST", "837", "0042", "005010X222A1"]
    assert s[3] == ["BHT", "0019", "00", "42", "20260402", "0930", "CH"]
    assert s[4] == ["NM1", "41", "2", "SPRINGFIELD CLINIC", "", "", "", "", "46", "SUB123"]
    assert s[5] == ["PER", "IC", "SPRINGFIELD CLINIC", "TE", "2175550100"]
    assert s[6] == ["NM1", "40", "2", "CLEARING CO", "", "", "", "", "46", "REC456"]
    st_to_se = [seg[0] for seg in s].index("SE") - 2 + 1
    assert s[-3] == ["SE", str(st_to_se), "0042"]
    assert s[-2] == ["GE", "1", "42"] and s[-1] == ["IEA", "1", "000000042"]


def test_the_billing_provider_loop() -> None:
    text = x12.write_837p(few_claims())
    assert find(text, "HL", "1") == [["HL", "1", "", "20", "1"]]
    assert find(text, "PRV") == [["PRV", "BI", "PXC", "207Q00000X"]]
    assert find(text, "NM1", "85") == [
        ["NM1", "85", "2", "SPRINGFIELD CLINIC", "", "", "", "", "XX", BILLING_NPI]
    ]
    assert ["N4", "SPRINGFIELD", "IL", "627011234"] in segments(text)
    assert find(text, "REF") == [["REF", "EI", "123456789"]]


def test_a_practitioner_billing_under_an_ssn() -> None:
    one = interchange(claim())
    provider = replace(one.billing_provider, name="Okafor", first_name="Ada", tin="123-45-6789",
                       tin_kind="ssn", taxonomy="")  # fmt: skip
    text = x12.checked_837p(replace(one, billing_provider=provider))
    assert find(text, "NM1", "85") == [
        ["NM1", "85", "1", "OKAFOR", "ADA", "", "", "", "XX", BILLING_NPI]
    ]
    assert find(text, "REF") == [["REF", "SY", "123456789"]]
    assert find(text, "PRV") == []


def test_the_claims_read_back_segment_by_segment() -> None:
    text = x12.write_837p(few_claims())
    assert find(text, "CLM") == [
        ["CLM", "1001-202603", "164.49", "", "", "11:B:1", "Y", "A", "Y", "Y"],
        ["CLM", "1002-202603", "66.13", "", "", "11:B:1", "Y", "A", "Y", "Y"],
        ["CLM", "ab7-202603", "116.86", "", "", "11:B:1", "Y", "C", "Y", "Y"],
    ]
    assert find(text, "HI") == [
        ["HI", "ABK:E119", "ABF:I10"],
        ["HI", "ABK:E119", "ABF:I10"],
        ["HI", "ABK:F331", "ABF:E119", "ABF:I10", "ABF:J449", "ABF:N183"],
    ]
    assert find(text, "SV1") == [
        ["SV1", "HC:99490", "66.13", "UN", "1", "", "", "1:2"],
        ["SV1", "HC:99439", "47.63", "UN", "1", "", "", "1:2"],
        ["SV1", "HC:99484", "50.73", "UN", "1", "", "", "1:2"],
        ["SV1", "HC:99490", "66.13", "UN", "1", "", "", "1:2"],
        ["SV1", "HC:99484", "50.73", "UN", "1", "", "", "1"],
        ["SV1", "HC:99490:25", "66.13", "UN", "1", "", "", "2:3:4:5"],
    ]
    assert [seg[3] for seg in find(text, "DTP", "472", "D8")] == [
        "20260331", "20260331", "20260331", "20260331", "20260330", "20260331",
    ]  # fmt: skip
    assert [seg[1] for seg in find(text, "LX")] == ["1", "2", "3", "1", "1", "2"]


def test_the_rendering_provider_only_when_the_npi_differs_from_the_billing_one() -> None:
    text = x12.write_837p(few_claims())
    rendering = ["NM1", "82", "1", "LEE", "ANA", "", "", "", "XX", RENDERING_NPI]
    assert find(text, "NM1", "82") == [rendering, rendering]  # claims 1 and 3, not 2


def test_a_patient_who_is_the_insured() -> None:
    text = x12.write_837p(interchange(claim()))
    s = segments(text)
    start = s.index(["HL", "2", "1", "22", "0"])
    assert s[start + 1 : start + 7] == [
        ["SBR", "P", "18", "", "", "", "", "", "", "MB"],
        ["NM1", "IL", "1", "OKAFOR", "ADA", "", "", "", "MI", "1EG4TE5MK73"],
        ["N3", "5 OAK AVE"],
        ["N4", "SPRINGFIELD", "IL", "62702"],
        ["DMG", "D8", "19500304", "F"],
        ["NM1", "PR", "2", "MEDICARE PART B", "", "", "", "", "PI", "12345"],
    ]
    assert s[start + 7][0] == "CLM"


def test_a_patient_who_is_not_the_insured_gets_the_patient_loop() -> None:
    text = x12.write_837p(few_claims())
    s = segments(text)
    start = s.index(["HL", "4", "1", "22", "1"])
    assert s[start + 1 : start + 11] == [
        ["SBR", "P", "", "", "", "", "", "", "", "CI"],
        ["NM1", "IL", "1", "OKAFOR", "BEN", "", "", "", "MI", "XQ-778 12"],
        ["NM1", "PR", "2", "ACME HEALTH", "", "", "", "", "PI", "ACME1"],
        ["HL", "5", "4", "23", "0"],
        ["PAT", "01"],
        ["NM1", "QC", "1", "ZOENUNEZ", "ADA"],
        ["N3", "9 ELM ST, APT 2"],
        ["N4", "PEORIA", "IL", "616020001"],
        ["DMG", "D8", "19500304", "F"],
        ["CLM", "ab7-202603", "116.86", "", "", "11:B:1", "Y", "C", "Y", "Y"],
    ]


@pytest.mark.parametrize(
    ("kind", "code"),
    [("medicare", "MB"), ("medicare_advantage", "16"), ("medicaid", "MC"), ("commercial", "CI")],
)
def test_the_filing_indicator_comes_from_the_payer_kind(kind: x12.PayerKind, code: str) -> None:
    text = x12.checked_837p(interchange(claim(payer_kind=kind)))
    assert find(text, "SBR")[0][9] == code


def test_twelve_diagnoses_fit_on_one_claim() -> None:
    codes = ("E11.9", "I10", "J44.9", "N18.3", "E78.5", "I50.9", "F33.1", "M17.0", "E03.9",
             "K21.9", "G47.33", "E66.9")  # fmt: skip
    text = x12.checked_837p(interchange(claim(diagnoses=codes)))
    assert find(text, "HI") == [
        ["HI", "ABK:E119", *("ABF:" + code.replace(".", "") for code in codes[1:])]
    ]


# --- refusals -------------------------------------------------------------------------------


def test_a_claim_pyx12_rejects_is_refused_with_its_id_and_segment() -> None:
    bad = claim("1002", patient=patient(address=x12.Address("1 A St", "Peoria", "QQ", "61602")))
    with pytest.raises(x12.ClaimFileRefused) as refused:
        x12.checked_837p(interchange(claim("1001"), bad, claim("1003")))
    message = str(refused.value)
    assert message == (
        "The claim file was not written: claim 1002-202603, segment N4 (segment 31 of the file): "
        "element 2 (Subscriber State Code): (QQ) is not a valid code for Subscriber State Code "
        "(N402). Correct it and export again."
    )
    assert isinstance(refused.value, KnownError)
    assert [(p.claim_id, p.segment) for p in refused.value.problems] == [("1002-202603", "N4")]


def test_problems_name_the_claim_that_holds_the_segment() -> None:
    text = x12.write_837p(interchange(claim("1001"), claim("1002", codes=2), claim("1003")))
    broken = text.replace("SV1*HC:99439*47.63", "SV1*HC:99439*4X.63")
    problems = x12.validate_837p(broken)
    assert [(p.claim_id, p.segment) for p in problems] == [("1002-202603", "SV1")]
    position = problems[0].position
    assert text.splitlines()[position - 1].startswith("SV1*HC:99439")
    assert "Line Item Charge Amount" in problems[0].message


def test_a_wrong_segment_count_is_a_problem_of_the_file() -> None:
    text = x12.write_837p(interchange(claim()))
    se = find(text, "SE")[0]
    broken = text.replace(f"SE*{se[1]}*", f"SE*{int(se[1]) + 1}*")
    problems = x12.validate_837p(broken)
    assert problems and all(p.claim_id is None for p in problems)
    assert "SE count" in problems[0].message


@pytest.mark.parametrize("text", ["hello", "", "ISA*00*short~\n"])
def test_text_that_is_not_x12_is_one_problem(text: str) -> None:
    problems = x12.validate_837p(text)
    assert len(problems) == 1 and (problems[0].claim_id, problems[0].segment) == (None, "ISA")
    assert "not an X12 file" in problems[0].message


@pytest.mark.parametrize(
    ("bad", "segment", "words"),
    [
        (claim(diagnoses=("E11.9",)), "SV1", "points at a diagnosis the claim does not"),
        (claim(codes=0), "SV1", "needs at least one service line"),
        (claim(diagnoses=()), "HI", "at least one diagnosis"),
        (claim(diagnoses=("E11.9",) * 13), "HI", "at most 12 diagnoses"),
        (claim(payer_kind="self"), "SBR", "self payer takes no claim file"),
        (claim(relationship="spouse", insured=x12.Insured("Okafor", "Ben")), "SBR",
         "for Medicare the patient is always the insured"),
        (claim(payer_kind="commercial", relationship="child"), "NM1", "the insured's name"),
        (claim(rendering=x12.Practitioner("Lee", "Ana", "1234567890")), "NM1",
         "rendering provider: '1234567890' is not a valid NPI"),
        (claim(claim_id="1001*202603"), "CLM", "1 to 20 letters, digits or dashes"),
        (claim(patient=patient(address=x12.Address("1 A St", "Peoria", "IL", "6160"))), "N4",
         "ZIP code must be 5 or 9 digits"),
    ],
)  # fmt: skip
def test_claims_the_writer_cannot_write_faithfully_are_refused(
    bad: x12.Claim, segment: str, words: str
) -> None:
    with pytest.raises(x12.ClaimFileRefused) as refused:
        x12.checked_837p(interchange(claim("1000"), bad))
    problem = refused.value.problems[0]
    assert (problem.claim_id, problem.segment) == (bad.claim_id, segment)
    assert words in problem.message
    assert f"claim {bad.claim_id}, segment {segment}: " in str(refused.value)


def test_a_pointer_past_four_is_refused() -> None:
    line = x12.ServiceLine("99490", 1, 6613, dt.date(2026, 3, 31), (1, 2, 3, 4, 5))
    bad = claim(diagnoses=("E11.9", "I10", "J44.9", "N18.3", "E78.5"), lines=(line,))
    with pytest.raises(x12.ClaimFileRefused, match="line 1 needs 1 to 4 diagnosis pointers"):
        x12.checked_837p(interchange(bad))


def test_the_same_claim_twice_is_refused() -> None:
    with pytest.raises(x12.ClaimFileRefused, match="claim 1001-202603, segment CLM: the claim id"
                       " is used twice"):  # fmt: skip
        x12.checked_837p(interchange(claim("1001"), claim("1001")))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"zip": "62701"}, "the file, segment N4: the billing provider's address needs a 9-digit"),
        ({"npi": "1245319590"}, "billing provider: '1245319590' is not a valid NPI"),
        ({"tin": "12-345"}, "tax id (EIN or SSN) must be 9 digits"),
    ],
)
def test_a_billing_provider_the_file_cannot_carry_is_refused(
    change: dict[str, str], words: str
) -> None:
    one = interchange()
    provider = one.billing_provider
    if "zip" in change:
        provider = replace(provider, address=replace(provider.address, zip=change["zip"]))
    else:
        provider = replace(provider, **change)
    with pytest.raises(x12.ClaimFileRefused, match=re.escape(words)):
        x12.checked_837p(replace(one, billing_provider=provider))


def test_an_interchange_id_longer_than_isa_allows_is_refused_not_cut() -> None:
    one = interchange()
    envelope = replace(one.envelope, interchange_id="A" * 16)
    with pytest.raises(x12.ClaimFileRefused, match=r"interchange id \(ISA06\) must be 1 to 15"):
        x12.checked_837p(replace(one, envelope=envelope))


def test_no_claims_is_refused() -> None:
    one = interchange()
    with pytest.raises(x12.ClaimFileRefused, match="at least one claim"):
        x12.checked_837p(replace(one, claims=()))


def test_pyx12s_verdict_stands_even_when_it_names_no_segment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyx12.x12n_document

    text = x12.write_837p(interchange())

    def invalid_without_a_reason(**kwargs: object) -> bool:
        kwargs["fd_json"].write('{"interchanges": []}')  # type: ignore[attr-defined]
        return False

    monkeypatch.setattr(pyx12.x12n_document, "x12n_document", invalid_without_a_reason)
    assert [p.message for p in x12.validate_837p(text)] == ["pyx12 found the file invalid"]

    def crashes(**kwargs: object) -> bool:
        raise RuntimeError("map walk failed")

    monkeypatch.setattr(pyx12.x12n_document, "x12n_document", crashes)
    assert [p.message for p in x12.validate_837p(text)] == [
        "the file cannot be read as 837P: map walk failed"
    ]


def test_empty_trailing_elements_are_left_off() -> None:
    # A one-name patient who is not the insured: NM1*QC ends at the last name, not with a `*`.
    one = claim(
        payer_kind="commercial",
        relationship="child",
        insured=x12.Insured("Okafor", "Ben"),
        patient=patient(last_name="Zoë", first_name=""),
    )
    text = x12.checked_837p(interchange(one))
    assert "NM1*QC*1*ZOE~\n" in text


def test_a_name_with_nothing_left_after_cleaning_is_refused_at_its_segment() -> None:
    bad = claim("1002", patient=patient(last_name="李"))
    with pytest.raises(x12.ClaimFileRefused) as refused:
        x12.checked_837p(interchange(claim("1001"), bad))
    assert {(p.claim_id, p.segment) for p in refused.value.problems} == {("1002-202603", "NM1")}


def test_the_check_keeps_pyx12s_own_error_lines_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = x12.write_837p(interchange()).replace("*IL*62702~", "*QQ*62702~")
    with caplog.at_level(logging.DEBUG):
        assert x12.validate_837p(text)
    assert [r for r in caplog.records if r.name.startswith("pyx12")] == []


def test_claims_of_two_billing_practitioners_each_get_their_own_billing_provider_loop() -> None:
    address = x12.Address("12 Main St", "Springfield", "IL", "62701-1234")
    lee = x12.BillingProvider("Lee", RENDERING_NPI, address, "123456789", first_name="Ana")
    solo = x12.BillingProvider("Moss", "1003000126", address, "123456789", person=True)
    text = x12.checked_837p(
        interchange(
            claim("1001", billing_provider=lee, rendering=None),
            claim("1002", billing_provider=lee, rendering=None),
            claim("1003", billing_provider=solo, rendering=None),
        )
    )
    assert [s[:5] for s in segments(text) if s[0] == "HL"] == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "0"],
        ["HL", "3", "1", "22", "0"],
        ["HL", "4", "", "20", "1"],
        ["HL", "5", "4", "22", "0"],
    ]
    assert [s[:5] for s in find(text, "NM1", "85")] == [
        ["NM1", "85", "1", "LEE", "ANA"],
        ["NM1", "85", "1", "MOSS", ""],
    ]
