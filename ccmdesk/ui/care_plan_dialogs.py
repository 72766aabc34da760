"""The care plan's dialogs: the editor, the condition templates, the version diff, signing."""

from __future__ import annotations

import datetime as dt
import difflib
import html
import json
import re
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.care_plan import (
    ELEMENTS,
    TEXT_ELEMENTS,
    ConditionTemplate,
    PlanContent,
    changes,
    missing,
    prefill,
)
from ccmdesk.rules.intervals import day_month_year
from ccmdesk.services import CarePlan, PlanVersion, ServiceError
from ccmdesk.services.care_plans import ATTESTATION
from ccmdesk.ui.forms import FieldErrorLabel, FormErrors, ask, hint_label, plain

# What belongs in each element, under its box (docs/care-plans.md, "The elements").
HINTS: dict[str, str] = {
    "problems": "The chronic conditions, a line each (filled from the conditions on file).",
    "outcomes": "What the patient and the team expect, and the prognosis.",
    "goals": "Measurable: a number and a date (HbA1c below 7.0% by October).",
    "symptoms": "What the patient does when a symptom starts or worsens.",
    "interventions": "What is done, and who does it (RN Lee: monthly call).",
    "medications": "What is taken, and how it is reconciled and managed.",
    "community": "Services outside the practice: classes, meals, transport, support.",
    "coordination": "The other practitioners and how the team works with them.",
    "review_on": "When the plan is looked at again; a signed plan needs one.",
}
DELETED = "color:#b3261e; text-decoration: line-through; background-color:#fde8e6;"
INSERTED = "color:#1e6b34; background-color:#e3f4e6;"
_WORDS = re.compile(r"\s+|[^\s]+")


def _words(text: str) -> list[str]:
    """Words and the white space between them, so the diff puts the text back as it was."""
    return _WORDS.findall(text)


def _html(words: Sequence[str]) -> str:
    return html.escape("".join(words)).replace("\n", "<br>")


def word_diff(before: str, after: str) -> tuple[str, str]:
    """The two texts as HTML (escaped): words only in `before` struck through in red, words
    only in `after` in green."""
    old, new = _words(before), _words(after)
    left: list[str] = []
    right: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(_html(old[i1:i2]))
            right.append(_html(new[j1:j2]))
            continue
        if i2 > i1:
            left.append(f'<span style="{DELETED}">{_html(old[i1:i2])}</span>')
        if j2 > j1:
            right.append(f'<span style="{INSERTED}">{_html(new[j1:j2])}</span>')
    return "".join(left), "".join(right)


def diff_html(before: PlanContent, after: PlanContent, names: tuple[str, str]) -> str:
    """Only the elements that changed, each with its text before and after side by side."""
    changed = changes(before, after)
    if not changed:
        return "<p>The two versions say the same.</p>"
    parts = [f"<p>{len(changed)} of {len(ELEMENTS)} elements changed; the others say the same.</p>"]
    for change in changed:
        old, new = word_diff(change.before, change.after)
        parts.append(
            f"<h3>{html.escape(change.label)}</h3>"
            '<table width="100%" cellspacing="0" cellpadding="6" border="1" '
            'style="border-color:#d5dde2; border-style:solid;">'
            f'<tr><th width="50%" align="left">{html.escape(names[0])}</th>'
            f'<th width="50%" align="left">{html.escape(names[1])}</th></tr>'
            f'<tr><td valign="top">{old or "<i>(empty)</i>"}</td>'
            f'<td valign="top">{new or "<i>(empty)</i>"}</td></tr></table>'
        )
    return "".join(parts)


def missing_text(content: PlanContent) -> str:
    """What stands between a draft and signing, in a sentence."""
    gaps = missing(content)
    if not gaps:
        return "Every element is filled: once saved, this version can be signed."
    return "Still missing before it can be signed: " + "; ".join(gaps) + "."


def version_label(version: PlanVersion, latest: PlanVersion | None) -> str:
    """ "Version 3 (signed)", "Version 4 (newest, draft)"."""
    states = ["newest"] if latest is not None and version.number == latest.number else []
    states.append(version.status.lower())
    return f"Version {version.number} ({', '.join(states)})"


class TemplatesDialog(QDialog):
    """Pick the condition templates whose goals, symptoms and interventions a plan starts
    from: those matching the patient's conditions are ticked, the others can be."""

    def __init__(
        self,
        matching: Sequence[ConditionTemplate],
        every: Sequence[ConditionTemplate],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanTemplates")
        self.setWindowTitle("Add from templates")
        self.setMinimumWidth(460)
        keys = {t.key for t in matching}
        self.boxes: list[tuple[QCheckBox, ConditionTemplate]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "The practice's templates add their goals, symptom management and "
                "interventions under each condition's name; text already in the plan is kept. "
                "Edit what they give to fit the patient."
            )
        )
        ordered = list(matching) + [t for t in every if t.key not in keys]
        for template in ordered:
            matches = template.key in keys
            box = QCheckBox(
                f"{template.name}" + (" · matches the patient's conditions" if matches else "")
            )
            box.setObjectName(f"template_{template.key}")
            box.setChecked(matches)
            self.boxes.append((box, template))
            layout.addWidget(box)
        if not ordered:
            layout.addWidget(hint_label("The practice has no care plan templates."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> list[ConditionTemplate]:
        return [template for box, template in self.boxes if box.isChecked()]


class CarePlanEditor(QDialog):
    """One labelled box per element and the next review date. Saving makes a new version; a
    refusal keeps what was typed."""

    def __init__(
        self,
        plan: CarePlan,
        templates: Sequence[ConditionTemplate],
        zone: dt.tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanEditor")
        self.setWindowTitle(f"Care plan · {plan.patient_name}")
        self.resize(1000, 760)
        self.plan = plan
        self._templates = list(templates)
        start = plan.latest
        self.based_on = start.number if start is not None else None
        # A first plan starts from the problem list made from the conditions on file.
        self.start = start.content if start is not None else PlanContent(problems=plan.problems)
        self.compare_newest: Callable[[], object] | None = None  # set by a stale refusal
        self._closing = False
        number = (start.number if start else 0) + 1
        if start is None:
            intro = (
                f"The first care plan of {plan.patient_name}. Saving makes version 1, a draft "
                "until the billing practitioner signs it."
            )
        else:
            saved = day_month_year(start.saved_at.astimezone(zone).date())
            intro = (
                f"Starting from version {start.number} ({start.status.lower()}, saved "
                f"{saved} by {start.saved_by}). Saving makes version {number}; version "
                f"{start.number} stays as it is."
            )
        self.intro = plain(hint_label(intro))
        self.general_error = FieldErrorLabel()
        self.general_error.setObjectName("generalError")
        self.errors = FormErrors(self.general_error)
        self.inputs: dict[str, QPlainTextEdit] = {}
        form = QWidget()
        form.setObjectName("carePlanForm")
        fields = QVBoxLayout(form)
        fields.setContentsMargins(4, 4, 12, 4)
        for key in TEXT_ELEMENTS:
            label = ELEMENTS[key]
            edit = QPlainTextEdit()
            edit.setObjectName(key)
            edit.setAccessibleName(label)
            edit.setTabChangesFocus(True)
            # Room for a template's few lines; a longer text scrolls in its box.
            edit.setFixedHeight(edit.fontMetrics().height() * 7 + 16)
            edit.textChanged.connect(self._show_missing)
            self.inputs[key] = edit
            fields.addWidget(self._heading(label))
            fields.addWidget(hint_label(HINTS[key]))
            fields.addWidget(self.errors.add(key, label, edit))
            fields.addSpacing(6)
        self.review_on = QDateEdit()
        self.review_on.setObjectName("review_on")
        self.review_on.setAccessibleName(ELEMENTS["review_on"])
        self.review_on.setCalendarPopup(True)
        self.review_on.setDisplayFormat("d MMM yyyy")
        self.not_set = QCheckBox("not set")
        self.not_set.setObjectName("reviewNotSet")
        self.not_set.toggled.connect(lambda on: self.review_on.setEnabled(not on))
        self.not_set.toggled.connect(self._show_missing)
        review = QWidget()
        review_row = QHBoxLayout(review)
        review_row.setContentsMargins(0, 0, 0, 0)
        review_row.addWidget(self.review_on)
        review_row.addWidget(self.not_set)
        review_row.addStretch(1)
        fields.addWidget(self._heading(ELEMENTS["review_on"]))
        fields.addWidget(hint_label(HINTS["review_on"]))
        fields.addWidget(self.errors.add("review_on", ELEMENTS["review_on"], review))
        fields.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("carePlanScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(form)

        self.missing = plain(QLabel())
        self.missing.setObjectName("carePlanMissing")
        self.missing.setWordWrap(True)
        self.templates_button = QPushButton("Add from templates…")
        self.templates_button.setObjectName("addTemplates")
        self.templates_button.clicked.connect(self.add_templates)
        self.compare_button = QPushButton("Compare with the newest…")
        self.compare_button.setObjectName("compareNewest")
        self.compare_button.hide()
        self.compare_button.clicked.connect(self._compare)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(
            f"Save as version {number}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("savePlan")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.templates_button)
        bottom.addWidget(self.compare_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.missing)
        layout.addWidget(self.general_error)
        layout.addLayout(bottom)
        self.set_content(self.start)

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("sectionHeading")
        return label

    def content(self) -> PlanContent:
        """What the boxes say now."""
        texts = {key: edit.toPlainText() for key, edit in self.inputs.items()}
        review = None if self.not_set.isChecked() else self.review_on.date().toPython()
        assert review is None or isinstance(review, dt.date)
        return PlanContent(**texts, review_on=review)

    def set_content(self, content: PlanContent) -> None:
        for key, edit in self.inputs.items():
            if edit.toPlainText() != getattr(content, key):
                edit.setPlainText(getattr(content, key))
        day = content.review_on
        if day is not None:
            self.review_on.setDate(QDate(day.year, day.month, day.day))
        else:
            # Where the calendar opens once "not set" is cleared: a plan is reviewed yearly.
            later = self.plan.today + dt.timedelta(days=182)
            self.review_on.setDate(QDate(later.year, later.month, later.day))
        self.not_set.setChecked(day is None)
        self.review_on.setEnabled(day is not None)
        self._show_missing()

    def changed(self) -> bool:
        """Whether anything was typed since the editor opened."""
        return self.content().cleaned() != self.start.cleaned()

    def _show_missing(self) -> None:
        self.missing.setText(missing_text(self.content()))

    def add_templates(self) -> bool:
        """Add the chosen templates' goals, symptom management and interventions."""
        dialog = TemplatesDialog(self.plan.templates, self._templates, self)
        if not self.exec_dialog(dialog):
            return False
        self.set_content(prefill(self.content(), dialog.chosen(), self.plan.problems))
        return True

    def show_refusal(self, error: ServiceError) -> None:
        """Why the save was refused, beside the field or below; the text stays."""
        self.errors.show_refusal(error)

    def show_stale(self, compare: Callable[[], object]) -> None:
        """Someone saved meanwhile: offer the diff of this text against the newest."""
        self.compare_newest = compare
        self.compare_button.show()

    def _compare(self) -> None:
        if self.compare_newest is not None:
            self.compare_newest()

    def reject(self) -> None:
        """Closing with unsaved text asks first."""
        if self._closing or not self.changed():
            super().reject()
            return
        ask(
            self,
            "discardCarePlan",
            "Care plan",
            "Close the editor? What you typed since it opened is not saved.",
            "Discard changes",
            self.discard,
            keep="Keep editing",
        )

    def discard(self) -> None:
        self._closing = True
        super().reject()

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted


class CompareDialog(QDialog):
    """Two versions side by side, only the elements that changed, word by word."""

    def __init__(
        self,
        versions: Sequence[tuple[str, PlanContent]],
        before: int,
        after: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanCompare")
        self.setWindowTitle("Compare care plan versions")
        self.resize(1000, 700)
        self._versions = list(versions)
        self.before = QComboBox()
        self.before.setObjectName("compareBefore")
        self.after = QComboBox()
        self.after.setObjectName("compareAfter")
        for box in (self.before, self.after):
            for label, _ in self._versions:
                box.addItem(label)
        self.before.setCurrentIndex(before)
        self.after.setCurrentIndex(after)
        self.view = QTextBrowser()
        self.view.setObjectName("carePlanDiff")
        self.view.setOpenLinks(False)
        self.before.currentIndexChanged.connect(self.show_diff)
        self.after.currentIndexChanged.connect(self.show_diff)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Compare"))
        pick.addWidget(self.before)
        pick.addWidget(QLabel("with"))
        pick.addWidget(self.after)
        pick.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        legend = "Struck through in red: taken out. In green: put in. Unchanged elements hidden."
        layout.addWidget(hint_label(legend))
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.show_diff()

    def show_diff(self) -> None:
        old_label, old = self._versions[self.before.currentIndex()]
        new_label, new = self._versions[self.after.currentIndex()]
        self.view.setHtml(diff_html(old, new, (old_label, new_label)))


def compare_versions(plan: CarePlan, parent: QWidget | None = None) -> CompareDialog:
    """The diff of a plan's versions; by default the newest against the signed one before it
    (or against the one before it when none is signed)."""
    versions = list(plan.versions)
    latest = plan.latest
    labels = [(version_label(v, latest), v.content) for v in versions]
    after = len(versions) - 1
    signed = plan.signed
    if signed is not None and latest is not None and signed.number != latest.number:
        before = versions.index(signed)
    else:
        before = max(after - 1, 0)
    return CompareDialog(labels, before, after, parent)


def document_html(document: dict[str, object], sha: str) -> str:
    """The version to be signed, read back from the document the signature covers."""
    rows = [
        f"<h2>Care plan of {html.escape(str(document['patient']))}</h2>",
        f"<p>Born {html.escape(str(document['dob']))} · MRN {html.escape(str(document['mrn']))}"
        f" · version {html.escape(str(document['version']))}</p>",
    ]
    for key, label in ELEMENTS.items():
        value = str(document.get(key) or "")
        if key == "review_on" and value:
            value = day_month_year(dt.date.fromisoformat(value))
        rows.append(f"<h3>{html.escape(label)}</h3>")
        rows.append(f"<p>{_html(_words(value)) or '<i>(empty)</i>'}</p>")
    rows.append(
        f"<hr><p><b>{html.escape(ATTESTATION)}</b></p>"
        f"<p>SHA-256 of this document: <code>{html.escape(sha)}</code></p>"
    )
    return "".join(rows)


class PlanSignDialog(QDialog):
    """The whole version as it will be signed, the attestation and the document's SHA-256."""

    def __init__(
        self,
        number: int,
        document: str,
        sha: str,
        signer: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanSign")
        self.setWindowTitle(f"Sign care plan version {number}")
        self.resize(820, 760)
        self.view = QTextBrowser()
        self.view.setObjectName("carePlanDocument")
        self.view.setHtml(document_html(json.loads(document), sha))
        explanation = plain(
            hint_label(
                f"Read the plan as it will be signed. Signing as {signer} records the "
                "attestation below and the SHA-256 of this document; a later change makes a "
                "new version to sign."
            )
        )
        self.attestation = plain(QLabel(ATTESTATION))
        self.attestation.setObjectName("attestation")
        self.attestation.setWordWrap(True)
        self.hash_label = plain(QLabel(f"SHA-256: {sha}"))
        self.hash_label.setObjectName("documentHash")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = buttons.addButton(
            f"Sign version {number}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.attestation)
        layout.addWidget(self.hash_label)
        layout.addWidget(buttons)


def stale_versions(newest: PlanVersion, typed: PlanContent) -> list[tuple[str, PlanContent]]:
    """What a refused stale save compares: the newest version and the text not saved."""
    return [
        (f"Version {newest.number} (newest, saved by {newest.saved_by})", newest.content),
        ("Your text (not saved)", typed.cleaned()),
    ]
