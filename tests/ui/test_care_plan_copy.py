"""The patient copy dialog: the version and language shown, Save PDF…, Record as given…."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog
from pytestqt.qtbot import QtBot

from ccmdesk.services import Actor, Services
from ccmdesk.ui import care_plan_copy
from ccmdesk.ui.care_plan_copy import PatientCopyDialog, RecordCopyDialog, open_patient_copy
from tests.helpers.care_plans import COMPLETE, set_language, signed_plan
from tests.helpers.reports import pdf_words


@pytest.fixture
def signed(services: Services, nurse: Actor, doctor: Actor) -> Services:
    """A100 (Zoë Schäfer) with version 1 signed by Dr. Okafor, preferring Spanish."""
    signed_plan(services, "A100", author=nurse, signer=doctor)
    set_language(services, "A100", "es")
    return services


def choose_file(monkeypatch: pytest.MonkeyPatch, answer: str, asked: list[str]) -> None:
    def ask(parent: object, title: str, suggested: str, filters: str) -> tuple[str, str]:
        asked.append(suggested)
        return answer, filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))


def test_the_copy_is_saved_in_the_preferred_language_or_the_one_chosen(
    signed: Services, nurse: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 1)
    assert dialog.heading.text() == "Care plan version 1 for Zoë Schäfer"
    assert dialog.about.text().startswith("Signed 16 Mar 2026 by Adaeze Okafor, MD.")
    assert dialog.language.currentText() == "Spanish (español), the patient's preferred language"
    assert dialog.copies.text() == "No copy of this version is recorded as given yet."
    asked: list[str] = []
    choose_file(monkeypatch, str(tmp_path / "copia"), asked)
    written = dialog.save_pdf()
    assert Path(asked[0]).name == "care-plan-A100-v1-es.pdf"
    assert written == tmp_path / "copia.pdf"  # the extension added
    assert "Su plan de cuidado" in pdf_words(
        written.read_bytes()
    ) and "Para Zoë Schäfer" in pdf_words(written.read_bytes())
    assert dialog.status.text() == f"Saved: {written}"
    dialog.language.set_value("en")
    choose_file(monkeypatch, str(tmp_path / "copy.pdf"), asked)
    english = dialog.save_pdf()
    assert Path(asked[1]).name == "care-plan-A100-v1-en.pdf"
    assert english is not None and "Your care plan" in pdf_words(english.read_bytes())
    choose_file(monkeypatch, "", asked)  # cancelled: nothing happens
    assert dialog.save_pdf() is None and dialog.status.text() == f"Saved: {english}"


def test_a_file_that_cannot_be_written_is_said_under_the_buttons(
    signed: Services, nurse: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 1)
    choose_file(monkeypatch, str(tmp_path / "no-such-folder" / "copy.pdf"), [])
    assert dialog.save_pdf() is None
    assert dialog.error.text().startswith("The care plan copy could not be written to")
    assert not dialog.error.isHidden()


def test_a_copy_is_recorded_as_given_after_a_refusal_beside_its_field(
    signed: Services, nurse: Actor
) -> None:
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 1)
    seen: list[str] = []
    notes = ["x" * 5001, "To her daughter"]

    def fill(record: QDialog) -> bool:
        assert isinstance(record, RecordCopyDialog)
        seen.append(record.errors.error_text("note"))
        if not notes:
            return False
        assert record.given_on.maximumDate() == record.given_on.date()  # today, not later
        record.method.set_value("mail")
        record.note.setPlainText(notes.pop(0))
        return True

    dialog.exec_dialog = fill  # type: ignore[method-assign]
    assert dialog.record_given()
    assert seen == ["", "Note is longer than 5000 characters."]
    given = signed.care_plans.plan(nurse, "A100").version(1).copies
    assert [(c.given_on.isoformat(), c.method, c.language, c.note) for c in given] == [
        ("2026-03-16", "mail", "es", "To her daughter")
    ]
    assert dialog.recorded
    assert dialog.copies.text() == (
        "Given 16 Mar 2026 by mail, in Spanish; recorded by Grace Lee. Note: To her daughter"
    )


def test_record_as_given_is_hidden_from_who_may_not_give_a_copy(
    signed: Services, biller: Actor
) -> None:
    dialog = PatientCopyDialog(None, signed, biller, "A100", 1)
    assert dialog.give_button.isHidden() and not dialog.save_button.isHidden()


def test_an_unsigned_version_is_said_and_nothing_can_be_done_with_it(
    signed: Services, nurse: Actor
) -> None:
    signed.care_plans.save(nurse, "A100", COMPLETE.__class__(goals="Draft"), 1)
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 2)
    assert "Version 2 of the care plan of Zoë Schäfer is not signed yet" in dialog.about.text()
    assert not dialog.save_button.isEnabled() and not dialog.give_button.isEnabled()
    assert not dialog.record_given()


def test_open_patient_copy_says_whether_a_copy_was_recorded(
    signed: Services, nurse: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def accept(record: QDialog) -> bool:
        return not getattr(record, "filled", False) and not setattr(record, "filled", True)

    monkeypatch.setattr(PatientCopyDialog, "exec_dialog", lambda self, d: accept(d))
    monkeypatch.setattr(PatientCopyDialog, "exec", lambda self: self.record_given() and 0)
    assert open_patient_copy(None, signed, nurse, "A100", 1) is True
    monkeypatch.setattr(PatientCopyDialog, "exec", lambda self: 0)  # closed straight away
    assert open_patient_copy(None, signed, nurse, "A100", 1) is False
    assert care_plan_copy.default_file_name("A/1 ü", 3, "es") == "care-plan-A_1__-v3-es.pdf"


def test_lines_added_under_the_buttons_do_not_squeeze_the_text_above(
    qtbot: QtBot, signed: Services, nurse: Actor
) -> None:
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 1)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    def fill(record: QDialog) -> bool:
        assert isinstance(record, RecordCopyDialog)
        record.note.setPlainText("Handed to her daughter at the visit, who reads it to her " * 2)
        return True

    dialog.exec_dialog = fill  # type: ignore[method-assign]
    assert dialog.record_given()
    for label in (dialog.about, dialog.copies):
        assert label.height() >= label.heightForWidth(label.width()), label.text()


def test_recording_a_copy_keeps_the_language_chosen_for_the_next_pdf(
    signed: Services, nurse: Actor
) -> None:
    dialog = PatientCopyDialog(None, signed, nurse, "A100", 1)  # prefers Spanish
    dialog.language.set_value("en")
    dialog.exec_dialog = lambda record: True  # type: ignore[method-assign]
    assert dialog.record_given()
    assert dialog.chosen_language() == "en"
    given = signed.care_plans.plan(nurse, "A100").version(1).copies
    assert [c.language for c in given] == ["en"]
