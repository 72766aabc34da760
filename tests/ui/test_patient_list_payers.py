"""The patient list's payer column and payer filter, and the list following payer changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import Actor, PatientRow, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import PATIENTS, PAYERS, MainWindow
from ccmdesk.ui.pages.patients import (
    ALL_PAYERS,
    MRN,
    NO_PAYER,
    PAYER,
    PatientFilterProxyModel,
    PatientsPage,
    PatientTableModel,
)
from ccmdesk.ui.pages.payers import PayersPage
from ccmdesk.ui.state import GuiState

AETNA = PayerRecord("aetna-ma", "Aetna Medicare", "medicare_advantage", covers="ccm")


def row(mrn: str, last: str, payer_id: str = "", payer_name: str = "") -> PatientRow:
    return PatientRow(
        mrn=mrn, last_name=last, first_name="Pat", dob=dt.date(1950, 1, 1),
        billing_practitioner="Dr A", enrollment="Enrolled", conditions=("I10",),
        care_manager="", primary_payer=payer_id, payer_name=payer_name,
    )  # fmt: skip


ROWS = [
    row("A1", "Able", "mcr-b", "Medicare Part B"),
    row("A2", "Baker", "aetna-ma", "Aetna Medicare"),
    row("A3", "Abbot"),
    row("A4", "Abel", "mcr-b", "Medicare Part B"),
]


def shown_mrns(proxy: PatientFilterProxyModel) -> list[str]:
    return [proxy.index(r, MRN).data() for r in range(proxy.rowCount())]


@pytest.fixture
def proxy() -> PatientFilterProxyModel:
    proxy = PatientFilterProxyModel()
    proxy.setSourceModel(PatientTableModel(ROWS))
    return proxy


def test_the_payer_column_shows_the_payers_name(qtmodeltester) -> None:
    model = PatientTableModel(ROWS)
    qtmodeltester.check(model)
    assert [model.index(r, PAYER).data() for r in range(4)] == [
        "Medicare Part B", "Aetna Medicare", "—", "Medicare Part B",
    ]  # fmt: skip


def test_the_payer_filter_keeps_one_payers_patients(proxy) -> None:
    proxy.set_payer("mcr-b")
    assert shown_mrns(proxy) == ["A1", "A4"]
    proxy.set_payer(NO_PAYER)
    assert shown_mrns(proxy) == ["A3"]
    proxy.set_payer(ALL_PAYERS)
    assert shown_mrns(proxy) == ["A1", "A2", "A3", "A4"]


def test_the_payer_filter_and_the_search_both_apply(qtmodeltester, proxy) -> None:
    proxy.set_payer("mcr-b")
    proxy.set_search_text("ab")
    assert shown_mrns(proxy) == ["A1", "A4"]
    proxy.set_search_text("able")
    assert shown_mrns(proxy) == ["A1"]
    proxy.set_payer(ALL_PAYERS)
    assert shown_mrns(proxy) == ["A1"]
    proxy.set_search_text("")
    proxy.set_payer("aetna-ma")
    qtmodeltester.check(proxy)
    proxy.patient_model().sort(PAYER)
    assert shown_mrns(proxy) == ["A2"]


def test_sorting_by_payer_orders_rows_by_the_payers_name() -> None:
    model = PatientTableModel(ROWS)
    model.sort(PAYER)
    assert [model.row_at(r).mrn for r in range(4)] == ["A3", "A2", "A4", "A1"]


@pytest.fixture
def with_payers(services: Services, admin: Actor, biller: Actor) -> Services:
    services.payers.save(biller, AETNA)
    services.payers.save(biller, PayerRecord("gone", "Gone Plan", "commercial", retired=True))
    record = services.patients.get(admin, "A101")
    services.patients.save_text(
        admin,
        {"mrn": "A101", "last_name": record.last_name, "first_name": record.first_name,
         "dob": "1950-11-23", "billing_practitioner": record.billing_practitioner,
         "primary_payer": "aetna-ma", "primary_member_id": "W1"},
        original_mrn="A101",
    )  # fmt: skip
    return services


def test_the_page_filters_by_payer_and_says_how_many_it_shows(
    qtbot, with_payers: Services, nurse: Actor
) -> None:
    page = PatientsPage(with_payers, lambda: nurse)
    qtbot.addWidget(page)
    choices = [page.payer_filter.itemText(i) for i in range(page.payer_filter.count())]
    assert choices == [
        "All payers", "Aetna Medicare", "Gone Plan (retired)", "Medicare Part B", "No payer",
    ]  # fmt: skip
    page.payer_filter.set_value("aetna-ma")
    assert page.count_text() == "1 of 4 patients"
    assert page.current_mrn() == "A101"  # the first row shown is chosen
    page.payer_filter.set_value(NO_PAYER)
    assert sorted(page.model.row_at(page.proxy.mapToSource(page.proxy.index(r, 0)).row()).mrn
                  for r in range(page.proxy.rowCount())) == ["B200", "B201"]  # fmt: skip
    page.reload()  # a re-read keeps the filter
    assert page.payer_filter.value() == NO_PAYER and page.count_text() == "2 of 4 patients"
    page.forget_person()  # the next person starts with every patient
    assert page.payer_filter.value() == ALL_PAYERS and page.count_text() == "4 patients"


def test_a_payer_renamed_on_the_payers_page_is_renamed_in_the_patient_list(
    qtbot, with_payers: Services, biller: Actor
) -> None:
    window = MainWindow(with_payers, biller, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(window)
    window.show()
    patients = window.pages[PATIENTS]
    assert isinstance(patients, PatientsPage)
    row = patients.model.row_of("A101")
    assert patients.model.index(row, PAYER).data() == "Aetna Medicare"
    window.show_page(PAYERS)
    payers = window.pages[PAYERS]
    assert isinstance(payers, PayersPage)
    with_payers.payers.save(biller, dataclasses.replace(AETNA, name="Aetna Medicare PPO"))
    payers.changed.emit()  # what the page says after a save through its dialog
    window.data_changed.flush()
    window.show_page(PATIENTS)
    row = patients.model.row_of("A101")
    assert patients.model.index(row, PAYER).data() == "Aetna Medicare PPO"
    choices = [patients.payer_filter.itemText(i) for i in range(patients.payer_filter.count())]
    assert "Aetna Medicare PPO" in choices
