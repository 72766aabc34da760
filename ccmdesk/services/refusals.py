"""Why an action is refused: one sentence for both the refusal and the screen's capability flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from ccmdesk.services.context import Actor, Permission, require
from ccmdesk.services.errors import PermissionDenied, ServiceError


@dataclass(frozen=True)
class Refusal:
    """An action refused, and why. A service raises it; a screen shows `message` as the
    tooltip of the disabled button, so both say the same sentence."""

    message: str
    denied: bool = False  # a matter of who acts (PermissionDenied), not of the records' state

    def raise_it(self) -> NoReturn:
        raise (PermissionDenied if self.denied else ServiceError)(self.message)


def permission_refusal(actor: Actor, permission: Permission) -> Refusal | None:
    """The refusal `require` would raise for this actor and permission, or None."""
    try:
        require(actor, permission)
    except PermissionDenied as error:
        return Refusal(str(error), denied=True)
    return None


def first_refusal(*refusals: Refusal | None) -> Refusal | None:
    """The first refusal of several checks, in the order the action makes them."""
    return next((refusal for refusal in refusals if refusal is not None), None)


def message(refusal: Refusal | None) -> str:
    """The refusal's sentence, or "" when the action is allowed (a flag's tooltip)."""
    return refusal.message if refusal is not None else ""
