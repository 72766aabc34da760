"""The audit viewer: filters, before and after, and checking the chain."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner
from ccmdesk.ui.pages.audit import ANY_DAY, DIFFERENCES_SHOWN, AuditPage, changes
from tests.helpers.common import NOW
from tests.helpers.ui import HeldRunner


@pytest.fixture
def page(qtbot: QtBot, services: Services, admin: Actor, nurse: Actor) -> AuditPage:
    start = dt.datetime(2026, 3, 16, 13, 0, tzinfo=dt.UTC)
    row = services.entries.add_manual(nurse, "A100", start, start + dt.timedelta(minutes=9),
                                        reason="call on the ward phone", note="first")  # fmt: skip
    services.entries.edit(nurse, row.entry_id, note="second", reason="typo in the note")
    widget = AuditPage(services, lambda: admin, InlineTaskRunner())
    qtbot.addWidget(widget)
    return widget


def actions(page: AuditPage) -> list[str]:
    return [row.action for row in page.rows]


def test_newest_first_and_the_filters_narrow_by_patient_staff_action_and_day(
    page: AuditPage, qtmodeltester
) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(page.model)
    assert actions(page)[:2] == ["time.update", "time.create"]
    page.mrn_field.setText("A100")
    page.reload()  # the field waits for typing to pause; the test does not
    assert set(actions(page)) >= {"time.update", "time.create"}
    assert all(row.mrn == "A100" for row in page.rows)
    page.staff_box.setCurrentIndex(page.staff_box.findData("rn-lee"))
    assert actions(page) == ["time.update", "time.create"]
    page.action_box.setCurrentIndex(page.action_box.findData("time.update"))
    assert actions(page) == ["time.update"]
    page.first_day.setDate(QDate(2026, 3, 17))
    assert actions(page) == [] and page.count_label.text() == "0 events."
    page.first_day.setDate(ANY_DAY)
    page.last_day.setDate(QDate(2026, 3, 16))
    assert actions(page) == ["time.update"]


def test_an_event_shows_its_before_and_after_side_by_side(page: AuditPage) -> None:
    page.action_box.setCurrentIndex(page.action_box.findData("time.update"))
    assert page.details.rowCount() > 0
    fields = {page.details.item(n, 0).text(): (page.details.item(n, 1).text(),
              page.details.item(n, 2).text()) for n in range(page.details.rowCount())}  # fmt: skip
    assert fields["note"] == ("first", "second")
    assert "why: typo in the note" in page.detail_heading.text()
    assert changes(page.rows[0])[0][0] == "activity"  # every field, in name order


def test_verify_reports_an_intact_chain_then_the_event_someone_edited(
    page: AuditPage, services: Services
) -> None:
    page.verify()
    assert page.chain_label.text().startswith("Chain intact:")
    db = services.stopwatch._db  # the test plays someone with the database file
    with db.session() as session:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("UPDATE audit_event SET reason = 'changed later' "
                             "WHERE action = 'time.update'"))  # fmt: skip
    page.verify()
    assert "The audit trail is broken at event" in page.chain_label.text()
    assert "time.update by rn-lee" in page.chain_label.text()
    assert "its content was changed" in page.chain_label.text()


def test_clear_leaves_nothing_on_screen(page: AuditPage) -> None:
    page.clear()
    assert page.model.rowCount() == 0 and page.details.rowCount() == 0


def test_deep_check_finds_the_tables_clean_then_names_a_row_changed_behind_its_back(
    page: AuditPage, services: Services
) -> None:
    page.deep_check()
    assert page.deep_label.text().startswith("The data tables match the audit trail (")
    assert page.deep_button.isEnabled()
    db = services.stopwatch._db  # the test plays someone with the database file
    with db.session() as session:
        session.execute(text("UPDATE staff SET role = 'admin' WHERE staff_id = 'rn-lee'"))
    page.deep_check()
    lines = page.deep_label.text().splitlines()
    assert lines[0].startswith("1 difference(s) between the data tables and the audit trail")
    assert lines[1] == (
        '• staff rn-lee: role: the table holds "admin"; the audit trail says "clinical"'
    )


def test_deep_check_lists_the_first_differences_and_counts_the_rest(
    page: AuditPage, services: Services
) -> None:
    with services.stopwatch._db.session() as session:
        rows = session.execute(text("SELECT count(*) FROM fee_schedule_amount")).scalar_one()
        session.execute(text("UPDATE fee_schedule_amount SET amount_cents = amount_cents * 10"))
    page.deep_check()
    lines = page.deep_label.text().splitlines()
    assert len(lines) == 1 + DIFFERENCES_SHOWN + 1
    assert lines[-1] == (
        f"… and {rows - DIFFERENCES_SHOWN} more: `ccmdesk audit verify --deep` lists them all."
    )


def test_actions_and_values_read_as_words_not_codes(page: AuditPage) -> None:
    from ccmdesk.services import AuditRow
    from ccmdesk.ui.pages.audit import ACTION, ACTION_LABELS

    index = page.model.index(0, ACTION)
    assert page.model.data(index) == "Time changed"  # the code stays in the tooltip
    assert page.model.data(index, Qt.ItemDataRole.ToolTipRole) == "time.update"
    assert page.action_box.itemText(page.action_box.findData("time.update")) == "Time changed"
    closed = AuditRow(1, NOW, "bill-b", "Bo Biller", "month.close", "month", "2026-03", "", "",
                      None, {"amount_cents": 1266434, "billable": 12, "seconds": 1260,
                             "billable_signed": True}, "", "h")  # fmt: skip
    assert changes(closed) == [
        ("amount", "", "$12,664.34"),
        ("billable", "", "12"),
        ("billable signed", "", "yes"),
        ("seconds", "", "21:00"),
    ]
    # Every action a service records has words of its own.
    import re
    from pathlib import Path

    import ccmdesk.services

    pattern = re.compile(
        r'"((?:auth|database|fees|month|patient|payer|practice|staff|time|waiver)\.[a-z_]+)"'
    )
    folder = Path(ccmdesk.services.__file__).parent
    # Services live in packages too (time/, billing/, importing/).
    found = {m for f in folder.rglob("*.py") for m in pattern.findall(f.read_text("utf-8"))}
    # record_saved names the entity's create and update events from its argument.
    found |= {f"payer.{verb}" for verb in ("create", "update")}
    found |= {f"enrolment.{step}" for step in ("offered", "declined")}  # f"enrolment.{step}"
    recorded = {m for m in found if not m.endswith(".csv")}  # file names are not actions
    assert len(recorded) > 30 and recorded <= set(ACTION_LABELS), recorded - set(ACTION_LABELS)


@pytest.fixture
def held(qtbot: QtBot, services: Services, admin: Actor) -> tuple[AuditPage, HeldRunner]:
    runner = HeldRunner()
    widget = AuditPage(services, lambda: admin, runner)
    qtbot.addWidget(widget)
    return widget, runner


def test_a_check_only_shows_its_newest_run_and_nothing_after_clear(
    held: tuple[AuditPage, HeldRunner],
) -> None:
    page, runner = held
    page.verify()
    page.deep_check()
    assert not page.verify_button.isEnabled() and not page.deep_button.isEnabled()
    page.clear()
    runner.finish()
    runner.finish()
    assert page.chain_label.text() == "" and page.deep_label.text() == ""
    page.verify()
    runner.finish()
    assert page.chain_label.text().startswith("Chain intact:")
    assert page.verify_button.isEnabled()


def test_a_failed_check_clears_its_line_and_says_why(
    held: tuple[AuditPage, HeldRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.ui.pages import audit

    page, runner = held
    shown: list[str] = []
    monkeypatch.setattr(audit, "show_failure", lambda _parent, error: shown.append(str(error)))
    page.deep_check()
    assert page.deep_label.text() == "Comparing every data table with the audit trail…"
    failed = runner.tasks[0][2]
    failed(RuntimeError("the disk went away"))
    assert shown == ["the disk went away"]
    assert page.deep_label.text() == "" and page.deep_button.isEnabled()
    assert page.verify_button.isEnabled()
