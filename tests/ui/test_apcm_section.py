"""The Practice settings page's APCM section: practitioners attest, administrators withdraw."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ccmdesk.rules.records import APCM_ATTESTATION
from ccmdesk.services import Actor, Services
from ccmdesk.ui.apcm import NOT_ATTESTED
from ccmdesk.ui.pages.practice import PracticePage


def shown(qtbot, services: Services, actor: Actor) -> PracticePage:
    page = PracticePage(services, lambda: actor)
    qtbot.addWidget(page)
    page.show()
    return page


def test_a_practitioner_sees_only_the_apcm_section_and_attests_in_their_own_name(
    qtbot, services: Services
) -> None:
    doctor = services.staff.actor_for("dr-okafor")
    page = shown(qtbot, services, doctor)
    assert page.apcm.isVisible()
    assert not page.practice_box.isVisible() and not page.save_row.isVisible()
    assert not page.fees.isVisible() and not page.backups.isVisible()
    assert page.apcm.statement.text() == APCM_ATTESTATION
    assert "13 APCM service elements" in APCM_ATTESTATION
    assert page.apcm.status.text() == NOT_ATTESTED
    assert page.apcm.attest_button.isVisible()
    assert not page.apcm.withdraw_button.isVisible()
    with qtbot.waitSignal(page.saved):
        qtbot.mouseClick(page.apcm.attest_button, Qt.MouseButton.LeftButton)
    found = services.practice.apcm_attestation()
    assert found is not None and found.staff_id == "dr-okafor"
    assert page.apcm.status.text() == "Attested by Adaeze Okafor on 16 Mar 2026 11:00."
    assert page.apcm.attest_button.text() == "Attest again in my name"


def test_an_administrator_sees_who_attested_and_withdraws_it(
    qtbot, services: Services, admin: Actor
) -> None:
    services.practice.attest_apcm(Actor.command_line(), "np-lind")
    page = shown(qtbot, services, admin)
    assert page.practice_box.isVisible() and page.apcm.isVisible()
    assert page.apcm.status.text().startswith("Attested by Maja Lindqvist on ")
    assert not page.apcm.attest_button.isVisible()  # only a practitioner attests
    assert page.apcm.withdraw_button.isVisible()
    qtbot.mouseClick(page.apcm.withdraw_button, Qt.MouseButton.LeftButton)
    assert services.practice.apcm_attestation() is None
    assert page.apcm.status.text() == NOT_ATTESTED
    assert not page.apcm.withdraw_button.isVisible()


def test_the_sections_follow_whoever_is_signed_in(qtbot, services: Services, admin: Actor) -> None:
    doctor = services.staff.actor_for("dr-okafor")
    person = [doctor]
    page = PracticePage(services, lambda: person[0])
    qtbot.addWidget(page)
    page.show()
    assert not page.practice_box.isVisible()
    page.hide()
    person[0] = admin
    page.show()
    assert page.practice_box.isVisible()
    assert not page.apcm.attest_button.isVisible()
