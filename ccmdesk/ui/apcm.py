"""The Practice settings page's APCM section: the attestation, who made it, attest and withdraw."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ccmdesk.rules.intervals import date_time_text
from ccmdesk.rules.records import APCM_ATTESTATION
from ccmdesk.services import Actor, Permission, Services, allowed
from ccmdesk.ui.forms import hint_label, show_failure

NOT_ATTESTED = (
    "Not attested: every APCM month is blocked until a practitioner attests (APCM_NOT_ATTESTED)."
)


class ApcmBox(QGroupBox):
    """A practitioner attests in their own name; an administrator may withdraw it. The buttons
    follow whoever is signed in (`actor` is asked each time)."""

    changed = Signal()

    def __init__(
        self, services: Services, actor: Callable[[], Actor], parent: QWidget | None = None
    ) -> None:
        super().__init__("APCM", parent)
        self.setObjectName("apcmBox")
        self._services = services
        self._actor = actor
        intro = hint_label(
            "Advanced Primary Care Management (G0556–G0558) is billed without minutes once a "
            "billing practitioner attests, for the practice, the statement below."
        )
        self.statement = QLabel(APCM_ATTESTATION)
        self.statement.setObjectName("apcmStatement")
        self.statement.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("apcmStatus")
        self.status.setWordWrap(True)
        self.attest_button = QPushButton("Attest in my name")
        self.attest_button.setObjectName("attestApcm")
        self.withdraw_button = QPushButton("Withdraw the attestation")
        self.withdraw_button.setObjectName("withdrawApcm")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.withdraw_button)
        buttons.addWidget(self.attest_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.statement)
        layout.addLayout(buttons)
        self.attest_button.clicked.connect(self.attest)
        self.withdraw_button.clicked.connect(self.withdraw)

    def load(self) -> None:
        """Read the attestation and show the buttons the signed-in person may use."""
        try:
            found = self._services.practice.apcm_attestation()
        except Exception as error:
            show_failure(self, error)
            return
        actor = self._actor()
        if found is None:
            self.status.setText(NOT_ATTESTED)
        else:
            at = found.at.astimezone(self._services.practice_zone())
            self.status.setText(f"Attested by {found.name} on {date_time_text(at)}.")
        may_attest = allowed(actor, Permission.ATTEST_APCM)
        self.attest_button.setVisible(may_attest)
        self.attest_button.setText(
            "Attest again in my name" if found is not None else "Attest in my name"
        )
        self.withdraw_button.setVisible(
            found is not None and allowed(actor, Permission.MANAGE_PRACTICE)
        )

    def attest(self) -> bool:
        return self._change(lambda: self._services.practice.attest_apcm(self._actor()))

    def withdraw(self) -> bool:
        return self._change(lambda: self._services.practice.withdraw_apcm(self._actor()))

    def _change(self, act: Callable[[], object]) -> bool:
        """Attest or withdraw through the practice service; a refusal is shown, not raised."""
        try:
            act()
        except Exception as error:
            show_failure(self, error)
            return False
        self.load()
        self.changed.emit()
        return True
