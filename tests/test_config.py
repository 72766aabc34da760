"""The data folder's open-folder marker: whether the last ccmdesk window ended without quitting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccmdesk.config import RUNNING_FILE, ended_badly, mark_running, unmark_running


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


@pytest.mark.skipif(sys.platform == "win32", reason="processes are not asked about on Windows")
def test_a_marker_of_a_process_still_running_is_not_an_unclean_exit(tmp_path: Path) -> None:
    (tmp_path / RUNNING_FILE).write_text(f"{os.getppid()}\n", encoding="ascii")
    assert not ended_badly(tmp_path)
    mark_running(tmp_path)  # this process's own
    assert not ended_badly(tmp_path)
