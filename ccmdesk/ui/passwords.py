"""Set a colleague's password (administrators), change one's own, or set one's unlock PIN."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.passwords import MIN_PASSWORD, PIN_DIGITS
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import FieldErrorLabel, plain
from ccmdesk.ui.sign_in import password_field


def _lay_out(
    dialog: QDialog,
    heading: QLabel,
    intro: QLabel,
    form: QFormLayout,
    error: FieldErrorLabel,
    ok_text: str,
) -> QPushButton:
    """Heading, explanation, fields, error line and OK/Cancel, top to bottom; the OK button."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    for widget in (heading, intro):
        layout.addWidget(widget)
    layout.addLayout(form)
    layout.addWidget(error)
    layout.addWidget(buttons)
    dialog.setMinimumWidth(420)
    return ok


class PasswordDialog(QDialog):
    """A new password for `staff_id`: one's own (the current one first) or, for an
    administrator, anyone's (which also lifts a lock-out)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        staff_id: str,
        name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passwordDialog")
        self._services = services
        self._actor = actor
        self.staff_id = staff_id
        self.own = staff_id == actor.key
        self.setWindowTitle("Change my password" if self.own else f"Set password — {name}")
        heading = plain(QLabel("Change my password" if self.own else f"Password for {name}"))
        heading.setObjectName("dialogHeading")
        intro = QLabel(
            f"At least {MIN_PASSWORD} characters; a phrase of a few words is easy to remember "
            "and hard to guess."
            + ("" if self.own else " Tell it to them in person; they may change it later.")
        )
        intro.setWordWrap(True)
        self.current = password_field("current_password")
        self.new = password_field("new_password")
        self.confirm = password_field("confirm_password")
        form = QFormLayout()
        if self.own and services.auth.has_password(staff_id):
            form.addRow("Current password", self.current)
        form.addRow("New password", self.new)
        form.addRow("Type it again", self.confirm)
        self.error = FieldErrorLabel()
        self.ok_button = _lay_out(self, heading, intro, form, self.error, "Set password")

    def accept(self) -> None:
        if self.new.text() != self.confirm.text():
            self._refuse("The two new passwords differ; type them again.")
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._services.auth.set_password(
                self._actor,
                self.staff_id,
                self.new.text(),
                current=self.current.text() if self.own else None,
            )
        except ValidationFailed as failure:
            self._refuse("; ".join(error.message for error in failure.errors))
            return
        except ServiceError as error:
            self._refuse(str(error))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        super().accept()

    def _refuse(self, message: str) -> None:
        self.error.set_error(message)
        for field in (self.current, self.new, self.confirm):
            field.clear()
        (self.current if self.current.isVisible() else self.new).setFocus()


class PinDialog(QDialog):
    """One's own PIN, which unlocks one's own locked screen (never signs in)."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle("My unlock PIN")
        self._services = services
        self._actor = actor
        low, high = PIN_DIGITS
        heading = QLabel("My unlock PIN")
        heading.setObjectName("dialogHeading")
        intro = QLabel(
            f"{low} to {high} digits that unlock your own screen after ccmdesk locks it. "
            "Signing in always takes your password. Leave the PIN empty to remove it."
        )
        intro.setWordWrap(True)
        self.password = password_field("password")
        self.pin = password_field("pin")
        self.pin.setMaxLength(high)
        self.confirm = password_field("confirm_pin")
        self.confirm.setMaxLength(high)
        form = QFormLayout()
        form.addRow("Your password", self.password)
        form.addRow("New PIN", self.pin)
        form.addRow("Type it again", self.confirm)
        self.error = FieldErrorLabel()
        self.ok_button = _lay_out(self, heading, intro, form, self.error, "Save")

    def accept(self) -> None:
        if self.pin.text() != self.confirm.text():
            self.error.set_error("The two PINs differ; type them again.")
            return
        try:
            self._services.auth.set_pin(self._actor, self.pin.text() or None, self.password.text())
        except ValidationFailed as failure:
            self.error.set_error("; ".join(error.message for error in failure.errors))
            return
        except ServiceError as error:
            self.error.set_error(str(error))
            self.password.clear()
            return
        super().accept()
