"""The patient panel's Care plan tab: the plan in force, its versions, edit, compare, sign."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.care_plan import PlanContent
from ccmdesk.rules.intervals import day_month_year
from ccmdesk.services import (
    Actor,
    CarePlan,
    Permission,
    PlanVersion,
    ServiceError,
    Services,
    ValidationFailed,
    allowed,
)
from ccmdesk.ui.care_plan_copy import open_patient_copy
from ccmdesk.ui.care_plan_dialogs import (
    CarePlanEditor,
    CompareDialog,
    PlanSignDialog,
    compare_versions,
    missing_text,
    stale_versions,
)
from ccmdesk.ui.forms import hint_label, plain, show_failure
from ccmdesk.ui.widgets.tables import WARNING_COLOR, prepare_table

VERSION_HEADERS = ("Version", "Saved", "Saved by", "Status", "Signed by")


def in_force_parts(plan: CarePlan) -> list[tuple[str, bool]]:
    """The plan in force today as pieces of one line, each with whether it is a warning
    (docs/care-plans.md, "The plan in force"), and a newer draft when one waits to be signed."""
    parts = _force_parts(plan)
    latest = plan.latest
    if latest is not None and not latest.signed and plan.in_force is not None:
        # The physician opening the tab should see at once that a revision waits for them.
        parts.append((f"version {latest.number} is a draft, not signed yet", False))
    return parts


def _force_parts(plan: CarePlan) -> list[tuple[str, bool]]:
    force = plan.in_force
    if force is None:
        return [("No care plan yet" if not plan.versions else "No signed care plan yet", True)]
    if force.external:
        return [(f"Kept elsewhere, dated {day_month_year(force.signed_on)}", False)]
    assert force.number is not None
    version = plan.version(force.number)
    signed = f"Version {version.number} · signed {day_month_year(force.signed_on)}"
    parts = [(f"{signed} by {version.signed_by}" if version.signed_by else signed, False)]
    review = version.content.review_on
    if review is not None and review < plan.today:
        parts.append((f"review was due {day_month_year(review)}", True))
    elif review is not None:
        parts.append((f"review by {day_month_year(review)}", False))
    if version.copies:
        copy = version.copies[-1]
        parts.append(
            (f"copy given {day_month_year(copy.given_on)} ({copy.method_label.lower()})", False)
        )
    else:
        parts.append(("no copy given to the patient yet", True))
    return parts


def in_force_text(plan: CarePlan) -> str:
    return " · ".join(text for text, _ in in_force_parts(plan))


def in_force_html(plan: CarePlan) -> str:
    """The line as rich text: warnings in the warning colour, every piece escaped."""
    tint = WARNING_COLOR.name()
    return " · ".join(
        f'<span style="color:{tint}; font-weight:600">{html.escape(text)}</span>'
        if warning
        else html.escape(text)
        for text, warning in in_force_parts(plan)
    )


class CarePlanSection(QWidget):
    """A patient's care plan: the plan in force, every version, and Edit, Compare and Sign
    for those allowed."""

    changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanSection")
        self._services = services
        self._actor = actor
        self._mrn: str | None = None
        self._shown_to = ""  # the staff_id the tab last spoke to
        self._name = ""
        self.plan: CarePlan | None = None
        self.summary = QLabel()
        self.summary.setObjectName("carePlanInForce")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.message = plain(hint_label())
        self.message.setObjectName("carePlanMessage")
        self.edit_button = QPushButton("New version…")
        self.edit_button.setObjectName("editCarePlan")
        self.edit_button.clicked.connect(self.edit)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setObjectName("compareCarePlan")
        self.compare_button.clicked.connect(self.compare)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setObjectName("signCarePlan")
        self.sign_button.clicked.connect(self.sign)
        self.copy_button = QPushButton("Patient copy…")
        self.copy_button.setObjectName("carePlanCopy")
        self.copy_button.clicked.connect(self.patient_copy)
        self.heading = QLabel("Versions")
        self.heading.setObjectName("sectionHeading")
        self.versions = QTableWidget(0, len(VERSION_HEADERS))
        self.versions.setObjectName("carePlanVersions")
        self.versions.setHorizontalHeaderLabels(list(VERSION_HEADERS))
        prepare_table(self.versions)
        self.versions.horizontalHeader().setStretchLastSection(True)
        self.versions.doubleClicked.connect(lambda _: self.compare())

        bar = QHBoxLayout()
        bar.addWidget(self.heading, 1)
        buttons = (self.edit_button, self.compare_button, self.sign_button, self.copy_button)
        for button in buttons:
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addLayout(bar)
        layout.addWidget(self.versions, 1)
        self.message.hide()

    def set_patient(self, mrn: str, name: str) -> CarePlan | None:
        """Read and show the patient's care plan; return it."""
        actor = self._actor().key
        if mrn != self._mrn or actor != self._shown_to:
            # What was said about another patient's plan, or to the person signed in before.
            self.message.hide()
        self._mrn, self._name, self._shown_to = mrn, name, actor
        try:
            self.plan = self._services.care_plans.plan(self._actor(), mrn)
        except ServiceError as error:
            self.plan = None
            self.summary.setText(html.escape(str(error)))
            self.versions.setRowCount(0)
            self._update_buttons()
            return None
        self._show(self.plan)
        return self.plan

    def reload(self) -> None:
        if self._mrn is not None:
            self.set_patient(self._mrn, self._name)

    def _show(self, plan: CarePlan) -> None:
        zone = plan.zone
        self.summary.setText(in_force_html(plan))
        count = len(plan.versions)
        self.heading.setText(f"Versions: {count}" if count else "Versions: none saved yet")
        self.versions.setRowCount(count)
        for row, version in enumerate(reversed(plan.versions)):  # the newest on top
            saved = version.saved_at.astimezone(zone)
            status = version.status
            if not version.signed and version.missing:
                status += f" · {len(version.missing)} missing"
            cells = (
                str(version.number),
                f"{day_month_year(saved.date())} {saved:%H:%M}",
                version.saved_by,
                status,
                version.signed_by,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3 and not version.signed and version.missing:
                    item.setToolTip(missing_text(version.content))
                elif column == 4 and version.signed_at is not None:
                    signed = version.signed_at.astimezone(zone)
                    item.setToolTip(
                        f"Signed {day_month_year(signed.date())} {signed:%H:%M} by {text}"
                    )
                self.versions.setItem(row, column, item)
        self.versions.resizeColumnsToContents()
        self._update_buttons()

    def _update_buttons(self) -> None:
        actor = self._actor()
        plan = self.plan
        latest = plan.latest if plan is not None else None
        self.edit_button.setVisible(allowed(actor, Permission.EDIT_CARE_PLAN))
        self.edit_button.setEnabled(plan is not None)
        self.edit_button.setText("New version…" if latest is not None else "Write the plan…")
        self.compare_button.setEnabled(plan is not None and len(plan.versions) >= 2)
        self.sign_button.setVisible(plan is not None and plan.can_sign)
        signable = latest is not None and not latest.signed and not latest.missing
        self.sign_button.setEnabled(signable)
        if latest is None or latest.signed:
            tip = "Nothing to sign: the newest version is signed." if latest else ""
        elif latest.missing:
            tip = f"Version {latest.number} cannot be signed yet. {missing_text(latest.content)}"
        else:
            tip = f"Read and sign version {latest.number}."
        self.sign_button.setToolTip(tip)
        signed = plan.signed if plan is not None else None
        self.copy_button.setEnabled(signed is not None)
        self.copy_button.setToolTip(
            f"Print version {signed.number} for the patient, and record it as given."
            if signed is not None
            else "The patient copy is printed from a signed version."
        )

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- actions -----------------------------------------------------------------------------

    def edit(self) -> bool:
        """Write a new version in the editor; the editor stays open until it is saved or
        closed, and keeps its text after a refusal."""
        if self._mrn is None or self.plan is None:
            return False
        if not allowed(self._actor(), Permission.EDIT_CARE_PLAN):
            return False  # the button is hidden; the service would refuse the save anyway
        try:
            templates = self._services.care_plans.templates(self._actor())
        except ServiceError as error:
            show_failure(self, error)
            return False
        editor = CarePlanEditor(self.plan, templates, self.plan.zone, self)
        while self.exec_dialog(editor):
            saved = self._save(editor)
            if saved is not None:
                self._after_save(saved)
                return True
        return False

    def _save(self, editor: CarePlanEditor) -> PlanVersion | None:
        assert self._mrn is not None
        content = editor.content()
        try:
            return self._services.care_plans.save(
                self._actor(), self._mrn, content, editor.based_on
            )
        except ValidationFailed as failure:
            editor.show_refusal(failure)
        except ServiceError as error:
            editor.show_refusal(error)
            self._offer_newest(editor, content)
        return None

    def _offer_newest(self, editor: CarePlanEditor, typed: PlanContent) -> None:
        """A save refused because someone saved meanwhile: the diff of the typed text
        against the version they saved."""
        assert self._mrn is not None
        try:
            plan = self._services.care_plans.plan(self._actor(), self._mrn)
        except ServiceError:
            return
        newest = plan.latest
        if newest is None or newest.number == editor.based_on:
            return
        editor.show_stale(
            lambda: self.exec_dialog(CompareDialog(stale_versions(newest, typed), 0, 1, editor))
        )

    def _after_save(self, version: PlanVersion) -> None:
        self.reload()
        if version.missing:
            gaps = "; ".join(version.missing)
            self._say(f"Saved as version {version.number}, a draft: still missing {gaps}.")
        else:
            self._say(
                f"Saved as version {version.number}: complete, ready for the billing "
                "practitioner to sign."
            )
        # No self.changed: only signed versions reach the month pages (their rules, the
        # summary, the worklist), so a saved draft leaves every other page as it was.

    def compare(self) -> bool:
        if self.plan is None or len(self.plan.versions) < 2:
            return False
        self.exec_dialog(compare_versions(self.plan, self))
        return True

    def sign(self) -> bool:
        """Show the newest version as it will be signed; sign it when the practitioner says so."""
        plan = self.plan
        if self._mrn is None or plan is None or plan.latest is None or not plan.can_sign:
            return False
        number = plan.latest.number
        actor = self._actor()
        try:
            document, sha = self._services.care_plans.document(actor, self._mrn, number)
        except ServiceError as error:
            show_failure(self, error)
            return False
        dialog = PlanSignDialog(number, document, sha, plan.billing_practitioner, self)
        if not self.exec_dialog(dialog):
            return False
        try:
            signed = self._services.care_plans.sign(actor, self._mrn, number, sha)
        except ServiceError as error:
            show_failure(self, error)
            self.reload()  # what changed meanwhile is on screen when the box is read
            return False
        self.reload()
        assert signed.signed_on is not None  # a version the service just signed
        self._say(f"Version {number} signed on {day_month_year(signed.signed_on)}.")
        self.changed.emit()
        return True

    def patient_copy(self) -> bool:
        """The patient copy of the newest signed version (docs/patient-copy.md); True when a
        copy was recorded as given."""
        signed = self.plan.signed if self.plan is not None else None
        if self._mrn is None or signed is None:
            return False
        if not self.open_copy(self._mrn, signed.number):
            return False
        self.reload()
        self._say(f"A copy of version {signed.number} is recorded as given.")
        self.changed.emit()
        return True

    def open_copy(self, mrn: str, number: int) -> bool:
        """Run the patient copy dialog (a method, so tests can stand in for a person)."""
        return open_patient_copy(self, self._services, self._actor(), mrn, number)

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted
