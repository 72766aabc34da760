"""The export dialog on the billing page: folder, progress, cancel, and a clear refusal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ccmdesk.services import Actor, Services
from ccmdesk.services.export import ExportResult
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.export_dialog import ExportDialog
from ccmdesk.ui.pages.billing import BillingPage
from tests.helpers.common import FakeClock
from tests.helpers.ui import MONTH, NOW, HeldRunner

AFTER_MARCH = dt.datetime(2026, 4, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def march_has_ended(clock: FakeClock) -> None:
    """The tests export March once it has ended; the open-month ones move the clock back."""
    clock.now = AFTER_MARCH


def billing_page(qtbot: QtBot, services: Services, actor: Actor) -> BillingPage:
    page = BillingPage(services, lambda: actor, InlineTaskRunner())
    qtbot.addWidget(page)
    page.set_month(MONTH)
    return page


def test_billing_staff_export_the_month_on_screen_into_a_folder(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    page = billing_page(qtbot, month_data, biller)
    dialog = page.export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    assert dialog.windowTitle() == "Export March 2026"
    dialog.start()
    assert (
        dialog.outcome is not None and dialog.progress_bar.value() == dialog.progress_bar.maximum()
    )
    assert dialog.status.text().startswith(
        f"Exported to {tmp_path / 'march'}: 6 patients, 2 billable"
    )
    names = sorted(p.name for p in (tmp_path / "march").iterdir())
    assert names == ["claim-lines-2026-03.csv", "handoff-2026-03.csv", "handoff-2026-03.pdf",
                     "superbills", "superbills-2026-03.pdf"]  # fmt: skip
    assert dialog.export_button.isEnabled() and dialog.cancel_button.isHidden()


def test_an_earlier_export_cut_off_in_the_folder_is_finished_and_said(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    from tests.helpers.staging import NEW, cut_off

    cut_off(tmp_path / "march", NEW, committed=True, moved=1)
    dialog = billing_page(qtbot, month_data, biller).export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    dialog.start()
    assert dialog.status.text().endswith(
        " files. No claim file: no signed, claim-ready month left to send."
        f" The export of March to {tmp_path / 'march'} was cut off while its files were "
        "being moved into place; ccmdesk has now finished it, so all 3 of its files there are "
        "new (2026-03-A1.pdf, claims.csv, handoff.pdf)."
    )
    assert (tmp_path / "march" / "claims.csv").read_bytes() == b"new claims"


def test_cancelling_writes_nothing(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    page = billing_page(qtbot, month_data, biller)
    dialog = page.export_month(tmp_path / "out")
    assert dialog is not None

    class CancelledAtOnce:
        def run(self, work, done, failed) -> None:  # type: ignore[no-untyped-def]
            dialog.cancel()  # the person presses Cancel as soon as it starts
            InlineTaskRunner().run(work, done, failed)

    dialog._runner = CancelledAtOnce()  # type: ignore[assignment]
    dialog.start()
    assert dialog.status.text() == "Export stopped; nothing was written."
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_folder_that_cannot_be_written_is_said_clearly(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    dialog = billing_page(qtbot, month_data, biller).export_month(blocker / "inside")
    assert dialog is not None
    dialog.start()
    assert dialog.status.text().startswith("Not exported: The export could not be written")


def test_the_export_is_offered_to_billing_staff_and_administrators_only(
    qtbot: QtBot, month_data: Services, nurse: Actor, admin: Actor
) -> None:
    doctor = month_data.staff.actor_for("dr-okafor")
    assert billing_page(qtbot, month_data, doctor).export_button.isHidden()
    assert not billing_page(qtbot, month_data, admin).export_button.isHidden()


def test_the_dialog_says_superbill_n_of_m_then_that_it_writes_the_files(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    page = billing_page(qtbot, month_data, biller)
    dialog = page.export_month(tmp_path / "out")
    assert isinstance(dialog, ExportDialog)
    dialog._runner = HeldRunner()  # type: ignore[assignment]
    dialog.start()
    progress = dialog._progress
    assert progress is not None
    progress.report(1, 3)
    dialog._show_progress()
    assert dialog.status.text() == "Superbill 1 of 2…" and dialog.progress_bar.value() == 1
    progress.report(2, 3)
    dialog._show_progress()
    assert dialog.status.text() == "Writing the handoff report and the files…"


def test_quitting_the_app_mid_export_stops_it_and_leaves_nothing(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    page = billing_page(qtbot, month_data, biller)
    dialog = page.export_month(tmp_path / "out")
    assert isinstance(dialog, ExportDialog)
    runner = HeldRunner()
    dialog._runner = runner  # type: ignore[assignment]
    dialog.start()
    QCoreApplication.instance().aboutToQuit.emit()  # type: ignore[union-attr]
    runner.finish()
    assert dialog.status.text() == "Export stopped; nothing was written."
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_long_status_grows_the_dialog_and_a_busy_database_is_said(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path, monkeypatch: Any
) -> None:
    from ccmdesk.errors import BUSY_MESSAGE, DatabaseBusy

    page = billing_page(qtbot, month_data, biller)
    deep = tmp_path.joinpath(*[f"folder-with-a-long-name-{n}" for n in range(8)])
    dialog = page.export_month(deep)
    assert isinstance(dialog, ExportDialog)
    qtbot.waitExposed(dialog)
    before = dialog.height()
    dialog.start()
    layout = dialog.layout()
    # The whole sentence fits: the dialog is as tall as its layout needs at its width.
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width()) > before

    def busy(*_args: object, **_kwargs: object) -> None:
        raise DatabaseBusy(BUSY_MESSAGE)

    monkeypatch.setattr(month_data.export, "export", busy)
    dialog.start()
    assert dialog.status.text() == f"Not exported: {BUSY_MESSAGE}"


def open_month_question(dialog: ExportDialog) -> QMessageBox:
    boxes = [b for b in dialog.findChildren(QMessageBox, "openMonthQuestion") if b.isVisible()]
    assert len(boxes) == 1
    return boxes[0]


def test_a_month_not_ended_is_exported_only_once_the_person_confirms(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = NOW  # 16 March: the month is under way
    dialog = billing_page(qtbot, month_data, biller).export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    dialog.start()
    question = open_month_question(dialog)
    assert "March 2026 has not ended yet: it ends on 31 Mar 2026." in question.text()
    question.button(QMessageBox.StandardButton.Cancel).click()
    assert dialog.status.text() == "Not exported: the month has not ended."
    assert not (tmp_path / "march").exists() and dialog.outcome is None
    dialog.start()
    open_month_question(dialog).button(QMessageBox.StandardButton.Yes).click()
    assert dialog.outcome is not None and dialog.outcome.month_open
    assert dialog.status.text().startswith(f"Exported to {tmp_path / 'march'}: 6 patients")
    assert "No claim file: the month has not ended." in dialog.status.text()


def test_an_ended_month_is_exported_without_a_question(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    dialog = billing_page(qtbot, month_data, biller).export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    dialog.start()
    assert not dialog.findChildren(QMessageBox, "openMonthQuestion")
    assert dialog.outcome is not None and not dialog.outcome.month_open


def test_resending_is_the_persons_choice_and_the_claim_files_are_said(
    qtbot: QtBot,
    month_data: Services,
    biller: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[dict[str, Any]] = []

    def export(actor: Actor, month: str, folder: Path, **choices: Any) -> ExportResult:
        asked.append(choices)
        return ExportResult(month, folder, patients=6, billable=2,
                            claim_files=[("claims-2026-03-mcr-b.x12", 3)])  # fmt: skip

    monkeypatch.setattr(month_data.export, "export", export)
    dialog = billing_page(qtbot, month_data, biller).export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    assert dialog.resend.text() == "Send already-sent claims again"
    assert not dialog.resend.isChecked()
    dialog.resend.setChecked(True)
    dialog.start()
    assert asked[0]["resend"] is True and asked[0]["allow_open_month"] is False
    assert dialog.status.text().endswith(
        "0 files. Claim files: claims-2026-03-mcr-b.x12 (3 claims)."
    )


def test_the_billing_page_reads_the_month_again_once_an_export_is_done(
    qtbot: QtBot, month_data: Services, biller: Actor, tmp_path: Path
) -> None:
    # The claims an export sends read "Sent (file)" in the Claim column at once.
    page = billing_page(qtbot, month_data, biller)
    read: list[str] = []
    original = month_data.billing.month

    def month(actor: Actor, name: str) -> Any:
        read.append(name)
        return original(actor, name)

    month_data.billing.month = month  # type: ignore[method-assign]
    dialog = page.export_month(tmp_path / "march")
    assert isinstance(dialog, ExportDialog)
    dialog.start()
    assert read == [MONTH]
