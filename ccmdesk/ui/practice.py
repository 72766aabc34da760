"""Practice settings: the form (also used at first start) and the admin page around it."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.records import PracticeRecord
from ccmdesk.rules.validation import practice_from_text
from ccmdesk.services import Actor, ServiceError, Services, ValidationFailed
from ccmdesk.ui.forms import FieldErrorLabel, FormErrors, ValueComboBox, focus_field, show_failure

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
    "group_npi": "Group NPI",
    "tin": "TIN",
    "timezone": "Time zone",
    "pos": "Place of service",
    "date_of_service_rule": "Date of service",
}
_LEADING_CODE = re.compile(r"\s*(\d+)\b")


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
        self.group_npi = QLineEdit()
        self.group_npi.setPlaceholderText("optional: the group's 10-digit NPI")
        self.tin = QLineEdit()
        self.tin.setPlaceholderText("9 digits, e.g. 12-3456789")
        self.timezone = TimeZoneComboBox()
        self.pos = PlaceOfServiceComboBox()
        self.date_of_service_rule = ValueComboBox()
        for value, label in DATE_OF_SERVICE_RULES:
            self.date_of_service_rule.add_value(label, value)
        inputs: dict[str, QWidget] = {
            "name": self.name,
            "address": self.address,
            "phone": self.phone,
            "group_npi": self.group_npi,
            "tin": self.tin,
            "timezone": self.timezone,
            "pos": self.pos,
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
            label = QLabel(LABELS[field])
            label.setObjectName("formLabel")
            label.setBuddy(widget)
            form.addRow(label, self.errors.add(field, LABELS[field], widget, *aliases))
        hint = QLabel(
            "The date of service is the date printed on each month's claim lines. Months are "
            "counted in the practice's time zone."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow("", hint)
        self.inputs = inputs
        self.set_record(PracticeRecord(name="", timezone=local_zone_name()))

    def set_record(self, record: PracticeRecord) -> None:
        self.name.setText(record.name)
        self.address.setText(record.address)
        self.phone.setText(record.phone)
        self.group_npi.setText(record.group_npi)
        self.tin.setText(record.tin)
        self.timezone.set_value(record.timezone)
        self.pos.set_value(record.place_of_service)
        self.date_of_service_rule.set_value(record.date_of_service_rule)

    def raw(self) -> dict[str, str]:
        """The form as the text fields practice_from_text reads."""
        return {
            "name": self.name.text(),
            "address": self.address.text(),
            "phone": self.phone.text(),
            "group_npi": self.group_npi.text(),
            "tin": self.tin.text(),
            "timezone": self.timezone.value(),
            "pos": self.pos.value(),
            "date_of_service_rule": self.date_of_service_rule.value(),
        }

    def record(self) -> PracticeRecord:
        """What is typed, normalized; the service says what is wrong with it."""
        record, _ = practice_from_text(self.raw())
        return record


class PracticePage(QWidget):
    """Administrators change the practice's name, numbers, time zone and claim settings."""

    saved = Signal()

    def __init__(
        self, services: Services, actor: Callable[[], Actor], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._loaded = False
        heading = QLabel("Practice settings")
        heading.setObjectName("pageHeading")
        self.form = PracticeFormWidget()
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primaryButton")
        self.status = QLabel()
        self.status.setObjectName("statusLabel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        inner = QWidget()
        inner.setObjectName("pageBody")
        column = QVBoxLayout(inner)
        column.addWidget(heading)
        column.addWidget(self.form)
        column.addLayout(buttons)
        column.addStretch(1)
        inner.setMaximumWidth(760)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self.save_button.clicked.connect(self.save)
        for widget in self.form.inputs.values():
            if isinstance(widget, QLineEdit):
                widget.textEdited.connect(self.status.clear)

    def showEvent(self, event: QShowEvent) -> None:
        if not self._loaded:
            self.load()
        super().showEvent(event)

    def load(self) -> None:
        try:
            record = self._services.practice.get()
        except Exception as error:
            show_failure(self, error)
            return
        if record is not None:
            self.form.set_record(record)
        self.form.errors.clear()
        self.status.setText("" if record else "The practice is not set up yet.")
        self._loaded = True

    def save(self) -> bool:
        self.status.clear()
        try:
            self._services.practice.save(self._actor(), self.form.record())
        except ValidationFailed as failure:
            first = self.form.errors.show(failure.errors)
            if first is not None:
                focus_field(first, self.scroll)
            self.status.setText("Not saved: please correct the fields marked in red.")
            return False
        except ServiceError as error:
            show_failure(self, error)
            return False
        self.form.errors.clear()
        self.status.setText("Saved.")
        self.saved.emit()
        return True
