"""Errors the services raise; each carries a message meant for the person at the keyboard."""

from __future__ import annotations

from collections.abc import Sequence

from ccmdesk.rules.records import FieldError


class ServiceError(Exception):
    """A refused action; str(error) is a complete sentence for the user."""


class PermissionDenied(ServiceError):
    """The acting staff member's role may not do this."""


class NotFound(ServiceError):
    """The record asked for does not exist."""


class ValidationFailed(ServiceError):
    """The input breaks one or more field rules; nothing was written."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


class ImportFailed(ServiceError):
    """Some rows are invalid; nothing was written. `problems` are FILE:LINE: COLUMN: message."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"Nothing was imported: {len(self.problems)} problem(s).\n" + "\n".join(self.problems)
        )
