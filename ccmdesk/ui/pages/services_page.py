"""The base of the pages that work through the services as the signed-in person."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QWidget

from ccmdesk.services import Actor, Services


class ServicesPage(QWidget):
    """A page under its heading, reading and writing through the services as whoever is
    signed in at the time (`actor` is asked each time, not kept). Subclasses build the rest."""

    TITLE = ""

    def __init__(
        self, services: Services, actor: Callable[[], Actor], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self.heading = QLabel(self.TITLE)
        self.heading.setObjectName("pageHeading")
        self._build()

    def _build(self) -> None:
        """Build the page's widgets and layout, and read what it first shows."""
        raise NotImplementedError
