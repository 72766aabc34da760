"""Practice settings: the form, saving, and errors beside the fields."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QStyleOptionViewItem

from ccmdesk.rules.records import DEFAULT_ACTIVITIES, PracticeRecord, StopwatchSettings
from ccmdesk.rules.validation import ISA_QUALIFIERS
from ccmdesk.services import Actor, Services
from ccmdesk.ui.pages.practice import PracticePage
from tests.helpers.common import CLI
from tests.helpers.ui import PRACTICE


@pytest.fixture
def page(qtbot, services: Services, admin: Actor) -> PracticePage:
    page = PracticePage(services, lambda: admin)
    qtbot.addWidget(page)
    return page


def test_the_page_loads_the_practice_when_first_shown(page: PracticePage) -> None:
    assert page.form.name.text() == ""
    assert not page.form.timezone.zones_loaded  # nothing read before it is needed
    page.show()
    assert page.form.record() == PRACTICE
    assert page.form.place_of_service.currentText() == "11 — Office"
    assert page.form.date_of_service_rule.currentText() == "Last day of the month"
    assert page.form.timezone.zones_loaded
    assert page.form.timezone.findText("America/Chicago") >= 0
    assert page.form.timezone.currentText() == "America/New_York"


def test_saving_changes_the_practice(qtbot, page: PracticePage, services: Services) -> None:
    page.show()
    page.form.name.setText("Harbor Family Practice & Geriatrics")
    page.form.tin.setText("98-7654321")
    page.form.timezone.set_value("America/Chicago")
    page.form.place_of_service.set_value("50")
    page.form.date_of_service_rule.set_value("threshold_date")
    with qtbot.waitSignal(page.saved):
        assert page.save() is True
    assert page.status.text() == "Saved."
    assert services.practice.get() == dataclasses.replace(
        PRACTICE,
        name="Harbor Family Practice & Geriatrics",
        tin="987654321",
        timezone="America/Chicago",
        place_of_service="50",
        date_of_service_rule="threshold_date",
    )


def test_a_place_of_service_code_not_listed_can_be_typed(page: PracticePage, services) -> None:
    page.show()
    page.form.place_of_service.setEditText("19")
    assert page.save() is True
    practice = services.practice.get()
    assert practice is not None and practice.place_of_service == "19"


def test_errors_appear_beside_their_fields_and_nothing_is_saved(
    page: PracticePage, services: Services
) -> None:
    page.show()
    page.form.name.setText("  ")
    page.form.group_npi.setText("1245319598")
    page.form.tin.setText("12-345")
    page.form.timezone.setEditText("Mars/Olympus_Mons")
    page.form.place_of_service.setEditText("Office")
    assert page.save() is False
    assert page.form.errors.errors_shown() == {
        "name": "Practice name is required.",
        "group_npi": "'1245319598' is not a valid NPI: the check digit does not match.",
        "tin": "'12345' is not a TIN: it must be 9 digits (e.g. 12-3456789).",
        "timezone": (
            "'Mars/Olympus_Mons' is not a time zone; use an Area/City name such as "
            "America/New_York."
        ),
        "pos": "'Office' is not a place of service code: two digits, e.g. 11 (office).",
    }
    assert page.status.text() == "Not saved: please correct the fields marked in red."
    assert page.form.tin.text() == "12-345"  # as typed
    assert page.form.timezone.currentText() == "Mars/Olympus_Mons"
    assert page.focusWidget() is page.form.name
    assert services.practice.get() == PRACTICE


def test_a_page_without_a_practice_says_so(qtbot, empty_services: Services) -> None:
    admin = Actor(key="setup:test", name="first start", role="admin")
    page = PracticePage(empty_services, lambda: admin)
    qtbot.addWidget(page)
    page.show()
    assert page.status.text() == "The practice is not set up yet."
    page.form.set_record(PracticeRecord(name="New Clinic", timezone="America/Denver"))
    assert page.save() is True
    practice = empty_services.practice.get()
    assert practice is not None and practice.timezone == "America/Denver"


# --- claim settings -------------------------------------------------------------------------

CLAIMS = {
    "street": "12 Harbor Rd", "city": "Portland", "state": "me", "zip": "04101-1234",
    "taxonomy": "207q00000x", "submitter_id": "HARBOR01", "submitter_name": "Harbor Clinic",
    "submitter_phone": "(207) 555-0100", "receiver_id": "CLEARCO", "receiver_name": "Clear Co",
    "isa_id": "123456789",
}  # fmt: skip


def test_the_claim_sections_show_the_defaults_and_what_is_stored(
    page: PracticePage, services: Services
) -> None:
    claims = page.claims
    assert [box.title() for box in claims.boxes] == ["Claims", "Clearinghouse"]
    page.show()
    assert claims.raw() == {
        "street": "", "city": "", "state": "", "zip": "", "tin_kind": "ein",
        "accept_assignment": "yes", "taxonomy": "", "collects_signature": "yes",
        "submitter_id": "", "submitter_name": "", "submitter_phone": "", "receiver_id": "",
        "receiver_name": "", "isa_qualifier": "ZZ", "isa_id": "", "usage": "T",
    }  # fmt: skip
    qualifiers = [claims.isa_qualifier.itemData(i) for i in range(claims.isa_qualifier.count())]
    assert sorted(qualifiers) == sorted(ISA_QUALIFIERS)
    assert claims.isa_qualifier.currentText() == "ZZ — Mutually defined (most clearinghouses)"
    assert "T sends test files" in claims.usage_hint.text()
    assert "switch to P" in claims.usage_hint.text()
    stored = dataclasses.replace(PRACTICE, street="1 Elm St", tin_kind="ssn", usage="P",
                                 accept_assignment=False, isa_qualifier="30")  # fmt: skip
    services.practice.save(CLI, stored)
    page.load()
    assert claims.street.text() == "1 Elm St"
    assert claims.tin_kind.currentText().startswith("SSN")
    assert not claims.accept_assignment.isChecked() and claims.collects_signature.isChecked()
    assert claims.isa_qualifier.value() == "30" and claims.usage.value() == "P"


def test_saving_changes_the_claim_settings(qtbot, page: PracticePage, services: Services) -> None:
    page.show()
    claims = page.claims
    for name, value in CLAIMS.items():
        claims.inputs[name].setText(value)  # type: ignore[attr-defined]
    claims.tin_kind.set_value("ssn")
    claims.accept_assignment.setChecked(False)
    claims.collects_signature.setChecked(False)
    claims.isa_qualifier.set_value("30")
    claims.usage.set_value("P")
    with qtbot.waitSignal(page.saved):
        assert page.save() is True
    assert services.practice.get() == dataclasses.replace(
        PRACTICE, street="12 Harbor Rd", city="Portland", state="ME", zip="04101-1234",
        tin_kind="ssn", accept_assignment=False, taxonomy="207Q00000X",
        collects_signature=False, submitter_id="HARBOR01", submitter_name="Harbor Clinic",
        submitter_phone="2075550100", receiver_id="CLEARCO", receiver_name="Clear Co",
        isa_qualifier="30", isa_id="123456789", usage="P",
    )  # fmt: skip
    claims.accept_assignment.setChecked(True)  # a change clears "Saved."
    assert page.status.text() == ""


def test_claim_setting_errors_appear_beside_their_fields_and_nothing_is_saved(
    page: PracticePage, services: Services
) -> None:
    page.show()
    claims = page.claims
    claims.state.setText("XX")
    claims.zip.setText("0410")
    claims.taxonomy.setText("207Q0000X")
    claims.submitter_phone.setText("555-0100")
    claims.receiver_id.setText("CLEAR*CO")
    claims.submitter_id.setText("S" * 16)
    assert page.save() is False
    assert claims.errors.errors_shown() == {
        "state": "'XX' is not a US state code, e.g. ME.",
        "zip": "'0410' is not a ZIP code (12345 or 12345-6789).",
        "taxonomy": (
            "'207Q0000X' is not a provider taxonomy code: 10 characters ending in X, e.g. "
            "207Q00000X."
        ),
        "submitter_phone": "'5550100' is not a phone number: 10 digits, e.g. 207-555-0100.",
        "receiver_id": "'CLEAR*CO' may hold only letters, digits, spaces and . , ' & / -.",
        "isa_id": (
            "ISA id is required when the submitter id is longer than 15 characters (the "
            "interchange sender id holds no more)."
        ),
    }
    assert page.form.errors.errors_shown() == {}
    assert page.status.text() == "Not saved: please correct the fields marked in red."
    assert page.focusWidget() is claims.state
    assert services.practice.get() == PRACTICE
    # The practice's own fields come first: the cursor goes there, the claim errors stay shown.
    page.form.group_npi.setText("1245319598")
    assert page.save() is False
    assert page.form.errors.errors_shown() == {
        "group_npi": "'1245319598' is not a valid NPI: the check digit does not match."
    }
    assert "state" in claims.errors.errors_shown()
    assert page.focusWidget() is page.form.group_npi
    claims.state.setText("ME")
    page.form.group_npi.setText(PRACTICE.group_npi)
    for name in ("zip", "taxonomy", "submitter_phone", "receiver_id", "submitter_id"):
        claims.inputs[name].setText("")  # type: ignore[attr-defined]
    assert page.save() is True
    assert claims.errors.errors_shown() == {}


# --- stopwatch settings ---------------------------------------------------------------------


def _type_into_open_editor(qtbot, page: PracticePage, text: str) -> None:
    """Type into the list's in-place editor and press Enter, as a person would."""
    editors = [e for e in page.activities.list.viewport().findChildren(QLineEdit) if e.isVisible()]
    assert len(editors) == 1
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The closed editor is deleted later, from the event loop a test does not otherwise run.
    qtbot.waitUntil(lambda: not page.activities.list.viewport().findChildren(QLineEdit))


def test_the_stopwatch_settings_load_with_the_page(page: PracticePage) -> None:
    assert page.activities.activities() == ()  # nothing read before the page is shown
    page.show()
    assert page.idle_minutes.value() == 5
    assert page.idle_minutes.suffix() == " minutes"
    assert page.activities.activities() == DEFAULT_ACTIVITIES
    assert page.stopwatch_settings() == StopwatchSettings()
    assert page.stopwatch_errors.errors_shown() == {}
    # Shown numbered, as the errors count them; the editor gets the bare name.
    option = QStyleOptionViewItem()
    index = page.activities.list.model().index(2, 0)
    page.activities.list.itemDelegate().initStyleOption(option, index)
    assert option.text == "3.  Medication reconciliation"
    # Nothing selected, so nothing is removed or moved by a stray click.
    assert page.activities.list.currentRow() == -1
    buttons = (page.activities.remove_button, page.activities.up_button)
    assert not any(button.isEnabled() for button in (*buttons, page.activities.down_button))
    page.activities.list.setCurrentRow(0)
    assert page.activities.remove_button.isEnabled()
    assert not page.activities.up_button.isEnabled()
    assert page.activities.down_button.isEnabled()


def test_saving_changes_the_stopwatch_settings(
    qtbot, page: PracticePage, services: Services
) -> None:
    page.show()
    editor = page.activities
    page.idle_minutes.setValue(12)
    # Add one at the end: the list opens it for typing.
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.list.currentRow() == 7
    _type_into_open_editor(qtbot, page, "  Fall risk review ")
    # Rename "Education" in place.
    editor.list.setCurrentRow(5)
    editor.list.editItem(editor.list.currentItem())
    _type_into_open_editor(qtbot, page, "Patient education")
    # Move the new one up to second place, and remove "Other".
    editor.list.setCurrentRow(7)
    for _ in range(6):
        qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.list.currentRow() == 1
    editor.list.setCurrentRow(7)
    assert editor.list.currentItem().text() == "Other"
    assert not editor.down_button.isEnabled()
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    expected = StopwatchSettings(
        12,
        (
            "Call with patient or caregiver",
            "Fall risk review",
            "Coordination with other providers",
            "Medication reconciliation",
            "Care plan review or revision",
            "Referrals and community resources",
            "Patient education",
        ),
    )
    assert page.stopwatch_settings() == expected
    with qtbot.waitSignal(page.saved):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.status.text() == "Saved."
    assert services.practice.stopwatch_settings() == expected
    assert services.practice.get() == PRACTICE  # the practice's details saved as they were
    assert editor.list.item(1).text() == "Fall risk review"  # as stored: trimmed


def test_stopwatch_errors_appear_beside_their_fields_and_nothing_is_saved(
    page: PracticePage, services: Services
) -> None:
    page.show()
    page.form.name.setText("Harbor Family Practice & Geriatrics")  # a good change, not saved
    page.idle_minutes.setValue(0)
    editor = page.activities
    editor.rename(1, "call with patient or caregiver")
    editor.add_activity("Education")
    editor.add_activity("   ")
    assert page.save() is False
    assert page.form.errors.errors_shown() == {}
    assert page.stopwatch_errors.errors_shown() == {
        "idle_minutes": "Idle time must be between 1 and 120 minutes.",
        "activities": (
            "Activity 2 repeats 'call with patient or caregiver'.\n"
            "Activity 8 repeats 'Education'.\n"
            "Activity 9 is empty."
        ),
    }
    assert editor.marked_rows() == [1, 7, 8]
    assert page.status.text() == "Not saved: please correct the fields marked in red."
    assert page.focusWidget() is page.idle_minutes
    assert services.practice.stopwatch_settings() == StopwatchSettings()
    assert services.practice.get() == PRACTICE
    # Corrected, it saves and the marks go.
    page.idle_minutes.setValue(120)
    editor.list.setCurrentRow(8)
    editor.remove_selected()
    editor.list.setCurrentRow(7)
    editor.remove_selected()
    editor.rename(1, "Coordination with specialists")
    assert page.save() is True
    assert page.stopwatch_errors.errors_shown() == {}
    assert editor.marked_rows() == []
    assert services.practice.stopwatch_settings().idle_minutes == 120
    assert services.practice.get().name == "Harbor Family Practice & Geriatrics"


def test_an_empty_list_is_refused(page: PracticePage, services: Services) -> None:
    page.show()
    page.activities.set_activities([])
    assert not page.activities.remove_button.isEnabled()
    assert page.save() is False
    assert page.stopwatch_errors.errors_shown() == {
        "activities": "The list needs at least one activity."
    }
    assert page.focusWidget() is page.activities.list
    assert services.practice.stopwatch_settings() == StopwatchSettings()


def test_a_practice_error_saves_no_stopwatch_change(page: PracticePage, services) -> None:
    page.show()
    page.form.tin.setText("12-345")
    page.idle_minutes.setValue(9)
    assert page.save() is False
    assert set(page.form.errors.errors_shown()) == {"tin"}
    assert page.stopwatch_errors.errors_shown() == {}
    assert page.focusWidget() is page.form.tin
    assert services.practice.stopwatch_settings() == StopwatchSettings()


def test_restore_defaults_puts_back_the_default_list(
    qtbot, page: PracticePage, services: Services
) -> None:
    services.practice.save_stopwatch_settings(
        services.staff.actor_for("admin-ada"), StopwatchSettings(7, ("Phone call", "Chart review"))
    )
    page.show()
    assert page.idle_minutes.value() == 7
    assert page.activities.activities() == ("Phone call", "Chart review")
    qtbot.mouseClick(page.activities.defaults_button, Qt.MouseButton.LeftButton)
    assert page.activities.activities() == DEFAULT_ACTIVITIES
    assert page.idle_minutes.value() == 7  # only the list
    assert services.practice.stopwatch_settings().activities == ("Phone call", "Chart review")
    assert page.save() is True
    assert services.practice.stopwatch_settings() == StopwatchSettings(7, DEFAULT_ACTIVITIES)


def test_a_name_still_being_typed_is_saved(qtbot, page: PracticePage, services) -> None:
    page.show()
    qtbot.mouseClick(page.activities.add_button, Qt.MouseButton.LeftButton)
    editor = page.activities.list.viewport().findChild(QLineEdit)
    qtbot.keyClicks(editor, "Fall risk review")  # no Enter
    assert page.save() is True
    assert services.practice.stopwatch_settings().activities[-1] == "Fall risk review"
    qtbot.waitUntil(lambda: not page.activities.list.viewport().findChildren(QLineEdit))


def test_editing_a_stopwatch_setting_clears_the_saved_message(page: PracticePage) -> None:
    page.show()
    assert page.save() is True
    assert page.status.text() == "Saved."
    page.activities.rename(0, "Phone call")
    assert page.status.text() == ""
    assert page.save() is True
    page.idle_minutes.setValue(6)
    assert page.status.text() == ""


def test_a_new_practice_gets_the_default_stopwatch_settings(
    qtbot, empty_services: Services
) -> None:
    admin = Actor(key="setup:test", name="first start", role="admin")
    page = PracticePage(empty_services, lambda: admin)
    qtbot.addWidget(page)
    page.show()
    assert page.stopwatch_settings() == StopwatchSettings()
    page.form.set_record(PracticeRecord(name="New Clinic", timezone="America/Denver"))
    page.idle_minutes.setValue(10)
    assert page.save() is True
    assert empty_services.practice.stopwatch_settings() == StopwatchSettings(10)


def test_the_attestation_statement_is_worded_here_and_empty_means_the_default(
    page: PracticePage, services: Services
) -> None:
    from ccmdesk.rules.records import DEFAULT_ATTESTATION

    page.show()
    assert page.attestation.toPlainText() == DEFAULT_ATTESTATION
    page.attestation.setPlainText("I directed this care and reviewed the log.")
    assert page.save()
    assert services.practice.attestation() == "I directed this care and reviewed the log."
    page.attestation.setPlainText("x" * 1001)
    assert not page.save()
    assert "longer than 1000 characters" in page.status.text()
    assert services.practice.attestation() == "I directed this care and reviewed the log."
    page.attestation.setPlainText("")
    assert page.save()
    assert services.practice.attestation() == DEFAULT_ATTESTATION
    assert page.attestation.toPlainText() == DEFAULT_ATTESTATION


def test_the_screen_lock_minutes_are_saved_with_the_page(
    page: PracticePage, services: Services
) -> None:
    page.show()  # loads the settings
    assert page.auto_lock.value() == 10
    page.auto_lock.setValue(3)
    assert page.save() and page.status.text() == "Saved."
    assert services.practice.auto_lock_minutes() == 3


def test_the_backups_are_listed_and_one_more_is_taken_at_a_click(
    page: PracticePage, services: Services
) -> None:
    services.backups.daily()
    page.backups.reload()
    kinds = {page.backups.list.topLevelItem(n).text(1)
             for n in range(page.backups.list.topLevelItemCount())}  # fmt: skip
    assert kinds == {"Daily", "Monthly"}
    assert page.backups.back_up_now()
    assert page.backups.list.topLevelItemCount() == 3
    assert page.backups.status.text().startswith("Backed up to manual-")


def test_restoring_a_backup_asks_first_then_asks_ccmdesk_to_restart(
    page: PracticePage, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from PySide6.QtWidgets import QMessageBox

    from ccmdesk.ui.backups import PATH_ROLE

    services.backups.daily()
    page.backups.reload()
    page.backups.list.setCurrentItem(page.backups.list.topLevelItem(0))
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *_: answers.pop(0))
    restarted: list[str] = []
    page.backups.restored.connect(restarted.append)
    assert not page.backups.restore_selected() and restarted == []
    database = services.backups._db.sqlite_path
    assert database is not None
    assert not list(database.parent.glob("*.before-restore-*"))
    assert page.backups.restore_selected()
    # What was restored, and where the database it replaced is kept, is said.
    [aside] = database.parent.glob("*.before-restore-*")
    chosen = Path(page.backups.list.topLevelItem(0).data(0, PATH_ROLE)).name
    assert restarted == [f"{chosen} was restored. The database it replaced is kept as {aside}."]


def test_an_administrator_changes_a_years_fee_on_the_practice_page(
    page: PracticePage, services: Services
) -> None:
    from ccmdesk.ui.fees import AMOUNT, CODE, cents_of

    fees = page.fees
    assert fees.chosen_year() == 2026  # this year (the tests' clock), first
    row = next(
        r for r in range(fees.table.rowCount()) if fees.table.item(r, CODE).text() == "99490"
    )
    assert fees.table.item(row, AMOUNT).text() == "$66.13"
    fees.table.item(row, AMOUNT).setText("sixty")
    assert (
        not fees.save() and fees.status.text() == "Not saved: 99490 must be an amount like 66.13."
    )
    fees.table.item(row, AMOUNT).setText("70.5")
    assert fees.save() and fees.status.text() == "Saved 1 amount(s) for 2026."
    assert {x.code: x.cents for x in services.fees.schedule(Actor.command_line(), 2026)}[
        "99490"
    ] == 7050
    assert (cents_of("$1,066.10"), cents_of("66"), cents_of("6.1.3")) == (106610, 6600, None)


def test_the_practice_claim_edits_send_billers_to_sections_this_page_has(
    page: PracticePage,
) -> None:
    from ccmdesk.rules.catalog import REASONS

    claims, clearinghouse = (box.title() for box in page.claims.boxes)
    assert REASONS["CLAIM_PRACTICE_ADDRESS"].mend.endswith(f"in Practice settings → {claims}.")
    assert REASONS["CLAIM_NO_SUBMITTER"].mend.endswith(f"in Practice settings → {clearinghouse}.")


def test_a_reminder_settings_error_saves_nothing_else(page: PracticePage, services) -> None:
    # The working day's times were checked only after everything else had been saved.
    page.show()
    page.idle_minutes.setValue(9)
    box = page.reminders_box
    box.start.setTime(box.end.time())  # a working day that ends as it begins
    assert not page.save()
    assert page.status.text().startswith("Not saved: ")
    assert "the working day's end must be after the working day's start" in page.status.text()
    assert services.practice.stopwatch_settings() == StopwatchSettings()


def test_the_after_hours_phone_sits_next_to_the_phone_and_is_saved(
    page: PracticePage, services: Services
) -> None:
    page.show()
    assert page.form.after_hours_phone.text() == ""
    names = list(page.form.inputs)
    assert names[names.index("phone") + 1] == "after_hours_phone"
    page.form.after_hours_phone.setText("207-555-0199")
    assert page.save() is True
    practice = services.practice.get()
    assert practice is not None and practice.after_hours_phone == "207-555-0199"
    page.form.after_hours_phone.setText("207\n555")  # pasted with a line break
    assert page.save() is False
    assert (
        "After-hours phone contains line breaks"
        in page.form.errors.errors_shown()["after_hours_phone"]
    )
