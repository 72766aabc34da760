"""Exports cut off at any moment: the old set or the new one whole, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.services import ServiceError, Services
from ccmdesk.services.staging import (
    FILES,
    MANIFEST,
    PREFIX,
    UNDER_WAY,
    Staging,
    sweep,
    sweep_noted,
)
from tests.helpers.billing import with_cases
from tests.helpers.common import BILLER, DOCTOR
from tests.helpers.processes import LINUX_PROC, ROOT, descendants, gone_within
from tests.helpers.scenario_cases import MONTH
from tests.helpers.staging import NEW, OLD, cut_off, put


@pytest.fixture
def team(staffed: Services) -> Services:
    """The month of worked cases."""
    return with_cases(staffed)


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file below the folder that is not hidden, by its relative name."""
    return {
        name: path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and not hidden_name(name := path.relative_to(folder).as_posix())
    }


def hidden_name(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def hidden(folder: Path) -> list[str]:
    """What is hidden below the folder: staging folders, temporary files."""
    return sorted(
        name
        for path in folder.rglob("*")
        if hidden_name(name := path.relative_to(folder).as_posix())
    )


def staging_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(PREFIX))


def test_an_export_cut_off_before_its_commit_is_dropped_and_the_old_set_stays(
    tmp_path: Path,
) -> None:
    put(tmp_path, OLD)
    cut_off(tmp_path, NEW, committed=False)
    assert sweep(tmp_path) == []
    assert files_in(tmp_path) == OLD and staging_folders(tmp_path) == []


def test_an_export_cut_off_while_moving_is_finished_and_says_which_files_are_new(
    tmp_path: Path,
) -> None:
    put(tmp_path, OLD)
    cut_off(tmp_path, NEW, committed=True, moved=1)
    assert files_in(tmp_path) == OLD | {"superbills/2026-03-A1.pdf": b"new A1"}  # mixed
    [finished] = sweep(tmp_path)
    assert files_in(tmp_path) == NEW and staging_folders(tmp_path) == []
    assert finished.files == [tmp_path / name for name in NEW] and finished.moved == 2
    assert finished.sentence() == (
        f"The export of March to {tmp_path} was cut off while its files were being moved into "
        "place; ccmdesk has now finished it, so all 3 of its files there are new "
        "(2026-03-A1.pdf, claims.csv, handoff.pdf)."
    )


def test_a_sweep_never_moves_a_held_claim_file_into_place(tmp_path: Path) -> None:
    claim_file = {"claims-2026-03-mcr-b.x12": b"ISA*new"}
    put(tmp_path, OLD)
    cut_off(tmp_path, NEW | claim_file, committed=True, moved=1, held=tuple(claim_file))
    [finished] = sweep(tmp_path)
    assert files_in(tmp_path) == NEW and staging_folders(tmp_path) == []
    assert finished.files == [tmp_path / name for name in NEW]


def test_a_running_export_keeps_its_staging_folder_whoever_sweeps(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    with Staging.open(tmp_path, "export of March") as running:
        for name, data in NEW.items():
            with running.create(name) as out:
                out.write(data)
        assert sweep(tmp_path) == []
        # A second export into the folder at the same moment sweeps at its start and again
        # just before its files move: the first one's folder stays.
        with Staging.open(tmp_path, "export of April") as second:
            with second.create("april.csv") as out:
                out.write(b"april")
            second.publish()
        assert staging_folders(tmp_path) == [running.path.name]
        published = running.publish()
        assert [p.relative_to(tmp_path).as_posix() for p in published] == [*NEW]
    assert files_in(tmp_path) == NEW | {"april.csv": b"april"}
    assert staging_folders(tmp_path) == []


def test_an_export_cut_off_meanwhile_is_finished_before_a_later_one_moves_its_files(
    tmp_path: Path,
) -> None:
    with Staging.open(tmp_path, "export of April") as later:
        for name, data in NEW.items():
            with later.create(name) as out:
                out.write(data)
        cut_off(tmp_path, OLD, committed=True, moved=1)  # an earlier one, killed meanwhile
        later.publish()
    assert [f.what for f in later.finished] == ["export of March"]
    assert sweep(tmp_path) == [] and files_in(tmp_path) == NEW  # never the earlier on top


def test_staged_files_are_the_owners_alone(tmp_path: Path) -> None:
    with Staging.open(tmp_path) as staging:
        with staging.create("superbills/x.pdf") as out:
            out.write(b"%PDF")
        assert stat.S_IMODE(staging.path.stat().st_mode) == 0o700
        assert stat.S_IMODE((staging.path / FILES / "superbills/x.pdf").stat().st_mode) == 0o600
        with pytest.raises(ValueError, match="not a file name inside the folder"):
            staging.create("../outside.pdf")


def test_only_ccmdesks_own_leftovers_are_swept(tmp_path: Path) -> None:
    kept = [".git/HEAD", ".ccmdesk-exports/a", f"{PREFIX}notes.txt", ".handoff-2026-03.csv.x"]
    put(tmp_path, dict.fromkeys(kept, b"mine"))
    (tmp_path / f"{PREFIX}link").symlink_to(tmp_path / ".git", target_is_directory=True)
    assert sweep(tmp_path) == []
    assert all((tmp_path / name).read_bytes() == b"mine" for name in kept)
    assert (tmp_path / f"{PREFIX}link").is_symlink()


def test_temporary_files_of_earlier_versions_are_swept_once_an_hour_old(tmp_path: Path) -> None:
    old = [".handoff-2026-03.csv.k2j4h1ab", ".superbills-2026-03.pdf.a_b9z0qq",
           "superbills/.2026-03-S01.pdf.x1y2z3w4"]  # fmt: skip
    recent = [".claim-lines-2026-03.csv.m1n2o3p4", "superbills/.2026-03-S02.pdf.q1r2s3t4"]
    put(tmp_path, dict.fromkeys([*old, *recent, "handoff-2026-03.csv"], b"x"))
    two_hours_ago = time.time() - 7200
    for name in old:
        os.utime(tmp_path / name, (two_hours_ago, two_hours_ago))
    sweep(tmp_path)
    assert sorted(name for name in hidden(tmp_path) if "." in name) == sorted(recent)
    assert list(files_in(tmp_path)) == ["handoff-2026-03.csv"]


def test_the_start_sweeps_the_folders_noted_and_forgets_them_once_clear(tmp_path: Path) -> None:
    notes, a, b, gone = tmp_path / UNDER_WAY, tmp_path / "a", tmp_path / "b", tmp_path / "gone"
    put(a, OLD)
    dead = cut_off(a, NEW, committed=True)
    put(b, OLD)
    running = Staging.open(b, notes=notes)
    notes.joinpath(dead.name.lstrip(".")).write_text(f"{a}\n")
    notes.joinpath("ccmdesk-export-gone").write_text(f"{gone}\n")
    try:
        [finished] = sweep_noted(notes)
        assert finished.folder == a and files_in(a) == NEW and staging_folders(a) == []
        assert [p.name for p in notes.iterdir()] == [running.path.name.lstrip(".")]
    finally:
        running.close()
    assert list(notes.iterdir()) == [] and staging_folders(b) == []


def test_a_folder_in_the_way_stops_the_export_before_anything_moves(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    (tmp_path / "new.csv").mkdir()
    with Staging.open(tmp_path) as staging, pytest.raises(ServiceError, match="a folder has"):
        for name in ("claims.csv", "new.csv"):
            with staging.create(name) as out:
                out.write(b"new")
        staging.publish()
    assert files_in(tmp_path) == OLD and staging_folders(tmp_path) == []


# --- real exports, killed ------------------------------------------------------------------------

OLD_EPOCH, NEW_EPOCH = "1775000000", "1775100000"

CHILD = """
import os, sys, time
from pathlib import Path
from ccmdesk.db import open_database
from ccmdesk.services import Services
from tests.helpers.common import BILLER
from tests.helpers.scenario_cases import MONTH

url, folder, notes, stop_at = sys.argv[1:]
services = Services(open_database(url))
services.export_notes = Path(notes)
services.export.workers = 2  # the small month renders on workers as a big one would


def stop(point):
    print(point, flush=True)
    time.sleep(600)  # until killed


def progress(done, total):  # after each batch of superbills is staged
    if stop_at == "rendering":
        stop(stop_at)


def rename(source, target, rename=os.rename):  # the manifest's commit
    if stop_at == "committing" and target.name == "manifest.json":
        stop(stop_at)
    rename(source, target)


moved = []


def replace(source, target, replace=os.replace):  # the moves into place
    if stop_at == f"moving:{len(moved)}":
        stop(stop_at)
    replace(source, target)
    moved.append(target)


os.rename, os.replace = rename, replace
services.export.export(BILLER, MONTH, Path(folder), progress=progress)
print("finished", flush=True)
"""


def killed_export(db: Database, folder: Path, notes: Path, stop_at: str) -> set[int]:
    """Run an export in another process, SIGKILL it at `stop_at`, and return the processes it
    had started (its render workers)."""
    errors = folder.parent / f"stderr-{stop_at.replace(':', '-')}.txt"
    with errors.open("wb") as stderr, subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{db.sqlite_path}", str(folder), str(notes),
         stop_at],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
        env=os.environ | {"SOURCE_DATE_EPOCH": NEW_EPOCH},
    ) as child:  # fmt: skip
        try:
            assert child.stdout is not None
            said = child.stdout.readline().decode().strip()
            assert said == stop_at, errors.read_text()
            workers = descendants(child.pid)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    return workers


@pytest.fixture
def sets(team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """The folder `out` holding an earlier export (the old set); the new set, made from changed
    data at a later time, as an export that was not cut off writes it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", OLD_EPOCH)
    team.export.export(BILLER, MONTH, tmp_path / "out")
    team.review.sign(DOCTOR, "S02", MONTH)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", NEW_EPOCH)
    team.export.export(BILLER, MONTH, tmp_path / "reference")
    old, new = files_in(tmp_path / "out"), files_in(tmp_path / "reference")
    assert old.keys() == new.keys() and old[f"handoff-{MONTH}.csv"] != new[f"handoff-{MONTH}.csv"]
    return old, new


@LINUX_PROC
@pytest.mark.parametrize(
    ("stop_at", "whole"),
    [("rendering", "old"), ("committing", "old"), ("moving:0", "new"), ("moving:9", "new")],
)
def test_an_export_killed_anywhere_leaves_the_old_set_or_the_new_whole_after_the_start_sweep(
    db: Database, tmp_path: Path, sets: tuple[dict, dict], stop_at: str, whole: str
) -> None:
    old, new = sets
    folder, notes = tmp_path / "out", tmp_path / "data" / UNDER_WAY
    workers = killed_export(db, folder, notes, stop_at)
    if stop_at == "rendering":
        assert workers  # it rendered on workers, and they end with it
    assert gone_within(workers, 5) == set()
    # Until the sweep every file is the old one or the new one, and a manifest names the new.
    manifests = [json.loads(path.read_text()) for path in folder.glob(f".*/{MANIFEST}")]
    listed = [name for manifest in manifests for name in manifest["files"]]
    assert {name for name, data in files_in(folder).items() if data != old[name]} <= set(listed)
    assert all(data in (old[name], new[name]) for name, data in files_in(folder).items())

    finished = sweep_noted(notes)  # the app's start

    assert hidden(folder) == []  # nothing with patient data left behind
    assert files_in(folder) == (old if whole == "old" else new)
    assert list(notes.iterdir()) == []
    assert [f.files for f in finished] == ([] if whole == "old" else [[folder / n for n in listed]])


@LINUX_PROC
@pytest.mark.parametrize("stop_at", ["rendering", "moving:9"])
def test_the_next_export_into_the_folder_sweeps_what_a_killed_one_left(
    db: Database, team: Services, tmp_path: Path, sets: tuple[dict, dict], stop_at: str
) -> None:
    _, new = sets
    folder, notes = tmp_path / "out", tmp_path / "data" / UNDER_WAY
    killed_export(db, folder, notes, stop_at)
    assert hidden(folder)  # the cut left its files
    result = team.export.export(BILLER, MONTH, folder)
    assert files_in(folder) == new and hidden(folder) == []
    assert len(result.finished) == (stop_at != "rendering")
