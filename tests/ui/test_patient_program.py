"""The patient editor's Program section, last visit and G0506 check box."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from ccmdesk.services import Actor, Services
from ccmdesk.ui.patient_dialog import PatientDialog
from ccmdesk.ui.programs import NOT_ALLOWED


def open_dialog(qtbot, services: Services, actor: Actor, mrn: str, **kw: bool) -> PatientDialog:
    record = services.patients.get(actor, mrn)
    dialog = PatientDialog(services, actor, services.staff.list(), record, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_last_visit_and_g0506_are_saved_and_shown_again(qtbot, services: Services, nurse) -> None:
    dialog = open_dialog(qtbot, services, nurse, "A100")
    dialog.inputs["initiating_visit_date"].setText("2026-01-10")  # type: ignore[attr-defined]
    dialog.inputs["last_visit_date"].setText("02/20/2026")  # type: ignore[attr-defined]
    qtbot.mouseClick(dialog.g0506, Qt.MouseButton.LeftButton)
    assert dialog.save()
    record = services.patients.get(nurse, "A100")
    assert (record.last_visit_date, record.initiating_visit_g0506) == (dt.date(2026, 2, 20), True)
    again = open_dialog(qtbot, services, nurse, "A100")
    assert again.g0506.isChecked()
    assert again.inputs["last_visit_date"].text() == "2026-02-20"  # type: ignore[attr-defined]


def test_g0506_without_the_initiating_visit_is_refused_beside_it(
    qtbot, services: Services, nurse
) -> None:
    dialog = open_dialog(qtbot, services, nurse, "A100")
    dialog.g0506.setChecked(True)
    assert not dialog.save()
    assert dialog.errors.error_text("initiating_visit_g0506") == (
        "G0506 is set but initiating visit is empty."
    )


def test_a_practitioner_puts_a_patient_on_pcm_by_focus_from_a_month(
    qtbot, services: Services
) -> None:
    doctor = services.staff.actor_for("dr-okafor")
    dialog = open_dialog(qtbot, services, doctor, "A100")
    section = dialog.program
    assert section.program.value() == "ccm"
    assert not section.focus.isEnabled()
    assert section.from_month.text() == "2026-03"  # this month by default
    assert section.history.isHidden()
    assert "throughout" in section.no_history.text()
    section.program.set_value("pcm_focus")
    assert section.focus.isEnabled()
    assert [section.focus.itemData(i) for i in range(section.focus.count())] == ["", "E11.9", "I10"]
    dialog.conditions.add_code("N18.30")  # the focus is chosen among the list as it stands
    assert section.focus.findData("N18.30") >= 0
    section.focus.set_value("N18.30")
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert services.programs.program_in(doctor, "A100", "2026-03") == ("pcm_focus", "N18.30")
    assert services.programs.program_in(doctor, "A100", "2026-02") == ("ccm", None)
    again = open_dialog(qtbot, services, doctor, "A100")
    assert again.program.value() == ("pcm_focus", "N18.30")
    assert again.program.history.rowCount() == 1
    assert again.program.history.item(0, 0).text() == "March 2026"
    assert again.program.history.item(0, 2).text() == "Adaeze Okafor"


def test_a_change_into_a_closed_month_is_refused_in_the_section_and_the_record_kept(
    qtbot, services: Services, biller
) -> None:
    services.closing.close(biller, "2026-02")
    doctor = services.staff.actor_for("dr-okafor")
    dialog = open_dialog(qtbot, services, doctor, "A100")
    dialog.inputs["phone"].setText("207-555-0142")  # type: ignore[attr-defined]
    dialog.program.program.set_value("apcm")
    dialog.program.from_month.setText("2026-02")
    assert not dialog.save()
    assert dialog.program.error.text().startswith("February 2026 is closed for billing;")
    assert "record was saved, but not the program" in dialog.general_error.text()
    assert services.patients.get(doctor, "A100").phone == "207-555-0142"
    assert services.programs.history(doctor, "A100") == []
    dialog.program.from_month.setText("2026-03")  # the month after: saving again changes it
    assert dialog.save()
    assert services.programs.program_in(doctor, "A100", "2026-03") == ("apcm", None)


def test_the_care_team_sees_the_program_but_does_not_change_it(
    qtbot, services: Services, nurse
) -> None:
    services.programs.set(Actor.command_line(), "A100", "apcm", "2026-01")
    dialog = open_dialog(qtbot, services, nurse, "A100")
    assert dialog.program.program.value() == "apcm"
    assert not dialog.program.program.isEnabled()
    assert not dialog.program.from_month.isEnabled()
    assert dialog.program.hint.text() == NOT_ALLOWED


def test_billing_staff_change_the_program_from_the_view_only_record(
    qtbot, services: Services, biller
) -> None:
    dialog = open_dialog(qtbot, services, biller, "A100", read_only=True)
    assert dialog.inputs["phone"].isReadOnly()  # type: ignore[attr-defined]
    assert dialog.program.program.isEnabled()
    dialog.program.program.set_value("apcm")
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.save_program_button, Qt.MouseButton.LeftButton)
    assert services.programs.program_in(biller, "A100", "2026-03") == ("apcm", None)


def test_a_new_patient_is_saved_with_the_program_chosen(qtbot, services: Services) -> None:
    doctor = services.staff.actor_for("dr-okafor")
    dialog = PatientDialog(services, doctor, services.staff.list(), None)
    qtbot.addWidget(dialog)
    dialog.show()
    for name, value in (("mrn", "C400"), ("last_name", "Ames"), ("first_name", "Lu"),
                        ("dob", "1944-05-06")):  # fmt: skip
        dialog.inputs[name].setText(value)  # type: ignore[attr-defined]
    dialog.billing_practitioner.set_value("dr-okafor")
    dialog.conditions.add_code("I10")
    dialog.program.program.set_value("pcm_focus")
    dialog.program.focus.set_value("I10")
    assert dialog.save()
    assert services.programs.program_in(doctor, "C400", "2026-03") == ("pcm_focus", "I10")
