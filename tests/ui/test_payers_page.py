"""The payer list page for billing staff: the table, adding, editing, retiring and deleting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import Actor, Services
from ccmdesk.ui.pages.payers import NAME, PayerDialog, PayersPage, PayerTableModel

AETNA = PayerRecord(
    "aetna-ma", "Aetna Medicare", "medicare_advantage", edi_payer_id="60054",
    covers="ccm;pcm", coinsurance_percent=0, min_diagnoses=2, notes="Portal: availity",
)  # fmt: skip
OLD = PayerRecord("old-plan", "Old Plan", "commercial", retired=True)


def test_payer_table_model_passes_the_qt_model_tester(qtmodeltester) -> None:
    qtmodeltester.check(PayerTableModel([AETNA, OLD]))


def test_payer_table_model_shows_every_column_as_read(qtmodeltester) -> None:
    model = PayerTableModel([AETNA, OLD])
    assert [model.index(0, c).data() for c in range(8)] == [
        "aetna-ma", "Aetna Medicare", "Medicare Advantage", "60054", "CCM, PCM", "0 %", "2", "No",
    ]  # fmt: skip
    assert [model.index(1, c).data() for c in range(8)] == [
        "old-plan", "Old Plan", "Commercial", "—", "not known yet", "20 %", "—", "Yes",
    ]  # fmt: skip
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # greyed
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(0, NAME).data(Qt.ItemDataRole.ToolTipRole) == "Portal: availity"


@pytest.fixture
def page(qtbot, services: Services, biller: Actor) -> PayersPage:
    services.payers.save(biller, AETNA)
    services.payers.save(biller, OLD)
    page = PayersPage(services, lambda: biller)
    qtbot.addWidget(page)
    page.show()  # the page reads the list when shown
    return page


def names(page: PayersPage) -> list[str]:
    return [page.proxy.index(r, NAME).data() for r in range(page.proxy.rowCount())]


def choose(page: PayersPage, payer_id: str) -> None:
    row = page.model.row_of(payer_id)
    page.table.setCurrentIndex(page.proxy.mapFromSource(page.model.index(row, NAME)))


def answer(box: QMessageBox | None, action: str) -> None:
    assert box is not None and box.isVisible()
    [button] = [b for b in box.buttons() if b.text() == action]
    button.click()


def test_the_page_hides_retired_payers_until_asked(page: PayersPage) -> None:
    assert names(page) == ["Aetna Medicare", "Medicare Part B"]
    page.show_retired.setChecked(True)
    assert names(page) == ["Aetna Medicare", "Medicare Part B", "Old Plan"]
    choose(page, "old-plan")
    assert not page.retire_button.isEnabled()  # retired already
    assert page.edit_button.isEnabled()


def test_adding_a_payer_saves_every_field(qtbot, page: PayersPage, services, biller) -> None:
    dialog = page.add_payer()
    assert dialog.windowTitle() == "Add a payer"
    assert dialog.covers.unknown.isChecked()  # a new payer's coverage is not known yet
    qtbot.keyClicks(dialog.payer_id, "anthem")
    qtbot.keyClicks(dialog.name, "Anthem Blue Cross")
    dialog.kind.set_value("commercial")
    dialog.edi_payer_id.setText("00227")
    dialog.covers.unknown.setChecked(False)
    dialog.covers.programs["ccm"].setChecked(True)
    dialog.covers.programs["bhi"].setChecked(True)
    dialog.coinsurance_percent.setValue(10)
    dialog.min_diagnoses.setValue(2)
    dialog.notes.setPlainText("Prior authorisation for APCM.\nFax 207-555-0100")
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert services.payers.get(biller, "anthem") == PayerRecord(
        "anthem", "Anthem Blue Cross", "commercial", edi_payer_id="00227", covers="ccm;bhi",
        coinsurance_percent=10, min_diagnoses=2,
        notes="Prior authorisation for APCM.\nFax 207-555-0100",
    )  # fmt: skip
    assert "Anthem Blue Cross" in names(page)
    assert page.current_payer_id() == "anthem"


def test_a_new_self_pay_payer_starts_at_the_whole_share(page: PayersPage) -> None:
    dialog = page.add_payer()
    assert dialog.coinsurance_percent.value() == 20
    dialog.kind.set_value("self")
    assert dialog.coinsurance_percent.value() == 100
    dialog.kind.set_value("medicaid")
    assert dialog.coinsurance_percent.value() == 20
    dialog.coinsurance_percent.setValue(5)  # set by hand: the kind no longer moves it
    dialog.kind.set_value("self")
    assert dialog.coinsurance_percent.value() == 5
    assert dialog.raw()["min_diagnoses"] == ""  # "no rule" is a blank column


def test_errors_appear_beside_their_fields(page: PayersPage, services, biller) -> None:
    dialog = page.add_payer()
    dialog.payer_id.setText("Aetna MA!")
    dialog.covers.unknown.setChecked(False)
    assert dialog.save() is False
    shown = dialog.errors.errors_shown()
    assert shown["covers"] == "Tick the programs the payer pays, or not known yet."
    assert dialog.focusWidget() is dialog.covers
    dialog.covers.programs["pcm"].setChecked(True)
    assert dialog.save() is False
    shown = dialog.errors.errors_shown()
    assert set(shown) == {"payer_id", "name", "kind"}
    assert shown["name"] == "Name is required."
    assert shown["kind"] == "Kind is required."
    assert "is not a payer id" in shown["payer_id"]
    assert dialog.isVisible() and dialog.payer_id.text() == "Aetna MA!"  # kept to correct
    assert [p.payer_id for p in services.payers.list(biller)] == ["aetna-ma", "mcr-b", "old-plan"]


def test_editing_keeps_the_payer_id_and_saves_the_change(page: PayersPage, services, biller):
    choose(page, "aetna-ma")
    dialog = page.edit_current()
    assert dialog is not None and dialog.windowTitle() == "Edit Aetna Medicare"
    assert dialog.payer_id.isReadOnly()
    assert dialog.raw() == {
        "payer_id": "aetna-ma", "name": "Aetna Medicare", "kind": "medicare_advantage",
        "edi_payer_id": "60054", "covers": "ccm;pcm", "coinsurance_percent": "0",
        "min_diagnoses": "2", "notes": "Portal: availity",
    }  # fmt: skip
    dialog.covers.unknown.setChecked(True)
    assert not dialog.covers.programs["ccm"].isEnabled()
    assert dialog.save() is True
    assert services.payers.get(biller, "aetna-ma").covers == "unknown"


def test_a_kind_the_payers_patients_could_not_keep_is_refused_beside_kind(
    page: PayersPage, services: Services, admin: Actor, biller: Actor
) -> None:
    raw = services.patients.get(admin, "A101")
    services.patients.save_text(
        admin,
        {"mrn": "A101", "last_name": raw.last_name, "first_name": raw.first_name,
         "dob": raw.dob.isoformat() if raw.dob else "",
         "billing_practitioner": raw.billing_practitioner, "primary_payer": "aetna-ma",
         "relationship": "spouse", "insured_last_name": "Nguyen", "insured_first_name": "Lan"},
        original_mrn="A101",
    )  # fmt: skip
    choose(page, "aetna-ma")
    dialog = page.edit_current()
    assert dialog is not None
    dialog.kind.set_value("medicare")
    assert dialog.save() is False
    assert "are not the insured" in dialog.errors.error_text("kind")
    assert services.payers.get(biller, "aetna-ma").kind == "medicare_advantage"


def test_retiring_asks_then_keeps_the_payer_out_of_the_list(
    page: PayersPage, services: Services, biller: Actor
) -> None:
    choose(page, "aetna-ma")
    answer(page.retire_current(), "Cancel")
    assert not services.payers.get(biller, "aetna-ma").retired
    choose(page, "aetna-ma")
    answer(page.retire_current(), "Retire")
    assert services.payers.get(biller, "aetna-ma").retired
    assert names(page) == ["Medicare Part B"]


def test_saving_a_retired_payer_brings_it_back(page: PayersPage, services, biller) -> None:
    page.show_retired.setChecked(True)
    choose(page, "old-plan")
    dialog = page.edit_current()
    assert dialog is not None and dialog.retired_note.isVisibleTo(dialog)
    assert dialog.save() is True
    assert not services.payers.get(biller, "old-plan").retired


def test_deleting_a_payer_a_patient_has_is_refused_with_the_services_sentence(
    qtbot, page: PayersPage, services: Services, biller: Actor
) -> None:
    choose(page, "mcr-b")
    answer(page.delete_current(), "Delete")
    [refusal] = [b for b in page.findChildren(QMessageBox, "errorMessage") if b.isVisible()]
    assert "cannot be deleted" in refusal.text()
    choose(page, "aetna-ma")
    with qtbot.waitSignal(page.changed):
        answer(page.delete_current(), "Delete")
    assert [p.payer_id for p in services.payers.list(biller)] == ["mcr-b", "old-plan"]
    assert names(page) == ["Medicare Part B"]


def test_a_payer_dialog_names_its_fields_for_screen_readers(qtbot, services, biller) -> None:
    dialog = PayerDialog(services, biller, None)
    qtbot.addWidget(dialog)
    assert dialog.inputs["coinsurance_percent"].accessibleName() == "Coinsurance"
    assert dialog.min_diagnoses.text() == "no rule"


def test_the_page_reads_again_when_payers_changed_elsewhere(page: PayersPage, services, biller):
    services.payers.save(biller, PayerRecord("cigna", "Cigna", "commercial"))
    page.refresh(frozenset({"time"}))  # a stopwatch saved time: nothing to read
    assert "Cigna" not in names(page)
    page.refresh(frozenset({"payers"}))  # an import, or a payer saved in another window
    assert "Cigna" in names(page)
