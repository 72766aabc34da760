"""The monthly summary a practitioner signs shows the program, the general BHI and the
comparison with the other programs."""

from __future__ import annotations

import datetime as dt

import pytest
from pytestqt.qtbot import QtBot

from ccmdesk.db import Database
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.pages.review import ReviewPage
from tests.helpers.billing import csv_bytes
from tests.helpers.programs import attest_apcm, set_program
from tests.helpers.ui import ENROLLED, MONTH, patient_raw


@pytest.fixture
def db(month_data: Services) -> Database:
    return month_data.audit._db  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def page(qtbot: QtBot, month_data: Services, db: Database) -> ReviewPage:
    patient = patient_raw(mrn="H1", last_name="Mood", first_name="Pat", dob="1950-01-01",
                          **{**ENROLLED, "conditions": "F33.1;I10"})  # fmt: skip
    start = dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)
    entries = [
        {"mrn": "H1", "staff_id": "rn-lee", "start": start.isoformat(),
         "end": (start + dt.timedelta(minutes=12)).isoformat(), "service": "bhi"},
    ]  # fmt: skip
    month_data.imports.import_data(
        Actor.command_line(),
        [("patients.csv", csv_bytes([patient])), ("time_entries.csv", csv_bytes(entries))],
    )
    attest_apcm(db)
    set_program(db, "M4", "apcm")
    widget = ReviewPage(month_data, lambda: month_data.staff.actor_for("dr-okafor"),
                        InlineTaskRunner())  # fmt: skip
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    return widget


def test_the_summary_shows_the_program_and_the_comparison_marked(page: ReviewPage) -> None:
    assert page.select_mrn("M4")
    text = page.view.toPlainText()
    assert "Program: APCM" in text
    assert "Compared with the other programs" in text
    assert "APCM\nG0557x1\n$53.78\nbilled" in text
    assert "CCM/PCM\n99487x1\n$144.29\npays more" in text
    assert "is the practitioner's or the biller's decision" in text


def test_the_summary_shows_the_general_bhi_minutes_codes_and_blocks(page: ReviewPage) -> None:
    assert page.select_mrn("H1")
    text = page.view.toPlainText()
    assert "General BHI" in text
    assert "Countable 12:00 of behavioural health integration" in text
    assert "Proposed: none" in text
    assert "Blocked: 12:00 of countable BHI time is below the 20:00 99484 needs." in text
    assert "Program: CCM/PCM" in text


def test_a_month_without_bhi_or_comparison_shows_neither(page: ReviewPage) -> None:
    assert page.select_mrn("M3")  # G0181 the same month: APCM is not offered either
    text = page.view.toPlainText()
    assert "General BHI" not in text and "Compared with the other programs" not in text


def test_a_month_that_bills_only_bhi_is_ready_and_signs_for_its_99484(
    qtbot: QtBot, month_data: Services
) -> None:
    patient = patient_raw(mrn="H2", last_name="Calm", first_name="Pat", dob="1950-01-01",
                          **{**ENROLLED, "conditions": "F41.1;I10"})  # fmt: skip
    start = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    entries = [{"mrn": "H2", "staff_id": "rn-lee", "start": start.isoformat(),
                "end": (start + dt.timedelta(minutes=22)).isoformat(), "service": "bhi"}]  # fmt: skip
    month_data.imports.import_data(
        Actor.command_line(),
        [("patients.csv", csv_bytes([patient])), ("time_entries.csv", csv_bytes(entries))],
    )
    page = ReviewPage(month_data, lambda: month_data.staff.actor_for("dr-okafor"),
                      InlineTaskRunner())  # fmt: skip
    qtbot.addWidget(page)
    page.set_month(MONTH)
    row = page.model.row_of("H2")
    cells = [str(page.model.index(row, column).data()) for column in range(6)]
    # Care management has no minutes (blocked); the general BHI bills: 99484, $57.45 (2026).
    assert cells[3:] == ["99484x1", "$57.45", "Ready to sign"]
    assert page.select_mrn("H2")
    dialog = page.sign_current()
    assert dialog is not None
    assert dialog.total.text() == "Total $57.45"  # type: ignore[attr-defined]
