"""Practice settings: the form (also used at first start) and the admin page around it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.records import (
    CLAIM_SETTING_FIELDS,
    DEFAULT_ACTIVITIES,
    DEFAULT_ATTESTATION,
    FieldError,
    PracticeRecord,
    StopwatchSettings,
)
from ccmdesk.rules.reminders import settings_errors
from ccmdesk.rules.validation import (
    ISA_QUALIFIERS,
    PRACTICE_CLAIM_TEXT_LIMITS,
    PRACTICE_TEXT_LIMITS,
    practice_from_text,
    validate_stopwatch_settings,
)
from ccmdesk.services import Permission, ServiceError, ValidationFailed, allowed
from ccmdesk.services.practice import ATTESTATION_LIMIT, AUTO_LOCK_RANGE
from ccmdesk.ui.apcm import ApcmBox
from ccmdesk.ui.backups import BackupsBox
from ccmdesk.ui.care_plan_templates import CarePlanTemplatesDialog, open_templates
from ccmdesk.ui.fees import FeesBox
from ccmdesk.ui.forms import (
    FieldErrorLabel,
    FormErrors,
    ValueComboBox,
    align_labels,
    focus_field,
    hint_label,
    show_failure,
)
from ccmdesk.ui.notifications import RemindersBox
from ccmdesk.ui.pages.services_page import ServicesPage
from ccmdesk.ui.refresh import PRACTICE, Changes, touches
from ccmdesk.ui.widgets.ordered_list import OrderedListEditor

PLACES_OF_SERVICE = (
    ("11", "Office"),
    ("02", "Telehealth other than in the patient's home"),
    ("10", "Telehealth in the patient's home"),
    ("22", "On campus-outpatient hospital"),
    ("49", "Independent clinic"),
    ("50", "Federally qualified health center"),
    ("72", "Rural health clinic"),
)
DATE_OF_SERVICE_RULES = (
    ("last_day", "Last day of the month"),
    ("threshold_date", "Date the highest threshold was reached"),
)
LABELS = {
    "name": "Practice name",
    "address": "Address",
    "phone": "Phone",
    "after_hours_phone": "After-hours phone",
    "group_npi": "Group NPI",
    "tin": "TIN",
    "timezone": "Time zone",
    "pos": "Place of service",
    "date_of_service_rule": "Date of service",
}
CLAIM_LABELS = {
    "street": "Street",
    "city": "City",
    "state": "State",
    "zip": "ZIP code",
    "tin_kind": "TIN is",
    "accept_assignment": "Assignment",
    "taxonomy": "Taxonomy code",
    "collects_signature": "Signature on file",
    "submitter_id": "Submitter id",
    "submitter_name": "Submitter name",
    "submitter_phone": "Submitter phone",
    "receiver_id": "Receiver id",
    "receiver_name": "Receiver name",
    "isa_qualifier": "ISA qualifier",
    "isa_id": "ISA id",
    "usage": "Files sent as",
}
TIN_KINDS = (
    ("ein", "EIN: the practice's employer identification number"),
    ("ssn", "SSN: a solo practitioner's social security number"),
)
# ISA05's code values, as X12 names them.
ISA_QUALIFIER_NAMES = {
    "ZZ": "Mutually defined (most clearinghouses)",
    "01": "DUNS number",
    "14": "DUNS number plus suffix",
    "20": "Health Industry Number (HIN)",
    "27": "Carrier id assigned by CMS",
    "28": "Fiscal intermediary id assigned by CMS",
    "29": "Medicare provider and supplier id",
    "30": "US federal tax id",
    "33": "NAIC company code",
}
USAGES = (("T", "T — test files"), ("P", "P — production: real claims"))
STOPWATCH_LABELS = {"idle_minutes": "Ask about idle time after", "activities": "Activities"}
# How errors name the fields: "Idle time must be between 1 and 120 minutes."
STOPWATCH_ERROR_LABELS = {"idle_minutes": "Idle time", "activities": "Activities"}
IDLE_MINUTES_SPIN_RANGE = (0, 999)  # wider than allowed: the service's refusal shows beside it
ERROR_COLOR = QColor("#b3261e")
_LEADING_CODE = re.compile(r"\s*(\d+)\b")
_LINE_NUMBER = re.compile(r"^line (\d+)\b")


def local_zone_name() -> str:
    """The computer's IANA time zone, the default for a new practice (DESIGN: data rules)."""
    from PySide6.QtCore import QTimeZone

    name = bytes(QTimeZone.systemTimeZoneId().data()).decode("ascii", "replace")
    return name if "/" in name else PracticeRecord(name="").timezone


class PlaceOfServiceComboBox(QComboBox):
    """Common place-of-service codes to pick from; any other two-digit code can be typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for code, label in PLACES_OF_SERVICE:
            self.addItem(f"{code} — {label}", code)

    def value(self) -> str:
        text = self.currentText().strip()
        index = self.findText(text)
        if index >= 0:
            return str(self.itemData(index))
        match = _LEADING_CODE.match(text)
        return match.group(1) if match else text

    def set_value(self, code: str) -> None:
        index = self.findData(code)
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setEditText(code)


class TimeZoneComboBox(QComboBox):
    """Every IANA time zone, typed with completion; the list is read only when first shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(20)
        self.zones_loaded = False

    def value(self) -> str:
        return self.currentText().strip()

    def set_value(self, name: str) -> None:
        index = self.findText(name)
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setEditText(name)

    def load_zones(self) -> None:
        if self.zones_loaded:
            return
        # Imported here: reading the zone list walks the tz database, not a start-up job.
        from zoneinfo import available_timezones

        zones = sorted(
            zone
            for zone in available_timezones()
            if ("/" in zone or zone == "UTC")
            and not zone.startswith(("posix/", "right/", "SystemV/"))
        )
        typed = self.currentText()
        self.addItems(zones)
        self.set_value(typed)
        completer = QCompleter(zones, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)  # "chicago" finds America/Chicago
        self.setCompleter(completer)
        self.zones_loaded = True

    def showEvent(self, event: QShowEvent) -> None:
        self.load_zones()
        super().showEvent(event)


class PracticeFormWidget(QWidget):
    """The practice's details as a form, with each field's error shown beneath it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.name = QLineEdit()
        self.address = QLineEdit()
        self.address.setPlaceholderText("Street, suite, city, state ZIP")
        self.phone = QLineEdit()
        # Printed on the care plan's patient copy: whom to call when the office is closed.
        self.after_hours_phone = QLineEdit()
        self.after_hours_phone.setPlaceholderText("optional: printed on the patient's care plan")
        for name, limit in PRACTICE_TEXT_LIMITS.items():
            editor = getattr(self, name)
            assert isinstance(editor, QLineEdit)
            editor.setMaxLength(limit)  # the service refuses longer text too
        self.group_npi = QLineEdit()
        self.group_npi.setPlaceholderText("optional: the group's 10-digit NPI")
        self.tin = QLineEdit()
        self.tin.setPlaceholderText("9 digits, e.g. 12-3456789")
        self.timezone = TimeZoneComboBox()
        self.place_of_service = PlaceOfServiceComboBox()
        self.date_of_service_rule = ValueComboBox()
        for value, label in DATE_OF_SERVICE_RULES:
            self.date_of_service_rule.add_value(label, value)
        inputs: dict[str, QWidget] = {
            "name": self.name,
            "address": self.address,
            "phone": self.phone,
            "after_hours_phone": self.after_hours_phone,
            "group_npi": self.group_npi,
            "tin": self.tin,
            "timezone": self.timezone,
            "pos": self.place_of_service,
            "date_of_service_rule": self.date_of_service_rule,
        }
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.general_error)
        for field, widget in inputs.items():
            widget.setObjectName(field)
            widget.setAccessibleName(LABELS[field])
            aliases = ("place_of_service",) if field == "pos" else ()
            caption = QLabel(LABELS[field])
            caption.setObjectName("formLabel")
            caption.setBuddy(widget)
            form.addRow(caption, self.errors.add(field, LABELS[field], widget, *aliases))
        hint = hint_label(
            "The date of service is the date printed on each month's claim lines. Months are "
            "counted in the practice's time zone."
        )
        form.addRow("", hint)
        self.inputs = inputs
        self.set_record(PracticeRecord(name="", timezone=local_zone_name()))

    def set_record(self, record: PracticeRecord) -> None:
        self.name.setText(record.name)
        self.address.setText(record.address)
        self.phone.setText(record.phone)
        self.after_hours_phone.setText(record.after_hours_phone)
        self.group_npi.setText(record.group_npi)
        self.tin.setText(record.tin)
        self.timezone.set_value(record.timezone)
        self.place_of_service.set_value(record.place_of_service)
        self.date_of_service_rule.set_value(record.date_of_service_rule)

    def raw(self) -> dict[str, str]:
        """The form as the text fields practice_from_text reads."""
        return {
            "name": self.name.text(),
            "address": self.address.text(),
            "phone": self.phone.text(),
            "after_hours_phone": self.after_hours_phone.text(),
            "group_npi": self.group_npi.text(),
            "tin": self.tin.text(),
            "timezone": self.timezone.value(),
            "pos": self.place_of_service.value(),
            "date_of_service_rule": self.date_of_service_rule.value(),
        }

    def record(self) -> PracticeRecord:
        """What is typed, normalized; the service says what is wrong with it."""
        record, _ = practice_from_text(self.raw())
        return record


class ClaimSettingsWidget(QWidget):
    """The practice's claim settings in two sections, "Claims" and "Clearinghouse", with each
    field's error beneath it (docs/payers.md, "The practice's claim settings")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.general_error = FieldErrorLabel()
        self.errors = FormErrors(self.general_error)
        self.street = QLineEdit()
        self.city = QLineEdit()
        self.state = QLineEdit()
        self.state.setPlaceholderText("two letters, e.g. ME")
        self.zip = QLineEdit()
        self.zip.setPlaceholderText("12345-6789")
        self.tin_kind = ValueComboBox()
        for value, label in TIN_KINDS:
            self.tin_kind.add_value(label, value)
        self.accept_assignment = QCheckBox("The practice accepts assignment (box 27)")
        self.taxonomy = QLineEdit()
        self.taxonomy.setPlaceholderText("10 characters, e.g. 207Q00000X")
        self.collects_signature = QCheckBox(
            "Patients sign the release of information and assignment of benefits at registration"
        )
        self.submitter_id = QLineEdit()
        self.submitter_name = QLineEdit()
        self.submitter_phone = QLineEdit()
        self.submitter_phone.setPlaceholderText("10 digits, e.g. 207-555-0100")
        self.receiver_id = QLineEdit()
        self.receiver_name = QLineEdit()
        self.isa_qualifier = ValueComboBox()
        for code in ISA_QUALIFIERS[-1:] + ISA_QUALIFIERS[:-1]:  # ZZ, the usual one, first
            self.isa_qualifier.add_value(f"{code} — {ISA_QUALIFIER_NAMES[code]}", code)
        self.isa_id = QLineEdit()
        self.isa_id.setPlaceholderText("blank: the submitter id")
        self.usage = ValueComboBox()
        for value, label in USAGES:
            self.usage.add_value(label, value)
        self.state.setMaxLength(2)
        self.taxonomy.setMaxLength(10)
        for name, limit in PRACTICE_CLAIM_TEXT_LIMITS.items():
            editor = getattr(self, name)
            assert isinstance(editor, QLineEdit)
            editor.setMaxLength(limit)  # the service refuses longer text too
        self.inputs: dict[str, QWidget] = {name: getattr(self, name) for name in CLAIM_LABELS}

        self.claims_box = QGroupBox("Claims")
        claims = self._form(
            self.claims_box,
            "What superbills and claim files carry about the practice as the billing provider "
            "(boxes 25, 27, 32 and 33). The address above stays the printed one and is not "
            "split into these parts; claims need the full ZIP+4.",
        )
        claims.addRow(self.general_error)
        for name in ("street", "city", "state", "zip", "tin_kind", "accept_assignment",
                     "taxonomy", "collects_signature"):  # fmt: skip
            self._row(claims, name)
        claims.addRow(
            "",
            hint_label(
                "A patient's own \u201csignature on file\u201d, when recorded, overrides this."
            ),
        )
        self.clearinghouse_box = QGroupBox("Clearinghouse")
        house = self._form(
            self.clearinghouse_box,
            "The sender and receiver of the 837P claim files, as the clearinghouse gives them. "
            "Until they are filled in, no month goes in a claim file.",
        )
        for name in ("submitter_id", "submitter_name", "submitter_phone", "receiver_id",
                     "receiver_name", "isa_qualifier", "isa_id", "usage"):  # fmt: skip
            self._row(house, name)
        self.usage_hint = hint_label(
            "T sends test files: keep it until the clearinghouse says your test files passed "
            "and to switch to P. Test files are checked but never paid."
        )
        house.addRow("", self.usage_hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.claims_box)
        layout.addWidget(self.clearinghouse_box)
        self.set_record(PracticeRecord(name=""))

    @staticmethod
    def _form(box: QGroupBox, intro: str) -> QFormLayout:
        """The section's form, under a line that says what the section is for."""
        column = QVBoxLayout(box)
        column.addWidget(hint_label(intro))
        form = QFormLayout()
        column.addLayout(form)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return form

    def _row(self, form: QFormLayout, name: str) -> None:
        widget = self.inputs[name]
        widget.setObjectName(name)
        widget.setAccessibleName(CLAIM_LABELS[name])
        caption = QLabel(CLAIM_LABELS[name])
        caption.setObjectName("formLabel")
        caption.setBuddy(widget)
        form.addRow(caption, self.errors.add(name, CLAIM_LABELS[name], widget))

    @property
    def boxes(self) -> list[QWidget]:
        return [self.claims_box, self.clearinghouse_box]

    def set_record(self, record: PracticeRecord) -> None:
        for name in CLAIM_SETTING_FIELDS:
            widget, value = self.inputs[name], getattr(record, name)
            if isinstance(widget, QLineEdit):
                widget.setText(value)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(value)
            elif isinstance(widget, ValueComboBox):
                widget.set_value(value)

    def raw(self) -> dict[str, str]:
        """The settings as the text fields practice_from_text reads."""
        raw: dict[str, str] = {}
        for name in CLAIM_SETTING_FIELDS:
            widget = self.inputs[name]
            if isinstance(widget, QLineEdit):
                raw[name] = widget.text()
            elif isinstance(widget, QCheckBox):
                raw[name] = "yes" if widget.isChecked() else "no"
            elif isinstance(widget, ValueComboBox):
                raw[name] = widget.value()
        return raw


class _NumberedActivityDelegate(QStyledItemDelegate):
    """Shows each activity with its position ("3.  Education"), as error messages count them;
    the editor gets the bare text."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        text = option.text
        shown = text if text.strip() else "(empty: double-click to type the activity)"
        option.text = f"{index.row() + 1}.  {shown}"

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit):
            editor.setPlaceholderText("Type the activity, e.g. Medication reconciliation")
        return editor

    def updateEditorGeometry(
        self,
        editor: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().updateEditorGeometry(editor, option, index)
        # The number stays in view while the name is typed.
        number = editor.fontMetrics().horizontalAdvance(f"{index.row() + 1}.  ")
        editor.setGeometry(editor.geometry().adjusted(number, 0, 0, 0))


class ActivityListEditor(OrderedListEditor):
    """The stop dialog's activities, in order: add, rename in place, remove, move up and down."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list.setObjectName("activityList")
        self.list.setAccessibleName("Activities, in the order the stop dialog lists them")
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.list.setItemDelegate(_NumberedActivityDelegate(self.list))
        # Room for the seven default activities and a few more; then it scrolls.
        self.list.setFixedHeight(self.list.fontMetrics().lineSpacing() * 10 + 12)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add an activity at the end of the list and type its name")
        self.defaults_button = QPushButton("Restore defaults")
        self.defaults_button.setToolTip(
            "Put back ccmdesk's own list of activities (saved when you press Save)"
        )
        self.hint = hint_label(
            "Staff pick one of these when they stop a stopwatch, in this order. Double-click an "
            "activity to rename it. Renaming or removing one does not change minutes already "
            "recorded."
        )

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.list, 0, 0, 6, 1)
        grid.addWidget(self.add_button, 0, 1)
        grid.addWidget(self.remove_button, 1, 1)
        grid.addWidget(self.up_button, 2, 1)
        grid.addWidget(self.down_button, 3, 1)
        grid.setRowStretch(4, 1)
        grid.addWidget(self.defaults_button, 5, 1)
        grid.setColumnStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.hint)

        self.add_button.clicked.connect(lambda: self.add_activity())
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.list.itemChanged.connect(self._edited)
        self._update_buttons()

    # --- the list ----------------------------------------------------------------------------

    def activities(self) -> tuple[str, ...]:
        """The list as shown, each name trimmed (blank ones too: the service refuses them)."""
        return tuple(self.list.item(row).text().strip() for row in range(self.list.count()))

    def set_activities(self, activities: Sequence[str]) -> None:
        self.list.clear()
        for activity in activities:
            self.list.addItem(self._item(activity))
        self._list_changed()

    def add_activity(self, text: str = "") -> QListWidgetItem:
        """Append an activity; with no text, open it for typing."""
        item = self._item(text)
        self.list.addItem(item)
        self.list.setCurrentItem(item)
        self._list_changed()
        if not text:
            self.list.setFocus(Qt.FocusReason.OtherFocusReason)
            self.list.editItem(item)
        return item

    def finish_editing(self) -> None:
        """Keep a name still being typed, as Enter would (Save reads the list)."""
        model = self.list.model()
        for row in range(self.list.count()):
            editor = self.list.indexWidget(model.index(row, 0))
            if editor is not None:
                self.list.commitData(editor)
                self.list.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def rename(self, row: int, text: str) -> None:
        """What typing over an activity in the list does."""
        self.list.item(row).setText(text)

    def restore_defaults(self) -> None:
        self.set_activities(DEFAULT_ACTIVITIES)

    def mark_rows(self, rows: Sequence[int]) -> None:
        """Show the activities an error names (0-based rows) in red, the rest as usual."""
        with QSignalBlocker(self.list):  # a colour is not an edit
            for row in range(self.list.count()):
                item = self.list.item(row)
                item.setData(Qt.ItemDataRole.ForegroundRole, None)
                if row in rows:
                    item.setForeground(QBrush(ERROR_COLOR))

    def marked_rows(self) -> list[int]:
        return [
            row
            for row in range(self.list.count())
            if self.list.item(row).data(Qt.ItemDataRole.ForegroundRole) is not None
        ]

    def _item(self, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        return item

    def _edited(self, _item: QListWidgetItem) -> None:
        self.changed.emit()


def _stopwatch_errors(errors: Sequence[FieldError]) -> tuple[list[FieldError], list[int]]:
    """The service's messages worded for the list ("line 3" is activity 3), and the 0-based
    rows they name."""
    worded: list[FieldError] = []
    rows: list[int] = []
    for error in errors:
        message = error.message
        if error.field == "activities":
            if match := _LINE_NUMBER.match(message):
                rows.append(int(match.group(1)) - 1)
                message = _LINE_NUMBER.sub(r"activity \1", message)
            elif not message.startswith(("is ", "are ", "must ")):
                message = f"the list {message}"  # "needs at least one activity"
        worded.append(FieldError(error.field, message))
    return worded, rows


def _reminder_errors(errors: Sequence[FieldError]) -> str:
    """The reminder settings' problems as one sentence (the section has few fields)."""
    labels = {
        "workday_start_minute": "the working day's start",
        "workday_end_minute": "the working day's end",
        "stopwatch_limit_minutes": "the stopwatch limit",
        "nudge_after_minutes": "the \u201ctiming a call?\u201d delay",
    }
    return "; ".join(f"{labels.get(e.field, e.field)} {e.message}" for e in errors) + "."


class PracticePage(ServicesPage):
    """Administrators change the practice's name, numbers, time zone and claim settings, and
    the stopwatch's idle question and activity list; one Save keeps both or neither."""

    saved = Signal()

    TITLE = "Practice settings"

    def _build(self) -> None:
        self._loaded = False
        self.form = PracticeFormWidget()
        practice_box = QGroupBox("Practice")
        self.practice_box = practice_box
        QVBoxLayout(practice_box).addWidget(self.form)
        self.claims = ClaimSettingsWidget()
        self.stopwatch_box = self._stopwatch_group()
        align_labels([practice_box, *self.claims.boxes, self.stopwatch_box])
        self.attestation = QPlainTextEdit()
        self.attestation.setObjectName("attestation")
        self.attestation.setAccessibleName("Attestation statement")
        self.attestation.setTabChangesFocus(True)
        self.attestation.setFixedHeight(self.attestation.fontMetrics().height() * 5 + 16)
        attestation_hint = hint_label(
            "What a practitioner attests when signing a patient's monthly summary. Leave it "
            "empty for the default statement."
        )
        self.attestation_box = QGroupBox("Monthly sign-off")
        sign_off = QVBoxLayout(self.attestation_box)
        sign_off.addWidget(attestation_hint)
        sign_off.addWidget(self.attestation)
        self.care_plans_box = QGroupBox("Care plans")
        self.templates_button = QPushButton("Care plan templates…")
        self.templates_button.setObjectName("carePlanTemplates")
        self.templates_button.clicked.connect(self.open_templates)
        care_plans = QHBoxLayout(self.care_plans_box)
        care_plans.addWidget(
            hint_label(
                "The condition templates a new care plan starts from, and the words on the "
                "patient's copy in English and Spanish. Saved in their own window."
            ),
            1,
        )
        care_plans.addWidget(self.templates_button, 0, Qt.AlignmentFlag.AlignTop)
        self.auto_lock = QSpinBox()
        self.auto_lock.setObjectName("auto_lock_minutes")
        self.auto_lock.setRange(*AUTO_LOCK_RANGE)
        self.auto_lock.setSuffix(" minutes")
        self.auto_lock.setAccessibleName("Lock the screen after")
        lock_hint = hint_label(
            "without keyboard or mouse on this computer; a running stopwatch keeps running. "
            "The screen also locks when the system locks its own."
        )
        self.security_box = QGroupBox("Security")
        security = QFormLayout(self.security_box)
        lock_row = QWidget()
        lock_layout = QHBoxLayout(lock_row)
        lock_layout.setContentsMargins(0, 0, 0, 0)
        lock_layout.addWidget(self.auto_lock, 0, Qt.AlignmentFlag.AlignTop)
        lock_layout.addWidget(lock_hint, 1)
        lock_label = QLabel("Lock the screen after")
        lock_label.setObjectName("formLabel")
        lock_label.setBuddy(self.auto_lock)
        security.addRow(lock_label, lock_row)
        self.reminders_box = RemindersBox()
        self.apcm = ApcmBox(self._services, self._actor)
        self.apcm.changed.connect(self.saved)
        self.backups = BackupsBox(self._services, self._actor)
        self.fees = FeesBox(self._services, self._actor)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primaryButton")
        self.save_button.setToolTip(
            "Save the practice's details, its claim settings and the stopwatch settings"
        )
        self.status = QLabel()
        self.status.setObjectName("statusLabel")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        inner = QWidget()
        inner.setObjectName("pageBody")
        column = QVBoxLayout(inner)
        column.addWidget(self.heading)
        column.addWidget(practice_box)
        column.addWidget(self.claims)
        column.addWidget(self.stopwatch_box)
        column.addWidget(self.attestation_box)
        column.addWidget(self.security_box)
        column.addWidget(self.reminders_box)
        self.save_row = QWidget()
        self.save_row.setLayout(buttons)
        column.addWidget(self.save_row)
        column.addWidget(self.apcm)
        column.addWidget(self.care_plans_box)
        column.addWidget(self.fees)
        column.addWidget(self.backups)
        column.addStretch(1)
        inner.setMaximumWidth(760)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)
        self.save_button.clicked.connect(self.save)
        for widget in [*self.form.inputs.values(), *self.claims.inputs.values()]:
            if isinstance(widget, QLineEdit):
                widget.textEdited.connect(self.status.clear)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self.status.clear)
            elif isinstance(widget, ValueComboBox):
                widget.activated.connect(self.status.clear)
        self.idle_minutes.valueChanged.connect(self.status.clear)
        self.activities.changed.connect(self.status.clear)
        self.attestation.textChanged.connect(self.status.clear)
        self.auto_lock.valueChanged.connect(self.status.clear)

    def _stopwatch_group(self) -> QGroupBox:
        """How long before the stopwatch asks about idle time, and the stop dialog's list."""
        self.stopwatch_general_error = FieldErrorLabel()
        self.stopwatch_errors = FormErrors(self.stopwatch_general_error)
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setObjectName("idle_minutes")
        self.idle_minutes.setRange(*IDLE_MINUTES_SPIN_RANGE)
        self.idle_minutes.setSuffix(" minutes")
        self.idle_minutes.setAccessibleName(STOPWATCH_LABELS["idle_minutes"])
        idle_hint = hint_label(
            "without keyboard or mouse use while a stopwatch runs. During phone calls staff "
            "turn on the \u201cOn a call\u201d switch instead, so a call is not taken for idle "
            "time."
        )
        idle_row = QWidget()
        idle_layout = QHBoxLayout(idle_row)
        idle_layout.setContentsMargins(0, 0, 0, 0)
        idle_layout.addWidget(self.idle_minutes, 0, Qt.AlignmentFlag.AlignTop)
        idle_layout.addWidget(idle_hint, 1)
        self.activities = ActivityListEditor()
        self.activities.setObjectName("activities")
        box = QGroupBox("Stopwatch")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.stopwatch_general_error)
        cells: tuple[tuple[str, QWidget, QWidget], ...] = (
            ("idle_minutes", self.idle_minutes, idle_row),
            ("activities", self.activities.list, self.activities),
        )
        # FormErrors names the cell's content; the cursor goes to the input inside it.
        self._focus_targets: dict[QWidget, QWidget] = {c: w for _, w, c in cells}
        for field, widget, content in cells:
            label = QLabel(STOPWATCH_LABELS[field])
            label.setObjectName("formLabel")
            label.setBuddy(widget)
            cell = self.stopwatch_errors.add(field, STOPWATCH_ERROR_LABELS[field], content)
            form.addRow(label, cell)
        return box

    def stopwatch_settings(self) -> StopwatchSettings:
        """The stopwatch settings as shown (not yet saved)."""
        return StopwatchSettings(self.idle_minutes.value(), self.activities.activities())

    def set_stopwatch_settings(self, settings: StopwatchSettings) -> None:
        self.idle_minutes.setValue(settings.idle_minutes)
        self.activities.set_activities(settings.activities)

    def showEvent(self, event: QShowEvent) -> None:
        # The sections and the APCM buttons follow whoever is signed in now.
        self._show_for_role()
        self.apcm.load()
        if not self._loaded:
            self.load()
        super().showEvent(event)

    def _show_for_role(self) -> None:
        """Administrators see every section; a practitioner the APCM and care plan ones."""
        admin = allowed(self._actor(), Permission.MANAGE_PRACTICE)
        for part in (
            self.practice_box, *self.claims.boxes, self.stopwatch_box, self.attestation_box,
            self.security_box, self.reminders_box, self.save_row, self.fees, self.backups,
        ):  # fmt: skip
            part.setVisible(admin)
        # Practitioners word the templates too (docs/care-plan-templates.md).
        self.care_plans_box.setVisible(
            allowed(self._actor(), Permission.MANAGE_CARE_PLAN_TEMPLATES)
        )

    def refresh(self, changes: Changes) -> None:
        if touches(changes, PRACTICE):
            self._loaded = False  # read again when next shown, not under someone's typing

    def clear(self) -> None:
        self._loaded = False

    def forget_person(self) -> None:
        """The practice's settings are nobody's own: nothing to forget."""

    def open_templates(self) -> CarePlanTemplatesDialog | None:
        return open_templates(self, self._services, self._actor())

    def load(self) -> None:
        try:
            record = self._services.practice.get()
            stopwatch = self._services.practice.stopwatch_settings()
            attestation = self._services.practice.attestation()
            auto_lock = self._services.practice.auto_lock_minutes()
            reminders = self._services.notifications.settings()
        except Exception as error:
            show_failure(self, error)
            return
        if record is not None:
            self.form.set_record(record)
            self.claims.set_record(record)
        self.set_stopwatch_settings(stopwatch)
        self.attestation.setPlainText(attestation)
        self.auto_lock.setValue(auto_lock)
        self.reminders_box.set_settings(reminders)
        self._clear_errors()
        self.status.setText("" if record else "The practice is not set up yet.")
        self._loaded = True

    def save(self) -> bool:
        """Save the practice's details and the stopwatch settings together, or neither.

        Both are checked with the services' own rules first, so an error in one part does not
        leave the other part saved; the services check again when saving.
        """
        self.status.clear()
        self.activities.finish_editing()
        record, practice_errors = practice_from_text(self.form.raw() | self.claims.raw())
        settings = self.stopwatch_settings()
        stopwatch_errors = validate_stopwatch_settings(settings)
        attestation = self.attestation.toPlainText().strip()
        if len(attestation) > ATTESTATION_LIMIT:
            self.status.setText(
                f"Not saved: the attestation statement is longer than {ATTESTATION_LIMIT} "
                "characters."
            )
            self.attestation.setFocus()
            return False
        if practice_errors or stopwatch_errors:
            self._show_errors(practice_errors, stopwatch_errors)
            return False
        # Checked with the rest, so a working day that ends before it starts saves nothing.
        if reminder_errors := settings_errors(self.reminders_box.settings()):
            self.status.setText("Not saved: " + _reminder_errors(reminder_errors))
            return False
        actor = self._actor()
        try:
            self._services.practice.save(actor, record)
        except ValidationFailed as failure:
            self._show_errors(failure.errors, [])
            return False
        except ServiceError as error:
            show_failure(self, error)
            return False
        try:
            saved = self._services.practice.save_stopwatch_settings(actor, settings)
        except ValidationFailed as failure:
            self._show_errors([], failure.errors, "The practice's details were saved; ")
            self.saved.emit()
            return False
        except ServiceError as error:
            self._clear_errors()
            self.status.setText(
                "The practice's details were saved; the stopwatch settings were not."
            )
            self.saved.emit()
            show_failure(self, error)
            return False
        try:
            # The default is kept as "no statement of our own", so a later default applies.
            own = "" if attestation == DEFAULT_ATTESTATION else attestation
            self.attestation.setPlainText(self._services.practice.save_attestation(actor, own))
        except ServiceError as error:
            self.status.setText("Everything but the attestation statement was saved.")
            self.saved.emit()
            show_failure(self, error)
            return False
        try:
            self._services.practice.save_auto_lock_minutes(actor, self.auto_lock.value())
        except ServiceError as error:
            self.status.setText("Everything but the screen lock's minutes was saved.")
            self.saved.emit()
            show_failure(self, error)
            return False
        try:
            self._services.notifications.save_settings(actor, self.reminders_box.settings())
        except ServiceError as error:
            self.status.setText(
                "Everything but the reminder settings was saved: "
                + (
                    _reminder_errors(error.errors)
                    if isinstance(error, ValidationFailed)
                    else str(error)
                )
            )
            self.saved.emit()
            return False
        self._clear_errors()
        self.set_stopwatch_settings(saved)  # as stored: names trimmed
        self.status.setText("Saved.")
        self.saved.emit()
        return True

    def _clear_errors(self) -> None:
        self.form.errors.clear()
        self.claims.errors.clear()
        self.stopwatch_errors.clear()
        self.activities.mark_rows([])

    def _show_errors(
        self,
        practice_errors: Sequence[FieldError],
        stopwatch_errors: Sequence[FieldError],
        saved_part: str = "",
    ) -> None:
        worded, rows = _stopwatch_errors(stopwatch_errors)
        claim_errors = [e for e in practice_errors if e.field in CLAIM_SETTING_FIELDS]
        first = self.form.errors.show(
            [e for e in practice_errors if e.field not in CLAIM_SETTING_FIELDS]
        )
        first_claim = self.claims.errors.show(claim_errors)
        first_stopwatch = self.stopwatch_errors.show(worded)
        self.activities.mark_rows(rows)
        first = first or first_claim or first_stopwatch
        if first is not None:
            first = self._focus_targets.get(first, first)
            focus_field(first, self.scroll_area)
        if saved_part:
            self.status.setText(
                f"{saved_part}the stopwatch settings were not: please correct the fields marked "
                "in red."
            )
        else:
            self.status.setText("Not saved: please correct the fields marked in red.")
