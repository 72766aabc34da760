"""Who may switch a month's code family: the rule the service and the billing panel share."""

from __future__ import annotations

from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.locks import CLOSED, SIGNED, Lock
from ccmdesk.services.refusals import Refusal, first_refusal, permission_refusal


def family_refusal(actor: Actor, month: str, closed: bool, signed: bool) -> Refusal | None:
    """Why `actor` may not switch the family of a patient's `month` (closed for the practice,
    signed for the patient), or None: FamilyService.choose and the Switch button both follow
    it. A closed month is named before a signed one, as the lock check names them."""
    return first_refusal(
        permission_refusal(actor, Permission.CHOOSE_FAMILY),
        Refusal(Lock(month, CLOSED).message("its facts")) if closed else None,
        Refusal(Lock(month, SIGNED).message("its facts")) if signed else None,
    )
