"""The billing panel: a month's rows, filters, search, sorting, totals, details and changes."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from ccmdesk.db import Database
from ccmdesk.services import Actor, MonthFactsRecord, ServiceError, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.main_window import BILLING, MainWindow
from ccmdesk.ui.month_facts import FamilyDialog, MonthFactsDialog
from ccmdesk.ui.pages.billing import (
    ALL,
    AMOUNT,
    BILLABLE,
    CLAIM,
    CLAIM_READY,
    CODES,
    FILTERS,
    NEAR,
    NOT_BILLABLE,
    NOT_CLAIM_READY,
    PATIENT,
    STATUS,
    UNSIGNED,
    WARNINGS,
    BillingPage,
    totals_text,
)
from ccmdesk.ui.state import GuiState
from ccmdesk.ui.widgets.months import default_month, month_choices
from tests.helpers.payer_billing import (
    CLAIM_FILE,
    PCM_ONLY,
    add_payers,
    add_sent_claim,
    give_claim_facts,
    set_payers,
)
from tests.helpers.ui import MONTH


@pytest.fixture
def page(qtbot: QtBot, month_data: Services, biller: Actor) -> BillingPage:
    widget = BillingPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)
    return widget


def shown_mrns(page: BillingPage) -> list[str]:
    return [row.mrn for row in page.model.shown()]


def test_the_month_lists_every_enrolled_or_active_patient_with_its_figures(
    page: BillingPage, qtmodeltester
) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(page.model)
    # A100 and B200 are enrolled (consent on file); A101 and B201 have neither consent nor time.
    assert sorted(shown_mrns(page)) == ["A100", "B200", "M1", "M2", "M3", "M4"]
    able = page.model.row_of("M1")
    texts = [page.model.index(able, c).data() for c in range(page.model.columnCount())]
    assert texts == ["Able, Pat", "M1", "Adaeze Okafor", "CCM/PCM", "25:00", "0:00", "99490x1",
                     "", "$66.13", "Billable", "Not signed",
                     "Not signed; needs payer, member id, sex +3 more"]  # fmt: skip
    blocked = page.model.row_of("M3")
    assert page.model.index(blocked, CODES).data() == "(99490x1)"  # what it would bill
    assert page.model.index(blocked, AMOUNT).data() == ""
    assert "excludes care management" in page.model.index(blocked, STATUS).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert "6 enrolled or active patients · 2 billable · $210.42 expected" in (
        page.status_label.text()
    )


def test_the_totals_footer_follows_what_is_shown(page: BillingPage) -> None:
    assert page.totals_label.text() == (
        "6 patients shown · 2 billable · $210.42 · 99487 $144.29 · 99490 $66.13"
    )
    page.search_field.setText("able")
    assert page.totals_label.text() == "1 patient shown · 1 billable · $66.13 · 99490 $66.13"
    assert totals_text([]) == "0 patients shown · 0 billable · $0.00"


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        (BILLABLE, ["M1", "M4"]),
        (NOT_BILLABLE, ["A100", "B200", "M2", "M3"]),
        (WARNINGS, ["B200", "M4"]),  # PCM_NOT_CCM; ALTERNATIVE_PAYS_MORE (NOT_SIGNED ignored)
        (UNSIGNED, ["A100", "B200", "M1", "M2", "M3", "M4"]),
        (NEAR, ["M2"]),  # 17 minutes: 3 short of 20
    ],
)
def test_each_filter_shows_its_rows(page: BillingPage, which: str, expected: list[str]) -> None:
    page.filter_box.setCurrentIndex([value for value, _ in FILTERS].index(which))
    assert sorted(shown_mrns(page)) == expected


def test_search_finds_by_name_mrn_practitioner_and_code(page: BillingPage) -> None:
    page.search_field.setText("complex")
    assert shown_mrns(page) == ["M4"]
    page.search_field.setText("m3")
    assert shown_mrns(page) == ["M3"]
    page.search_field.setText("99487")
    assert shown_mrns(page) == ["M4"]
    page.search_field.setText("okafor pat")
    assert sorted(shown_mrns(page)) == ["M1", "M2", "M3", "M4"]


def test_sorting_by_amount_puts_the_largest_first(page: BillingPage) -> None:
    page.table.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
    assert shown_mrns(page)[:2] == ["M4", "M1"]
    page.table.sortByColumn(PATIENT, Qt.SortOrder.AscendingOrder)
    assert shown_mrns(page)[0] == "M1"  # Able


def test_the_details_explain_the_chosen_row_with_codes_in_tooltips(page: BillingPage) -> None:
    assert page.select_mrn("M3")
    details = page.details
    assert details.heading.text() == "Excluded, Pat · MRN M3"
    lines = [details.lines.item(i) for i in range(details.lines.count())]
    texts = [item.text() for item in lines]
    assert texts[0] == "Not billable. Once mended it would bill 99490x1: $66.13."
    assert "20:00 of clinical staff time reached on 2 Mar → 99490" in texts
    blocked = next(item for item in lines if item.text().startswith("Blocked:"))
    assert blocked.toolTip() == "EXCLUDED_SERVICE"
    # A selection survives a filter change that keeps the row.
    page.filter_box.setCurrentIndex([v for v, _ in FILTERS].index(NOT_BILLABLE))
    assert page.current_row() is not None and page.current_row().mrn == "M3"


def test_double_click_asks_to_open_the_patient(qtbot: QtBot, page: BillingPage) -> None:
    row = page.model.row_of("M2")
    with qtbot.waitSignal(page.open_requested) as opened:
        page.table.doubleClicked.emit(page.model.index(row, PATIENT))
    assert opened.args == ["M2"]


def test_a_biller_records_another_service_and_the_row_turns_blocked(
    qtbot: QtBot, page: BillingPage
) -> None:
    page.select_mrn("M1")
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    assert not dialog.complexity.isEnabled()  # a practitioner's attestation
    dialog.other_services.setText("g0182")
    dialog.reason.setText("home health supervision billed")
    dialog.save()
    row = page.current_row()
    assert row is not None and row.mrn == "M1" and row.result.blocks == ("EXCLUDED_SERVICE",)
    assert "1 billable" in page.status_label.text()


def test_a_stay_outside_the_month_is_refused_in_the_dialog(qtbot: QtBot, page: BillingPage) -> None:
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    dialog.admitted.setDate(dt.date(2026, 4, 2))
    dialog.discharged.setDate(dt.date(2026, 4, 3))
    dialog._on_add_stay()
    assert dialog.error.text() == "Inpatient stays: '2026-04-02..2026-04-03' is not in 2026-03."
    assert dialog.stays_entered() == ()
    dialog.admitted.setDate(dt.date(2026, 3, 1))
    dialog.discharged.setDate(dt.date(2026, 3, 2))
    dialog._on_add_stay()
    assert dialog.stays_entered() == ((dt.date(2026, 3, 1), dt.date(2026, 3, 2)),)
    dialog.save()
    result = page.model.row_at(page.model.row_of("M1")).result
    assert result.excluded == {"INPATIENT_TIME_EXCLUDED": 25 * 60}
    assert result.blocks == ("BELOW_THRESHOLD",)


def test_month_facts_the_service_refuses_are_named_by_their_field(
    qtbot: QtBot, page: BillingPage
) -> None:
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    dialog.other_services.setText("G01")
    dialog.reason.setText("typo")
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save()
    assert dialog.error.text() == (
        "Other services: 'G01' is not a CPT or HCPCS code (5 letters or digits)."
    )


def test_switching_family_needs_a_reason_and_changes_the_codes(
    qtbot: QtBot, page: BillingPage
) -> None:
    page.select_mrn("M4")
    assert page.details.family_button.isEnabled()
    dialog = page.switch_family("M4")
    assert isinstance(dialog, FamilyDialog)
    qtbot.addWidget(dialog)
    dialog.family.set_value("ccm")
    dialog.save()
    assert "Say why" in dialog.error.text()
    dialog.reason.setText("pays more")
    dialog.save()
    row = page.model.row_at(page.model.row_of("M4"))
    assert row.result.codes == "99490x1;99439x2"


def test_nurses_have_no_billing_page_and_billers_do(qtbot: QtBot, services: Services) -> None:
    nurse = services.staff.actor_for("rn-lee")
    window = MainWindow(services, nurse, runner=InlineTaskRunner(), state=GuiState(None))
    qtbot.addWidget(window)
    assert BILLING not in window.visible_pages()
    window.set_actor(services.staff.actor_for("bill-chen"))
    assert BILLING in window.visible_pages()
    window.show_page(BILLING)
    assert isinstance(window.pages[BILLING], BillingPage)


def test_the_month_picker_offers_two_years_and_starts_where_billers_work() -> None:
    assert month_choices(dt.date(2026, 3, 16))[:3] == ["2026-03", "2026-02", "2026-01"]
    assert len(month_choices(dt.date(2026, 3, 16))) == 25
    assert default_month(dt.date(2026, 3, 4)) == "2026-02"  # early: closing last month
    assert default_month(dt.date(2026, 1, 9)) == "2025-12"
    assert default_month(dt.date(2026, 3, 16)) == "2026-03"


def test_sorting_keeps_the_chosen_patient_chosen(page: BillingPage) -> None:
    page.select_mrn("M2")
    page.table.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
    current = page.current_row()
    assert current is not None and current.mrn == "M2"
    assert page.details.heading.text().startswith("Nearly, Pat")


def test_a_signed_months_facts_are_shown_locked(
    qtbot: QtBot, page: BillingPage, month_data: Services
) -> None:
    from ccmdesk.models import MonthlyReview, Patient, Staff

    db = month_data.billing._db
    with db.session() as session:
        patient = session.query(Patient).filter_by(mrn="M1").one()
        doctor = session.query(Staff).filter_by(staff_id="dr-okafor").one()
        session.add(MonthlyReview(patient_id=patient.id, month=MONTH, signed_by_id=doctor.id,
                                  signed_at=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
                                  attestation="signed"))  # fmt: skip
    page.reload()
    page.select_mrn("M1")
    assert page.current_row() is not None and page.current_row().result.signed
    assert not page.details.family_button.isEnabled()
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    assert not dialog.other_services.isEnabled() and not dialog.complexity.isEnabled()
    assert "signed" in dialog.complexity_note.text()
    assert dialog.complexity_note.isVisibleTo(dialog)


# --- found in review -------------------------------------------------------------------------


class LateRunner:
    """Runs the work at once, as a worker thread would, but hands the outcome back only when
    the test says: the order a threaded runner can deliver results in."""

    def __init__(self) -> None:
        self.pending: list[tuple[object, bool, object, object]] = []

    def run(self, work, done, failed) -> None:  # type: ignore[no-untyped-def]
        try:
            self.pending.append((work(), False, done, failed))
        except ServiceError as error:
            self.pending.append((error, True, done, failed))

    def deliver(self, n: int) -> None:
        outcome, error, done, failed = self.pending[n]
        (failed if error else done)(outcome)  # type: ignore[operator]


@pytest.fixture
def late(qtbot: QtBot, month_data: Services, biller: Actor) -> tuple[BillingPage, LateRunner]:
    runner = LateRunner()
    widget = BillingPage(month_data, lambda: biller, runner, today=lambda: dt.date(2026, 3, 20))
    qtbot.addWidget(widget)
    runner.deliver(0)
    return widget, runner


def test_only_the_latest_load_is_shown(late, month_data: Services, biller: Actor) -> None:  # type: ignore[no-untyped-def]
    page, runner = late
    page.reload()  # computed before the change below
    month_data.month_facts.save(
        biller, "M1", MONTH, MonthFactsRecord(other_services=("G0182",)), "x"
    )
    page.reload()  # computed after it
    runner.deliver(1)  # the older outcome: not shown, and it must not block the newer one
    runner.deliver(2)
    assert not page.model.row_at(page.model.row_of("M1")).result.billable


def test_a_failed_load_of_a_month_left_behind_changes_nothing(
    late, month_data: Services, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:  # type: ignore[no-untyped-def]
    page, runner = late
    real = month_data.billing.month

    def month(actor: Actor, which: str):  # type: ignore[no-untyped-def]
        if which == "2026-02":
            raise ServiceError("The database is locked.")
        return real(actor, which)

    monkeypatch.setattr(month_data.billing, "month", month)
    page.set_month("2026-02")
    page.set_month("2026-01")
    runner.deliver(1)  # February's failure: the person has moved on
    runner.deliver(2)
    assert page.month is not None and page.month.month == "2026-01"
    assert page.findChildren(QMessageBox) == []


def test_a_failed_load_never_leaves_another_months_rows_on_screen(
    page: BillingPage, month_data: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(actor: Actor, month: str):  # type: ignore[no-untyped-def]
        raise ServiceError("The database is locked.")

    monkeypatch.setattr(month_data.billing, "month", fail)
    page.set_month("2026-02")
    assert page.model.shown() == [] and page.month is None
    assert page.status_label.text() == "February 2026 could not be evaluated; nothing is shown."
    for box in page.findChildren(QMessageBox):
        box.close()


def test_month_facts_belong_to_the_month_on_screen_not_one_loading(late) -> None:  # type: ignore[no-untyped-def]
    page, runner = late
    page.select_mrn("M1")
    page.set_month("2026-02")  # not delivered yet: nothing is on screen
    assert page.edit_facts("M1") is None
    runner.deliver(1)
    assert {r.result.month for r in page.model.shown()} <= {"2026-02"}


def test_switching_from_a_biller_to_a_nurse_clears_billing_without_an_error(
    qtbot: QtBot, month_data: Services
) -> None:
    window = MainWindow(month_data, month_data.staff.actor_for("bill-chen"),
                        runner=InlineTaskRunner(), state=GuiState(None))  # fmt: skip
    qtbot.addWidget(window)
    window.show_page(BILLING)
    page = window.pages[BILLING]
    assert isinstance(page, BillingPage)
    window.set_actor(month_data.staff.actor_for("rn-lee"))
    assert window.findChildren(QMessageBox) == []
    assert page.model.rowCount() == 0 and page.month is None


def test_only_the_patients_own_practitioner_may_set_complexity_in_the_dialog(
    qtbot: QtBot, month_data: Services
) -> None:
    for staff_id, enabled in (("np-lind", False), ("dr-okafor", True)):
        who = month_data.staff.actor_for(staff_id)
        page = BillingPage(month_data, lambda who=who: who, InlineTaskRunner())
        qtbot.addWidget(page)
        page.set_month(MONTH)
        dialog = page.edit_facts("M1")  # M1's billing practitioner is Dr. Okafor
        assert isinstance(dialog, MonthFactsDialog)
        qtbot.addWidget(dialog)
        assert dialog.complexity.isEnabled() is enabled
        assert not dialog.other_services.isEnabled()  # billing staff's facts


def test_enter_on_the_table_opens_the_patient(qtbot: QtBot, page: BillingPage) -> None:
    page.show()
    page.select_mrn("M2")
    page.table.setFocus()
    with qtbot.waitSignal(page.open_requested) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == ["M2"]


def test_stay_dates_typed_but_not_added_are_kept_on_save(qtbot: QtBot, page: BillingPage) -> None:
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    dialog.admitted.setDate(dt.date(2026, 3, 1))
    dialog.discharged.setDate(dt.date(2026, 3, 3))
    dialog.save()
    result = page.model.row_at(page.model.row_of("M1")).result
    assert result.excluded == {"INPATIENT_TIME_EXCLUDED": 25 * 60}


def test_a_changed_row_the_filter_now_hides_is_still_explained(
    qtbot: QtBot, page: BillingPage
) -> None:
    page.filter_box.setCurrentIndex([v for v, _ in FILTERS].index(BILLABLE))
    page.select_mrn("M1")
    dialog = page.edit_facts("M1")
    assert isinstance(dialog, MonthFactsDialog)
    qtbot.addWidget(dialog)
    dialog.other_services.setText("G0182")
    dialog.save()
    assert "M1" not in shown_mrns(page)
    assert page.details.heading.text() == "Able, Pat · MRN M1"
    assert "left the table" in page.details.summary.text()


def test_search_and_sort_use_the_codes_a_blocked_row_shows(page: BillingPage) -> None:
    page.search_field.setText("99490")
    assert sorted(shown_mrns(page)) == ["M1", "M3"]  # M3 shows (99490x1)


def test_descending_sorts_keep_ties_in_name_order(page: BillingPage) -> None:
    page.table.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
    names = [row.patient_name for row in page.model.shown() if not row.result.billable]
    assert names == sorted(names, key=str.casefold)


def test_a_month_outside_the_picker_is_added_in_order(page: BillingPage) -> None:
    page.set_month("2026-05")  # after the newest the picker offers
    months = [page.month_box.itemData(i) for i in range(page.month_box.count())]
    assert months[0] == "2026-05" and months == sorted(months, reverse=True)
    assert page.current_month() == "2026-05"


def test_billing_closes_a_finished_month_and_an_administrator_reopens_it(
    qtbot: QtBot, month_data: Services, biller: Actor, admin: Actor
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ccmdesk.ui.forms import ReasonDialog

    widget = BillingPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month(MONTH)  # March, still running on the test clock
    assert not widget.close_button.isEnabled() and widget.reopen_button.isHidden()
    widget.set_month("2026-02")
    assert widget.close_button.isEnabled()
    box = widget.close_month()
    assert isinstance(box, QMessageBox)
    assert "Close February 2026 for billing?" in box.text()
    assert "until an administrator reopens it" in box.text()
    close = next(b for b in box.buttons() if b.text() == "Close February 2026")
    close.click()
    assert widget.closed_label.text().startswith("Closed for billing on 16 Mar 2026 by Wei Chen")
    assert not widget.close_button.isEnabled()
    assert month_data.closing.state(biller, "2026-02").closed

    as_admin = BillingPage(month_data, lambda: admin, InlineTaskRunner())
    qtbot.addWidget(as_admin)
    as_admin.set_month("2026-02")
    assert as_admin.reopen_button.isEnabled()
    dialog = as_admin.reopen_month()
    assert isinstance(dialog, ReasonDialog)
    dialog.reason.setPlainText("A late entry from the home visit")
    dialog.accept()
    assert as_admin.closed_label.text() == ""
    assert not month_data.closing.state(admin, "2026-02").closed


def test_a_late_change_to_a_closed_month_shows_until_billing_acknowledges_it(
    qtbot: QtBot, month_data: Services, biller: Actor, nurse: Actor
) -> None:
    from ccmdesk.ui.forms import ReasonDialog
    from tests.helpers.ui import ENROLLED, patient_raw

    month_data.closing.close(biller, "2026-02")
    widget = BillingPage(month_data, lambda: biller, InlineTaskRunner())
    qtbot.addWidget(widget)
    widget.set_month("2026-02")
    assert widget.drift_label.isHidden() and widget.acknowledge_button.isHidden()
    revoked = ENROLLED | {"consent_revoked_date": "2026-01-15"}
    raw = patient_raw(mrn="M1", last_name="Able", first_name="Pat", dob="1950-01-01", **revoked)
    month_data.patients.save_text(nurse, raw, "M1")
    widget.reload()
    text = widget.drift_label.text()
    assert widget.drift_label.isVisibleTo(widget)
    assert "February 2026's bill now differs from the one it was closed with" in text
    assert "Pat Able (MRN M1): consent revoked as of 2026-01-15, recorded later" in text
    dialog = widget.acknowledge_changes()
    assert isinstance(dialog, ReasonDialog)
    dialog.reason.setPlainText("M1 was never claimed for February")
    dialog.accept()
    assert widget.drift_label.isHidden() and widget.acknowledge_button.isHidden()
    assert month_data.closing.check(biller, "2026-02").ok


# --- payers and claims -------------------------------------------------------------------------


@pytest.fixture
def db(month_data: Services) -> Database:
    """The page's database, for what no screen records yet (payers on a record, sent claims)."""
    return month_data.audit._db  # type: ignore[attr-defined,no-any-return]


def choose_filter(page: BillingPage, which: str) -> None:
    page.filter_box.setCurrentIndex([value for value, _ in FILTERS].index(which))


def test_a_payer_that_does_not_pay_shows_its_sentence_and_mend(
    page: BillingPage, month_data: Services, db: Database
) -> None:
    add_payers(month_data, PCM_ONLY)
    set_payers(db, "M1", "acme-pcm")
    page.reload()
    row = page.model.row_of("M1")
    said = "Acme Health PCM does not pay for CCM (it covers PCM)."
    assert page.model.index(row, STATUS).data() == "Not billable · 1 block"
    assert page.model.index(row, STATUS).data(Qt.ItemDataRole.ToolTipRole) == said
    assert page.model.index(row, CLAIM).data() == "—"  # a month that does not bill: no claim
    assert page.select_mrn("M1")
    lines = [page.details.lines.item(i) for i in range(page.details.lines.count())]
    (blocked,) = [item for item in lines if item.toolTip() == "PAYER_DOES_NOT_COVER"]
    assert blocked.text() == (
        f"Blocked: {said} Confirm the patient's coverage with the payer, then record the payer "
        "that pays, or correct what this payer covers on the Payers page."
    )


def test_the_claim_column_says_ready_sent_or_what_keeps_the_claim_out(
    page: BillingPage, month_data: Services, db: Database
) -> None:
    give_claim_facts(db, "M1", "M4")
    month_data.review.sign(month_data.staff.actor_for("dr-okafor"), "M1", MONTH)
    page.reload()

    def claim(mrn: str, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> str:
        return page.model.index(page.model.row_of(mrn), CLAIM).data(role)

    assert claim("M1") == "Ready"
    assert claim("M4") == "Not signed"  # claim-ready once signed
    assert claim("M4", Qt.ItemDataRole.ToolTipRole).startswith("The month is not signed")
    assert claim("M2") == "—"  # 17 minutes bill nothing
    choose_filter(page, CLAIM_READY)
    assert shown_mrns(page) == ["M1"]
    choose_filter(page, NOT_CLAIM_READY)
    assert shown_mrns(page) == ["M4"]  # billable months only: M2, M3 and the rest are no claim
    # A claim already sent says where it went; it is still claim-ready.
    add_sent_claim(db, "M1", MONTH)
    with db.session() as session:  # and M4's record loses its sex: one edit fails
        session.execute(text("UPDATE patient SET sex = '' WHERE mrn = 'M4'"))
    page.reload()
    choose_filter(page, ALL)
    assert claim("M1") == f"Sent ({CLAIM_FILE})"
    assert claim("M4") == "Not signed; needs sex"
    assert claim("M4", Qt.ItemDataRole.ToolTipRole).splitlines()[1] == (
        "A claim needs the patient's sex as F or M, and the record has neither. Record the "
        "patient's sex as the payer has it (F or M)."
    )
    # The details say it in sentences: where the claim went, or each edit with its mend.
    assert page.select_mrn("M4")
    lines = [page.details.lines.item(i).text() for i in range(page.details.lines.count())]
    assert lines[-1] == (
        "Not in the claim file: A claim needs the patient's sex as F or M, and the record has "
        "neither. Record the patient's sex as the payer has it (F or M)."
    )
    assert page.select_mrn("M1")
    last = page.details.lines.item(page.details.lines.count() - 1).text()
    assert last == f"Claim M1-202603 was sent in {CLAIM_FILE}."
    choose_filter(page, CLAIM_READY)
    assert shown_mrns(page) == ["M1"]
    page.table.sortByColumn(CLAIM, Qt.SortOrder.AscendingOrder)  # sorting by it works too
