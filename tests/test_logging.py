"""The log file in the data folder holds no patient data: no names, MRNs or notes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccmdesk.config import setup_logging
from ccmdesk.services import Services
from ccmdesk.services.auth import SignInRefused
from tests.helpers.common import BILLER, CLI, NURSE, patient_text

SECRETS = ("Quillfeather", "Zebediah", "QX99871", "zebra-pancake-note")


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level = root.level
    path = setup_logging(tmp_path / "data")
    yield path
    for handler in [h for h in root.handlers if getattr(h, "ccmdesk", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def test_a_day_of_work_and_its_failures_leave_no_patient_data_in_the_log(
    qtbot, log_file: Path, staffed: Services, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

    from ccmdesk.rules.records import FieldError
    from ccmdesk.ui.forms import FormErrors, show_failure

    services = staffed
    services.patients.save_text(
        CLI, patient_text(mrn="QX99871", last_name="Quillfeather", first_name="Zebediah")
    )
    start = dt.datetime(2026, 4, 2, 14, 0, tzinfo=dt.UTC)
    services.entries.add_manual(NURSE, "QX99871", start, start + dt.timedelta(minutes=25),
                                  reason="call", note="zebra-pancake-note")  # fmt: skip
    services.auth.set_password(CLI, "rn-lee", "correct horse battery")
    with pytest.raises(SignInRefused):
        services.auth.sign_in("rn-lee", "Quillfeather QX99871")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    with pytest.raises(Exception, match="not a folder"):
        services.export.export(BILLER, "2026-04", blocked)
    services.export.export(BILLER, "2026-04", tmp_path / "out", allow_open_month=True)
    services.backups.take(CLI, tmp_path / "copy.sqlite3")

    # What the GUI logs: an unexpected error (a bug) whose message quotes the patient, and
    # field errors a form cannot place, quoting what was typed.
    widget = QWidget()
    qtbot.addWidget(widget)
    original = QMessageBox.exec
    QMessageBox.exec = lambda self: 0  # type: ignore[method-assign]
    try:
        try:
            # As real code would: the message built from the data (the source line has none).
            raise RuntimeError(f"failed for {' '.join(SECRETS)}")
        except RuntimeError as error:
            show_failure(widget, error)
    finally:
        QMessageBox.exec = original  # type: ignore[method-assign]
    errors = FormErrors()
    field = QLineEdit()
    qtbot.addWidget(field)
    cell = errors.add("name", "Name", field)
    qtbot.addWidget(cell)
    errors.show([FieldError("mrn", "'QX99871' is taken by Quillfeather")])

    logging.getLogger().handlers[-1].flush()
    text = log_file.read_text(encoding="utf-8")
    assert "unexpected error: RuntimeError" in text  # the bug is in the log, by kind and place
    assert "errors for fields the form does not show: ['mrn']" in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_the_data_folder_and_every_log_file_even_after_rotation_are_owner_only(
    tmp_path: Path,
) -> None:
    import stat

    data = tmp_path / "fresh" / "data"
    root = logging.getLogger()
    level = root.level
    path = setup_logging(data)
    try:
        handler = next(h for h in root.handlers if getattr(h, "ccmdesk", False))
        handler.doRollover()  # type: ignore[attr-defined]
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.with_name(path.name + ".1").stat().st_mode) == 0o600
    finally:
        for handler in [h for h in root.handlers if getattr(h, "ccmdesk", False)]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
