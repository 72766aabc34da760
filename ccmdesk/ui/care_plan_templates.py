"""The practice's care plan templates and the patient copy's words, in one dialog."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.care_plan import (
    COPY_TEXTS,
    LANGUAGES,
    TEMPLATE_ELEMENTS,
    ConditionTemplate,
    language_name,
)
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.services.care_plans import CopyTexts
from ccmdesk.ui.forms import FieldErrorLabel, FormErrors, ask, hint_label, show_failure

TEMPLATE_LABELS = {
    "name": "Condition",
    "prefixes": "ICD-10-CM codes",
    "goals": "Measurable treatment goals",
    "symptoms": "Symptom management",
    "interventions": "Planned interventions",
}
NEW_NAME = "New template"


def prefixes_of(text: str) -> tuple[str, ...]:
    """ "E11; E13" (commas or spaces do too) as the template's prefixes."""
    return tuple(part for part in re.split(r"[;,\s]+", text) if part)


def key_for(name: str, taken: set[str]) -> str:
    """A new template's key from its name (diabetes_type_2), unique among `taken`."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "template"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


@dataclass
class _Entry:
    """One template in the list: what is stored (None: added, not saved yet) and the text in
    the form, kept while another template is shown so nothing typed is lost."""

    saved: ConditionTemplate | None
    draft: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.saved is None or self.draft != _form_of(self.saved)

    @property
    def label(self) -> str:
        name = self.draft.get("name", "").strip() or NEW_NAME
        return f"{name} (not saved)" if self.changed else name


def _form_of(template: ConditionTemplate) -> dict[str, str]:
    return {
        "name": template.name,
        "prefixes": "; ".join(template.prefixes),
        **{key: getattr(template, key) for key in TEMPLATE_ELEMENTS},
    }


class TemplatesTab(QWidget):
    """The condition templates: the list on the left, the chosen one's words on the right."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._entries: list[_Entry] = []
        self._shown = -1
        self.list = QListWidget()
        self.list.setObjectName("templateList")
        self.list.setAccessibleName("Condition templates")
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("addTemplate")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deleteTemplate")
        self.save_button = QPushButton("Save template")
        self.save_button.setObjectName("primaryButton")
        self.status = QLabel()
        self.status.setObjectName("statusLabel")
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.prefixes = QLineEdit()
        self.prefixes.setPlaceholderText("codes or their beginnings, e.g. E11; E13")
        self.texts = {key: QPlainTextEdit() for key in TEMPLATE_ELEMENTS}
        self.inputs: dict[str, QLineEdit | QPlainTextEdit] = {
            "name": self.name, "prefixes": self.prefixes, **self.texts,
        }  # fmt: skip
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.general_error)
        for name, widget in self.inputs.items():
            widget.setObjectName(name)
            widget.setAccessibleName(TEMPLATE_LABELS[name])
            if isinstance(widget, QPlainTextEdit):
                widget.setTabChangesFocus(True)
            # The key is made from the name: its errors are the name's.
            aliases = ("key",) if name == "name" else ()
            cell = self.errors.add(name, TEMPLATE_LABELS[name], widget, *aliases)
            form.addRow(TEMPLATE_LABELS[name], cell)
        form.addRow(
            "",
            hint_label(
                "A new care plan offers the templates matching the patient's conditions; the "
                "nurse edits what they give. Plans already written keep their words."
            ),
        )
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addLayout(form, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        right.addLayout(bottom)
        columns = QHBoxLayout(self)
        columns.addLayout(left, 1)
        columns.addLayout(right, 3)
        self.list.currentRowChanged.connect(self._show)
        self.add_button.clicked.connect(self.add)
        self.delete_button.clicked.connect(self.delete)
        self.save_button.clicked.connect(self.save)
        for widget in self.inputs.values():
            widget.textChanged.connect(self._edited)

    def load(self) -> None:
        templates = self._services.care_plans.templates(self._actor)
        self._entries = [_Entry(t, _form_of(t)) for t in templates]
        self._shown = -1
        self.list.clear()
        self.list.addItems([entry.label for entry in self._entries])
        self.list.setCurrentRow(0 if self._entries else -1)
        self._enable()

    # --- the form ------------------------------------------------------------------------

    def form(self) -> dict[str, str]:
        return {
            name: widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
            for name, widget in self.inputs.items()
        }

    def _show(self, row: int) -> None:
        self._keep_draft()
        self._shown = row
        self.errors.clear()
        self.status.clear()
        draft = self._entries[row].draft if 0 <= row < len(self._entries) else {}
        for name, widget in self.inputs.items():
            widget.blockSignals(True)
            if isinstance(widget, QLineEdit):
                widget.setText(draft.get(name, ""))
            else:
                widget.setPlainText(draft.get(name, ""))
            widget.blockSignals(False)
        self._enable()

    def _keep_draft(self) -> None:
        if 0 <= self._shown < len(self._entries):
            self._entries[self._shown].draft = self.form()

    def _edited(self) -> None:
        if not 0 <= self._shown < len(self._entries):
            return
        self.status.clear()
        entry = self._entries[self._shown]
        entry.draft = self.form()
        item = self.list.item(self._shown)
        if item is not None and item.text() != entry.label:
            item.setText(entry.label)

    def _enable(self) -> None:
        shown = 0 <= self._shown < len(self._entries)
        for widget in (*self.inputs.values(), self.save_button, self.delete_button):
            widget.setEnabled(shown)

    def unsaved(self) -> list[str]:
        """The names of the templates changed or added and not saved."""
        self._keep_draft()
        return [entry.label.removesuffix(" (not saved)") for entry in self._entries
                if entry.changed]  # fmt: skip

    def current(self) -> _Entry | None:
        return self._entries[self._shown] if 0 <= self._shown < len(self._entries) else None

    # --- actions -------------------------------------------------------------------------

    def add(self) -> None:
        self._keep_draft()
        self._entries.append(_Entry(None, {"name": ""}))
        self.list.addItem(self._entries[-1].label)
        self.list.setCurrentRow(len(self._entries) - 1)
        self.name.setFocus()

    def save(self) -> bool:
        entry = self.current()
        if entry is None:
            return False
        form = self.form()
        if entry.saved is not None:
            key = entry.saved.key
        else:
            taken = {e.saved.key for e in self._entries if e.saved is not None}
            key = key_for(form["name"], taken)
        template = ConditionTemplate(
            key=key,
            name=form["name"],
            prefixes=prefixes_of(form["prefixes"]),
            **{k: form[k] for k in TEMPLATE_ELEMENTS},
        )
        try:
            saved = self._services.care_plans.save_template(
                self._actor, template, is_new=entry.saved is None
            )
        except ServiceError as error:
            # The text typed stays in the form, the reasons beside it.
            self.errors.show_refusal(error)
            self.status.setText("Not saved.")
            return False
        except Exception as error:
            show_failure(self, error)
            return False
        entry.saved = saved
        self._show_saved(entry)
        self.status.setText(f"Saved {saved.name}.")
        return True

    def _show_saved(self, entry: _Entry) -> None:
        assert entry.saved is not None
        entry.draft = _form_of(entry.saved)
        row = self._shown
        self._shown = -1  # nothing to keep: the form is refilled from what was saved
        self._show(row)
        self.list.item(row).setText(entry.label)

    def delete(self) -> QMessageBox | None:
        """Ask first; a template never saved is simply dropped."""
        entry = self.current()
        if entry is None:
            return None
        if entry.saved is None:
            self._remove(self._shown)
            return None
        name = entry.saved.name
        return ask(
            self,
            "deleteTemplateQuestion",
            "Delete template",
            f"Delete the care plan template \u201c{name}\u201d? Care plans already written "
            "from it keep their words.",
            "Delete",
            self._delete_now,
        )

    def _delete_now(self) -> None:
        entry = self.current()
        if entry is None or entry.saved is None:
            return
        try:
            self._services.care_plans.delete_template(self._actor, entry.saved.key)
        except Exception as error:
            show_failure(self, error)
            return
        self._remove(self._shown)
        self.status.setText(f"Deleted {entry.saved.name}.")

    def _remove(self, row: int) -> None:
        self._shown = -1  # the form belongs to the row going away
        del self._entries[row]
        self.list.blockSignals(True)
        self.list.takeItem(row)
        self.list.blockSignals(False)
        self.list.setCurrentRow(-1)
        self.list.setCurrentRow(min(row, len(self._entries) - 1))
        self._enable()


class CopyWordsTab(QWidget):
    """The practice's words for the patient copy, one sub-tab per language, saved apiece."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self.languages = QTabWidget()
        self.languages.setObjectName("copyLanguages")
        self.inputs: dict[str, dict[str, QLineEdit | QPlainTextEdit]] = {}
        self.errors: dict[str, FormErrors] = {}
        self.status: dict[str, QLabel] = {}
        self._stored: dict[str, CopyTexts] = {}
        for language, label in LANGUAGES.items():
            self.languages.addTab(self._page(language, label), label)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "Printed on the patient's copy of a signed care plan, in the patient's "
                "preferred language, with the practice's phone and after-hours phone."
            )
        )
        layout.addWidget(self.languages, 1)

    def _page(self, language: str, label: str) -> QWidget:
        page = QWidget()
        general = FieldErrorLabel()
        errors = FormErrors(general)
        inputs: dict[str, QLineEdit | QPlainTextEdit] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(general)
        for key in COPY_TEXTS:
            widget: QLineEdit | QPlainTextEdit
            if key == "title":
                widget = QLineEdit()
            else:
                widget = QPlainTextEdit()
                widget.setTabChangesFocus(True)
            widget.setObjectName(f"{key}_{language}")
            widget.setAccessibleName(f"{COPY_TEXTS[key]} ({label})")
            inputs[key] = widget
            form.addRow(COPY_TEXTS[key], errors.add(key, COPY_TEXTS[key], widget))
        status = QLabel()
        status.setObjectName("statusLabel")
        button = QPushButton(f"Save the {language_name(language)} words")
        button.setObjectName("primaryButton")
        button.clicked.connect(lambda: self.save(language))
        for widget in inputs.values():
            widget.textChanged.connect(status.clear)
        bottom = QHBoxLayout()
        bottom.addWidget(status, 1)
        bottom.addWidget(button)
        column = QVBoxLayout(page)
        column.addLayout(form, 1)
        column.addLayout(bottom)
        self.inputs[language] = inputs
        self.errors[language] = errors
        self.status[language] = status
        return page

    def load(self) -> None:
        texts = self._services.care_plans.copy_texts(self._actor)
        for language, inputs in self.inputs.items():
            words = texts.get(language, CopyTexts(language))
            self._stored[language] = words
            for key, widget in inputs.items():
                value = getattr(words, key)
                if isinstance(widget, QLineEdit):
                    widget.setText(value)
                else:
                    widget.setPlainText(value)
            self.status[language].clear()

    def words(self, language: str) -> CopyTexts:
        values = {
            key: widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
            for key, widget in self.inputs[language].items()
        }
        return CopyTexts(language, **values)

    def unsaved(self) -> list[str]:
        """The languages whose words were changed and not saved."""
        return [
            language
            for language in self.inputs
            if self.words(language) != self._stored.get(language, CopyTexts(language))
        ]

    def save(self, language: str) -> bool:
        errors = self.errors[language]
        try:
            saved = self._services.care_plans.save_copy_texts(self._actor, self.words(language))
        except ValidationFailed as failure:
            errors.show(failure.errors)
            self.status[language].setText("Not saved.")
            return False
        except Exception as error:
            show_failure(self, error)
            return False
        errors.clear()
        self._stored[language] = saved
        for key, widget in self.inputs[language].items():  # as stored: trimmed
            if isinstance(widget, QLineEdit):
                widget.setText(getattr(saved, key))
            else:
                widget.setPlainText(getattr(saved, key))
        self.status[language].setText("Saved.")
        return True


class CarePlanTemplatesDialog(QDialog):
    """Condition templates and the patient copy's words (docs/care-plan-templates.md)."""

    def __init__(self, parent: QWidget | None, services: Services, actor: Actor) -> None:
        super().__init__(parent)
        self.setObjectName("carePlanTemplatesDialog")
        self.setWindowTitle("Care plan templates — ccmdesk")
        self.templates = TemplatesTab(services, actor)
        self.words = CopyWordsTab(services, actor)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.templates, "Condition templates")
        self.tabs.addTab(self.words, "Patient copy words")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.resize(980, 640)
        self.templates.load()
        self.words.load()
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def reject(self) -> None:
        """Closing asks first when something typed is not saved."""
        unsaved = self.templates.unsaved() + [
            f"the {language_name(language)} words" for language in self.words.unsaved()
        ]
        if not unsaved:
            super().reject()
            return
        ask(
            self,
            "discardQuestion",
            "Close without saving",
            "Not saved: " + ", ".join(unsaved) + ". Close and lose these changes?",
            "Close without saving",
            super().reject,
            keep="Keep editing",
        )


def open_templates(
    parent: QWidget, services: Services, actor: Actor
) -> CarePlanTemplatesDialog | None:
    """Open the templates dialog (not modal); a failure reading the templates is shown."""
    try:
        dialog = CarePlanTemplatesDialog(parent, services, actor)
    except Exception as error:  # a busy or damaged database: said, never a traceback
        show_failure(parent, error)
        return None
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
