"""Stopwatch ▸ Global shortcut…: choose this workstation's combination, or turn it off."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QKeySequenceEdit,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.config import ConfigError
from ccmdesk.ui.forms import hint_label
from ccmdesk.ui.global_shortcut import GlobalShortcut

WHAT_IT_DOES = (
    "Press it in any program to start the stopwatch of your last patient, or to stop the "
    "running one and save it (ccmdesk comes to the front with the Stop dialog). Set for this "
    "computer, whoever signs in."
)


class GlobalShortcutDialog(QDialog):
    """The combination (a key sequence field), Off, whether this desktop allows it, Save."""

    def __init__(
        self,
        shortcut: GlobalShortcut,
        current: str,
        save: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        """`current`: the combination saved ("" off); `save` keeps a new one (ConfigError)."""
        super().__init__(parent)
        self.setWindowTitle("Global shortcut — ccmdesk")
        self.setObjectName("globalShortcutDialog")
        self._shortcut = shortcut
        self._saved = current
        self._save = save
        self.keys = QKeySequenceEdit(QKeySequence(current))
        self.keys.setObjectName("globalShortcutKeys")
        self.keys.setAccessibleName("Global shortcut")
        self.keys.setMaximumSequenceLength(1)
        self.keys.setClearButtonEnabled(True)
        self.off = QCheckBox("Off: no global shortcut on this computer")
        self.off.setChecked(not current)
        self.off.toggled.connect(lambda off: self.keys.setEnabled(not off))
        self.keys.setEnabled(bool(current))
        available = shortcut.available()
        self.where = hint_label(WHAT_IT_DOES if available else shortcut.why_unavailable())
        self.where.setObjectName("globalShortcutWhere")
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        if not available:
            # Nothing to choose here: the sentence says why and what to use instead.
            for widget in (self.keys, self.off, self.save_button):
                widget.setEnabled(False)
            buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start or stop the stopwatch from any program with:"))
        layout.addWidget(self.keys)
        layout.addWidget(self.off)
        layout.addWidget(self.where)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def chosen(self) -> str:
        """The combination as QKeySequence writes it ("" when off or empty)."""
        if self.off.isChecked():
            return ""
        return self.keys.keySequence().toString(QKeySequence.SequenceFormat.PortableText)

    def apply(self) -> None:
        """Grab the new combination, then keep it; a refusal leaves the old one in force."""
        text = self.chosen()
        if not text and not self.off.isChecked():
            self._refuse("Press a key combination, or tick Off.")
            return
        refused = self._shortcut.set_shortcut(text)
        if refused:
            self._shortcut.set_shortcut(self._saved)  # the old one back, as it was
            self._refuse(refused)
            return
        try:
            self._save(text)
        except ConfigError as error:
            self._refuse(f"{error} The shortcut works until ccmdesk closes.")
            return
        self.accept()

    def _refuse(self, sentence: str) -> None:
        self.problem.setText(sentence)
        self.problem.show()
