"""Errors the services raise; each carries a message meant for the person at the keyboard."""

from __future__ import annotations

from collections.abc import Sequence

from ccmdesk.rules.records import FieldError
from ccmdesk.rules.text import shown


class ServiceError(Exception):
    """A refused action; str(error) is a complete sentence for the user.

    The sentence often quotes what someone typed (an MRN, a file name): its control characters
    are escaped here, so it stays one line that prints as itself.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(shown(arg) if isinstance(arg, str) else arg for arg in args))


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
    """Some rows are invalid; nothing was written. `problems` are FILE:LINE: COLUMN: message,
    one line each; `total` counts every problem found, when more were found than are listed."""

    def __init__(self, problems: Sequence[str], total: int | None = None) -> None:
        self.problems = [shown(problem) for problem in problems]
        self.total = max(total or 0, len(self.problems))
        heading = f"Nothing was imported: {self.total:,} problem(s)"
        if self.total > len(self.problems):
            heading += f"; the first {len(self.problems):,} are listed"
        # Exception's own __init__: the line breaks between problems are meant.
        Exception.__init__(self, heading + ".\n" + "\n".join(self.problems))
