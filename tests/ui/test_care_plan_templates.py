"""The care plan templates dialog: condition templates and the patient copy's words."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from ccmdesk.services import Actor, Services
from ccmdesk.ui.care_plan_templates import CarePlanTemplatesDialog, key_for, prefixes_of
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.pages.practice import PracticePage

SEEDED = ["Diabetes", "Hypertension", "Heart failure", "COPD", "Chronic kidney disease",
          "Depression"]  # fmt: skip


@pytest.fixture
def dialog(qtbot, services: Services, doctor: Actor) -> CarePlanTemplatesDialog:
    dialog = CarePlanTemplatesDialog(None, services, doctor)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def names(dialog: CarePlanTemplatesDialog) -> list[str]:
    listed = dialog.templates.list
    return [listed.item(row).text() for row in range(listed.count())]


def answer(parent, name: str, button: QMessageBox.StandardButton) -> None:
    # A box answered earlier is hidden, and deleted only when the event loop next runs.
    (box,) = [b for b in parent.findChildren(QMessageBox, name) if b.isVisible()]
    box.button(button).click()


def test_the_practices_templates_are_listed_and_the_first_shown(dialog) -> None:
    assert [dialog.tabs.tabText(i) for i in range(2)] == [
        "Condition templates", "Patient copy words"]  # fmt: skip
    assert names(dialog) == SEEDED
    tab = dialog.templates
    assert tab.name.text() == "Diabetes"
    assert tab.prefixes.text().startswith("E")
    assert "A1c" in tab.texts["goals"].toPlainText()


def test_a_template_is_changed_and_saved(dialog, services: Services, doctor) -> None:
    tab = dialog.templates
    tab.list.setCurrentRow(1)  # Hypertension
    tab.texts["goals"].setPlainText("Blood pressure under 130/80.")
    tab.prefixes.setText("I10, I11; I12")
    assert names(dialog)[1] == "Hypertension (not saved)"
    assert tab.save() is True
    assert tab.status.text() == "Saved Hypertension."
    assert names(dialog)[1] == "Hypertension"
    saved = {t.key: t for t in services.care_plans.templates(doctor)}["hypertension"]
    assert (saved.goals, saved.prefixes) == ("Blood pressure under 130/80.", ("I10", "I11", "I12"))
    assert tab.prefixes.text() == "I10; I11; I12"


def test_a_new_template_is_added_with_a_key_from_its_name(
    dialog, services: Services, doctor
) -> None:
    tab = dialog.templates
    tab.add_button.click()
    assert names(dialog)[-1] == "New template (not saved)"
    assert tab.name.text() == ""
    tab.name.setText("Asthma, adult")
    tab.prefixes.setText("J45")
    tab.texts["goals"].setPlainText("No night waking from asthma.")
    tab.texts["symptoms"].setPlainText("Use the rescue inhaler; call if used more than twice.")
    tab.texts["interventions"].setPlainText("Nurse: check inhaler technique.")
    assert tab.save() is True
    assert names(dialog)[-1] == "Asthma, adult"
    saved = services.care_plans.templates(doctor)[-1]
    assert (saved.key, saved.name, saved.prefixes) == ("asthma_adult", "Asthma, adult", ("J45",))
    assert saved.symptoms.startswith("Use the rescue inhaler")


def test_a_refused_template_keeps_what_was_typed_and_says_why(
    dialog, services: Services, doctor
) -> None:
    tab = dialog.templates
    tab.add_button.click()
    tab.prefixes.setText("4?1")
    tab.texts["goals"].setPlainText("Walk 20 minutes a day.")
    assert tab.save() is False
    shown = tab.errors.errors_shown()
    assert shown["name"] == "Condition is required."
    assert shown["prefixes"] == "'4?1' is not an ICD-10-CM code or prefix."
    assert tab.texts["goals"].toPlainText() == "Walk 20 minutes a day."
    assert tab.prefixes.text() == "4?1"
    assert names(dialog)[-1] == "New template (not saved)"
    assert len(services.care_plans.templates(doctor)) == len(SEEDED)


def test_switching_templates_keeps_unsaved_text(dialog) -> None:
    tab = dialog.templates
    tab.texts["goals"].setPlainText("Draft goals for diabetes")
    tab.list.setCurrentRow(3)
    assert tab.name.text() == "COPD"
    tab.list.setCurrentRow(0)
    assert tab.texts["goals"].toPlainText() == "Draft goals for diabetes"
    assert names(dialog)[0] == "Diabetes (not saved)"


def test_a_template_is_deleted_after_asking(dialog, services: Services, doctor) -> None:
    tab = dialog.templates
    tab.list.setCurrentRow(5)  # Depression
    tab.delete_button.click()
    answer(tab, "deleteTemplateQuestion", QMessageBox.StandardButton.Cancel)
    assert "Depression" in names(dialog)
    tab.delete_button.click()
    answer(tab, "deleteTemplateQuestion", QMessageBox.StandardButton.Yes)
    assert names(dialog) == SEEDED[:5]
    assert [t.name for t in services.care_plans.templates(doctor)] == SEEDED[:5]
    assert tab.name.text() == "Chronic kidney disease"  # the row before takes its place
    assert tab.status.text() == "Deleted Depression."


def test_a_template_never_saved_is_dropped_without_asking(dialog) -> None:
    tab = dialog.templates
    tab.add_button.click()
    tab.delete_button.click()
    assert tab.findChild(QMessageBox, "deleteTemplateQuestion") is None
    assert names(dialog) == SEEDED


def test_the_spanish_words_are_saved_and_a_missing_title_refused(
    dialog, services: Services, doctor
) -> None:
    words = dialog.words
    assert [words.languages.tabText(i) for i in range(2)] == ["English", "Spanish (español)"]
    stored = services.care_plans.copy_texts(doctor)
    assert words.inputs["es"]["title"].text() == stored["es"].title
    words.inputs["es"]["title"].setText("Su plan de cuidado")
    words.inputs["es"]["emergency"].setPlainText("Llame al 911 si le falta el aire.  ")
    assert words.save("es") is True
    assert words.status["es"].text() == "Saved."
    saved = services.care_plans.copy_texts(doctor)
    assert (saved["es"].title, saved["es"].emergency) == (
        "Su plan de cuidado", "Llame al 911 si le falta el aire.")  # fmt: skip
    assert saved["en"] == stored["en"]
    words.inputs["en"]["title"].setText("")
    words.inputs["en"]["closing"].setPlainText("Thank you.")
    assert words.save("en") is False
    assert words.errors["en"].errors_shown() == {"title": "Title is required."}
    assert words.inputs["en"]["closing"].toPlainText() == "Thank you."
    assert services.care_plans.copy_texts(doctor)["en"] == stored["en"]


def test_closing_with_unsaved_changes_asks_first(dialog) -> None:
    dialog.words.inputs["es"]["closing"].setPlainText("Gracias.")
    dialog.reject()
    answer(dialog, "discardQuestion", QMessageBox.StandardButton.Cancel)
    assert dialog.isVisible()
    dialog.reject()
    answer(dialog, "discardQuestion", QMessageBox.StandardButton.Yes)
    assert not dialog.isVisible()


def test_the_menu_action_shows_for_practitioners_and_not_for_a_nurse(
    qtbot, nurse_window: MainWindow, services: Services, doctor, admin
) -> None:
    assert nurse_window.templates_action.text() == "Care plan &templates…"
    assert not nurse_window.templates_action.isVisible()
    for who in (doctor, admin):
        nurse_window.set_actor(who)
        assert nurse_window.templates_action.isVisible()
    dialog = nurse_window.care_plan_templates()
    assert isinstance(dialog, CarePlanTemplatesDialog) and dialog.isVisible()
    dialog.close()


def test_practice_settings_has_the_button_for_admins_and_practitioners(
    qtbot, services: Services, admin, doctor
) -> None:
    for who in (admin, doctor):
        page = PracticePage(services, lambda who=who: who)
        qtbot.addWidget(page)
        page.show()
        assert page.care_plans_box.isVisible()
        assert page.templates_button.text() == "Care plan templates…"
        dialog = page.open_templates()
        assert isinstance(dialog, CarePlanTemplatesDialog) and dialog.isVisible()
        dialog.close()


def test_prefixes_and_keys_are_read_from_what_is_typed() -> None:
    assert prefixes_of(" E11;E13 , e10  ") == ("E11", "E13", "e10")
    assert key_for("Heart failure", {"heart_failure"}) == "heart_failure_2"
    assert key_for("  ", set()) == "template"
