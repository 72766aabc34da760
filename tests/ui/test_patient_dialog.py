"""The patient editor: saving new and changed patients, and errors shown beside their fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox

from ccmdesk.rules.records import (
    OLD_PAYER_COLUMNS,
    PATIENT_FILE_COLUMNS,
    StaffRecord,
)
from ccmdesk.rules.validation import COVERAGE_TEXT_LIMITS, PATIENT_TEXT_LIMITS
from ccmdesk.services import Actor, Services
from ccmdesk.ui.forms import ValueComboBox
from ccmdesk.ui.pages.patients import PRACTITIONER, PatientsPage
from ccmdesk.ui.patient_dialog import EDITOR_FIELDS, PatientDialog
from tests.helpers.ui import DB_FILE, services_raw


def new_dialog(qtbot, services: Services, actor: Actor) -> PatientDialog:
    dialog = PatientDialog(services, actor, services.staff.list(), None)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill(dialog: PatientDialog, **values: str) -> None:
    for name, value in values.items():
        widget = dialog.inputs[name]
        if isinstance(widget, QLineEdit):
            widget.setText(value)
        elif isinstance(widget, ValueComboBox):
            widget.set_value(value)
        else:
            raise AssertionError(f"fill() cannot set {name}")


VALID_NEW = {
    "mrn": "C300",
    "last_name": "O'Brien",
    "first_name": "Agnes",
    "dob": "1941-07-04",
    "billing_practitioner": "dr-okafor",
}


def test_the_editor_has_an_input_for_every_patients_csv_column(qtbot, services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    # Every column but the old way of naming the payer (payer, payer_type, member_id), and
    # cannot_pay, which is a check box rather than an input.
    assert set(EDITOR_FIELDS) == set(PATIENT_FILE_COLUMNS) - {*OLD_PAYER_COLUMNS, "cannot_pay"}
    assert set(dialog.inputs) == set(EDITOR_FIELDS)
    assert set(dialog.raw()) == {*EDITOR_FIELDS, "cannot_pay"}
    assert dialog.windowTitle() == "New patient"


def test_text_fields_take_no_more_than_the_rules_allow(qtbot, services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    limits = {**PATIENT_TEXT_LIMITS, **COVERAGE_TEXT_LIMITS}
    del limits["payer"]  # chosen from the payer list, not typed
    limits["primary_member_id"] = limits.pop("member_id")
    for name, limit in limits.items():
        field = dialog.inputs[name]
        assert isinstance(field, QLineEdit) and field.maxLength() == limit, name
    qtbot.keyClicks(dialog.inputs["last_name"], "x" * 120)
    assert dialog.raw()["last_name"] == "x" * 100


def test_saving_a_new_patient_writes_every_field(qtbot, services: Services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    qtbot.keyClicks(dialog.inputs["mrn"], "C300")
    qtbot.keyClicks(dialog.inputs["last_name"], "O'Brien")
    fill(
        dialog,
        first_name="Agnes",
        dob="07/04/1941",  # the US form is turned into YYYY-MM-DD
        sex="F",
        phone="(207) 555-0199",
        address="12 Fore St",
        city="Portland",
        state="me",
        zip="04101",
        primary_payer="mcr-b",
        primary_member_id="1EG4-TE5-MK72",
        billing_practitioner="dr-okafor",
        care_manager="rn-lee",
        consent_date="2026-02-01",
        consent_method="written",
        consent_practitioner="np-lind",
        initiating_visit_date="2026-01-20",
        care_plan_date="2026-02-03",
    )
    dialog.qmb.setChecked(True)
    dialog.conditions.add_code("I10")
    dialog.conditions.add_code("E11.9")
    with qtbot.waitSignal(dialog.saved) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == ["C300"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    record = services.patients.get(nurse, "C300")
    assert (record.last_name, record.first_name, record.dob) == (
        "O'Brien",
        "Agnes",
        dt.date(1941, 7, 4),
    )
    assert (record.sex, record.state, record.zip, record.city) == ("F", "ME", "04101", "Portland")
    assert (record.primary_payer, record.member_id, record.qmb) == ("mcr-b", "1EG4TE5MK72", True)
    assert (record.payer, record.payer_type) == ("Medicare Part B", "medicare")
    assert (record.billing_practitioner, record.care_manager) == ("dr-okafor", "rn-lee")
    assert record.conditions == ("I10", "E11.9")  # the order chosen is the claim order
    assert (record.consent_date, record.consent_method, record.consent_practitioner) == (
        dt.date(2026, 2, 1),
        "written",
        "np-lind",
    )
    assert record.initiating_visit_date == dt.date(2026, 1, 20)
    assert record.care_plan_date == dt.date(2026, 2, 3)


def test_editing_a_patient_from_the_list_saves_and_refreshes_the_row(
    qtbot, services: Services, nurse: Actor
) -> None:
    page = PatientsPage(services, lambda: nurse)
    qtbot.addWidget(page)
    dialog = page.open_patient("A101")
    assert isinstance(dialog, PatientDialog)
    assert dialog.windowTitle() == "Nguyen, Harold — MRN A101"
    assert dialog.inputs["dob"].text() == "1950-11-23"
    assert dialog.billing_practitioner.value() == "np-lind"
    fill(dialog, phone="(207) 555-0142", billing_practitioner="dr-okafor")
    dialog.conditions.set_codes(["I10", "E78.5"])
    dialog.conditions.list.setCurrentRow(1)
    dialog.conditions.move_selected(-1)
    assert dialog.save() is True
    record = services.patients.get(nurse, "A101")
    assert record.phone == "(207) 555-0142"
    assert record.billing_practitioner == "dr-okafor"
    assert record.conditions == ("E78.5", "I10")
    row = page.model.row_of("A101")
    assert page.model.index(row, PRACTITIONER).data() == "Adaeze Okafor"
    assert page.current_mrn() == "A101"


def test_changing_the_mrn_of_a_patient_keeps_their_record(qtbot, services, nurse) -> None:
    record = services.patients.get(nurse, "B201")
    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    fill(dialog, mrn="B201-X")
    assert dialog.save() is True
    assert services.patients.get(nurse, "B201-X").last_name == "Smithson"
    assert "B201" not in {row.mrn for row in services.patients.list_rows(nurse)}


@pytest.fixture
def practitioner_without_npi(services: Services, data_dir: Path) -> str:
    """A practitioner whose NPI went missing (an old import); services would refuse to add one."""
    with sqlite3.connect(data_dir / DB_FILE) as connection:
        connection.execute("UPDATE staff SET npi = NULL WHERE staff_id = 'np-lind'")
    connection.close()
    return "np-lind"


def test_errors_appear_beside_their_fields_and_the_typed_text_stays(
    qtbot, services: Services, nurse: Actor, practitioner_without_npi: str
) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    label = dialog.billing_practitioner.itemText(dialog.billing_practitioner.findData("np-lind"))
    assert label == "Maja Lindqvist, NP — no NPI on file"
    fill(
        dialog,
        mrn="A100",  # Zoë Schäfer's
        last_name="Quintero",
        first_name="Rosa",
        dob="1948-02-30",
        billing_practitioner=practitioner_without_npi,
        phone="207 555 0123",
    )
    dialog.conditions.set_codes(["E11.9", "ZZZ.99", "E11"])
    assert dialog.save() is False

    assert dialog.result() != QDialog.DialogCode.Accepted
    shown = dialog.errors.errors_shown()
    assert shown["mrn"] == "'A100' belongs to another patient."
    assert shown["dob"] == "'1948-02-30' is not a date; use YYYY-MM-DD."
    assert shown["billing_practitioner"] == "Practitioner 'np-lind' has no NPI."
    assert "'ZZZ.99' is not an ICD-10-CM code" in shown["conditions"]
    assert "'E11' is a category, not a billable code" in shown["conditions"]
    assert set(shown) == {"mrn", "dob", "billing_practitioner", "conditions"}
    assert dialog.errors.error_label("dob").isVisible()
    assert not dialog.errors.error_label("phone").isVisible()
    assert dialog.general_error.text() == "Not saved: please correct the fields marked in red."
    # Everything typed is still there to correct.
    assert dialog.inputs["mrn"].text() == "A100"
    assert dialog.inputs["dob"].text() == "1948-02-30"
    assert dialog.inputs["phone"].text() == "207 555 0123"
    assert dialog.billing_practitioner.value() == "np-lind"
    assert dialog.conditions.codes() == ["E11.9", "ZZZ.99", "E11"]
    assert dialog.focusWidget() is dialog.inputs["mrn"]  # the first bad field, in form order
    assert [row.mrn for row in services.patients.list_rows(nurse)].count("A100") == 1

    fill(dialog, mrn="C301", dob="1948-02-28", billing_practitioner="dr-okafor")
    dialog.conditions.set_codes(["E11.9"])
    assert dialog.save() is True
    assert dialog.errors.errors_shown() == {}
    assert services.patients.get(nurse, "C301").first_name == "Rosa"


def test_a_missing_required_field_is_named_in_the_message(qtbot, services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    fill(dialog, **{**VALID_NEW, "billing_practitioner": "", "consent_method": "verbal"})
    assert dialog.save() is False
    shown = dialog.errors.errors_shown()
    assert shown["billing_practitioner"] == "Billing practitioner is required."
    assert shown["consent_method"] == "Consent method is set but consent date is empty."
    assert dialog.focusWidget() is dialog.billing_practitioner


def test_a_date_in_the_future_is_refused(qtbot, services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    fill(dialog, **{**VALID_NEW, "care_plan_date": "2026-03-17"})  # the clock says 2026-03-16
    assert dialog.save() is False
    assert dialog.errors.error_text("care_plan_date") == "2026-03-17 is in the future."


def test_an_inactive_care_manager_on_file_is_kept_on_save(qtbot, services, nurse, admin) -> None:
    member = StaffRecord("lpn-ode", "Ada Ode", "clinical", "LPN")
    services.staff.save(admin, member, is_new=True)
    services.patients.save_text(
        admin,
        {**services_raw(services, nurse, "A101"), "care_manager": "lpn-ode"},
        original_mrn="A101",
    )
    services.staff.save(admin, dataclasses.replace(member, active=False), is_new=False)
    record = services.patients.get(nurse, "A101")
    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    assert dialog.care_manager.currentText() == "Ada Ode, LPN (inactive)"
    assert dialog.save() is True
    assert services.patients.get(nurse, "A101").care_manager == "lpn-ode"


def test_read_only_editor_shows_the_patient_and_cannot_save(qtbot, services, biller) -> None:
    record = services.patients.get(biller, "A100")
    dialog = PatientDialog(services, biller, services.staff.list(), record, read_only=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.inputs["last_name"].text() == "Schäfer"
    assert dialog.conditions.codes() == ["E11.9", "I10"]
    assert not dialog.conditions.search_field.isVisible()
    assert not dialog.sex.isEnabled()
    assert not hasattr(dialog, "save_button")
    assert dialog.save() is False


def open_question(dialog: PatientDialog) -> QMessageBox:
    boxes = [b for b in dialog.findChildren(QMessageBox, "discardQuestion") if b.isVisible()]
    assert len(boxes) == 1
    return boxes[0]


def test_cancelling_with_typed_changes_asks_before_discarding(qtbot, services, nurse) -> None:
    record = services.patients.get(nurse, "A101")
    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.reject()  # nothing changed: closes at once
    assert not dialog.isVisible()

    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(dialog, city="Bangor")
    dialog.reject()
    question = open_question(dialog)
    assert dialog.isVisible()
    question.button(QMessageBox.StandardButton.Cancel).click()  # "Keep editing"
    assert dialog.isVisible()
    assert dialog.inputs["city"].text() == "Bangor"

    dialog.reject()
    question = open_question(dialog)
    question.button(QMessageBox.StandardButton.Discard).click()
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert services.patients.get(nurse, "A101").city == ""


def test_why_the_patient_stopped_is_asked_beside_the_revocation_day(
    qtbot, services: Services, nurse: Actor
) -> None:
    record = services.patients.get(nurse, "B200")
    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    assert not dialog.stop_reason.isEnabled()  # no revocation day, nothing to explain
    fill(dialog, consent_revoked_date="2026-03-10")
    assert dialog.stop_reason.isEnabled() and dialog.stop_note.isEnabled()
    dialog.stop_reason.set_value("other")
    assert dialog.save() is False  # "other" needs a note, shown beside it
    assert dialog.errors.error_text("stop_note").startswith("Stop note is required")
    dialog.stop_note.setText("Moved out of state")
    assert dialog.save() is True, dialog.errors.errors_shown()
    last = services.enrolment.history(nurse, "B200").steps[-1]
    assert (last.step, last.day.isoformat(), last.reason, last.note) == (
        "revoked", "2026-03-10", "other", "Moved out of state")  # fmt: skip


def test_the_numbers_and_best_time_are_loaded_and_saved(qtbot, services: Services, nurse) -> None:
    """The Contact box holds the mobile and other numbers and the preferred call time."""
    dialog = new_dialog(qtbot, services, nurse)
    fill(dialog, **VALID_NEW, phone="207-555-0101", mobile_phone="207-555-0199",
         other_phone="207-555-0177", preferred_call_time="evening")  # fmt: skip
    assert dialog.save()
    record = services.patients.get(nurse, "C300")
    assert (record.phone, record.mobile_phone, record.other_phone) == (
        "207-555-0101", "207-555-0199", "207-555-0177")  # fmt: skip
    assert record.preferred_call_time == "evening"
    again = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(again)
    assert again.preferred_call_time.value() == "evening"
    assert again.raw()["mobile_phone"] == "207-555-0199"
    again.preferred_call_time.set_value("")  # any time
    assert again.save()
    assert services.patients.get(nurse, "C300").preferred_call_time == ""


def test_the_preferred_language_is_chosen_loaded_and_saved(
    qtbot, services: Services, nurse
) -> None:
    """English by default; Spanish prints the care plan's patient copy in Spanish."""
    dialog = new_dialog(qtbot, services, nurse)
    combo = dialog.preferred_language
    assert [combo.itemText(i) for i in range(combo.count())] == ["English", "Spanish (español)"]
    assert dialog.form_labels["preferred_language"].text() == "Preferred language"
    assert combo.value() == "en"
    fill(dialog, **VALID_NEW, preferred_language="es")
    assert dialog.save()
    record = services.patients.get(nurse, "C300")
    assert record.preferred_language == "es"
    again = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(again)
    assert again.preferred_language.value() == "es"
    again.preferred_language.set_value("en")
    assert again.save()
    assert services.patients.get(nurse, "C300").preferred_language == "en"


def test_the_care_plan_date_is_labelled_as_a_plan_kept_elsewhere(qtbot, services, nurse) -> None:
    dialog = new_dialog(qtbot, services, nurse)
    label = dialog.form_labels["care_plan_date"]
    assert label.text() == "Care plan kept elsewhere (date)"
    for widget in (label, dialog.inputs["care_plan_date"]):
        assert "signed in ccmdesk wins" in widget.toolTip()
