"""First start on an empty database: create the practice and its administrator, or a demo."""

from __future__ import annotations

import getpass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.passwords import MIN_PASSWORD
from ccmdesk.rules.records import FieldError, StaffRecord
from ccmdesk.rules.validation import STAFF_TEXT_LIMITS
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.services.demo import DEMO_PASSWORD
from ccmdesk.services.results import ImportSummary
from ccmdesk.ui.background import TaskRunner
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    align_labels,
    focus_field,
    hint_label,
    limit_typing,
    show_failure,
)
from ccmdesk.ui.pages.practice import PracticeFormWidget
from ccmdesk.ui.pages.staff import CREDENTIAL_CHOICES
from ccmdesk.ui.sign_in import password_field
from ccmdesk.ui.theme import APP_ICON, icon

DEMO_ADMIN = "admin-patel"  # the demo practice's administrator, offered to sign in as
ADMIN_LABELS = {
    "staff_id": "Your staff id",
    "name": "Your name",
    "credentials": "Credentials",
    "password": "Password",
    "confirm": "Type it again",
}
WELCOME, CREATE, BUSY = range(3)


def setup_actor() -> Actor:
    """Who acts before anyone can sign in: the operating-system user, as an administrator."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return Actor(key=f"setup:{user}", name="first start", role="admin")


class FirstStartDialog(QDialog):
    """Welcome; then either the practice form plus the first administrator, or the demo.

    After acceptance `actor` is the new administrator (create), or `demo_created` is true and
    `suggested_staff_id` names the demo's administrator for the sign-in, with `sign_in_hint`.
    """

    def __init__(
        self, services: Services, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("firstStartDialog")
        self.setWindowTitle("Welcome to ccmdesk")
        self._services = services
        self._runner = runner
        self.actor: Actor | None = None
        self.demo_created = False
        self.suggested_staff_id: str | None = None
        self.sign_in_hint = ""
        self.demo_summary: list[str] = []

        self.pages = QStackedWidget()
        self.pages.addWidget(self._welcome_page())
        self.pages.addWidget(self._create_page())
        self.pages.addWidget(self._busy_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.resize(760, 640)

        existing = services.practice.get()
        if existing is not None:
            # Set up from the command line already: keep what is there.
            self.practice_form.set_record(existing)

    # --- pages -------------------------------------------------------------------------------

    def _welcome_page(self) -> QWidget:
        page = QWidget()
        heading = QLabel("Welcome to ccmdesk")
        heading.setObjectName("welcomeHeading")
        logo = QLabel()
        logo.setPixmap(icon(APP_ICON).pixmap(QSize(48, 48)))
        title = QHBoxLayout()
        title.addWidget(logo)
        title.addSpacing(8)
        title.addWidget(heading, 1)
        intro = QLabel(
            "ccmdesk keeps your care team's Chronic Care Management minutes and turns them into "
            "monthly claims. This computer has no practice yet. How would you like to start?"
        )
        intro.setWordWrap(True)
        self.create_button = QPushButton("Create my practice")
        self.create_button.setObjectName("choiceButton")
        create_hint = QLabel(
            "Enter your practice's details and become its first administrator. You can add your "
            "team and import patients afterwards."
        )
        self.demo_button = QPushButton("Open a demo practice")
        self.demo_button.setObjectName("choiceButton")
        demo_hint = QLabel(
            "Try ccmdesk with Riverbend Family Medicine: eight staff, about 200 made-up patients "
            "and three months of minutes. Use an empty data folder for it."
        )
        for hint in (create_hint, demo_hint):
            hint.setObjectName("hint")
            hint.setWordWrap(True)
        quit_button = QPushButton("Quit")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(32, 24, 32, 16)
        layout.addLayout(title)
        layout.addSpacing(8)
        layout.addWidget(intro)
        layout.addSpacing(20)
        layout.addWidget(self.create_button)
        layout.addWidget(create_hint)
        layout.addSpacing(16)
        layout.addWidget(self.demo_button)
        layout.addWidget(demo_hint)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(quit_button)
        layout.addLayout(row)
        self.create_button.clicked.connect(self.show_create)
        self.demo_button.clicked.connect(self.open_demo)
        quit_button.clicked.connect(self.reject)
        return page

    def _create_page(self) -> QWidget:
        page = QWidget()
        heading = QLabel("Create my practice")
        heading.setObjectName("dialogHeading")
        self.practice_form = PracticeFormWidget()
        practice_box = QGroupBox("Practice")
        QVBoxLayout(practice_box).addWidget(self.practice_form)

        self.admin_general_error = FieldErrorLabel()
        self.admin_errors = FormErrors(self.admin_general_error)
        self.admin_staff_id = QLineEdit()
        self.admin_staff_id.setPlaceholderText("short and unique, e.g. admin-jones")
        self.admin_staff_id.setMaxLength(STAFF_TEXT_LIMITS["staff_id"])
        self.admin_name = QLineEdit()
        self.admin_name.setMaxLength(STAFF_TEXT_LIMITS["name"])
        self.admin_credentials = QComboBox()
        self.admin_credentials.setEditable(True)
        self.admin_credentials.addItems(CREDENTIAL_CHOICES)
        limit_typing(self.admin_credentials, STAFF_TEXT_LIMITS["credentials"])
        self.admin_password = password_field("admin_password")
        self.admin_password.setPlaceholderText(f"at least {MIN_PASSWORD} characters")
        self.admin_confirm = password_field("admin_confirm")
        admin_box = QGroupBox("You, the first administrator")
        admin_form = QFormLayout(admin_box)
        admin_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        admin_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        admin_form.addRow(self.admin_general_error)
        for field, widget in (
            ("staff_id", self.admin_staff_id),
            ("name", self.admin_name),
            ("credentials", self.admin_credentials),
            ("password", self.admin_password),
            ("confirm", self.admin_confirm),
        ):
            widget.setObjectName(f"admin_{field}")
            widget.setAccessibleName(ADMIN_LABELS[field])
            label = QLabel(ADMIN_LABELS[field])
            label.setObjectName("formLabel")
            label.setBuddy(widget)
            admin_form.addRow(
                label, self.admin_errors.add(f"admin_{field}", ADMIN_LABELS[field], widget)
            )

        align_labels([practice_box, admin_box])
        body = QWidget()
        body.setObjectName("dialogBody")
        column = QVBoxLayout(body)
        column.addWidget(heading)
        column.addWidget(practice_box)
        column.addWidget(admin_box)
        column.addStretch(1)
        self.create_scroll = QScrollArea()
        self.create_scroll.setWidgetResizable(True)
        self.create_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.create_scroll.setWidget(body)

        back = QPushButton("Back")
        self.confirm_button = QPushButton("Create practice")
        self.confirm_button.setObjectName("primaryButton")
        self.confirm_button.setDefault(True)
        row = QHBoxLayout()
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(self.confirm_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.create_scroll, 1)
        layout.addLayout(row)
        back.clicked.connect(self.show_welcome)
        self.confirm_button.clicked.connect(self.create_practice)
        return page

    def _busy_page(self) -> QWidget:
        page = QWidget()
        self.busy_label = QLabel("Creating the demo practice…")
        self.busy_label.setObjectName("dialogHeading")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # no steps to count: a moving bar says "still working"
        self.busy_bar.setTextVisible(False)
        detail = hint_label(
            "Eight staff, about 200 patients and three months of minutes: a few seconds."
        )
        layout = QVBoxLayout(page)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addStretch(1)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.busy_bar)
        layout.addWidget(detail)
        layout.addStretch(2)
        return page

    # --- actions -----------------------------------------------------------------------------

    def show_welcome(self) -> None:
        self.pages.setCurrentIndex(WELCOME)

    def show_create(self) -> None:
        self.pages.setCurrentIndex(CREATE)
        self.practice_form.name.setFocus()

    def admin_record(self) -> StaffRecord:
        return StaffRecord(
            staff_id=self.admin_staff_id.text().strip(),
            name=self.admin_name.text().strip(),
            role="admin",
            credentials=self.admin_credentials.currentText().strip(),
        )

    def create_practice(self) -> bool:
        if self.admin_password.text() != self.admin_confirm.text():
            self._show_errors([FieldError("admin_confirm", "The two passwords differ.")])
            return False
        try:
            self.actor = self._services.auth.set_up_practice(
                self.practice_form.record(), self.admin_record(), self.admin_password.text()
            )
        except ValidationFailed as failure:
            self._show_errors(failure.errors)
            return False
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.accept()
        return True

    def _show_errors(self, errors: list[FieldError]) -> None:
        practice = [e for e in errors if not e.field.startswith("admin_")]
        admin = [e for e in errors if e.field.startswith("admin_")]
        first = self.practice_form.errors.show(practice)
        first_admin = self.admin_errors.show(admin)
        target = first or first_admin
        if target is not None:
            focus_field(target, self.create_scroll)

    def open_demo(self) -> None:
        self.pages.setCurrentIndex(BUSY)
        actor = setup_actor()
        self._runner.run(
            lambda: self._services.demo.create(actor), self._demo_done, self._demo_failed
        )

    def is_busy(self) -> bool:
        return self.pages.currentIndex() == BUSY

    def _demo_done(self, summary: ImportSummary) -> None:
        self.demo_created = True
        self.suggested_staff_id = DEMO_ADMIN
        self.sign_in_hint = (
            f"Demo practice: every demo person's password is {DEMO_PASSWORD}. "
            "Administrator: admin-patel; nurse: rn-lee; practitioner: dr-okafor; "
            "billing: bill-chen."
        )
        self.demo_summary = summary.lines()
        self.accept()

    def _demo_failed(self, error: BaseException) -> None:
        self.pages.setCurrentIndex(WELCOME)
        show_failure(self, error)

    def reject(self) -> None:
        # Closing mid-demo would leave a half-made database behind a vanished window.
        if not self.is_busy():
            super().reject()
