"""Sign in with staff id and password (or set up sign-in on a database from before it existed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.validation import STAFF_TEXT_LIMITS
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import FieldErrorLabel, hint_label, plain


def password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setObjectName(name)
    field.setAccessibleName(name.replace("_", " ").capitalize())
    return field


class SignInDialog(QDialog):
    """Staff id and password; `actor` is the person once accepted.

    On a database where nobody has a password yet (made before sign-in existed), it asks an
    administrator to choose theirs instead, and signs them in with it.
    """

    def __init__(
        self,
        services: Services,
        staff_id: str | None = None,
        practice_name: str = "",
        hint: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self._services = services
        self.actor: Actor | None = None
        self.setting_up = not services.auth.anyone_has_password()
        self.setWindowTitle("Set up sign-in — ccmdesk" if self.setting_up else "Sign in — ccmdesk")

        heading = QLabel("Set up sign-in" if self.setting_up else "Sign in to ccmdesk")
        heading.setObjectName("dialogHeading")
        where = plain(QLabel(practice_name))
        where.setObjectName("hint")
        where.setVisible(bool(practice_name))
        intro = QLabel(
            "Nobody has a password yet. An administrator chooses theirs now, then gives every "
            "colleague one on the Staff page."
            if self.setting_up
            else "Everything you record is logged in your name."
        )
        intro.setWordWrap(True)
        self.hint = plain(hint_label(hint))
        self.hint.setVisible(bool(hint))

        self.staff_id = QLineEdit(staff_id or "")
        self.staff_id.setObjectName("staff_id")
        self.staff_id.setMaxLength(STAFF_TEXT_LIMITS["staff_id"])
        self.staff_id.setAccessibleName("Staff id")
        self.password = password_field("password")
        self.confirm = password_field("confirm_password")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Staff id", self.staff_id)
        form.addRow("New password" if self.setting_up else "Password", self.password)
        if self.setting_up:
            form.addRow("Type it again", self.confirm)
        self.caps = QLabel("Caps Lock is on.")
        self.caps.setObjectName("hint")
        self.caps.setVisible(False)
        self.error = FieldErrorLabel()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Set password and sign in" if self.setting_up else "Sign in")
        self.ok_button.setObjectName("primaryButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addWidget(intro)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addWidget(self.caps)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)
        (self.password if staff_id else self.staff_id).setFocus()
        self.password.textEdited.connect(self._check_caps_lock)

    def _check_caps_lock(self) -> None:
        # Qt has no portable Caps Lock state; an all-capitals password typed without Shift is
        # the usual sign, so say so once letters arrive in capitals only.
        text = self.password.text()
        shifted = QGuiApplication.queryKeyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
        self.caps.setVisible(text.isupper() and not shifted and len(text) >= 3)

    def accept(self) -> None:
        staff_id = self.staff_id.text().strip()
        password = self.password.text()
        if not staff_id:
            self._refuse("Type your staff id.", self.staff_id)
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # hashing takes a moment
        try:
            if self.setting_up:
                if password != self.confirm.text():
                    self._refuse("The two passwords differ; type them again.", self.password)
                    return
                self.actor = self._services.auth.claim_first_password(staff_id, password)
            else:
                self.actor = self._services.auth.sign_in(staff_id, password)
        except ValidationFailed as failure:
            self._refuse("; ".join(error.message for error in failure.errors), self.password)
            return
        except ServiceError as error:
            self._refuse(str(error), self.password)
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        super().accept()

    def _refuse(self, message: str, focus: QLineEdit) -> None:
        self.error.set_error(message)
        self.password.clear()
        self.confirm.clear()
        focus.setFocus()
