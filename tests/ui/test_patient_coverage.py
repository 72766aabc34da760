"""The patient editor's Coverage section: payers from the list, the insured, Medicare's rules."""

from __future__ import annotations

import pytest

from ccmdesk.rules.payers import PayerRecord
from ccmdesk.services import Actor, Services
from ccmdesk.ui.patient_dialog import MBI_LABEL, MEMBER_ID_LABEL, PatientDialog

AETNA = PayerRecord("aetna-ma", "Aetna Medicare", "medicare_advantage", covers="ccm;pcm")
MEDIGAP = PayerRecord("medigap-f", "Medigap Plan F", "commercial", covers="ccm")
OLD = PayerRecord("old-plan", "Old Plan", "commercial")


@pytest.fixture
def payers(services: Services, biller: Actor) -> Services:
    for payer in (AETNA, MEDIGAP, OLD):
        services.payers.save(biller, payer)
    return services


def dialog_for(qtbot, services: Services, actor: Actor, mrn: str, **kw) -> PatientDialog:
    record = services.patients.get(actor, mrn)
    dialog = PatientDialog(services, actor, services.staff.list(), record, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def offered(combo) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def test_a_medicare_patient_is_the_insured_and_their_member_id_is_the_mbi(
    qtbot, payers: Services, nurse: Actor
) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A100")
    assert dialog.primary_payer.value() == "mcr-b"
    assert dialog.primary_payer.currentText() == "Medicare Part B (mcr-b)"
    assert dialog.inputs["primary_member_id"].text() == "1EG4TE5MK73"
    assert dialog.form_labels["primary_member_id"].text() == MBI_LABEL
    assert dialog.relationship.value() == "self" and not dialog.relationship.isEnabled()
    assert not dialog.inputs["insured_last_name"].isEnabled()
    assert not dialog.inputs["secondary_member_id"].isEnabled()  # no secondary payer yet

    dialog.primary_payer.set_value("aetna-ma")
    assert dialog.form_labels["primary_member_id"].text() == MEMBER_ID_LABEL
    assert dialog.relationship.isEnabled()


def test_the_payer_choices_leave_out_retired_payers(qtbot, payers, nurse, biller) -> None:
    payers.payers.retire(biller, "old-plan")
    dialog = dialog_for(qtbot, payers, nurse, "A101")
    assert offered(dialog.primary_payer) == ["", "aetna-ma", "mcr-b", "medigap-f"]
    assert offered(dialog.secondary_payer) == ["", "aetna-ma", "mcr-b", "medigap-f"]
    assert dialog.primary_payer.value() == ""  # no payer on file: the blank choice


def test_a_retired_payer_the_patient_has_stays_and_saves(qtbot, payers, nurse, biller) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A101")
    dialog.primary_payer.set_value("old-plan")
    dialog.inputs["primary_member_id"].setText("OP-1")
    assert dialog.save() is True
    payers.payers.retire(biller, "old-plan")

    dialog = dialog_for(qtbot, payers, nurse, "A101")
    assert dialog.primary_payer.value() == "old-plan"
    assert dialog.primary_payer.currentText() == "Old Plan (old-plan) — retired"
    dialog.inputs["city"].setText("Bangor")  # an unrelated change keeps the retired payer
    assert dialog.save() is True
    record = payers.patients.get(nurse, "A101")
    assert (record.primary_payer, record.member_id, record.city) == ("old-plan", "OP-1", "Bangor")


def test_the_insured_is_asked_for_when_the_patient_is_not_the_insured(
    qtbot, payers: Services, nurse: Actor
) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A101")
    dialog.primary_payer.set_value("aetna-ma")
    dialog.inputs["primary_member_id"].setText("W123456789")
    dialog.relationship.set_value("spouse")
    assert dialog.inputs["insured_last_name"].isEnabled()
    dialog.secondary_payer.set_value("medigap-f")
    assert dialog.inputs["secondary_member_id"].isEnabled()
    dialog.inputs["secondary_member_id"].setText("MG-77")
    dialog.signature_on_file.set_value("no")
    assert dialog.save() is False
    shown = dialog.errors.errors_shown()
    assert shown == {
        "insured_last_name": "Insured's last name is required when relationship is spouse.",
        "insured_first_name": "Insured's first name is required when relationship is spouse.",
    }
    dialog.inputs["insured_last_name"].setText("Nguyen")
    dialog.inputs["insured_first_name"].setText("Lan")
    assert dialog.save() is True
    record = payers.patients.get(nurse, "A101")
    assert (record.primary_payer, record.member_id, record.payer) == (
        "aetna-ma", "W123456789", "Aetna Medicare",
    )  # fmt: skip
    assert (record.relationship, record.insured_last_name, record.insured_first_name) == (
        "spouse", "Nguyen", "Lan",
    )  # fmt: skip
    assert (record.secondary_payer, record.secondary_member_id) == ("medigap-f", "MG-77")
    assert record.signature_on_file == "no"

    dialog = dialog_for(qtbot, payers, nurse, "A101")  # read back as saved
    assert dialog.relationship.value() == "spouse"
    assert dialog.inputs["insured_first_name"].text() == "Lan"
    assert dialog.secondary_payer.value() == "medigap-f"
    assert dialog.signature_on_file.value() == "no"
    assert not dialog.is_changed()

    dialog.primary_payer.set_value("mcr-b")  # Medicare: the patient is the insured
    assert dialog.relationship.value() == "self"
    assert dialog.inputs["insured_last_name"].text() == ""


def test_coverage_errors_land_beside_their_fields(qtbot, payers, nurse) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A101")
    dialog.primary_payer.set_value("mcr-b")
    dialog.inputs["primary_member_id"].setText("1EG4-TE5-MK7")
    dialog.secondary_payer.set_value("mcr-b")
    assert dialog.save() is False
    shown = dialog.errors.errors_shown()
    assert set(shown) == {"primary_member_id", "secondary_payer"}
    assert "is not a Medicare MBI" in shown["primary_member_id"]
    assert shown["secondary_payer"] == "Secondary payer is the primary payer too."
    assert dialog.focusWidget() is dialog.inputs["primary_member_id"]


def test_a_member_id_too_long_is_shown_beside_the_member_id(qtbot, payers, nurse) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A101")
    dialog.primary_payer.set_value("aetna-ma")
    field = dialog.inputs["primary_member_id"]
    field.setMaxLength(100)  # typed past the field's limit, as an import might
    field.setText("x" * 41)
    assert dialog.save() is False
    assert dialog.errors.error_text("primary_member_id").startswith("Member ID is 41 characters")


def test_choosing_no_payer_takes_the_patients_payer_away(qtbot, payers, nurse) -> None:
    dialog = dialog_for(qtbot, payers, nurse, "A100")
    dialog.primary_payer.set_value("")
    dialog.inputs["primary_member_id"].setText("")
    assert dialog.save() is True
    record = payers.patients.get(nurse, "A100")
    assert (record.primary_payer, record.payer, record.payer_type) == ("", "", "")


def test_the_view_only_editor_shows_coverage_unchangeable(qtbot, payers, biller) -> None:
    dialog = dialog_for(qtbot, payers, biller, "A100", read_only=True)
    assert dialog.primary_payer.currentText() == "Medicare Part B (mcr-b)"
    assert not dialog.primary_payer.isEnabled()
    assert not dialog.signature_on_file.isEnabled()
    assert dialog.inputs["primary_member_id"].isReadOnly()
