"""The patient panel's Care plan tab: writing a version, the diff, signing, who sees what."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from ccmdesk.rules.care_plan import TEXT_ELEMENTS, PlanContent
from ccmdesk.services import Actor, Services
from ccmdesk.ui.care_plan import CarePlanSection, in_force_text
from ccmdesk.ui.care_plan_dialogs import (
    DELETED,
    INSERTED,
    CarePlanEditor,
    CompareDialog,
    PlanSignDialog,
    TemplatesDialog,
    diff_html,
    word_diff,
)
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.refresh import PATIENTS
from tests.helpers.care_plans import COMPLETE, saved_plan, signed_plan
from tests.helpers.ui import panel_of

MRN = "A100"  # Zoë Schäfer: E11.9 and I10, Dr. Okafor bills


def section_for(qtbot: QtBot, services: Services, actor: Actor) -> CarePlanSection:
    section = CarePlanSection(services, lambda: actor)
    qtbot.addWidget(section)
    assert section.set_patient(MRN, "Zoë Schäfer") is not None
    return section


def save(services: Services, actor: Actor, content: PlanContent) -> int:
    return saved_plan(services, MRN, author=actor, base=content).number


def test_a_first_plan_from_the_templates_saves_as_a_draft_naming_what_is_missing(
    qtbot: QtBot, services: Services, nurse: Actor
) -> None:
    section = section_for(qtbot, services, nurse)
    assert section.edit_button.text() == "Write the plan…"
    assert in_force_text(section.plan) == "No care plan yet"  # type: ignore[arg-type]
    seen: list[str] = []

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, CarePlanEditor)
        # A first plan starts from the conditions on file.
        assert dialog.inputs["problems"].toPlainText().startswith("E11.9 ")
        assert dialog.not_set.isChecked()

        def tick(templates: QDialog) -> bool:
            assert isinstance(templates, TemplatesDialog)
            # The patient's conditions' templates are ticked; the others can be.
            ticked = [t.key for box, t in templates.boxes if box.isChecked()]
            assert ticked == ["diabetes", "hypertension"]
            assert len(templates.boxes) == 6
            return True

        dialog.exec_dialog = tick  # type: ignore[method-assign]
        assert dialog.add_templates()
        seen.append(dialog.missing.text())
        return True

    section.exec_dialog = fill  # type: ignore[method-assign]
    assert section.edit()
    plan = services.care_plans.plan(nurse, MRN)
    assert plan.latest is not None and plan.latest.number == 1
    goals = plan.latest.content.goals
    assert goals.startswith("Diabetes:\nHbA1c below 7.0%") and "\n\nHypertension:\n" in goals
    missing = (
        "Expected outcomes and prognosis; Medication management; Community and social "
        "services; Coordination with other practitioners; Next review date"
    )
    assert seen == [f"Still missing before it can be signed: {missing}."]
    assert section.message.text() == f"Saved as version 1, a draft: still missing {missing}."
    assert in_force_text(section.plan) == "No signed care plan yet"  # type: ignore[arg-type]
    assert section.versions.rowCount() == 1
    assert section.versions.item(0, 3).text() == "Draft · 5 missing"
    assert section.edit_button.text() == "New version…"


def test_a_save_from_a_stale_version_keeps_the_text_and_says_who_saved(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    save(services, nurse, COMPLETE)
    section = section_for(qtbot, services, nurse)
    opened: list[QDialog] = []
    editors: list[CarePlanEditor] = []

    def fill(dialog: QDialog) -> bool:
        if isinstance(dialog, CompareDialog):
            opened.append(dialog)
            return False
        assert isinstance(dialog, CarePlanEditor)
        editors.append(dialog)
        if len(editors) > 1:
            return False  # the nurse closes the editor after reading the refusal
        dialog.inputs["goals"].setPlainText("HbA1c below 6.5% by June.")
        # Meanwhile, Dr. Okafor saves version 2 from version 1.
        save(services, doctor, dataclasses.replace(COMPLETE, outcomes="Improving."))
        return True

    section.exec_dialog = fill  # type: ignore[method-assign]
    assert not section.edit()
    editor = editors[0]
    assert editor.intro.text() == (
        "Starting from version 1 (draft, saved 16 Mar 2026 by Grace Lee). Saving makes "
        "version 2; version 1 stays as it is."
    )
    assert editor.general_error.text().startswith(
        "Adaeze Okafor saved version 2 of this care plan while you were editing version 1."
    )
    assert editor.inputs["goals"].toPlainText() == "HbA1c below 6.5% by June."
    assert not editor.compare_button.isHidden()
    editor.compare_button.click()
    assert len(opened) == 1
    assert isinstance(opened[0], CompareDialog)
    text = opened[0].view.toPlainText()
    assert "Version 2 (newest, saved by Adaeze Okafor)" in text
    assert "Your text (not saved)" in text and "HbA1c below 6.5% by June." in text
    assert [v.number for v in services.care_plans.plan(nurse, MRN).versions] == [1, 2]


def test_a_review_date_in_the_past_is_refused_beside_it_and_the_text_stays(
    qtbot: QtBot, services: Services, nurse: Actor
) -> None:
    section = section_for(qtbot, services, nurse)
    editors: list[CarePlanEditor] = []

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, CarePlanEditor)
        editors.append(dialog)
        if len(editors) > 1:
            return False
        dialog.inputs["outcomes"].setPlainText("Stable.")
        dialog.not_set.setChecked(False)
        dialog.review_on.setDate(QDate(2026, 1, 5))
        return True

    section.exec_dialog = fill  # type: ignore[method-assign]
    assert not section.edit()
    editor = editors[0]
    assert editor.errors.error_text("review_on") == "Next review date (2026-01-05) is in the past."
    assert editor.inputs["outcomes"].toPlainText() == "Stable."
    assert editor.compare_button.isHidden()  # not stale: nothing to compare with
    assert services.care_plans.plan(nurse, MRN).versions == ()


def test_the_diff_shows_only_the_changed_elements_word_by_word_and_escaped(
    qtbot: QtBot, services: Services, nurse: Actor
) -> None:
    save(services, nurse, COMPLETE)
    save(services, nurse, dataclasses.replace(COMPLETE, goals="<b>HbA1c</b> below 6.5% by June."))
    section = section_for(qtbot, services, nurse)
    shown: list[CompareDialog] = []

    def look(dialog: QDialog) -> bool:
        assert isinstance(dialog, CompareDialog)
        shown.append(dialog)
        return False

    section.exec_dialog = look  # type: ignore[method-assign]
    assert section.compare_button.isEnabled()
    assert section.compare()
    dialog = shown[0]
    assert dialog.before.currentText() == "Version 1 (draft)"
    assert dialog.after.currentText() == "Version 2 (newest, draft)"
    text = dialog.view.toPlainText()
    assert "Measurable treatment goals" in text
    assert "Medication management" not in text  # unchanged elements are left out
    assert "<b>HbA1c</b> below 6.5% by June." in text  # shown as typed, never as markup
    page = diff_html(COMPLETE, services.care_plans.plan(nurse, MRN).versions[1].content,
                     ("Version 1", "Version 2"))  # fmt: skip
    assert "&lt;b&gt;HbA1c&lt;/b&gt;" in page and "<b>HbA1c" not in page
    old, new = word_diff("HbA1c below 7.0%\nby October.", "<b>HbA1c</b> below 6.5%\nby October.")
    assert (
        old
        == f'<span style="{DELETED}">HbA1c</span> below <span style="{DELETED}">7.0%</span><br>by October.'
    )
    assert new == (
        f'<span style="{INSERTED}">&lt;b&gt;HbA1c&lt;/b&gt;</span> below '
        f'<span style="{INSERTED}">6.5%</span><br>by October.'
    )


def test_signing_as_the_billing_practitioner_shows_the_plan_in_force(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    save(services, nurse, COMPLETE)
    section = section_for(qtbot, services, doctor)
    assert not section.sign_button.isHidden() and section.sign_button.isEnabled()
    _, sha = services.care_plans.document(doctor, MRN, 1)
    shown: list[PlanSignDialog] = []

    def read(dialog: QDialog) -> bool:
        assert isinstance(dialog, PlanSignDialog)
        shown.append(dialog)
        return True

    section.exec_dialog = read  # type: ignore[method-assign]
    assert section.sign()
    document = shown[0].view.toPlainText()
    for text in ("Care plan of Zoë Schäfer", "Born 1948-03-02", "version 1", "15 Oct 2026",
                 "Coordination with other practitioners", "Ophthalmology yearly", sha):  # fmt: skip
        assert text in document
    assert shown[0].sign_button.text() == "Sign version 1"
    assert shown[0].hash_label.text() == f"SHA-256: {sha}"
    assert in_force_text(section.plan) == (  # type: ignore[arg-type]
        "Version 1 · signed 16 Mar 2026 by Adaeze Okafor, MD · review by 15 Oct 2026 · "
        "no copy given to the patient yet"
    )
    assert "#8a5a00" in section.summary.text()  # not given yet: in the warning colour
    assert section.versions.item(0, 3).text() == "Signed"
    assert not section.sign_button.isEnabled()


def test_a_version_saved_while_the_doctor_reads_is_not_signed(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    save(services, nurse, COMPLETE)
    section = section_for(qtbot, services, doctor)

    def read(dialog: QDialog) -> bool:
        save(services, nurse, dataclasses.replace(COMPLETE, outcomes="Improving."))
        return True

    section.exec_dialog = read  # type: ignore[method-assign]
    assert not section.sign()
    box = section.findChild(QMessageBox, "errorMessage")
    assert box is not None and "version 2 was saved since" in box.text()
    assert services.care_plans.plan(nurse, MRN).signed is None
    assert section.versions.rowCount() == 2  # what changed is on screen


def test_a_draft_with_gaps_cannot_be_signed_and_the_button_says_why(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    save(services, nurse, dataclasses.replace(COMPLETE, community="", review_on=None))
    section = section_for(qtbot, services, doctor)
    assert not section.sign_button.isHidden()
    assert not section.sign_button.isEnabled()
    assert section.sign_button.toolTip() == (
        "Version 1 cannot be signed yet. Still missing before it can be signed: Community and "
        "social services; Next review date."
    )


def test_a_nurse_edits_but_does_not_sign_and_billing_only_reads(
    qtbot: QtBot, services: Services, nurse: Actor, biller: Actor
) -> None:
    save(services, nurse, COMPLETE)
    as_nurse = section_for(qtbot, services, nurse)
    assert not as_nurse.edit_button.isHidden()
    assert as_nurse.sign_button.isHidden()
    as_biller = section_for(qtbot, services, biller)
    assert as_biller.edit_button.isHidden() and as_biller.sign_button.isHidden()
    assert as_biller.versions.rowCount() == 1
    opened: list[QDialog] = []
    as_biller.exec_dialog = lambda d: bool(opened.append(d))  # type: ignore[method-assign]
    assert not as_biller.edit()  # nothing opens even if asked
    assert opened == []
    assert not as_biller.sign()


def test_closing_the_editor_with_unsaved_text_asks_first(
    qtbot: QtBot, services: Services, nurse: Actor
) -> None:
    plan = services.care_plans.plan(nurse, MRN)
    editor = CarePlanEditor(plan, services.care_plans.templates(nurse), services.practice_zone())
    qtbot.addWidget(editor)
    editor.reject()  # nothing typed: it closes
    assert editor.result() == QDialog.DialogCode.Rejected
    editor.setResult(-1)
    editor.inputs["goals"].setPlainText("Walk daily.")
    editor.reject()
    box = editor.findChild(QMessageBox, "discardCarePlan")
    assert box is not None and editor.result() == -1  # still open, asking
    box.button(QMessageBox.StandardButton.Yes).click()
    assert editor.result() == QDialog.DialogCode.Rejected


def test_the_patient_panel_shows_the_tab_and_reloads_it_when_data_changes(
    nurse_window: MainWindow, services: Services, nurse: Actor
) -> None:
    panel = panel_of(nurse_window, MRN)
    assert panel.tabs.tabText(3) == "Care plan"
    assert panel.care_plan.versions.rowCount() == 0
    save(services, nurse, COMPLETE)
    nurse_window.data_changed.notify(PATIENTS)
    nurse_window.data_changed.flush()
    assert panel.care_plan.versions.rowCount() == 1
    # A save in the tab tells the window, so the other pages learn of it.
    with_signal: list[object] = []
    nurse_window.data_changed.changed.connect(with_signal.append)
    panel.care_plan.changed.emit()
    nurse_window.data_changed.flush()
    assert with_signal and PATIENTS in with_signal[0]  # type: ignore[operator]


def test_a_plan_kept_elsewhere_is_named_by_its_date(
    qtbot: QtBot, services: Services, nurse: Actor
) -> None:
    from sqlalchemy import select

    from ccmdesk.models import Patient

    with services._db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == MRN)).one()
        assert patient.enrollment is not None
        patient.enrollment.care_plan_date = dt.date(2026, 2, 3)
    section = section_for(qtbot, services, nurse)
    assert in_force_text(section.plan) == "Kept elsewhere, dated 3 Feb 2026"  # type: ignore[arg-type]


def test_the_patient_copy_opens_for_the_newest_signed_version_and_reloads_when_given(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    save(services, nurse, COMPLETE)
    section = section_for(qtbot, services, nurse)
    assert not section.copy_button.isEnabled()  # a draft: nothing to give yet
    assert not section.patient_copy()
    _, sha = services.care_plans.document(doctor, MRN, 1)
    services.care_plans.sign(doctor, MRN, 1, sha)
    save(services, nurse, dataclasses.replace(COMPLETE, goals="A newer draft"))
    section.reload()
    assert section.copy_button.isEnabled()
    asked: list[tuple[str, int]] = []

    def give(mrn: str, number: int) -> bool:
        asked.append((mrn, number))
        today = services.now().astimezone(services.practice_zone()).date()
        services.care_plans.record_copy(nurse, mrn, number, today, "in_person")
        return True

    section.open_copy = give  # type: ignore[method-assign]
    assert section.patient_copy()
    assert asked == [(MRN, 1)]  # the signed version, not the newer draft
    assert "copy given" in in_force_text(section.plan)  # type: ignore[arg-type]
    assert section.message.text() == "A copy of version 1 is recorded as given."


def test_the_line_says_when_a_newer_draft_waits_to_be_signed(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    signed_plan(services, MRN, author=nurse, signer=doctor)
    save(services, nurse, dataclasses.replace(COMPLETE, goals="HbA1c below 7.5%"))
    section = section_for(qtbot, services, doctor)
    assert in_force_text(section.plan).endswith(  # type: ignore[arg-type]
        "no copy given to the patient yet · version 2 is a draft, not signed yet"
    )


def test_what_the_tab_said_to_one_person_is_not_shown_to_the_next(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    signed_in = [nurse]
    section = CarePlanSection(services, lambda: signed_in[0])
    qtbot.addWidget(section)
    section.set_patient(MRN, "Zoë Schäfer")
    section._say("Saved as version 1: complete, ready for the billing practitioner to sign.")
    section.reload()  # the same person: the sentence stays
    assert not section.message.isHidden()
    signed_in[0] = doctor  # File → Switch user, same patient on screen
    section.reload()
    assert section.message.isHidden()


def test_a_saved_draft_leaves_other_pages_alone_and_a_signature_tells_them(
    qtbot: QtBot, services: Services, nurse: Actor, doctor: Actor
) -> None:
    section = section_for(qtbot, services, doctor)
    told: list[object] = []
    section.changed.connect(lambda: told.append("changed"))

    def write(dialog: QDialog) -> bool:
        if isinstance(dialog, CarePlanEditor):
            for key in TEXT_ELEMENTS:
                dialog.inputs[key].setPlainText(COMPLETE.text(key))
            dialog.not_set.setChecked(False)
            review = COMPLETE.review_on
            assert review is not None
            dialog.review_on.setDate(QDate(review.year, review.month, review.day))
        return True

    section.exec_dialog = write  # type: ignore[method-assign]
    assert section.edit()
    assert told == []  # only signed versions reach the month pages
    assert section.sign()
    assert told == ["changed"]
    assert section.message.text() == "Version 1 signed on 16 Mar 2026."
