"""The problems found in CSV files that were refused: every one, to read, copy and fix."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


def shorten(problems: Sequence[str], paths: Sequence[Path]) -> tuple[list[str], Path | None]:
    """Problems with the shared folder of the files cut off, and that folder (if there is one).

    Every problem starts with the file's full path; beside one another they push the line
    numbers and messages out of view.
    """
    folders = {Path(path).parent for path in paths}
    if len(folders) != 1:
        return list(problems), None
    folder = folders.pop()
    prefix = f"{folder}{os.sep}"
    return [p.removeprefix(prefix) for p in problems], folder


class ImportProblemsDialog(QDialog):
    """Nothing was imported: here is each problem as FILE:LINE: COLUMN: message."""

    def __init__(
        self,
        problems: Sequence[str],
        paths: Sequence[Path] = (),
        parent: QWidget | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importProblemsDialog")
        self.setWindowTitle("Nothing was imported")
        lines, folder = shorten(problems, paths)
        count = max(total or 0, len(problems))
        listed = f"; the first {len(problems):,} are listed" if count > len(problems) else ""
        heading = QLabel(
            f"Nothing was imported: {count:,} problem{'s' if count != 1 else ''}{listed}"
        )
        heading.setObjectName("dialogHeading")
        where = f" (files in {folder})" if folder else ""
        intro = QLabel(
            "An import is all or nothing, so the database is unchanged. Each line below is "
            f"FILE:LINE: COLUMN: problem{where}. Fix the files and import them again."
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("problemList")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText("\n".join(lines))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = self.buttons.addButton(
            "Copy all", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.copy_button.clicked.connect(self.copy)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.buttons)
        self.resize(900, 480)
        self.problems = list(problems)

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText("\n".join(self.problems))
