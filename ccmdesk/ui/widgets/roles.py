"""Staff roles as people read them ("Clinical staff"), for every screen that names one."""

from __future__ import annotations

from ccmdesk.models.staff import ROLE_LABELS

# Keyed by plain text: a role arrives as the str its record holds.
_LABELS: dict[str, str] = {str(role): text for role, text in ROLE_LABELS.items()}


def role_label(role: str) -> str:
    """The role's label, or the role itself for one ccmdesk does not know."""
    return _LABELS.get(role, role)
