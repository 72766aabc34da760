"""The patient copy of a signed care plan: which version, which language, written to a file."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services import CopyTexts, ServiceError, Services, ValidationFailed
from tests.helpers.care_plans import COMPLETE, set_language, signed_plan
from tests.helpers.common import ADMIN, BILLER, CLI, NURSE, patient_text
from tests.helpers.reports import pdf_words


@pytest.fixture
def clinic(staffed: Services, practice: PracticeRecord) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="P1", last_name="One"))
    staffed.practice.save(ADMIN, dataclasses.replace(practice, after_hours_phone="207-555-0199"))
    return staffed


def test_the_copy_is_the_newest_signed_version_with_the_practice_and_the_care_team(
    clinic: Services,
) -> None:
    signed_plan(clinic, "P1")
    signed_plan(clinic, "P1", goals="Walk every day.")
    clinic.care_plans.save(NURSE, "P1", COMPLETE, 2)  # version 3: a draft
    copy = clinic.care_plans.patient_copy(BILLER, "P1")
    assert (copy.version, copy.content.goals, copy.language) == (2, "Walk every day.", "en")
    assert (copy.practice_name, copy.practice_address) == (
        "Test Practice",
        "1 Main St, Portland, ME 04101",
    )
    assert (copy.phone, copy.after_hours_phone) == ("207-555-0100", "207-555-0199")
    assert (copy.practitioner, copy.care_manager, copy.signed_by) == (
        "Dr. A, MD",
        "Grace Lee, RN",
        "Dr. A, MD",
    )
    assert copy.patient_name == "Ana One" and copy.signed_on.isoformat() == "2026-04-15"
    assert copy.title == "Your care plan" and "911" in copy.emergency
    assert clinic.care_plans.patient_copy(NURSE, "P1", number=1).content.goals == COMPLETE.goals


def test_the_patients_preferred_language_picks_the_practices_words(clinic: Services) -> None:
    signed_plan(clinic, "P1")
    clinic.care_plans.save_copy_texts(
        ADMIN, CopyTexts("es", title="Su plan", intro="¡Hola, señora!")
    )
    set_language(clinic, "P1", "es")
    copy = clinic.care_plans.patient_copy(NURSE, "P1")
    assert (copy.language, copy.title, copy.intro) == ("es", "Su plan", "¡Hola, señora!")
    english = clinic.care_plans.patient_copy(NURSE, "P1", language="en")
    assert (english.language, english.title) == ("en", "Your care plan")
    with pytest.raises(ValidationFailed, match="language: must be one of en, es"):
        clinic.care_plans.patient_copy(NURSE, "P1", language="fr")
    set_language(clinic, "P1", "fr")  # no words for it: the default prints
    assert clinic.care_plans.patient_copy(NURSE, "P1").language == "en"


def test_an_unsigned_plan_is_refused_with_a_sentence(clinic: Services) -> None:
    with pytest.raises(ServiceError, match="no signed version yet"):
        clinic.care_plans.patient_copy(NURSE, "P1")
    clinic.care_plans.save(NURSE, "P1", COMPLETE, None)
    with pytest.raises(ServiceError, match="no signed version yet"):
        clinic.care_plans.patient_copy(NURSE, "P1")
    with pytest.raises(ServiceError, match="Version 1 of the care plan of Ana One is not signed"):
        clinic.care_plans.patient_copy(NURSE, "P1", number=1)
    with pytest.raises(ServiceError, match="has no version 7"):
        clinic.care_plans.patient_copy(NURSE, "P1", number=7)


def test_the_pdf_is_written_in_the_preferred_language(clinic: Services, tmp_path: Path) -> None:
    signed_plan(clinic, "P1")
    set_language(clinic, "P1", "es")
    out = tmp_path / "copies"
    out.mkdir()
    path = clinic.care_plans.write_patient_copy(NURSE, "P1", out / "copia.pdf")
    text = pdf_words(path.read_bytes())
    assert "Su plan de cuidado" in text and "Teléfono fuera de horario 207-555-0199" in text
    assert "Sus problemas de salud Type 2 diabetes Hypertension" in text  # no E11.9, no I10
    assert "15 de octubre de 2026" in text and "Página 1 de" in text
    assert [p.name for p in out.iterdir()] == ["copia.pdf"]  # no temporary file left
    again = clinic.care_plans.write_patient_copy(NURSE, "P1", path, language="en")
    assert "Your care plan" in pdf_words(again.read_bytes())  # an existing file is replaced


def test_a_file_that_cannot_be_written_is_a_sentence_and_leaves_nothing(
    clinic: Services, tmp_path: Path
) -> None:
    signed_plan(clinic, "P1")
    out = tmp_path / "copies"
    out.mkdir()
    with pytest.raises(ServiceError, match=r"could not be written to .*missing.*choose a folder"):
        clinic.care_plans.write_patient_copy(NURSE, "P1", out / "missing" / "copy.pdf")
    folder = out / "a-folder.pdf"
    folder.mkdir()
    with pytest.raises(ServiceError, match="could not be written"):
        clinic.care_plans.write_patient_copy(NURSE, "P1", folder)
    assert os.listdir(folder) == [] and os.listdir(out) == ["a-folder.pdf"]
