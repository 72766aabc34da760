"""The patient list: table model, type-to-filter proxy, and the page around them."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from ccmdesk.services import Actor, PatientRow, Services
from ccmdesk.ui.pages.patients import (
    DOB,
    ENROLLMENT,
    MRN,
    NAME,
    PatientFilterProxyModel,
    PatientsPage,
    PatientTableModel,
    search_words,
)
from ccmdesk.ui.patient_dialog import PatientDialog


def row(mrn: str, last: str, first: str, dob: str, practitioner: str = "Dr A") -> PatientRow:
    return PatientRow(
        mrn=mrn,
        last_name=last,
        first_name=first,
        dob=dt.date.fromisoformat(dob),
        billing_practitioner=practitioner,
        enrollment="Enrolled",
        conditions=("E11.9", "I10"),
        care_manager="",
    )


ROWS = [
    row("A100", "Schäfer", "Zoë", "1948-03-02"),
    row("A101", "Nguyen", "Harold", "1950-11-23", "Dr B"),
    row("B200", "Smith", "Mary", "1948-07-15"),
    row("B201", "Smithson", "John", "1962-03-02", "Dr B"),
]


def shown_mrns(proxy: PatientFilterProxyModel) -> list[str]:
    return [proxy.index(r, MRN).data() for r in range(proxy.rowCount())]


@pytest.fixture
def proxy() -> PatientFilterProxyModel:
    model = PatientTableModel(ROWS)
    proxy = PatientFilterProxyModel()
    proxy.setSourceModel(model)
    return proxy


def test_patient_table_model_passes_the_qt_model_tester(qtmodeltester) -> None:
    qtmodeltester.check(PatientTableModel(ROWS))


def test_patient_filter_proxy_passes_the_qt_model_tester_while_filtering(qtmodeltester) -> None:
    proxy = PatientFilterProxyModel()
    proxy.setSourceModel(PatientTableModel(ROWS))
    proxy.set_search_text("smith")
    qtmodeltester.check(proxy)


def test_patient_table_model_shows_the_list_columns() -> None:
    model = PatientTableModel(ROWS)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == [
        "MRN",
        "Name",
        "Date of birth",
        "Billing practitioner",
        "Payer",
        "Enrollment",
        "Chronic conditions",
    ]
    assert [model.index(0, c).data() for c in range(7)] == [
        "A100",
        "Schäfer, Zoë",
        "1948-03-02",
        "Dr A",
        "—",
        "Enrolled",
        "E11.9, I10",
    ]
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children


def test_filter_by_name_matches_every_word_anywhere_in_the_name(proxy) -> None:
    proxy.set_search_text("smith")
    assert shown_mrns(proxy) == ["B200", "B201"]
    proxy.set_search_text("Smith, Mary")
    assert shown_mrns(proxy) == ["B200"]
    proxy.set_search_text("mary smith")  # word order does not matter
    assert shown_mrns(proxy) == ["B200"]
    proxy.set_search_text("smith zoe")  # every word must match
    assert shown_mrns(proxy) == []


def test_filter_ignores_accents_and_case(proxy) -> None:
    proxy.set_search_text("SCHAFER zoe")
    assert shown_mrns(proxy) == ["A100"]
    proxy.set_search_text("schäfer")
    assert shown_mrns(proxy) == ["A100"]


def test_filter_by_mrn(proxy) -> None:
    proxy.set_search_text("b20")
    assert shown_mrns(proxy) == ["B200", "B201"]
    proxy.set_search_text("A101")
    assert shown_mrns(proxy) == ["A101"]


def test_filter_by_date_of_birth_in_iso_and_us_forms(proxy) -> None:
    proxy.set_search_text("1948-03-02")
    assert shown_mrns(proxy) == ["A100"]
    proxy.set_search_text("03/02/1948")
    assert shown_mrns(proxy) == ["A100"]
    proxy.set_search_text("3/2/1948")
    assert shown_mrns(proxy) == ["A100"]
    proxy.set_search_text("03/02")  # month and day, any year
    assert shown_mrns(proxy) == ["A100", "B201"]
    proxy.set_search_text("1948")
    assert shown_mrns(proxy) == ["A100", "B200"]


def test_search_words_turn_a_us_date_into_iso() -> None:
    assert search_words(" Smith,  03/02/1948 ") == ("smith", "1948-03-02")
    assert search_words("") == ()


def test_clearing_the_filter_shows_everyone_again(proxy) -> None:
    proxy.set_search_text("nguyen")
    assert proxy.rowCount() == 1
    proxy.set_search_text("  ")
    assert proxy.rowCount() == 4


def test_sorting_by_a_column_reorders_rows_and_keeps_the_filter(proxy) -> None:
    proxy.set_search_text("03/02")
    proxy.sort(DOB, Qt.SortOrder.DescendingOrder)
    assert shown_mrns(proxy) == ["B201", "A100"]
    proxy.sort(NAME, Qt.SortOrder.AscendingOrder)
    assert shown_mrns(proxy) == ["A100", "B201"]
    proxy.set_search_text("")
    proxy.sort(MRN, Qt.SortOrder.DescendingOrder)
    assert shown_mrns(proxy) == ["B201", "B200", "A101", "A100"]


def test_sorting_keeps_the_selected_patient_selected(qtbot, proxy) -> None:
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setCurrentIndex(proxy.index(1, NAME))
    assert view.currentIndex().siblingAtColumn(MRN).data() == "A101"
    proxy.sort(MRN, Qt.SortOrder.DescendingOrder)
    assert view.currentIndex().siblingAtColumn(MRN).data() == "A101"


def test_filtering_10000_patients_keeps_exactly_the_rows_matching_every_word(qtbot) -> None:
    # Speed is measured by benchmarks/filter_keystroke.py; this checks the answers at that size.
    rng = random.Random(7)
    lasts = ["Okafor", "Nguyen", "Schäfer", "Núñez", "Smith", "Lee", "García", "Kowalczyk"]
    firsts = ["Mary", "John", "Zoë", "José", "Harold", "Mei"]
    rows = [
        row(
            f"RB{100000 + i}",
            f"{rng.choice(lasts)}{i % 97}",
            rng.choice(firsts),
            (dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(25000))).isoformat(),
        )
        for i in range(10_000)
    ]
    model = PatientTableModel(rows)
    proxy = PatientFilterProxyModel()
    proxy.setSourceModel(model)
    expected = {
        "smith": lambda r: r.last_name.startswith("Smith"),
        "nunez jose": lambda r: r.last_name.startswith("Núñez") and r.first_name == "José",
        "rb1004": lambda r: r.mrn.startswith("RB1004"),
        "03/02/1948": lambda r: r.dob == dt.date(1948, 3, 2),
        "1948-03": lambda r: r.dob.isoformat().startswith("1948-03"),
    }
    for text, wanted in expected.items():
        proxy.set_search_text(text)
        shown = {proxy.index(i, MRN).data() for i in range(proxy.rowCount())}
        assert shown == {r.mrn for r in rows if wanted(r)}, text
        assert shown or text == "03/02/1948"
    proxy.set_search_text("")
    assert proxy.rowCount() == 10_000


# --- the page -----------------------------------------------------------------------------


@pytest.fixture
def page(qtbot, services: Services, nurse: Actor) -> PatientsPage:
    page = PatientsPage(services, lambda: nurse)
    qtbot.addWidget(page)
    return page


def test_patients_page_lists_every_patient_from_the_service(page: PatientsPage) -> None:
    assert page.count_label.text() == "4 patients"
    names = [page.proxy.index(r, NAME).data() for r in range(page.proxy.rowCount())]
    assert names == ["Nguyen, Harold", "Schäfer, Zoë", "Smith, Mary", "Smithson, John"]
    enrollment = {
        page.proxy.index(r, MRN).data(): page.proxy.index(r, ENROLLMENT).data()
        for r in range(page.proxy.rowCount())
    }
    assert enrollment == {
        "A100": "Enrolled",
        "A101": "No consent",
        "B200": "Enrolled",
        "B201": "No consent",
    }


def test_typing_in_the_search_box_filters_and_updates_the_count(qtbot, page) -> None:
    qtbot.keyClicks(page.search_field, "smith")
    assert page.count_label.text() == "2 of 4 patients"
    page.search_field.setText("03/02/1948")
    assert page.count_label.text() == "1 of 4 patients"
    assert page.current_mrn() == "A100"  # the first match is ready to open with Enter
    page.search_field.setText("1962-03-02")
    assert shown_mrns(page.proxy) == ["B201"]
    page.search_field.setText("nobody")
    assert page.count_label.text() == "0 of 4 patients"
    assert not page.edit_button.isEnabled()
    page.search_field.clear()
    assert page.count_label.text() == "4 patients"


def test_enter_in_the_search_box_opens_the_matching_patient(qtbot, page) -> None:
    qtbot.keyClicks(page.search_field, "nguyen")
    qtbot.keyClick(page.search_field, Qt.Key.Key_Return)
    dialog = page.findChild(PatientDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.inputs["mrn"].text() == "A101"


def test_double_click_and_enter_in_the_table_open_the_editor(qtbot, page) -> None:
    page.search_field.setText("B200")
    index = page.proxy.index(0, NAME)
    page.table.doubleClicked.emit(index)
    dialogs = page.findChildren(PatientDialog)
    assert [d.inputs["last_name"].text() for d in dialogs] == ["Smith"]
    dialogs[0].reject()
    page.table.setFocus()
    page.table.setCurrentIndex(index)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert len(page.findChildren(PatientDialog)) == 2


def test_nurse_sees_new_patient_button_and_billing_does_not(
    qtbot, services: Services, nurse: Actor, biller: Actor
) -> None:
    nurse_page = PatientsPage(services, lambda: nurse)
    billing_page = PatientsPage(services, lambda: biller)
    qtbot.addWidget(nurse_page)
    qtbot.addWidget(billing_page)
    assert not nurse_page.new_button.isHidden()
    assert nurse_page.edit_button.text() == "Edit…"
    assert billing_page.new_button.isHidden()
    assert billing_page.edit_button.text() == "View…"
    assert billing_page.new_patient() is None


def test_billing_staff_open_patients_read_only(qtbot, services: Services, biller: Actor) -> None:
    page = PatientsPage(services, lambda: biller)
    qtbot.addWidget(page)
    dialog = page.open_patient("A100")
    assert isinstance(dialog, PatientDialog)
    assert dialog.windowTitle().endswith("(view only)")
    assert dialog.inputs["last_name"].isReadOnly()
    assert not dialog.inputs["billing_practitioner"].isEnabled()
    assert dialog.save() is False


def test_table_model_on_an_empty_list_is_valid(qtmodeltester) -> None:
    model = PatientTableModel([])
    qtmodeltester.check(model)
    assert model.data(QModelIndex()) is None
