"""The main window: pages by role, who is signed in, switching user, and CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QMessageBox

from ccmdesk.services import Actor, Services
from ccmdesk.ui.background import InlineTaskRunner, ThreadTaskRunner
from ccmdesk.ui.import_dialog import ImportProblemsDialog
from ccmdesk.ui.main_window import (
    AUDIT,
    BILLING,
    DASHBOARD,
    FRAME_ALLOWANCE,
    MY_DAY,
    PATIENTS,
    PAYERS,
    PRACTICE,
    REVIEW,
    STAFF,
    WEEK,
    WORKLIST,
    MainWindow,
)
from ccmdesk.ui.pages.patients import PatientsPage
from ccmdesk.ui.pages.practice import PracticePage
from ccmdesk.ui.sign_in import SignInDialog
from ccmdesk.ui.state import GuiState
from tests.helpers.common import SCHEDULER
from tests.helpers.ui import PASSWORD


@pytest.fixture
def make_window(qtbot, services: Services):
    def make(actor: Actor) -> MainWindow:
        window = MainWindow(services, actor, runner=InlineTaskRunner(), state=GuiState(None))
        qtbot.addWidget(window)
        window.show()
        return window

    return make


def patients_page(window: MainWindow) -> PatientsPage:
    page = window.pages[PATIENTS]
    assert isinstance(page, PatientsPage)
    return page


def test_an_administrator_sees_every_page_and_the_import(make_window, admin) -> None:
    window = make_window(admin)
    assert set(window.pages) == {PATIENTS}  # the others are built when first opened
    assert window.visible_pages() == [
        PATIENTS, REVIEW, BILLING, DASHBOARD, PAYERS, AUDIT, STAFF, PRACTICE]  # fmt: skip
    assert window.import_action.isVisible()
    assert window.windowTitle() == "Harbor Family Practice — ccmdesk"
    assert window.practice_label.text() == "Harbor Family Practice"
    assert window.user_label.text() == "Ada Byron · Administrator"
    assert window.status_user.text() == "Signed in as Ada Byron (Administrator)"
    window.show_page(STAFF)
    assert window.stack.currentWidget() is window.pages[STAFF]


@pytest.mark.parametrize(
    ("staff_id", "pages"),
    [
        ("rn-lee", [PATIENTS, WORKLIST, MY_DAY, WEEK, DASHBOARD]),
        (
            "dr-okafor",
            [PATIENTS, WORKLIST, MY_DAY, WEEK, REVIEW, BILLING, DASHBOARD, AUDIT, PRACTICE],
        ),
        ("bill-chen", [PATIENTS, BILLING, DASHBOARD, PAYERS, AUDIT]),
    ],
)
def test_others_see_patients_and_their_own_time(
    make_window, services: Services, staff_id: str, pages: list[str]
) -> None:
    window = make_window(services.staff.actor_for(staff_id))
    assert window.visible_pages() == pages
    assert window.timer_menu.menuAction().isVisible() == (WORKLIST in pages)
    assert not window.import_action.isVisible()
    assert window.current_page() == PATIENTS
    assert patients_page(window).count_label.text() == "4 patients"


def test_switch_user_follows_the_new_persons_role(qtbot, make_window, admin) -> None:
    window = make_window(admin)
    window.show_page(PRACTICE)
    changes: list[Actor] = []
    window.user_changed.connect(changes.append)
    dialog = window.switch_user()
    assert isinstance(dialog, SignInDialog)
    assert dialog.staff_id.text() == ""  # someone else, who types their own id
    dialog.staff_id.setText("bill-chen")
    dialog.password.setText("not it")
    dialog.ok_button.click()
    assert window.actor() == admin and changes == []  # a wrong password switches nothing
    dialog.password.setText(PASSWORD)
    dialog.ok_button.click()
    assert window.actor() == Actor(key="bill-chen", name="Wei Chen", role="billing")
    assert changes == [window.actor()]
    assert window.user_label.text() == "Wei Chen · Billing"
    assert window.status_user.text() == "Signed in as Wei Chen (Billing)"
    assert window.visible_pages() == [PATIENTS, BILLING, DASHBOARD, PAYERS, AUDIT]
    assert window.current_page() == PATIENTS  # the practice page went away with the role
    assert patients_page(window).new_button.isHidden()
    assert not window.import_action.isVisible()


def test_saving_the_practice_renames_the_window(make_window, admin) -> None:
    window = make_window(admin)
    window.show_page(PRACTICE)
    page = window.pages[PRACTICE]
    assert isinstance(page, PracticePage)
    page.form.name.setText("Harbor Geriatrics")
    assert page.save()
    assert window.windowTitle() == "Harbor Geriatrics — ccmdesk"
    assert window.practice_label.text() == "Harbor Geriatrics"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


PATIENT_HEADER = "mrn,last_name,first_name,dob,billing_practitioner,conditions\n"


def test_a_bad_import_shows_every_problem_and_imports_nothing(
    tmp_path: Path, make_window, admin, services: Services
) -> None:
    window = make_window(admin)
    bad = write(
        tmp_path / "patients.csv",
        PATIENT_HEADER
        + "C400,Good,Row,1950-01-01,dr-okafor,I10\n"
        + "C401,Bad,Date,1950-02-30,dr-okafor,\n"
        + "C402,Bad,Code,1950-01-01,rn-lee,E11\n",
    )
    window.import_files([bad])
    dialog = window.findChild(ImportProblemsDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Nothing was imported"
    lines = dialog.text.toPlainText().splitlines()
    assert lines == [
        "patients.csv:3: dob: '1950-02-30' is not a date; use YYYY-MM-DD",
        "patients.csv:4: conditions: 'E11' is a category, not a billable code; choose a more "
        "specific code such as E11.00",
        "patients.csv:4: billing_practitioner: 'rn-lee' is clinical, not a practitioner",
    ]
    assert dialog.problems[0].startswith(str(tmp_path))  # full paths kept for copying
    assert len(services.patients.list_rows(admin)) == 4
    assert patients_page(window).count_label.text() == "4 patients"


def test_a_good_import_adds_the_rows_and_refreshes_the_list(
    tmp_path: Path, make_window, admin, services: Services
) -> None:
    window = make_window(admin)
    good = write(
        tmp_path / "more.csv", PATIENT_HEADER + "C400,Abernathy,Ruth,1950-01-01,dr-okafor,I10\n"
    )
    window.import_files([good])
    assert window.findChild(ImportProblemsDialog) is None
    box = window.findChild(QMessageBox, "infoMessage")
    assert box is not None
    assert box.text() == "Imported:\npatients: 1 added, 0 updated, 0 unchanged"
    assert services.patients.get(admin, "C400").last_name == "Abernathy"
    assert patients_page(window).count_label.text() == "5 patients"


def test_a_file_wrong_throughout_shows_how_many_problems_were_not_listed(
    tmp_path: Path, make_window, admin
) -> None:
    window = make_window(admin)
    rows = "".join(f"C{n},Bad,Date,1950-02-30,dr-okafor,\n" for n in range(1_200))
    window.import_files([write(tmp_path / "patients.csv", PATIENT_HEADER + rows)])
    dialog = window.findChild(ImportProblemsDialog)
    assert dialog is not None
    heading = dialog.findChild(QLabel, "dialogHeading")
    assert heading.text() == "Nothing was imported: 1,200 problems; the first 1,000 are listed"
    assert len(dialog.text.toPlainText().splitlines()) == 1_000


def test_a_missing_file_is_reported_as_a_problem(tmp_path: Path, make_window, admin) -> None:
    window = make_window(admin)
    window.import_files([tmp_path / "nowhere.csv"])
    dialog = window.findChild(ImportProblemsDialog)
    assert dialog is not None
    assert dialog.text.toPlainText().startswith("nowhere.csv:1: (file): cannot be read")


def test_import_is_not_offered_to_people_who_may_not(make_window, nurse, tmp_path) -> None:
    window = make_window(nurse)
    window.import_files([write(tmp_path / "x.csv", PATIENT_HEADER)])
    assert window.findChild(ImportProblemsDialog) is None
    assert window.findChild(QMessageBox) is None


def test_import_on_a_worker_thread_reports_back_on_the_gui_thread(
    qtbot, tmp_path: Path, services: Services, admin: Actor
) -> None:
    runner = ThreadTaskRunner()
    window = MainWindow(services, admin, runner=runner, state=GuiState(None))
    qtbot.addWidget(window)
    window.show()
    bad = write(tmp_path / "patients.csv", PATIENT_HEADER + "C500,No,Date,,dr-okafor,\n")
    window.import_files([bad])
    qtbot.waitUntil(lambda: window.findChild(ImportProblemsDialog) is not None, timeout=10_000)
    dialog = window.findChild(ImportProblemsDialog)
    assert dialog is not None
    assert dialog.text.toPlainText() == "patients.csv:2: dob: is required"
    runner.wait()


def test_an_admin_who_demotes_themself_loses_the_admin_pages_at_once(
    make_window, services: Services, admin
) -> None:
    import dataclasses

    window = make_window(admin)
    window.show_page(STAFF)
    staff_page = window.pages[STAFF]
    me = next(m for m in services.staff.list() if m.staff_id == admin.key)
    # A second administrator exists first, so the service lets the first one step down.
    services.staff.save(
        admin, dataclasses.replace(me, staff_id="admin-2", name="Bo Two"), is_new=True
    )
    services.staff.save(admin, dataclasses.replace(me, role="billing"), is_new=False)
    staff_page.member_saved.emit(admin.key)
    assert window.actor().role == "billing"
    assert window.visible_pages() == [PATIENTS, BILLING, DASHBOARD, PAYERS, AUDIT]
    assert window.current_page() == PATIENTS
    assert window.user_label.text().endswith("· Billing")


def test_typing_in_the_search_box_postpones_the_icd10_warm_up(qtbot, make_window, admin) -> None:
    window = make_window(admin)
    timer = window._warm_timer
    assert timer.isActive()  # armed when the window was shown
    qtbot.wait(300)
    assert timer.remainingTime() < timer.interval() - 200
    patients_page(window).search_field.setText("abe")
    # Restarted by the keystroke: the table is read only once typing pauses.
    assert timer.remainingTime() > timer.interval() - 100


def test_a_scheduler_sees_the_whole_worklist_but_keeps_no_stopwatch(
    qtbot, make_window, services: Services
) -> None:
    from ccmdesk.rules.records import StaffRecord
    from ccmdesk.ui.pages.worklist import WorklistPage

    services.staff.save(
        Actor.command_line(), StaffRecord("sched-s", "Sam Scheduler", "non_clinical"), is_new=True
    )
    window = make_window(SCHEDULER)
    assert window.visible_pages() == [PATIENTS, WORKLIST]
    assert not window.timer_menu.menuAction().isVisible()
    window.show_page(WORKLIST)
    page = window.pages[WORKLIST]
    assert isinstance(page, WorklistPage)
    assert page.message() == "" and page.start_button.isHidden()


def test_the_next_person_does_not_see_the_last_ones_search_patient_or_page(
    qtbot, make_window, services: Services
) -> None:
    window = make_window(services.staff.actor_for("dr-okafor"))
    page = patients_page(window)
    mrn = page.model.row_at(0).mrn
    page.search_field.setText(mrn)
    assert page.select_mrn(mrn) and page.current_mrn() == mrn
    window.show_page(REVIEW)
    dialog = window.switch_user()
    assert isinstance(dialog, SignInDialog)
    dialog.staff_id.setText("rn-lee")
    dialog.password.setText(PASSWORD)
    dialog.ok_button.click()
    assert window.actor().key == "rn-lee"
    assert window.current_page() == PATIENTS
    assert page.search_field.text() == "" and page.current_mrn() is None
    assert page.panel is None or page.panel.mrn is None


@pytest.mark.parametrize("staff_id", ["admin-ada", "dr-okafor", "bill-chen", "rn-lee"])
def test_every_page_fits_a_window_1024_pixels_wide(
    qtbot, make_window, services: Services, staff_id: str
) -> None:
    """A laptop at 1,280 px with a docked panel leaves about 1,024 for ccmdesk."""
    window = make_window(services.staff.actor_for(staff_id))
    for name in window.visible_pages():
        window.show_page(name)
        qtbot.wait(1)
        assert window.minimumSizeHint().width() <= 1024, name
    window.resize(1024, 700)
    assert window.width() == 1024


@pytest.mark.parametrize("staff_id", ["admin-ada", "dr-okafor", "bill-chen", "rn-lee"])
def test_the_window_opens_within_the_screen(
    qtbot, make_window, services: Services, staff_id: str
) -> None:
    """A 1366×768 laptop: 1280×800 would put the status line (the running stopwatch) below the
    screen's edge. Every page also fits 728 px high, what such a screen leaves under a title bar."""
    window = make_window(services.staff.actor_for(staff_id))
    room = window.screen().availableGeometry()  # 800×800 on the test platform
    assert window.height() == room.height() - FRAME_ALLOWANCE
    assert window.width() == max(room.width(), window.minimumSizeHint().width())
    for name in window.visible_pages():
        window.show_page(name)
        qtbot.wait(1)
        assert window.minimumSizeHint().height() <= 768 - FRAME_ALLOWANCE, name


@pytest.mark.parametrize(("role", "first"), [("admin", PRACTICE), ("practitioner", PATIENTS)])
def test_without_a_practice_only_who_may_describe_it_is_taken_to_its_page(
    qtbot, empty_services: Services, role: str, first: str
) -> None:
    from ccmdesk.rules.records import StaffRecord

    # Staff imported from the command line before anyone described the practice.
    record = StaffRecord(
        "someone", "Some One", role, "MD", "1000000012" if role != "admin" else None
    )
    empty_services.staff.save(Actor.command_line(), record, is_new=True)
    window = MainWindow(
        empty_services, empty_services.staff.actor_for("someone"),
        runner=InlineTaskRunner(), state=GuiState(None),
    )  # fmt: skip
    qtbot.addWidget(window)
    assert window.current_page() == first
