"""The month's export: handoff and claim-line CSV files against the worked cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ccmdesk.db import Database
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.rules.intervals import date_text
from ccmdesk.services import PermissionDenied, ServiceError, Services
from tests.helpers.billing import case_files, csv_bytes, with_cases
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import BILLER, CLI, DOCTOR, NOW, NURSE, VALID_NPIS, FakeClock
from tests.helpers.scenario_cases import CASES, MONTH, Case


@pytest.fixture
def team(staffed: Services) -> Services:
    return with_cases(staffed)


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def check_against_the_cases(folder: Path) -> None:
    """Every worked case's handoff row and claim lines, as scenarios.md gives them."""
    handoff = {row["mrn"]: row for row in read(folder / f"handoff-{MONTH}.csv")}
    claims = read(folder / f"claim-lines-{MONTH}.csv")
    assert list(handoff) == sorted(handoff)
    for case in CASES:
        row = handoff[f"S{case.number:02d}"]
        assert (row["codes"], row["status"]) == (case.codes, case.status), case.name
        assert row["blocks"] == ";".join(sorted(case.blocks)), case.name
        assert row["warnings"] == ";".join(sorted((*case.warnings, "NOT_SIGNED"))), case.name
        assert row["signed_off"] == "no" and row["practitioner_npi"] == VALID_NPIS[0]
        if case.countable_minutes is not None:
            assert int(row["countable_seconds"]) == case.countable_minutes * 60, case.name
        lines = [c for c in claims if c["mrn"] == row["mrn"]]
        expected = [code.split("x") for code in case.codes.split(";")] if case.codes else []
        assert [(c["code"], c["units"]) for c in lines] == [tuple(e) for e in expected]
        for line in lines:
            fee = DEFAULT_FEES[2026][line["code"]]
            assert int(line["charge_cents"]) == fee * int(line["units"])
            assert line["date_of_service"] == "2026-03-31" and line["place_of_service"] == "11"
            assert line["billing_npi"] == "1245319599" and line["rendering_npi"] == VALID_NPIS[0]
            assert line["diagnosis_codes"] == ";".join(conditions(case))
        amount = sum(int(c["charge_cents"]) for c in lines)
        assert int(row["amount_cents"]) == amount
        if case.amount_cents is not None:
            assert amount == case.amount_cents, case.name


def conditions(case: Case) -> tuple[str, ...]:
    return tuple(case.patient.get("conditions", ("E11.9", "I10")))  # type: ignore[arg-type]


def test_the_export_gives_every_worked_case_its_handoff_row_and_claim_lines(
    team: Services, tmp_path: Path
) -> None:
    result = team.export.export(BILLER, MONTH, tmp_path / "out")
    assert {f"claim-lines-{MONTH}.csv", f"handoff-{MONTH}.csv"} <= {p.name for p in result.files}
    assert result.billable == sum(c.status == "billable" for c in CASES)
    check_against_the_cases(tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_the_same_data_exports_to_the_same_bytes(team: Services, tmp_path: Path) -> None:
    team.export.export(BILLER, MONTH, tmp_path / "a")
    team.export.export(BILLER, MONTH, tmp_path / "b")
    for name in (f"handoff-{MONTH}.csv", f"claim-lines-{MONTH}.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_signed_only_limits_claim_lines_but_the_handoff_lists_every_row(
    team: Services, tmp_path: Path
) -> None:
    team.review.sign(DOCTOR, "S02", MONTH)
    result = team.export.export(BILLER, MONTH, tmp_path, signed_only=True)
    assert {c["mrn"] for c in read(tmp_path / f"claim-lines-{MONTH}.csv")} == {"S02"}
    assert result.claim_lines == 1
    handoff = read(tmp_path / f"handoff-{MONTH}.csv")
    assert len(handoff) == len(CASES)
    assert next(r for r in handoff if r["mrn"] == "S02")["signed_off"] == "yes"


def test_an_export_needs_the_practice_the_permission_and_a_folder_it_can_write(
    services: Services, team: Services, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied):
        team.export.export(NURSE, MONTH, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ServiceError, match="is a file, not a folder"):
        team.export.export(BILLER, MONTH, blocker)
    with pytest.raises(ServiceError, match="could not be written") as failed:
        team.export.export(BILLER, MONTH, blocker / "inside")
    assert "Nothing was left there" in str(failed.value)


def test_without_a_practice_the_export_is_refused(services: Services, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="Describe the practice first"):
        services.export.export(CLI, MONTH, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failure_while_writing_leaves_no_temporary_or_half_file(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(out: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ccmdesk.services.export._write_all", full_disk)
    with pytest.raises(ServiceError, match="No space left on device"):
        team.export.export(BILLER, MONTH, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_import_then_export_from_the_command_line_matches_the_worked_cases(
    tmp_path: Path,
) -> None:
    data, files = tmp_path / "data", tmp_path / "files"
    files.mkdir()
    staff = [
        {"staff_id": "dr-a", "name": "Dr. A", "role": "practitioner", "credentials": "MD",
         "npi": VALID_NPIS[0]},
        {"staff_id": "rn-lee", "name": "Grace Lee", "role": "clinical", "credentials": "RN"},
        {"staff_id": "lpn-l", "name": "Lou Nurse", "role": "clinical", "credentials": "LPN"},
        {"staff_id": "ma-m", "name": "Max Assistant", "role": "clinical", "credentials": "MA"},
        {"staff_id": "sched-s", "name": "Sam Scheduler", "role": "non_clinical"},
    ]  # fmt: skip
    paths = [files / "staff.csv"]
    paths[0].write_bytes(csv_bytes(staff))
    for name, content in case_files(CASES):
        (files / name).write_bytes(content)
        paths.append(files / name)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ccmdesk", "--data-dir", str(data), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    practice = run("practice", "--name", "Maple Clinic", "--group-npi", "1245319599",
                   "--timezone", "America/New_York")  # fmt: skip
    assert practice.returncode == 0, practice.stderr
    imported = run("import", *map(str, paths))
    assert imported.returncode == 0, imported.stderr
    exported = run("export", "--month", MONTH, "--out", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    check_against_the_cases(tmp_path / "out")
    refused = run("export", "--month", "2026-13", "--out", str(tmp_path / "out"))
    assert refused.returncode == 1 and "'2026-13' is not a month" in refused.stderr


# --- the PDFs ------------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_superbills_and_the_handoff_read_back_with_their_content_and_attachments(
    team: Services, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    team.review.sign(DOCTOR, "S02", MONTH)
    result = team.export.export(BILLER, MONTH, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in result.files}
    billable = [f"S{c.number:02d}" for c in CASES if c.status == "billable"]
    assert names == {f"handoff-{MONTH}.csv", f"claim-lines-{MONTH}.csv", f"handoff-{MONTH}.pdf",
                     f"superbills-{MONTH}.pdf"} | {f"superbills/{MONTH}-{m}.pdf" for m in billable}  # fmt: skip
    signed = pdf_text(tmp_path / "superbills" / f"{MONTH}-S02.pdf")
    for expected in ("Superbill · Chronic care management · March 2026", "S02", "99490",
                     "Group NPI 1245319599", "E11.9", "Type 2 diabetes mellitus",
                     "Signed by Dr. A", "Page 1 of", "Appendix: time log", "$66.13"):  # fmt: skip
        assert expected in signed, expected
    assert "NOT SIGNED" not in signed
    assert "NOT SIGNED" in pdf_text(tmp_path / "superbills" / f"{MONTH}-S03.pdf")
    combined = PdfReader(tmp_path / f"superbills-{MONTH}.pdf")
    assert len(combined.pages) >= len(billable)
    handoff = PdfReader(tmp_path / f"handoff-{MONTH}.pdf")
    attached = {name: data[0] for name, data in handoff.attachments.items()}
    assert attached == {
        f"handoff-{MONTH}.csv": (tmp_path / f"handoff-{MONTH}.csv").read_bytes(),
        f"claim-lines-{MONTH}.csv": (tmp_path / f"claim-lines-{MONTH}.csv").read_bytes(),
    }
    text = pdf_text(tmp_path / f"handoff-{MONTH}.pdf")
    assert "Billing handoff · March 2026" in text and "Not billed and why" in text
    assert "Bo Biller" in text and "audit trail head" in text


def test_the_handoff_pdf_writes_codes_as_the_screens_do(team: Services, tmp_path: Path) -> None:
    team.export.export(BILLER, MONTH, tmp_path)
    csv_codes = [
        line.split(",")
        for line in (tmp_path / f"handoff-{MONTH}.csv").read_text().splitlines()
        if ";99439" in line
    ]
    assert csv_codes, "a worked case bills two codes"
    text = pdf_text(tmp_path / f"handoff-{MONTH}.pdf")
    assert "99490x1, 99439x" in text and ";99439" not in text


def test_hostile_text_never_breaks_a_superbill(team: Services, tmp_path: Path) -> None:
    nasty = 'Zoë & <Ana> "Q" \U0001f600 \u05e9\u05dc\u05d5\u05dd ' + "x" * 40
    case = next(c for c in CASES if c.number == 2)
    from tests.helpers.billing import patient_row

    team.imports.import_data(
        CLI,
        [
            (
                "patients.csv",
                csv_bytes(
                    [patient_row(case) | {"first_name": nasty, "address": "<b>1 Main</b> & Co"}]
                ),
            ),
        ],
    )
    start = dt.datetime(2026, 3, 20, 14, 0, tzinfo=dt.UTC)
    # Nearly as long as a note may be (NOTE_LIMIT): it wraps over many lines of the superbill.
    long_note = ("Long call <script>alert(1)</script> & more. " * 45).strip()
    team.entries.add_manual(NURSE, "S02", start, start + dt.timedelta(minutes=3),
                              reason="r", note=long_note + " \u202eRTL")  # fmt: skip
    team.export.export(BILLER, MONTH, tmp_path)
    text = pdf_text(tmp_path / "superbills" / f"{MONTH}-S02.pdf")
    assert "Zoë & <Ana>" in text and "<b>1 Main</b> & Co" in text
    assert "Note of entry" in text and "<script>alert(1)</script>" in text


def test_a_month_with_nothing_billable_still_gives_a_handoff_that_says_so(
    team: Services, tmp_path: Path
) -> None:
    result = team.export.export(BILLER, "2026-01", tmp_path)
    assert sorted(p.name for p in result.files) == [
        "claim-lines-2026-01.csv", "handoff-2026-01.csv", "handoff-2026-01.pdf"]  # fmt: skip
    assert "Nothing is billable for January 2026." in pdf_text(tmp_path / "handoff-2026-01.pdf")


def test_with_a_fixed_generation_time_the_pdfs_are_the_same_bytes(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775000000")
    team.export.export(BILLER, MONTH, tmp_path / "a")
    team.export.export(BILLER, MONTH, tmp_path / "b")
    for name in (f"handoff-{MONTH}.pdf", f"superbills-{MONTH}.pdf", f"superbills/{MONTH}-S02.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_worker_processes_export_the_same_bytes_as_one_process(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775000000")
    team.export.workers = 1
    alone = team.export.export(BILLER, MONTH, tmp_path / "one")
    team.export.workers = 2
    shared = team.export.export(BILLER, MONTH, tmp_path / "two")
    names = [p.relative_to(tmp_path / "one") for p in alone.files]
    assert names == [p.relative_to(tmp_path / "two") for p in shared.files]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_progress_climbs_batch_by_batch_and_ends_once_the_files_are_written(
    team: Services, tmp_path: Path
) -> None:
    seen: list[tuple[int, int, bool]] = []
    handoff = tmp_path / f"handoff-{MONTH}.csv"
    result = team.export.export(
        BILLER, MONTH, tmp_path,
        progress=lambda done, total: seen.append((done, total, handoff.exists())),
    )  # fmt: skip
    bills = sum(1 for c in CASES if c.status == "billable")
    total = bills + 1
    assert [done for done, _, _ in seen] == sorted({done for done, _, _ in seen})
    assert {t for _, t, _ in seen} == {total} and len(seen) >= 2
    assert seen[-1] == (total, total, True) and not any(written for _, _, written in seen[:-1])
    assert len(result.files) == bills + 4


def test_mrns_that_would_share_a_file_name_get_files_of_their_own() -> None:
    from ccmdesk.services.export import superbill_names

    names = superbill_names(["A100", "100.1", "100/1", "ab1", "AB1", "Zoë7"])
    assert names["A100"] == "A100"
    assert len(set(names.values())) == 6
    assert len({name.casefold() for name in names.values()}) == 6  # Windows and macOS too
    assert names["100.1"].startswith("100_1-") and names["100/1"].startswith("100_1-")
    assert names["Zoë7"].startswith("Zo_7-")
    assert superbill_names(["100.1"]) == {"100.1": names["100.1"]}  # the same every time


def test_a_folder_in_the_way_is_found_before_anything_is_written(tmp_path: Path) -> None:
    from ccmdesk.services.export import write_atomically

    (tmp_path / "a.csv").write_text("OLD")
    (tmp_path / "b.pdf").mkdir()
    with pytest.raises(ServiceError, match=r"a folder has that name\. Nothing was written"):
        write_atomically(tmp_path, {"a.csv": b"NEW", "b.pdf": b"%PDF"})
    assert (tmp_path / "a.csv").read_text() == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.pdf"]


def test_a_rename_that_fails_part_way_says_which_files_are_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from ccmdesk.services import export

    real = os.replace
    calls: list[str] = []

    def replace(source: str, target: str) -> None:
        calls.append(str(target))
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied")  # a viewer holds the file
        real(source, target)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(ServiceError, match=r"1 of 3 files were written \(a.csv\)"):
        export.write_atomically(tmp_path, {"a.csv": b"A", "b.pdf": b"B", "c.pdf": b"C"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temporary file left


def test_each_pdf_is_dated_when_it_was_generated_not_in_2000(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from pypdf import PdfReader

    def created(path: Path) -> dt.datetime | None:
        return PdfReader(path).metadata.creation_date

    names = (f"handoff-{MONTH}.pdf", f"superbills-{MONTH}.pdf", f"superbills/{MONTH}-S02.pdf")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    team.export.export(BILLER, MONTH, tmp_path / "now")
    for name in names:  # the services' clock: NOW in these tests
        assert created(tmp_path / "now" / name) == NOW, name
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775000000")
    team.export.export(BILLER, MONTH, tmp_path / "fixed")
    fixed = dt.datetime.fromtimestamp(1775000000, dt.UTC)
    for name in names:
        assert created(tmp_path / "fixed" / name) == fixed, name


def test_the_superbill_fills_the_patients_sex_phone_and_the_signing_day(
    team: Services, tmp_path: Path
) -> None:
    from tests.helpers.billing import patient_row
    from tests.helpers.reports import boxes

    team.imports.import_data(
        CLI,
        [("patients.csv", csv_bytes([patient_row(CASES[1]) | {"phone": "(207) 555-0199"}]))],
    )
    team.review.sign(DOCTOR, "S02", MONTH)
    team.export.export(BILLER, MONTH, tmp_path)
    found = boxes((tmp_path / "superbills" / f"{MONTH}-S02.pdf").read_bytes())
    assert found["3 Patient's birth date · sex"].endswith("· F")
    assert found["5 Telephone"] == "(207) 555-0199"
    signed_on = NOW.astimezone(ZoneInfo("America/New_York")).date()  # the practice's day
    assert found["31 Signature of physician · date"] == f"Dr. A · {date_text(signed_on)}"


def test_a_payer_renamed_in_the_payer_list_prints_by_its_new_name(
    team: Services, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tests.helpers.reports import boxes

    medicare = team.payers.get(BILLER, "mcr-b")
    team.payers.save(BILLER, replace(medicare, name="Medicare Part B (Noridian)"))
    team.review.sign(DOCTOR, "S02", MONTH)
    team.export.export(BILLER, MONTH, tmp_path)
    found = boxes((tmp_path / "superbills" / f"{MONTH}-S02.pdf").read_bytes())
    assert found["Payer (carrier block)"] == "Medicare Part B (Noridian)"
    lines = read(tmp_path / f"claim-lines-{MONTH}.csv")
    assert {line["payer"] for line in lines if line["mrn"] == "S02"} == {
        "Medicare Part B (Noridian)"
    }


def test_the_handoffs_first_page_is_the_month_at_a_glance_with_its_own_totals(
    team: Services, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from ccmdesk.rules.billing import dollars

    team.review.sign(DOCTOR, "S02", MONTH)
    team.export.export(BILLER, MONTH, tmp_path)
    pages = [p.extract_text() for p in PdfReader(tmp_path / f"handoff-{MONTH}.pdf").pages]
    first, second = pages[0].splitlines(), pages[1].splitlines()
    assert "The month at a glance · March 2026" in first
    assert "Billing handoff · March 2026" in second
    # The tiles: a row of figures over a row of what they count.
    start = first.index("Enrolled")
    tiles = dict(zip(first[start : start + 5], first[start - 5 : start], strict=True))

    def handoff(label: str) -> str:
        return second[second.index(label) + 1]

    # Billable as the billing panel counts it: months that bill anything, BHI alone included.
    panel = team.billing.month(BILLER, MONTH)
    assert tiles["Billable"] == str(sum(1 for r in panel.rows if r.result.bills)) == "17"
    assert tiles["Signed"] == handoff("Billable and signed") == "1"
    # The same amount as the handoff's "Expected in all", the billing panel and the CSV.
    expected = panel.amount_cents
    csv_total = sum(int(r["amount_cents"] or 0) for r in read(tmp_path / f"handoff-{MONTH}.csv"))
    assert tiles["Expected this month"] == handoff("Expected in all") == dollars(expected)
    assert csv_total == expected
    for title in ("Minutes per staff member per week", "Expected amount by code, last 12 months"):
        assert title in first


def test_the_superbill_names_the_care_plan_version_or_the_plan_kept_elsewhere(
    team: Services, db: Database, tmp_path: Path
) -> None:
    march = Services(db, clock=FakeClock(dt.datetime(2026, 3, 20, 16, tzinfo=dt.UTC)))
    signed_plan(march, "S02")
    signed_plan(team, "S02", goals="Walk daily.")  # signed 15 April: not March's plan
    team.export.export(BILLER, MONTH, tmp_path)
    signed = " ".join(pdf_text(tmp_path / "superbills" / f"{MONTH}-S02.pdf").split())
    assert "Care plan: version 1, signed 20 Mar 2026 (Dr. A, MD)" in signed
    elsewhere = " ".join(pdf_text(tmp_path / "superbills" / f"{MONTH}-S03.pdf").split())
    assert "Care plan: kept elsewhere, dated 04 Nov 2025" in elsewhere
