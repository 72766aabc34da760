"""Setting passwords and PINs from the GUI: a colleague's (administrators), one's own."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from ccmdesk.services import Actor, Services
from ccmdesk.ui.pages.staff import StaffPage
from ccmdesk.ui.passwords import PasswordDialog, PinDialog
from tests.helpers.ui import PASSWORD


def test_an_administrator_sets_a_colleagues_password_from_the_staff_page(
    qtbot, services: Services, admin: Actor
) -> None:
    page = StaffPage(services, lambda: admin)
    qtbot.addWidget(page)
    page.reload()
    assert not page.password_button.isEnabled()  # nobody chosen yet
    page.reload("rn-lee")
    dialog = page.set_password()
    assert isinstance(dialog, PasswordDialog)
    assert dialog.windowTitle() == "Set password — Grace Lee" and not dialog.current.isVisible()
    dialog.new.setText("short")
    dialog.confirm.setText("short")
    dialog.ok_button.click()
    assert dialog.error.text() == "A password has at least 8 characters."
    assert dialog.new.text() == ""
    dialog.new.setText("a new one for grace")
    dialog.confirm.setText("a new one for grace")
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert services.auth.sign_in("rn-lee", "a new one for grace").key == "rn-lee"


def test_changing_ones_own_password_takes_the_current_one(
    qtbot, services: Services, nurse: Actor
) -> None:
    dialog = PasswordDialog(services, nurse, "rn-lee", "Grace Lee")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Change my password" and dialog.current.isVisible()
    dialog.current.setText("not it")
    dialog.new.setText("my own new secret")
    dialog.confirm.setText("my own new secret")
    dialog.ok_button.click()
    assert dialog.error.text() == "Your current password is not right."
    dialog.current.setText(PASSWORD)
    dialog.new.setText("my own new secret")
    dialog.confirm.setText("my own new secrets")
    dialog.ok_button.click()
    assert dialog.error.text() == "The two new passwords differ; type them again."
    dialog.current.setText(PASSWORD)
    dialog.new.setText("my own new secret")
    dialog.confirm.setText("my own new secret")
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert services.auth.sign_in("rn-lee", "my own new secret").key == "rn-lee"


def test_a_pin_is_set_with_the_password_and_then_unlocks(
    qtbot, services: Services, nurse: Actor
) -> None:
    dialog = PinDialog(services, nurse)
    qtbot.addWidget(dialog)
    dialog.password.setText(PASSWORD)
    dialog.pin.setText("4826")
    dialog.confirm.setText("4862")
    dialog.ok_button.click()
    assert dialog.error.text() == "The two PINs differ; type them again."
    dialog.confirm.setText("4826")
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert services.auth.unlock(nurse, "4826").key == "rn-lee"
