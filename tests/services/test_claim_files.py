"""The 837P claim files of an export: the worked cases, sent claims, control numbers, audit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.reports.x12 import validate_837p
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.services import ServiceError, Services
from ccmdesk.services.claim_files import ClaimFileNotWritten, split_name
from tests.helpers.billing import with_cases
from tests.helpers.claim_files import (
    MEDICARE_EDI,
    claim_files,
    claim_ready,
    claims_of,
    control_number,
    sent_claims,
    set_patient,
    split,
)
from tests.helpers.common import BILLER, CLI, DOCTOR, VALID_NPIS
from tests.helpers.scenario_cases import CASES, MONTH

BILLABLE = [c for c in CASES if c.status == "billable"]
FILE = f"claims-{MONTH}-mcr-b.x12"
NOT_SIGNED, NOT_READY = "S03", "S04"  # billable months kept out of the file


@pytest.fixture
def team(db: Database, staffed: Services) -> Services:
    with_cases(staffed)
    claim_ready(db)
    set_patient(db, NOT_READY, sex="")  # CLAIM_NO_SEX
    for case in BILLABLE:
        mrn = f"S{case.number:02d}"
        if mrn != NOT_SIGNED:
            staffed.review.sign(DOCTOR, mrn, MONTH)
    return staffed


def test_the_worked_cases_make_one_valid_file_that_reads_back_as_the_scenarios_say(
    team: Services, db: Database, tmp_path: Path
) -> None:
    result = team.export.export(BILLER, MONTH, tmp_path)
    files = claim_files(tmp_path)
    assert list(files) == [FILE]
    text = files[FILE]
    assert validate_837p(text) == []
    expected = {f"S{c.number:02d}": c for c in BILLABLE}
    del expected[NOT_SIGNED], expected[NOT_READY]
    assert result.claim_files == [(FILE, len(expected))]
    claims = claims_of(text)
    assert sorted(claims) == sorted(f"{mrn}-202603" for mrn in expected)
    segments = split(text)
    billing = next(s for s in segments if s[:3] == ["NM1", "85", "2"])
    assert billing[8:] == ["XX", VALID_NPIS[1]]  # 2010AA: the group NPI
    assert ["N4", "PORTLAND", "ME", "041011234"] in segments
    assert ["REF", "EI", "123456789"] in segments
    payer = next(s for s in segments if s[:2] == ["NM1", "PR"])
    assert payer[3] == "MEDICARE PART B" and payer[-2:] == ["PI", MEDICARE_EDI]
    grand_total = 0
    for mrn, case in expected.items():
        claim = claims[f"{mrn}-202603"]
        clm = claim[0]
        wanted = [code.split("x") for code in case.codes.split(";")]
        fees = [DEFAULT_FEES[2026][code] * int(units) for code, units in wanted]
        total = sum(fees)
        if case.amount_cents is not None:
            assert total == case.amount_cents, case.name
        grand_total += total
        assert clm == ["CLM", f"{mrn}-202603", f"{total / 100:.2f}", "", "", "11:B:1",
                       "Y", "A", "Y", "Y"], case.name  # fmt: skip
        conditions = case.patient.get("conditions", ("E11.9", "I10"))
        hi = next(s for s in claim if s[0] == "HI")
        assert hi[1:] == [
            ("ABK:" if i == 0 else "ABF:") + str(code).replace(".", "")
            for i, code in enumerate(conditions)  # type: ignore[arg-type]
        ], case.name
        rendering = next(s for s in claim if s[:2] == ["NM1", "82"])
        assert rendering[2:5] == ["1", "A", ""]  # Dr. A: a title and one name
        assert rendering[-2:] == ["XX", VALID_NPIS[0]]  # 2310B: Dr. A, not the group
        lines = [s for s in claim if s[0] == "SV1"]
        pointers = ":".join(str(n) for n in range(1, len(conditions) + 1))  # type: ignore[arg-type]
        assert lines == [
            ["SV1", f"HC:{code}", f"{fee / 100:.2f}", "UN", units, "", "", pointers]
            for (code, units), fee in zip(wanted, fees, strict=True)
        ], case.name
        dates = [s for s in claim if s[0] == "DTP"]
        assert dates == [["DTP", "472", "D8", "20260331"]] * len(wanted), case.name
    assert sum(float(s[2]) for s in segments if s[0] == "CLM") == pytest.approx(grand_total / 100)


def test_an_unsigned_month_is_never_in_a_claim_file_even_when_every_month_is_exported(
    team: Services, tmp_path: Path
) -> None:
    team.export.export(BILLER, MONTH, tmp_path, signed_only=False)
    text = claim_files(tmp_path)[FILE]
    assert f"{NOT_SIGNED}-202603" not in claims_of(text)
    assert f"{NOT_READY}-202603" not in claims_of(text)
    assert f"{NOT_SIGNED}-202603" not in text and f"{NOT_READY}-202603" not in text


def test_sent_claims_are_recorded_with_the_control_number_and_left_out_next_time(
    team: Services, db: Database, tmp_path: Path
) -> None:
    first = team.export.export(BILLER, MONTH, tmp_path / "a")
    assert control_number(db) == 1
    sent = sent_claims(db)
    assert len(sent) == first.claim_files[0][1]
    assert {(file, number, who) for _, file, number, who in sent} == {(FILE, 1, "bill-b")}
    again = team.export.export(BILLER, MONTH, tmp_path / "b")
    assert again.claim_files == [] and claim_files(tmp_path / "b") == {}
    assert control_number(db) == 1 and len(sent_claims(db)) == len(sent)
    # A month signed since then is the only claim of the next file.
    team.review.sign(DOCTOR, NOT_SIGNED, MONTH)
    third = team.export.export(CLI, MONTH, tmp_path / "c")
    assert third.claim_files == [(FILE, 1)]
    assert list(claims_of(claim_files(tmp_path / "c")[FILE])) == [f"{NOT_SIGNED}-202603"]
    assert sent_claims(db)[-1] == (f"{NOT_SIGNED}-202603", FILE, 2, "cli:test")


def test_two_exports_differ_only_in_the_claim_files_control_numbers(
    team: Services, db: Database, tmp_path: Path
) -> None:
    team.export.export(BILLER, MONTH, tmp_path / "a")
    team.export.export(BILLER, MONTH, tmp_path / "b", resend=True)
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file() and path.suffix != ".x12":
            twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
            assert path.read_bytes() == twin.read_bytes(), path.name
    a, b = claim_files(tmp_path / "a")[FILE], claim_files(tmp_path / "b")[FILE]
    isa_a, isa_b = split(a)[0], split(b)[0]
    assert (isa_a[13], isa_b[13]) == ("000000001", "000000002")

    def numbered(text: str, number: str) -> str:
        return text.replace(f"*{int(number):09d}*", "*N*").replace(f"*{number}*", "*N*")

    assert a != b
    control = {"ISA": 13, "GS": 6, "ST": 2, "BHT": 3, "SE": 2, "GE": 2, "IEA": 2}
    for one, two in zip(split(a), split(b), strict=True):
        if one[0] in control:
            place = control[one[0]]
            one, two = one[:place] + one[place + 1 :], two[:place] + two[place + 1 :]
        assert one == two
    assert len(sent_claims(db)) == 2 * len(claims_of(a))


def test_every_export_is_in_the_audit_trail_with_its_files_and_their_sha256(
    team: Services, db: Database, tmp_path: Path
) -> None:
    result = team.export.export(BILLER, MONTH, tmp_path)
    with db.read() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.actor, event.entity_key) == ("month.export", "bill-b", MONTH)
    record = json.loads(event.after or "")
    files = {f["name"]: f["sha256"] for f in record["files"]}
    written = {p.relative_to(tmp_path).as_posix() for p in result.files}
    assert set(files) == written
    for name, digest in files.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    assert record["claim_files"][0] | {"total_cents": 0} == {
        "name": FILE, "payer_id": "mcr-b", "control_number": 1,
        "claims": result.claim_files[0][1], "total_cents": 0,
    }  # fmt: skip
    assert record["month"] == MONTH and record["resend"] is False


def test_a_file_pyx12_rejects_writes_nothing_and_names_the_claim_and_segment(
    team: Services, db: Database, tmp_path: Path
) -> None:
    set_patient(db, "S02", last_name="李")  # passes every claim edit; NM1 is left empty
    with db.read() as session:
        events = session.query(AuditEvent).count()
    with pytest.raises(ClaimFileNotWritten) as refused:
        team.export.export(BILLER, MONTH, tmp_path / "out")
    assert str(refused.value).startswith(
        f"{FILE}: The claim file was not written: claim S02-202603, segment NM1"
    )
    assert list((tmp_path / "out").iterdir()) == []
    assert control_number(db) == 0 and sent_claims(db) == []
    with db.read() as session:
        assert session.query(AuditEvent).count() == events


def test_when_the_files_cannot_be_published_no_claim_is_sent_and_no_number_used(
    team: Services, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: object) -> list[Path]:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("ccmdesk.services.staging.Staging.publish", refused)
    with pytest.raises(ServiceError, match="could not be written"):
        team.export.export(BILLER, MONTH, tmp_path / "out")
    assert control_number(db) == 0 and sent_claims(db) == []
    assert list((tmp_path / "out").iterdir()) == []


def test_a_month_that_has_not_ended_is_refused_unless_allowed_and_sends_no_claim(
    team: Services, db: Database, tmp_path: Path
) -> None:
    with pytest.raises(ServiceError) as refused:
        team.export.export(BILLER, "2026-04", tmp_path / "april")
    assert str(refused.value).startswith(
        "April 2026 has not ended yet (its last day is 30 Apr 2026)"
    )
    assert not (tmp_path / "april").exists()
    assert team.export.unfinished_month_end("2026-04") is not None
    assert team.export.unfinished_month_end(MONTH) is None
    result = team.export.export(BILLER, "2026-04", tmp_path / "april", allow_open_month=True)
    assert result.month_open and result.claim_files == []
    assert control_number(db) == 0


def test_a_practice_without_a_group_npi_bills_under_each_practitioner(
    team: Services, db: Database, tmp_path: Path
) -> None:
    from ccmdesk.models import Practice

    with db.session() as session:
        session.scalars(select(Practice)).one().group_npi = None
    team.export.export(BILLER, MONTH, tmp_path)
    text = claim_files(tmp_path)[FILE]
    assert validate_837p(text) == []
    segments = split(text)
    assert [s for s in segments if s[:2] == ["NM1", "85"]] == [
        ["NM1", "85", "1", "A", "", "", "", "", "XX", VALID_NPIS[0]]
    ]
    assert not [s for s in segments if s[:2] == ["NM1", "82"]]  # the same NPI: no 2310B


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Dr. A", ("A", "")), ("Adaeze Okafor", ("Okafor", "Adaeze")),
     ("Maja van Lind", ("Lind", "Maja van")), ("", ("", ""))],
)  # fmt: skip
def test_a_staff_name_is_split_into_last_and_first(name: str, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected


def test_two_exports_at_once_never_share_a_control_number(
    team: Services, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from ccmdesk.services import export
    from ccmdesk.services.claim_files import PayerClaims, payer_claims

    # Both exports read the month before either takes the write lock, as two workstations may.
    both_read = threading.Barrier(2, timeout=60)

    def gathered(*args: object, **kwargs: object) -> list[PayerClaims]:
        found = payer_claims(*args, **kwargs)  # type: ignore[arg-type]
        both_read.wait()
        return found

    monkeypatch.setattr(export, "payer_claims", gathered)
    outcomes: dict[str, object] = {}

    def run(name: str, resend: bool) -> None:
        try:
            outcomes[name] = team.export.export(BILLER, MONTH, tmp_path / name, resend=resend)
        except Exception as error:  # the test looks at it below
            outcomes[name] = error

    def together(resend: bool, *names: str) -> None:
        threads = [threading.Thread(target=run, args=(n, resend)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    together(False, "a", "b")
    refused = [o for o in outcomes.values() if isinstance(o, ServiceError)]
    assert len(refused) == 1  # the second found the claims sent meanwhile, and wrote nothing
    assert str(refused[0]).startswith(f"Another export sent claims of {MONTH} while this one ran")
    together(True, "c", "d")
    numbers = sorted(split(claim_files(tmp_path / n)[FILE])[0][13] for n in ("c", "d"))
    assert numbers == ["000000002", "000000003"]
    assert control_number(db) == 3


def test_each_payer_gets_its_own_file_and_an_insured_spouse_gets_the_patient_loop(
    team: Services, db: Database, tmp_path: Path
) -> None:
    from ccmdesk.models import Payer
    from ccmdesk.rules.payers import PayerRecord

    team.payers.save(CLI, PayerRecord("aetna", "Aetna Choice", "commercial", "60054", "ccm;pcm"))
    team.payers.save(CLI, PayerRecord("paper-only", "Paper Payer", "commercial", "", "ccm;pcm"))
    with db.read() as session:
        ids = {key: id_ for key, id_ in session.execute(select(Payer.payer_id, Payer.id))}
    set_patient(db, "S05", primary_payer_id=ids["aetna"], member_id="W1234567",
                insured_relationship="spouse", insured_last_name="Case05",
                insured_first_name="Robin")  # fmt: skip
    set_patient(db, "S06", primary_payer_id=ids["paper-only"], member_id="P1")
    result = team.export.export(BILLER, MONTH, tmp_path)
    names = [name for name, _ in result.claim_files]
    assert names == [f"claims-{MONTH}-aetna.x12", FILE]  # no EDI id: no file for paper-only
    text = claim_files(tmp_path)[f"claims-{MONTH}-aetna.x12"]
    assert validate_837p(text) == []
    segments = split(text)
    assert ["SBR", "P", "", "", "", "", "", "", "", "CI"] in segments
    assert ["NM1", "IL", "1", "CASE05", "ROBIN", "", "", "", "MI", "W1234567"] in segments
    assert ["PAT", "01"] in segments
    assert ["NM1", "QC", "1", "CASE05", "ANA"] in segments
    assert ["NM1", "PR", "2", "AETNA CHOICE", "", "", "", "", "PI", "60054"] in segments
    assert list(claims_of(text)) == ["S05-202603"]
    medicare = claim_files(tmp_path)[FILE]
    assert "S05-202603" not in medicare and "S06-202603" not in medicare
    isa = {name: split(claim_files(tmp_path)[name])[0][13] for name in names}
    assert isa == {names[0]: "000000001", FILE: "000000002"}  # payers in payer_id order


def test_when_the_transaction_fails_after_the_files_moved_the_claim_file_is_taken_back(
    team: Services, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.services import export

    published = export._published

    def then_the_disk_fails(staging: object) -> list[Path]:
        published(staging)  # type: ignore[arg-type]
        raise OSError(5, "Input/output error")  # as a commit failing after the moves would

    monkeypatch.setattr(export, "_published", then_the_disk_fails)
    with pytest.raises(OSError):
        team.export.export(BILLER, MONTH, tmp_path)
    assert (tmp_path / f"handoff-{MONTH}.pdf").exists()
    assert not (tmp_path / FILE).exists()
    assert control_number(db) == 0 and sent_claims(db) == []
