"""The monthly review page: the queue, the summary, signing one or a batch, unlock, add time."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel
from pytestqt.qtbot import QtBot

from ccmdesk.db import Database
from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.forms import ReasonDialog
from ccmdesk.ui.pages.review import FILTERS, READY, STATUS, ReviewPage, SignDialog
from ccmdesk.ui.stopwatch_dialogs import ManualEntryDialog
from tests.helpers.care_plans import signed_plan
from tests.helpers.payer_billing import (
    CLAIM_FILE,
    PCM_ONLY,
    add_payers,
    add_sent_claim,
    set_payers,
)
from tests.helpers.ui import MONTH


@pytest.fixture
def doctor(month_data: Services) -> Actor:
    return month_data.staff.actor_for("dr-okafor")


@pytest.fixture
def page(qtbot: QtBot, month_data: Services, doctor: Actor) -> ReviewPage:
    widget = ReviewPage(month_data, lambda: doctor, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    return widget


def statuses(page: ReviewPage) -> dict[str, str]:
    return {
        page.model.row_at(n)[0].mrn: page.model.row_at(n)[1] for n in range(page.model.rowCount())
    }


def test_the_queue_lists_my_patients_by_what_they_need(page: ReviewPage, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(page.model)
    assert statuses(page) == {
        "A100": "blocked",  # no initiating visit or care plan on file
        "B200": "blocked",
        "M1": "ready to sign",
        "M2": "below threshold",  # only time is missing
        "M3": "blocked",
        "M4": "ready to sign",
    }  # A101 and B201 are Dr. Lindqvist's patients
    assert page.model.index(page.model.row_of("M3"), STATUS).data() == "Blocked"
    page.filter_box.setCurrentIndex([value for value, _ in FILTERS].index(READY))
    assert sorted(statuses(page)) == ["M1", "M4"]
    assert "2 ready to sign · 3 blocked · 1 below threshold · 0 signed" in page.status_label.text()


def test_the_summary_shows_the_month_on_one_screen_with_stored_text_escaped(
    page: ReviewPage,
    month_data: Services,
) -> None:
    nurse = month_data.staff.actor_for("rn-lee")
    start = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    month_data.entries.add_manual(nurse, "M1", start, start + dt.timedelta(minutes=3),
                                    reason="r", note="<b>bold?</b> & \u05e9\u05dc\u05d5\u05dd")  # fmt: skip
    page.reload()
    assert page.select_mrn("M1")
    text = page.view.toPlainText()
    for expected in ("Able, Pat", "E11.9 — Type 2 diabetes mellitus without complications",
                     "Consent: 04 Nov 2025 (verbal)", "Care plan: kept elsewhere, dated 4 Nov 2025",
                     "Countable 28:00", "Proposed: 99490x1", "Time log (2 entries)",
                     "Grace Lee (clinical staff)", "<b>bold?</b> & \u05e9\u05dc\u05d5\u05dd",
                     "Ready to sign"):  # fmt: skip
        assert expected in text
    assert page.sign_button.isEnabled() and not page.unlock_button.isEnabled()
    page.select_mrn("M3")
    assert "Blocks and warnings" in page.view.toPlainText()
    assert not page.sign_button.isEnabled()


def test_the_summary_names_the_signed_care_plan_version_in_force(
    page: ReviewPage, month_data: Services, doctor: Actor
) -> None:
    nurse = month_data.staff.actor_for("rn-lee")
    signed_plan(month_data, "M1", author=nurse, signer=doctor)
    page.reload()
    assert page.select_mrn("M1")
    assert (
        "Care plan: version 1, signed 16 Mar 2026 · review by 15 Oct 2026 · no copy given yet"
        in page.view.toPlainText()
    )


def test_signing_one_month_confirms_with_the_attestation_then_freezes_it(
    page: ReviewPage,
    month_data: Services,
) -> None:
    page.select_mrn("M1")
    dialog = page.sign_current()
    assert isinstance(dialog, SignDialog)
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 2).text() == "99490x1"
    assert dialog.attestation.text() == month_data.practice.attestation()
    assert dialog.sign_button.text() == "Sign 1 month"
    dialog.accept()
    assert statuses(page)["M1"] == "signed"
    page.select_mrn("M1")
    assert "Signed" in page.view.toPlainText() and "By Adaeze Okafor" in page.view.toPlainText()
    assert page.unlock_button.isEnabled() and not page.add_time_button.isEnabled()


def test_a_batch_of_ready_months_is_listed_then_signed_together(page: ReviewPage) -> None:
    page.select_ready()
    assert [row.mrn for row in page.selected_ready()] == ["M1", "M4"]
    assert page.sign_selected_button.text() == "Sign 2 selected…"
    dialog = page.sign_selected()
    assert isinstance(dialog, SignDialog)
    rows = [dialog.table.item(n, 1).text() for n in range(dialog.table.rowCount())]
    assert rows == ["M1", "M4"] and dialog.total.text() == "Total $210.42"
    # Each month's own warnings are in the list; the statement speaks of every patient.
    assert dialog.table.item(0, 4).text() == "—"
    # The warning names the family and what it would pay, as the billing panel's details do.
    assert dialog.table.item(1, 4).text() == (
        "CCM, clinical staff (99490x1, 99439x2) would pay $167.01, more than $144.29; "
        "the biller may switch."
    )
    lead = dialog.findChild(QLabel, "attestationLead")
    assert lead is not None and "for each of these 2 patients" in lead.text()
    dialog.reject()
    assert statuses(page)["M1"] == "ready to sign"  # cancelled: nothing signed
    page.select_ready()
    page.sign_selected().accept()  # type: ignore[union-attr]
    assert statuses(page)["M1"] == statuses(page)["M4"] == "signed"


def test_unlock_asks_why_then_the_month_is_ready_again(page: ReviewPage) -> None:
    page.select_mrn("M1")
    page.sign_current().accept()  # type: ignore[union-attr]
    page.select_mrn("M1")
    dialog = page.unlock_current()
    assert isinstance(dialog, ReasonDialog)
    assert "voids Adaeze Okafor's signature" in dialog.findChild(type(page.status_label)).text()
    assert not dialog.ok_button.isEnabled()
    dialog.reason.setPlainText("A call from 28 March was missing")
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    assert statuses(page)["M1"] == "ready to sign"
    page.select_mrn("M1")
    assert "unlocked by Adaeze Okafor" in page.view.toPlainText()
    assert "A call from 28 March was missing" in page.view.toPlainText()


def test_the_practitioner_adds_own_time_from_the_summary(
    page: ReviewPage,
    month_data: Services,
    doctor: Actor,
    monkeypatch,
) -> None:
    page.select_mrn("M2")

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, ManualEntryDialog)
        dialog.start.setTime(dialog.start.time().fromString("09:30:00", "HH:mm:ss"))
        dialog.end.setTime(dialog.end.time().fromString("09:40:00", "HH:mm:ss"))
        dialog.reason.setText("Reviewed the care plan with the family")
        return True

    monkeypatch.setattr(page, "exec_dialog", fill)
    assert page.add_time()
    own = [e for e in month_data.time_log.patient_log(doctor, "M2") if e.staff_id == "dr-okafor"]
    assert [e.seconds for e in own] == [600]
    assert statuses(page)["M2"] == "ready to sign"  # 17 + 10 minutes reach 99490


def test_an_administrator_cannot_sign_but_unlocks_any_signed_month(
    qtbot: QtBot, page: ReviewPage, month_data: Services, admin: Actor
) -> None:
    page.select_mrn("M1")
    page.sign_current().accept()  # type: ignore[union-attr]
    widget = ReviewPage(month_data, lambda: admin, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    widget.select_mrn("M4")
    assert widget.sign_button.isHidden() and widget.sign_selected_button.isHidden()
    assert widget.sign_current() is None
    widget.select_mrn("M1")
    dialog = widget.unlock_current()
    assert isinstance(dialog, ReasonDialog)
    dialog.reason.setPlainText("Signed before the late call was entered")
    dialog.accept()
    assert statuses(widget)["M1"] == "ready to sign"


def test_the_confirmation_signs_what_it_listed_or_nothing(
    page: ReviewPage, month_data: Services, monkeypatch
) -> None:
    from ccmdesk.ui.pages import month_page

    refusals: list[str] = []
    # The month page base makes the change and shows what the service refused.
    monkeypatch.setattr(
        month_page, "show_failure", lambda _parent, error: refusals.append(str(error))
    )
    page.select_mrn("M1")
    dialog = page.sign_current()
    assert dialog is not None and dialog.table.item(0, 2).text() == "99490x1"
    nurse = month_data.staff.actor_for("rn-lee")
    start = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    month_data.entries.add_manual(nurse, "M1", start, start + dt.timedelta(minutes=20),
                                    reason="a call from another desk")  # fmt: skip
    dialog.accept()
    assert statuses(page)["M1"] == "ready to sign"  # not signed with figures never shown
    assert "changed since it was shown" in refusals[0]


def test_names_and_reasons_from_stored_text_are_shown_as_typed(
    qtbot: QtBot, page: ReviewPage, month_data: Services, admin: Actor
) -> None:
    import dataclasses

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from ccmdesk.ui.pages.audit import AuditPage
    from ccmdesk.ui.pages.billing import DetailsPane

    page.select_mrn("M1")
    page.sign_current().accept()  # type: ignore[union-attr]
    page.select_mrn("M1")
    assert page.summary is not None
    hostile = dataclasses.replace(
        page.summary.row, last_name="<b>Able</b>", first_name="<img src=x>Pat"
    )
    dialog = SignDialog(MONTH, [hostile], "<i>attest</i>", page)
    hostile_labels = [label for label in dialog.findChildren(QLabel) if "<" in label.text()]
    assert hostile_labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in hostile_labels)
    reason = ReasonDialog("Unlock", "voids <b>Able</b>'s signature", "Unlock", page)
    assert all(label.textFormat() == Qt.TextFormat.PlainText
               for label in reason.findChildren(QLabel) if "<" in label.text())  # fmt: skip
    details = DetailsPane()
    qtbot.addWidget(details)
    details.show_row(hostile)
    assert details.heading.textFormat() == Qt.TextFormat.PlainText
    assert details.heading.text().startswith("<b>Able</b>, <img src=x>Pat")
    month_data.review.unlock(admin, "M1", MONTH, "<b>wrong</b> <font color=white>hidden</font>")
    audit = AuditPage(month_data, lambda: admin, InlineTaskRunner())
    qtbot.addWidget(audit)
    audit.action_box.setCurrentIndex(audit.action_box.findData("month.unlock"))
    assert audit.detail_heading.textFormat() == Qt.TextFormat.PlainText
    assert "why: <b>wrong</b> <font color=white>hidden</font>" in audit.detail_heading.text()


def test_a_signature_that_no_longer_matches_the_month_is_called_out(page: ReviewPage) -> None:
    import dataclasses

    from ccmdesk.ui.pages.review import summary_html

    page.select_mrn("M1")
    page.sign_current().accept()  # type: ignore[union-attr]
    page.select_mrn("M1")
    assert page.summary is not None and "no longer matches" not in page.view.toPlainText()
    changed = dataclasses.replace(page.summary, changed_since_signed=True)
    assert "The month no longer matches what was signed" in summary_html(changed, dt.UTC)


def test_a_closed_month_offers_no_signing_and_says_why(
    qtbot: QtBot, month_data: Services, doctor: Actor, clock
) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    clock.now = dt.datetime(2026, 4, 2, 15, 0, tzinfo=dt.UTC)  # March is over
    month_data.closing.close(month_data.staff.actor_for("bill-chen"), MONTH)
    widget = ReviewPage(month_data, lambda: doctor, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    assert statuses(widget)["M1"] == statuses(widget)["M4"] == "closed for billing"
    widget.table.selectAll()
    assert not widget.sign_selected_button.isEnabled()
    assert not widget.select_ready_button.isEnabled()
    assert "closed for billing" in widget.sign_selected_button.toolTip()
    assert "closed for billing" in widget.status_label.text()


def test_the_month_summary_says_which_family_would_pay_more(page: ReviewPage) -> None:
    # The summary beside the list words a warning as the sign dialog and billing panel do.
    page.select_mrn("M4")
    text = page.view.toPlainText()
    assert (
        "CCM, clinical staff (99490x1, 99439x2) would pay $167.01, more than $144.29; "
        "the biller may switch."
    ) in text
    assert "Another compliant code family would pay more" not in text


# --- payers and sent claims ------------------------------------------------------------------


@pytest.fixture
def db(month_data: Services) -> Database:
    """The page's database, for what no screen records yet (payers on a record, sent claims)."""
    return month_data.audit._db  # type: ignore[attr-defined,no-any-return]


def test_the_summary_explains_a_payers_block_and_the_patients_share(
    page: ReviewPage, month_data: Services, db: Database
) -> None:
    add_payers(month_data, PCM_ONLY)
    set_payers(db, "M1", "acme-pcm")
    set_payers(db, "M4", "mcr-b")
    page.reload()
    assert statuses(page)["M1"] == "blocked"
    said = "Acme Health PCM does not pay for CCM (it covers PCM)."
    assert (
        page.model.index(page.model.row_of("M1"), STATUS).data(Qt.ItemDataRole.ToolTipRole) == said
    )
    page.select_mrn("M1")
    text = page.view.toPlainText()
    assert f"{said} Confirm the patient's coverage with the payer" in text
    assert "Patient share" not in text  # a blocked month bills nothing to share
    page.select_mrn("M4")  # Medicare Part B: the estimate, with the year's deductible
    assert (
        "Patient share (estimate): $28.86, 20 % coinsurance; assumes the Part B deductible "
        "($283.00 in 2026) has been met." in page.view.toPlainText()
    )


def test_unlocking_a_month_whose_claim_was_sent_warns_of_a_corrected_claim(
    page: ReviewPage, db: Database
) -> None:
    page.select_mrn("M1")
    page.sign_current().accept()  # type: ignore[union-attr]
    add_sent_claim(db, "M1", MONTH)  # an export sent its claim
    page.reload()
    page.select_mrn("M1")
    dialog = page.unlock_current()
    assert isinstance(dialog, ReasonDialog)
    said = dialog.findChild(type(page.status_label)).text()
    assert f"already sent in {CLAIM_FILE}" in said and "corrected claim (frequency 7)" in said
    dialog.reason.setPlainText("A call from 28 March was missing")
    dialog.accept()
    assert statuses(page)["M1"] == "ready to sign"  # the unlock still goes through
