"""Practice settings: the form, saving, and errors beside the fields."""

from __future__ import annotations

import dataclasses

import pytest

from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services import Actor, Services
from ccmdesk.ui.practice import PracticePage
from tests.ui.conftest import PRACTICE


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
    assert page.form.pos.currentText() == "11 — Office"
    assert page.form.date_of_service_rule.currentText() == "Last day of the month"
    assert page.form.timezone.zones_loaded
    assert page.form.timezone.findText("America/Chicago") >= 0
    assert page.form.timezone.currentText() == "America/New_York"


def test_saving_changes_the_practice(qtbot, page: PracticePage, services: Services) -> None:
    page.show()
    page.form.name.setText("Harbor Family Practice & Geriatrics")
    page.form.tin.setText("98-7654321")
    page.form.timezone.set_value("America/Chicago")
    page.form.pos.set_value("50")
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
    page.form.pos.setEditText("19")
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
    page.form.pos.setEditText("Office")
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
