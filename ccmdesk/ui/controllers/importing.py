"""Importing CSV files from the File menu: choosing them, the progress, and the outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from ccmdesk.services import Actor, ImportFailed, ImportSummary, Permission, Services, allowed
from ccmdesk.ui.background import TaskRunner
from ccmdesk.ui.forms import show_failure, show_info
from ccmdesk.ui.import_dialog import ImportProblemsDialog
from ccmdesk.ui.state import GuiState

LAST_IMPORT_DIR = "last_import_dir"


class ImportController(QObject):
    """Runs an import in one transaction on the task runner and shows what came of it."""

    def __init__(
        self,
        window: QWidget,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner,
        state: GuiState,
        imported: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._services = services
        self._actor = actor
        self._runner = runner
        self._state = state
        self._imported = imported

    def choose_files(self) -> None:
        start = self._state.get(LAST_IMPORT_DIR) or str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(
            self._window, "Import CSV files", start, "CSV files (*.csv);;All files (*)"
        )
        if paths:
            self._state.set(LAST_IMPORT_DIR, str(Path(paths[0]).parent))
            self.import_files([Path(p) for p in paths])

    def import_files(self, paths: Sequence[Path]) -> None:
        """Import the files in one transaction; show the outcome or every problem."""
        actor = self._actor()
        if not allowed(actor, Permission.IMPORT_DATA):
            return
        paths = list(paths)
        window = self._window
        progress = QProgressDialog("Importing…", "", 0, 0, window)
        progress.setObjectName("importProgress")
        progress.setWindowTitle("Import CSV files")
        progress.setCancelButton(None)  # one transaction: there is no half-way to stop at
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def finish() -> None:
            # reset() also stops the timer that would show the dialog after the fact.
            progress.reset()
            progress.close()
            progress.deleteLater()

        def done(summary: ImportSummary) -> None:
            finish()
            lines = summary.lines()
            self._imported()
            show_info(
                window,
                "Imported:\n" + "\n".join(lines) if lines else "The files held nothing new.",
                "Import finished",
            )

        def failed(error: BaseException) -> None:
            finish()
            if isinstance(error, ImportFailed):
                dialog = ImportProblemsDialog(error.problems, paths, window, error.total)
                dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                dialog.open()
            else:
                show_failure(window, error)

        self._runner.run(lambda: self._services.imports.import_paths(actor, paths), done, failed)
