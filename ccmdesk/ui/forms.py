"""Form helpers for dialogs and pages: inline field errors, value combos, message boxes."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.config import log_failure
from ccmdesk.errors import classify
from ccmdesk.rules.records import FieldError
from ccmdesk.services import ServiceError, ValidationFailed

log = logging.getLogger(__name__)

_COLUMN_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


class FieldErrorLabel(QLabel):
    """Red text under one input; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def set_error(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


def readable_error(label: str, message: str, labels: Mapping[str, str]) -> str:
    """A service message as a sentence beside its field.

    Services word messages for CSV users ("is required when consent_date is set"); beside a field
    the field's own label reads better, and other columns are named as their labels are.
    """
    message = _COLUMN_NAME.sub(lambda m: labels.get(m.group(0), m.group(0)).lower(), message)
    # "(2027-01-05) is in the past": the value the field holds, then what is wrong with it.
    if message.startswith(("is ", "are ", "must ", "has ", "contains ", "leaves ", "(")):
        return f"{label} {message}."
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def refusal_text(error: ServiceError, labels: Mapping[str, str]) -> str:
    """A refusal for a dialog that shows it in one place: each field's problem as a sentence
    naming the field by its label (as beside the field), never as "field: message"."""
    if not isinstance(error, ValidationFailed):
        return str(error)
    lines = (
        readable_error(labels.get(item.field, item.field.capitalize()), item.message, labels)
        for item in error.errors
    )
    return "\n".join(dict.fromkeys(lines))


class FormErrors:
    """Which input and error label belong to each field, so service errors land beside them."""

    def __init__(self, general: FieldErrorLabel | None = None) -> None:
        # Errors for fields no input shows (none expected) go to the general label.
        self._general = general
        self._fields: dict[str, tuple[str, QWidget, FieldErrorLabel]] = {}
        self._labels: dict[str, str] = {}

    def add(self, field: str, label: str, widget: QWidget, *aliases: str) -> QWidget:
        """Register an input; return the cell (input with its error label below) for a layout."""
        cell = QWidget()
        layout = QVBoxLayout(cell)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        error = FieldErrorLabel(cell)
        error.setAccessibleName(f"{label} error")
        layout.addWidget(error)
        for name in (field, *aliases):
            self._fields[name] = (label, widget, error)
            self._labels[name] = label
        return cell

    def widget(self, field: str) -> QWidget:
        return self._fields[field][1]

    def error_label(self, field: str) -> FieldErrorLabel:
        return self._fields[field][2]

    def error_text(self, field: str) -> str:
        """What is shown beside a field now ("" when nothing)."""
        return self._fields[field][2].text()

    def errors_shown(self) -> dict[str, str]:
        """Every field with an error now, by the field name it was registered under."""
        seen: set[int] = set()
        shown: dict[str, str] = {}
        for name, (_, _, error) in self._fields.items():
            if error.text() and id(error) not in seen:
                seen.add(id(error))
                shown[name] = error.text()
        return shown

    def clear(self) -> None:
        for _, _, error in self._fields.values():
            error.set_error("")
        if self._general is not None:
            self._general.set_error("")

    def show_refusal(self, error: ServiceError) -> None:
        """A service's refusal: each field's errors beside it, any other sentence below."""
        if isinstance(error, ValidationFailed):
            self.show(error.errors)
            return
        self.clear()
        if self._general is not None:
            self._general.set_error(str(error))

    def show(self, errors: Sequence[FieldError]) -> QWidget | None:
        """Show each error beside its field; return the first bad input in form order."""
        self.clear()
        by_label: dict[int, list[str]] = {}
        unplaced: list[str] = []
        unplaced_fields: list[str] = []
        for item in errors:
            entry = self._fields.get(item.field)
            if entry is None:
                unplaced.append(readable_error(item.field, item.message, self._labels))
                unplaced_fields.append(item.field)
                continue
            label, _, error = entry
            by_label.setdefault(id(error), []).append(
                readable_error(label, item.message, self._labels)
            )
        first: QWidget | None = None
        for _, widget, error in self._fields.values():
            messages = by_label.pop(id(error), None)
            if messages:
                error.set_error("\n".join(dict.fromkeys(messages)))
                if first is None:
                    first = widget
        if unplaced:
            if self._general is not None:
                self._general.set_error("\n".join(unplaced))
            else:
                # Field names only: the messages may quote what was typed.
                log.warning("errors for fields the form does not show: %s", unplaced_fields)
        return first


def align_labels(boxes: Sequence[QWidget]) -> None:
    """Give the form labels (object name "formLabel") of stacked groups one width, so their
    inputs line up."""
    labels = [label for box in boxes for label in box.findChildren(QLabel, "formLabel")]
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def focus_field(widget: QWidget, scroll: QScrollArea | None = None) -> None:
    """Put the cursor in a bad field, scrolled into view."""
    if scroll is not None:
        scroll.ensureWidgetVisible(widget)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)


def limit_typing(box: QComboBox, limit: int) -> None:
    """An editable combo box takes at most `limit` characters, like the field it fills."""
    editor = box.lineEdit()
    if editor is not None:
        editor.setMaxLength(limit)


class ValueComboBox(QComboBox):
    """A combo whose items show a label but stand for a stored value (a code, a staff id)."""

    def add_value(self, label: str, value: str) -> None:
        self.addItem(label, value)

    def value(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) else ""

    def set_value(self, value: str, missing_label: str | None = None) -> None:
        """Select value; a value not offered (say, a staff member now inactive) is added, so
        saving an unrelated change never silently drops it."""
        index = self.findData(value)
        if index < 0:
            self.addItem(missing_label or value, value)
            index = self.count() - 1
        self.setCurrentIndex(index)


# While ccmdesk is locked, messages (they may name a patient) wait for the unlock.
_held: list[QMessageBox] = []
_holding = False


def hold_messages(hold: bool) -> None:
    """Locked (True): message boxes wait, unshown. Unlocked: they are shown now."""
    global _holding
    _holding = hold
    if not hold:
        boxes = list(_held)
        _held.clear()
        for box in boxes:
            box.open()


def drop_held_messages() -> None:
    """Someone else signed in at the lock screen: the waiting messages were not for them."""
    for box in _held:
        box.deleteLater()
    _held.clear()


def _present(
    parent: QWidget | None, icon: QMessageBox.Icon, name: str, title: str, message: str
) -> QMessageBox:
    """A message box that does not block the caller (window-modal, opened, returned), held
    back while the window is locked."""
    box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if _holding:
        _held.append(box)
    else:
        box.open()
    return box


def show_error(parent: QWidget | None, message: str, title: str = "ccmdesk") -> QMessageBox:
    """A warning box that does not block the caller (window-modal, opened, returned)."""
    return _present(parent, QMessageBox.Icon.Warning, "errorMessage", title, message)


def step_buttons(unit: str, side: int) -> tuple[QToolButton, QToolButton]:
    """The "‹" and "›" buttons that step a page's day or week: square, `side` pixels, as tall
    as what sits beside them. Angle quotes rather than the style's arrows: those are drawn a
    few pixels wide."""
    buttons = []
    for mark, where in (("‹", "Previous"), ("›", "Next")):
        button = QToolButton()
        button.setText(mark)
        button.setToolTip(f"{where} {unit}")
        button.setAccessibleName(f"{where} {unit}")
        button.setFixedSize(side, side)
        font = button.font()
        font.setPixelSize(side)
        font.setBold(True)
        button.setFont(font)
        buttons.append(button)
    return buttons[0], buttons[1]


def hint_label(text: str = "") -> QLabel:
    """The grey, wrapped line that says what a control is for."""
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def plain(label: QLabel) -> QLabel:
    """A label that shows its text as typed: names and notes from an import may hold `<`,
    and an automatic guess would draw them as HTML."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def show_info(parent: QWidget | None, message: str, title: str = "ccmdesk") -> QMessageBox:
    return _present(parent, QMessageBox.Icon.Information, "infoMessage", title, message)


def show_failure(parent: QWidget | None, error: BaseException) -> QMessageBox:
    """A refused action shows its own sentence; anything else is a bug, logged (by its kind and
    where it happened, without its message)."""
    if isinstance(error, ServiceError):
        return show_error(parent, str(error))
    known = classify(error)  # a busy, full, read-only or damaged database: not a bug
    if known is not None:
        log_failure(log, f"known error {type(known).__name__}", error)
        return show_error(parent, str(known))
    log_failure(log, "unexpected error", error)
    return show_error(
        parent,
        f"Something went wrong that ccmdesk did not expect:\n\n{error!r}\n\n"
        "Nothing was lost that was already saved. Please tell your administrator.",
    )


class ReasonDialog(QDialog):
    """Ask why (unlocking a signed month, reopening a closed one); the reason is required."""

    def __init__(self, title: str, explanation: str, action: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("reasonDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        text = plain(QLabel(explanation))
        text.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("Why (kept in the audit trail)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(self.reason.fontMetrics().height() * 4 + 16)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setEnabled(False)
        self.reason.textChanged.connect(
            lambda: self.ok_button.setEnabled(bool(self.reason.toPlainText().strip()))
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.reason)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.reason.toPlainText().strip()


def ask(
    parent: QWidget,
    name: str,
    title: str,
    text: str,
    action: str,
    then: Callable[[], object],
    *,
    otherwise: Callable[[], object] | None = None,
    yes: QMessageBox.StandardButton = QMessageBox.StandardButton.Yes,
    keep: str = "Cancel",
) -> QMessageBox:
    """Ask before an action without blocking (not exec(): nothing else waits on the window
    meanwhile). The box, named `name`, deletes itself when closed; `then` runs once the person
    chooses `action` (the `yes` button), `otherwise` when they keep things as they are."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, yes | QMessageBox.StandardButton.Cancel, parent
    )
    box.setObjectName(name)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.button(yes).setText(action)
    box.button(QMessageBox.StandardButton.Cancel).setText(keep)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(answer: int) -> None:
        if answer == yes.value:
            then()
        elif otherwise is not None:
            otherwise()

    box.finished.connect(answered)
    box.open()
    return box


def ask_reason(
    parent: QWidget, title: str, explanation: str, action: str, then: Callable[[str], object]
) -> ReasonDialog:
    """Open a ReasonDialog (it deletes itself when closed); once accepted, `then` is given
    the reason."""
    dialog = ReasonDialog(title, explanation, action, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(lambda: then(dialog.text()))
    dialog.open()
    return dialog
