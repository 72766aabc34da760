"""The staff page for administrators: the table model, adding and editing people."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Actor, Services
from ccmdesk.ui.pages.staff import NAME, StaffDialog, StaffPage, StaffTableModel

MEMBERS = [
    StaffRecord("dr-okafor", "Adaeze Okafor", "practitioner", "MD", "1000000012"),
    StaffRecord("rn-gone", "Olive Retired", "clinical", "RN", active=False),
]


def test_staff_table_model_passes_the_qt_model_tester(qtmodeltester) -> None:
    qtmodeltester.check(StaffTableModel(MEMBERS))


def test_staff_table_model_shows_role_labels_and_active(qtmodeltester) -> None:
    model = StaffTableModel(MEMBERS)
    assert [model.index(0, c).data() for c in range(6)] == [
        "dr-okafor",
        "Adaeze Okafor",
        "Practitioner",
        "MD",
        "1000000012",
        "Yes",
    ]
    assert model.index(1, 2).data() == "Clinical staff"
    assert model.index(1, 5).data() == "No"
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # greyed


@pytest.fixture
def page(qtbot, services: Services, admin: Actor) -> StaffPage:
    page = StaffPage(services, lambda: admin)
    qtbot.addWidget(page)
    page.show()  # the page reads the list when shown
    return page


def names(page: StaffPage) -> list[str]:
    return [page.proxy.index(r, NAME).data() for r in range(page.proxy.rowCount())]


def test_staff_page_lists_everyone_including_inactive_by_name(page) -> None:
    assert names(page) == [
        "Ada Byron",
        "Adaeze Okafor",
        "Grace Lee",
        "Maja Lindqvist",
        "Olive Retired",
        "Wei Chen",
    ]


def test_adding_a_staff_member_saves_them(qtbot, page: StaffPage, services: Services) -> None:
    dialog = page.add_member()
    assert dialog.windowTitle() == "Add a staff member"
    assert not dialog.staff_id.isReadOnly()
    qtbot.keyClicks(dialog.staff_id, "pa-rivera")
    qtbot.keyClicks(dialog.name, "Luis Rivera")
    dialog.role.set_value("practitioner")
    dialog.credentials.setCurrentText("PA")
    dialog.npi.setText("1245319599")
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    saved = {m.staff_id: m for m in services.staff.list()}["pa-rivera"]
    assert saved == StaffRecord("pa-rivera", "Luis Rivera", "practitioner", "PA", "1245319599")
    assert "Luis Rivera" in names(page)
    assert page.current_staff_id() == "pa-rivera"


def test_staff_fields_take_no_more_than_the_rules_allow(page: StaffPage) -> None:
    dialog = page.add_member()
    assert (dialog.staff_id.maxLength(), dialog.name.maxLength()) == (40, 200)
    editor = dialog.credentials.lineEdit()
    assert editor is not None and editor.maxLength() == 40


def test_adding_shows_errors_beside_fields_and_keeps_the_text(qtbot, page: StaffPage) -> None:
    dialog = page.add_member()
    dialog.staff_id.setText("rn-lee")  # taken
    dialog.name.setText("Someone Else")
    dialog.role.set_value("practitioner")
    dialog.npi.setText("1234567890")
    assert dialog.save() is False
    assert dialog.errors.errors_shown() == {
        "npi": "'1234567890' is not a valid NPI: the check digit does not match.",
    }
    dialog.npi.setText("")
    assert dialog.save() is False
    assert dialog.errors.errors_shown() == {"npi": "NPI is required for a practitioner."}
    dialog.role.set_value("clinical")
    assert dialog.save() is False
    assert dialog.errors.errors_shown() == {"staff_id": "'rn-lee' is already taken."}
    assert dialog.name.text() == "Someone Else"
    assert dialog.focusWidget() is dialog.staff_id


def test_editing_keeps_the_staff_id_and_saves_changes(page: StaffPage, services: Services) -> None:
    row = page.model.row_of("rn-lee")
    page.table.setCurrentIndex(page.proxy.mapFromSource(page.model.index(row, NAME)))
    dialog = page.edit_current()
    assert isinstance(dialog, StaffDialog)
    assert dialog.staff_id.isReadOnly()
    assert dialog.staff_id.text() == "rn-lee"
    assert dialog.role.value() == "clinical"
    dialog.name.setText("Grace Lee-Martin")
    dialog.credentials.setCurrentText("LPN")
    dialog.active.setChecked(False)
    assert dialog.save() is True
    saved = {m.staff_id: m for m in services.staff.list()}["rn-lee"]
    assert (saved.name, saved.credentials, saved.active) == ("Grace Lee-Martin", "LPN", False)
    assert page.model.index(page.model.row_of("rn-lee"), 5).data() == "No"


def test_the_last_administrator_cannot_be_demoted(page: StaffPage, services: Services) -> None:
    row = page.model.row_of("admin-ada")
    page.table.setCurrentIndex(page.proxy.mapFromSource(page.model.index(row, NAME)))
    dialog = page.edit_current()
    assert dialog is not None
    dialog.role.set_value("clinical")
    assert dialog.save() is False
    assert dialog.errors.error_text("role") == (
        "This is the only active administrator; add another first."
    )
    assert {m.staff_id: m.role for m in services.staff.list()}["admin-ada"] == "admin"
