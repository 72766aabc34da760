"""The patient panel's enrolment and waivers, the Billing page's list, the editor's box."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

from ccmdesk.models import MonthlyReview, Patient, Staff
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.enrolment import StepDialog
from ccmdesk.ui.main_window import BILLING, MainWindow
from ccmdesk.ui.pages.billing import BillingPage
from ccmdesk.ui.patient_dialog import PatientDialog
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.waivers import EndWaiverDialog, WaiverDialog, WaiversDialog
from tests.helpers.ui import NOW, panel_of


def signed_by_okafor(services: Services, mrn: str, month: str) -> None:
    """A signature row as the sign-off service writes it, without its checks."""
    with services._db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        doctor = session.scalars(select(Staff).where(Staff.staff_id == "dr-okafor")).one()
        session.add(MonthlyReview(patient_id=patient.id, month=month, signed_by_id=doctor.id,
                                  signed_at=NOW, attestation="I directed the care."))  # fmt: skip


@pytest.fixture
def billing_window(qtbot, services: Services, biller: Actor) -> Iterator[MainWindow]:
    main = MainWindow(services, biller, runner=InlineTaskRunner(), state=GuiState(None))
    main.show()
    yield main
    main.close()
    main.deleteLater()


def test_the_nurse_records_a_decline_for_the_cost_share_and_sees_the_options(
    nurse_window: MainWindow,
) -> None:
    panel = panel_of(nurse_window, "A101")  # never consented
    section = panel.enrolment
    assert panel.tabs.tabText(1) == "Enrolment"
    assert not panel.cannot_pay.isVisibleTo(panel)
    answers = [("other", ""), ("cost share", "Pension too small")]
    seen: list[str] = []

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, StepDialog)
        seen.append(dialog.errors.error_text("note"))
        if not answers:
            return False
        reason, note = answers.pop(0)
        dialog.day.setText("2026-03-09")
        dialog.reason.set_value(reason)
        dialog.note.setPlainText(note)
        return True

    section.exec_dialog = fill  # type: ignore[method-assign]
    assert section.record_step("declined")
    assert seen == ["", 'Note is required when the reason is "other": say why.']
    assert section.history.rowCount() == 1
    assert section.history.item(0, 3).text() == "Cost share: Pension too small"
    assert panel.tabs.tabText(1) == "Enrolment · declined"
    assert panel.cannot_pay.isVisibleTo(panel)
    assert not panel.cannot_pay.waiver_button.isVisibleTo(panel)  # billing staff only
    assert not section.waivers.isVisibleTo(panel)
    texts = [label.text() for label in panel.cannot_pay.options]
    assert [t[:3] for t in texts] == ["1. ", "2. ", "3. ", "4. "]
    assert "QMB" in texts[0] and "secondary payer" in texts[1] and "revocation" in texts[3]


def test_billing_records_changes_and_ends_a_waiver_from_the_cannot_pay_box(
    billing_window: MainWindow, services: Services, biller: Actor
) -> None:
    from tests.helpers.ui import patient_raw

    services.patients.save_text(
        Actor.command_line(),
        patient_raw(mrn="B201", last_name="Smithson", first_name="John", dob="1962-03-02",
                    billing_practitioner="np-lind", cannot_pay="yes"),
        "B201",
    )  # fmt: skip
    panel = panel_of(billing_window, "B201")
    assert panel.cannot_pay.isVisibleTo(panel)
    assert panel.cannot_pay.waiver_button.isVisibleTo(panel)
    assert panel.tabs.tabText(1) == "Enrolment and waivers"
    dialog = panel.enrolment.open_waiver()
    assert isinstance(dialog, WaiverDialog)
    assert dialog.approved_by.value() == "bill-chen"
    assert dialog.from_month.text() == "2026-03"
    assert not dialog.save()  # no reason yet
    assert dialog.errors.error_text("reason").startswith("Reason is required")
    dialog.reason.setPlainText("Lost his job; letter on file")
    assert dialog.save()
    waivers = panel.enrolment.waivers
    assert waivers.table.rowCount() == 1
    assert waivers.table.item(0, 0).text() == "from March 2026 on"
    waivers.table.selectRow(0)
    ending = waivers.end_waiver()
    assert isinstance(ending, EndWaiverDialog)
    ending.last_month.setText("2026-05")
    assert ending.save()
    assert waivers.table.item(0, 0).text() == "March 2026 to May 2026"
    # A signed month keeps its waiver: ending before it is refused, naming the month.
    signed_by_okafor(services, "B201", "2026-04")
    waivers.table.selectRow(0)
    ending = waivers.end_waiver()
    assert isinstance(ending, EndWaiverDialog)
    ending.last_month.setText("2026-03")
    assert not ending.save()
    assert ending.error.text().startswith("April 2026 is signed for this patient")
    assert services.waivers.list(biller, "B201")[0].record.to_month == "2026-05"


def test_the_billing_page_lists_every_patients_waivers(
    billing_window: MainWindow, services: Services, biller: Actor
) -> None:
    services.waivers.record_text(biller, {
        "mrn": "A100", "from_month": "2026-02", "to_month": "2026-02",
        "approved_on": "2026-02-01", "reason": "Flood damage to the house",
    })  # fmt: skip
    billing_window.show_page(BILLING)
    page = billing_window.pages[BILLING]
    assert isinstance(page, BillingPage)
    assert page.waivers_button.isVisibleTo(page)
    dialog = page.show_waivers()
    assert isinstance(dialog, WaiversDialog)
    table = dialog.list.table
    assert [table.item(0, c).text() for c in range(5)] == [
        "Schäfer, Zoë", "A100", "February 2026", "01 Feb 2026", "Wei Chen",
    ]  # fmt: skip
    assert not dialog.list.new_button.isVisibleTo(dialog)
    dialog.close()


def test_the_patient_editor_sets_and_keeps_cannot_pay(
    qtbot, services: Services, nurse: Actor
) -> None:
    record = services.patients.get(nurse, "A100")
    dialog = PatientDialog(services, nurse, services.staff.list(), record)
    qtbot.addWidget(dialog)
    assert not dialog.cannot_pay.isChecked()
    dialog.cannot_pay.setChecked(True)
    assert dialog.is_changed()
    assert dialog.save()
    saved = services.patients.get(nurse, "A100")
    assert saved.cannot_pay
    again = PatientDialog(services, nurse, services.staff.list(), saved)
    qtbot.addWidget(again)
    assert again.cannot_pay.isChecked()
    assert dt.date(2026, 1, 10) == saved.consent_date
