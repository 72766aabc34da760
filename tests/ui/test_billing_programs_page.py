"""The billing panel's programs: the Program and BHI columns, the "Another program pays more"
filter, what switching would add, and the comparison in the details."""

from __future__ import annotations

import datetime as dt

import pytest
from pytestqt.qtbot import QtBot

from ccmdesk.db import Database
from ccmdesk.services import Actor, Services
from ccmdesk.services.billing.comparison import gains_text
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.pages.billing import (
    AMOUNT,
    BHI,
    CODES,
    FILTERS,
    FOLDABLE,
    HEADERS,
    PAYS_MORE,
    PROGRAM,
    STATUS,
    BillingPage,
    status_text,
)
from tests.helpers.billing import csv_bytes
from tests.helpers.programs import attest_apcm, set_program
from tests.helpers.ui import ENROLLED, MONTH, patient_raw

SETUP = Actor.command_line()


def _bhi_patient(services: Services, mrn: str, bhi_minutes: int, ccm_minutes: int = 25) -> None:
    """A patient with depression, `ccm_minutes` of CCM time and `bhi_minutes` of BHI time."""
    patient = patient_raw(mrn=mrn, last_name="Mood", first_name=mrn, dob="1950-01-01",
                          **{**ENROLLED, "conditions": "F33.1;I10"})  # fmt: skip
    start = dt.datetime(2026, 3, 9 + int(mrn[-1]), 14, 0, tzinfo=dt.UTC)  # a day each
    entries = [
        {"mrn": mrn, "staff_id": "rn-lee", "start": start.isoformat(),
         "end": (start + dt.timedelta(minutes=ccm_minutes)).isoformat(), "service": "ccm"},
        {"mrn": mrn, "staff_id": "rn-lee",
         "start": (start + dt.timedelta(minutes=30)).isoformat(),
         "end": (start + dt.timedelta(minutes=30 + bhi_minutes)).isoformat(), "service": "bhi"},
    ]  # fmt: skip
    services.imports.import_data(
        SETUP, [("patients.csv", csv_bytes([patient])), ("time_entries.csv", csv_bytes(entries))]
    )


@pytest.fixture
def db(month_data: Services) -> Database:
    return month_data.audit._db  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def page(qtbot: QtBot, month_data: Services, db: Database, biller: Actor) -> BillingPage:
    _bhi_patient(month_data, "H1", 22)  # 99484 bills
    _bhi_patient(month_data, "H2", 12)  # below 20 minutes
    attest_apcm(db)
    set_program(db, "M4", "apcm")  # 99487 ($144.29) under CCM pays more than G0557
    widget = BillingPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    return widget


def _text(page: BillingPage, mrn: str, column: int) -> str:
    return str(page.model.index(page.model.row_of(mrn), column).data())


def choose_filter(page: BillingPage, which: str) -> None:
    page.filter_box.setCurrentIndex([value for value, _ in FILTERS].index(which))


def test_the_program_and_bhi_columns(page: BillingPage) -> None:
    assert _text(page, "M1", PROGRAM) == "CCM/PCM"
    assert _text(page, "M4", PROGRAM) == "APCM"
    assert _text(page, "H1", BHI) == "22:00"
    assert _text(page, "H1", CODES) == "99490x1, 99484x1"
    assert _text(page, "M2", CODES) == ""
    assert _text(page, "H2", BHI) == "(12:00)"
    assert _text(page, "M1", BHI) == ""
    # The amount is what the month bills in all: 99490 and 99484.
    assert _text(page, "H1", AMOUNT) == "$123.58"
    tip = page.model.index(page.model.row_of("H2"), BHI).data(0x03)  # ToolTipRole
    assert "does not bill" in tip and "below" in tip


def test_the_filter_shows_the_months_another_program_pays_more_for(
    page: BillingPage, month_data: Services, biller: Actor
) -> None:
    month = month_data.billing.month(biller, MONTH)
    better = sorted(row.mrn for row in month.rows if row.result.pays_more is not None)
    # M2 is short of 20 minutes (APCM would bill G0557); M4 is an APCM patient whose 60
    # minutes would bill 99487 under CCM. M1, H1 and H2 bill 99490, more than G0557.
    assert better == ["M2", "M4"]
    choose_filter(page, PAYS_MORE)
    assert sorted(row.mrn for row in page.model.shown()) == better


def test_the_gains_line_says_what_switching_would_add_by_program(
    page: BillingPage, month_data: Services, biller: Actor
) -> None:
    month = month_data.billing.month(biller, MONTH)
    gains = month.switch_gains()
    assert [gain.program for gain in gains] == ["ccm", "apcm"]  # the largest gain first
    assert page.gains_label.isVisibleTo(page)
    assert page.gains_label.text() == gains_text(gains)
    # M4 alone: CCM's 99487 ($144.29) less APCM's G0557 ($53.78).
    page.search_field.setText("M4")
    assert page.gains_label.text() == (
        "Switching this patient to CCM/PCM would add $90.51 a month."
    )
    page.search_field.setText("M1")
    assert page.gains_label.text() == "" and not page.gains_label.isVisibleTo(page)


def test_the_details_show_the_bhi_result_and_the_comparison(page: BillingPage) -> None:
    assert page.select_mrn("H2")
    texts = [page.details.lines.item(i).text() for i in range(page.details.lines.count())]
    assert "General BHI (99484)" in texts
    bhi = texts[texts.index("General BHI (99484)") + 1 :]
    assert bhi[0].startswith("Not billable")
    assert any(t.startswith("Blocked: 12:00 of countable BHI time") for t in bhi)
    assert page.select_mrn("M4")
    texts = [page.details.lines.item(i).text() for i in range(page.details.lines.count())]
    compared = texts[texts.index("Compared with the other programs") + 1 :]
    assert compared == [
        "APCM (billed now): G0557x1, $53.78",
        "CCM/PCM would bill 99487x1, $144.29 · pays more",
    ]


def test_a_month_whose_program_is_blocked_but_bhi_bills_says_so(
    page: BillingPage, month_data: Services
) -> None:
    _bhi_patient(month_data, "H3", 25, ccm_minutes=5)
    page.reload()
    assert _text(page, "H3", STATUS) == "BHI only · 1 block"  # below the CCM threshold
    assert (_text(page, "H3", CODES), _text(page, "H3", AMOUNT)) == ("99484x1", "$57.45")
    assert status_text(page.model.row_at(page.model.row_of("M2")).result) == "Not billable"


def test_columns_said_elsewhere_fold_away_in_a_narrow_window(page: BillingPage) -> None:
    page.resize(2400, 700)
    page.show()
    page.fit_columns()
    assert not any(page.table.isColumnHidden(c) for c in range(len(HEADERS)))
    page.resize(900, 700)
    page.fit_columns()
    hidden = [c for c in range(len(HEADERS)) if page.table.isColumnHidden(c)]
    assert hidden and set(hidden) <= set(FOLDABLE)
    assert not page.table.isColumnHidden(PROGRAM) and not page.table.isColumnHidden(BHI)


def test_a_biller_changes_a_patients_program_from_the_panel(
    page: BillingPage, qtbot: QtBot
) -> None:
    from ccmdesk.ui.programs import ProgramDialog

    assert page.select_mrn("M4")
    assert page.details.program_button.isEnabled()
    page.details.program_button.click()
    dialog = page.findChild(ProgramDialog)
    assert dialog is not None
    assert dialog.section.from_month.text() == MONTH  # from the month on screen
    dialog.section.program.set_value("ccm")
    # The other pages hear of it too: the worklist's targets and the review follow the program.
    with qtbot.waitSignals([dialog.saved, page.patients_changed]):
        dialog.save()
    row = page.model.row_at(page.model.row_of("M4"))
    assert row.result.program == "ccm"
    assert _text(page, "M4", PROGRAM) != "APCM"


def test_a_program_change_into_a_signed_month_is_refused_in_the_dialog(
    page: BillingPage, month_data: Services, db: Database
) -> None:
    from sqlalchemy import select

    from ccmdesk.models import MonthlyReview, Patient
    from ccmdesk.ui.programs import ProgramDialog

    with db.session() as session:  # the month signed, as the sign-off service writes it
        patient = session.scalars(select(Patient).where(Patient.mrn == "M4")).one()
        session.add(MonthlyReview(patient_id=patient.id, month=MONTH,
                                  signed_by_id=patient.billing_practitioner_id,
                                  signed_at=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
                                  attestation="I directed the care."))  # fmt: skip
    assert page.select_mrn("M4")
    page.details.program_button.click()
    dialog = page.findChild(ProgramDialog)
    assert dialog is not None
    dialog.section.program.set_value("ccm")
    dialog.save()
    assert dialog.isVisible()
    assert "signed" in dialog.section.error.text()
    assert month_data.billing.patient_month(SETUP, "M4", MONTH).result.program == "apcm"
