"""Export a month for billing: choose a folder, watch the progress, cancel if need be."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.config import log_failure
from ccmdesk.errors import classify
from ccmdesk.rules.intervals import date_text, month_label
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.export import ExportCancelled, ExportResult
from ccmdesk.ui.background import TaskRunner
from ccmdesk.ui.forms import ask, hint_label, plain

POLL_MS = 100
log = logging.getLogger(__name__)


class _Progress:
    """What the worker thread reports and what the dialog asks of it, behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = 0
        self.total = 0
        self.stop = threading.Event()

    def report(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total

    def read(self) -> tuple[int, int]:
        with self._lock:
            return self.done, self.total


class ExportDialog(QDialog):
    """The month's handoff, superbills and CSV files, written off the GUI thread."""

    # An export finished: claims it sent are now "Sent" wherever the month is shown.
    exported = Signal(object)  # ExportResult

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        month: str,
        folder: Path,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export {month_label(month)}")
        self.setMinimumWidth(520)
        self._services = services
        self._actor = actor
        self._month = month
        self._runner = runner
        self._progress: _Progress | None = None
        self._quit_app: QCoreApplication | None = None
        self.outcome: ExportResult | None = None

        heading = QLabel(f"Export {month_label(month)} for billing")
        heading.setObjectName("dialogHeading")
        explanation = hint_label(
            "Writes the handoff report (with both CSV files attached), every billable "
            "patient's superbill (one file each and all in one), the handoff and "
            "claim-line CSV files, and a claim file (837P) for each payer with signed, "
            "claim-ready months not sent before."
        )
        self.folder = QLineEdit(str(folder))
        self.folder.setObjectName("exportFolder")
        self.folder.setAccessibleName("Folder")
        self.browse_button = QPushButton("Choose…")
        self.signed_only = QCheckBox("Signed months only (superbills and claim lines)")
        self.resend = QCheckBox("Send already-sent claims again")
        self.resend.setToolTip(
            "Claims an earlier export put in a claim file are left out unless this is ticked."
        )
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("exportProgress")
        self.progress_bar.setVisible(False)
        self.status = plain(QLabel())
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.setObjectName("primaryButton")
        self.cancel_button = self.buttons.addButton(
            "Cancel export", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.cancel_button.setVisible(False)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(explanation)
        layout.addLayout(folder_row)
        layout.addWidget(self.signed_only)
        layout.addWidget(self.resend)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._show_progress)
        self.browse_button.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.rejected.connect(self.reject)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def running(self) -> bool:
        return self._progress is not None

    def start(self) -> None:
        """Export on a worker thread; a month that has not ended is exported only once the
        person confirms it (a question the dialog opens, answered in `_after_open_question`)."""
        if self.running():
            return
        try:
            last_day = self._services.export.unfinished_month_end(self._month)
        except Exception as error:  # a busy or damaged database is said, as for the export
            self._failed(error)
            return
        if last_day is None:
            self._export(allow_open_month=False)
            return
        ask(
            self, "openMonthQuestion", "Month not ended",
            f"{month_label(self._month)} has not ended yet: it ends on {date_text(last_day)}. "
            "Its minutes may still change, and no claim file is written for it.\n\n"
            "Export it anyway?",
            "Export anyway", lambda: self._export(allow_open_month=True),
            otherwise=lambda: self._say("Not exported: the month has not ended."),
        )  # fmt: skip

    def _export(self, *, allow_open_month: bool) -> None:
        folder = Path(self.folder.text().strip()).expanduser()
        progress = self._progress = _Progress()
        app = QCoreApplication.instance()
        if app is not None:
            # Quitting mid-export stops it (the app waits for it to unwind): a process ended
            # in the middle of writing could leave a temporary file behind.
            app.aboutToQuit.connect(progress.stop.set)
            self._quit_app = app
        actor, month, signed_only = self._actor(), self._month, self.signed_only.isChecked()
        resend = self.resend.isChecked()
        self._set_running(True)
        self.status.setText("Exporting…")
        self._runner.run(
            lambda: self._services.export.export(
                actor,
                month,
                folder,
                signed_only=signed_only,
                resend=resend,
                allow_open_month=allow_open_month,
                progress=progress.report,
                cancelled=progress.stop.is_set,
            ),
            self._finished,
            self._failed,
        )

    def cancel(self) -> None:
        if self._progress is not None:
            self._progress.stop.set()
            self.status.setText("Stopping…")

    def reject(self) -> None:
        # Closing while it runs stops the export; nothing half-written stays behind.
        self.cancel()
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running or self.progress_bar.value() > 0)
        self.export_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.folder.setEnabled(not running)
        self.browse_button.setEnabled(not running)
        self.signed_only.setEnabled(not running)
        self.resend.setEnabled(not running)
        if running:
            self.progress_bar.setRange(0, 0)
            self._timer.start()
        else:
            self._timer.stop()

    def _show_progress(self) -> None:
        if self._progress is None:
            return
        done, total = self._progress.read()
        if total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
            if done < total - 1:
                self.status.setText(f"Superbill {done:,} of {total - 1:,}…")
            else:
                self.status.setText("Writing the handoff report and the files…")

    def _let_go_of_quit(self, progress: _Progress | None) -> None:
        if progress is not None and self._quit_app is not None:
            self._quit_app.aboutToQuit.disconnect(progress.stop.set)
            self._quit_app = None

    def _finished(self, result: ExportResult) -> None:
        self._let_go_of_quit(self._progress)
        self._progress = None
        self.outcome = result
        self._set_running(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setVisible(True)
        self._say(
            f"Exported to {result.folder}: {result.patients:,} patients, {result.billable:,} "
            f"billable, {len(result.files):,} files."
            + _claim_files_sentence(result)
            + "".join(f" {earlier.sentence()}" for earlier in result.finished)
        )
        self.exported.emit(result)

    def _say(self, text: str) -> None:
        """Show a status sentence, growing the dialog so a long one (a folder path, a
        database's damage) is not clipped: a shown window does not grow by itself."""
        self.status.setText(text)
        layout = self.layout()
        assert layout is not None  # set in __init__
        layout.activate()
        wanted = (
            layout.totalHeightForWidth(self.width())
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if wanted > self.height():
            self.resize(self.width(), wanted)

    def _failed(self, error: BaseException) -> None:
        self._let_go_of_quit(self._progress)
        self._progress = None
        self._set_running(False)
        known = classify(error)  # a busy, full or damaged database is said, not a bug
        if isinstance(error, ExportCancelled):
            self._say("Export stopped; nothing was written.")
        elif isinstance(error, ServiceError):
            self._say(f"Not exported: {error}")
        elif known is not None:
            log_failure(log, f"export failed: {type(known).__name__}", error)
            self._say(f"Not exported: {known}")
        else:
            log_failure(log, "export failed", error)
            self._say("Not exported: an unexpected error; see the log.")


def _claim_files_sentence(result: ExportResult) -> str:
    if result.month_open:
        return " No claim file: the month has not ended."
    if not result.claim_files:
        return " No claim file: no signed, claim-ready month left to send."
    files = "; ".join(
        f"{name} ({claims:,} claim{'' if claims == 1 else 's'})"
        for name, claims in result.claim_files
    )
    return f" Claim files: {files}."
