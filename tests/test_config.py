"""The data folder's open-folder marker: whether the last ccmdesk window ended without quitting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccmdesk.config import (
    DEFAULT_GLOBAL_SHORTCUT,
    GLOBAL_SHORTCUT,
    RUNNING_FILE,
    SETTINGS_FILE,
    ConfigError,
    database_url,
    ended_badly,
    global_shortcut,
    mark_running,
    unmark_running,
    write_setting,
)


def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_clean_quit_is_not_an_unclean_exit(tmp_path: Path) -> None:
    assert not ended_badly(tmp_path)  # never run here
    mark_running(tmp_path)
    unmark_running(tmp_path)
    assert not ended_badly(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="processes are not asked about on Windows")
def test_a_marker_left_by_a_dead_process_is_an_unclean_exit(tmp_path: Path) -> None:
    (tmp_path / RUNNING_FILE).write_text(f"{dead_pid()}\n", encoding="ascii")
    assert ended_badly(tmp_path)
    (tmp_path / RUNNING_FILE).write_text("", encoding="ascii")  # cut off while written
    assert ended_badly(tmp_path)


def window_holding(folder: Path) -> subprocess.Popen[str]:
    """Another ccmdesk process with the folder open: it has marked it and waits."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from pathlib import Path\n"
            "from ccmdesk.config import mark_running\n"
            f"mark_running(Path({str(folder)!r}))\n"
            "print('open', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "open\n"
    return child


def reap(child: subprocess.Popen[str]) -> None:
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()
    child.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="processes are not asked about on Windows")
def test_a_marker_of_a_process_still_running_is_not_an_unclean_exit(tmp_path: Path) -> None:
    child = window_holding(tmp_path)
    try:
        assert not ended_badly(tmp_path)
    finally:
        child.kill()
        reap(child)
    mark_running(tmp_path)  # this process's own
    try:
        assert not ended_badly(tmp_path)
    finally:
        unmark_running(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="no advisory locks on Windows")
def test_a_window_killed_a_moment_ago_is_an_unclean_exit_though_its_id_lingers(
    tmp_path: Path,
) -> None:
    # Killed and not yet reaped by its parent (here, this test): the process id still exists
    # as a zombie, which a restart seconds after a crash met, and took for a live window.
    child = window_holding(tmp_path)
    child.kill()
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, left unreaped
        os.kill(child.pid, 0)  # the id is still there
        assert ended_badly(tmp_path)
    finally:
        reap(child)


def test_the_global_shortcut_is_read_saved_and_turned_off_beside_other_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CCMDESK_DATABASE_URL", raising=False)
    assert global_shortcut(tmp_path) == DEFAULT_GLOBAL_SHORTCUT  # no settings file yet
    (tmp_path / SETTINGS_FILE).write_text('{"database_url": "postgresql://db/ccm"}')
    write_setting(tmp_path, GLOBAL_SHORTCUT, "Ctrl+Alt+F9")
    assert global_shortcut(tmp_path) == "Ctrl+Alt+F9"
    assert database_url(tmp_path) == "postgresql://db/ccm"  # IT's setting kept
    write_setting(tmp_path, GLOBAL_SHORTCUT, "")
    assert global_shortcut(tmp_path) == ""  # off, not the default again
    assert not list(tmp_path.glob("*.tmp"))


def test_a_damaged_settings_file_is_not_overwritten_by_the_shortcut(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text("{not json")
    assert global_shortcut(tmp_path) == DEFAULT_GLOBAL_SHORTCUT
    with pytest.raises(ConfigError, match="cannot read settings"):
        write_setting(tmp_path, GLOBAL_SHORTCUT, "Ctrl+Alt+F9")
    assert (tmp_path / SETTINGS_FILE).read_text() == "{not json"
