"""The base of the pages that work through the services as the signed-in person."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.ui.forms import show_error, show_failure

T = TypeVar("T")


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

    def _lay_out(self, *beside: QWidget) -> QVBoxLayout:
        """The page's layout, begun with the heading and, at its right, `beside` (the
        page's own controls); the page adds the rest below."""
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        for widget in beside:
            top.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        return layout

    def _read(self, read: Callable[[], T]) -> T | None:
        """What `read` gets from the services; None once the service's refusal is shown
        (`_show_message`) or another failure reported."""
        try:
            return read()
        except ServiceError as error:
            self._show_message(str(error))
        except Exception as error:
            show_failure(self, error)
        return None

    def _show_message(self, text: str) -> None:
        """Say what the service refused; a page with room for it says it in place."""
        show_error(self, text)
