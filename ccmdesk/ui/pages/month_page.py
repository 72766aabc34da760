"""What the billing and review pages share: a month evaluated in the background, filtered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QTableView, QWidget

from ccmdesk.rules.intervals import month_label
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.ui.background import LatestOnly, TaskRunner, ThreadTaskRunner
from ccmdesk.ui.forms import show_failure
from ccmdesk.ui.refresh import Changes


class MonthRows(Protocol):
    """The table model a month page shows: rows found by MRN."""

    def row_of(self, mrn: str) -> int: ...
    def index(self, row: int, column: int) -> QModelIndex: ...


class MonthPage(QWidget):
    """A month picker that also offers a month begun while the window stayed open, a filter,
    a status line, and the chosen month evaluated on a worker thread, the newest request's
    outcome only. Subclasses build the table and say how a month is loaded and shown."""

    open_requested = Signal(str)  # MRN
    model: MonthRows  # built by the subclass

    TITLE = ""
    NAME = ""  # object names: "<NAME>Month", "<NAME>Filter"
    FILTERS: Sequence[tuple[str, str]] = ()
    LOADING = "Evaluating"  # "Evaluating March 2026…"

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        runner: TaskRunner | None = None,
        today: Callable[[], dt.date] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        from ccmdesk.ui.widgets.months import MonthBox

        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._runner = runner or ThreadTaskRunner()
        self._today = today or self._practice_today
        self._loads = LatestOnly(self._runner)
        self._selected: str | None = None  # the MRN chosen, kept across reloads

        self.heading = QLabel(self.TITLE)
        self.heading.setObjectName("pageHeading")
        self.month_box = MonthBox(self._today())
        self.month_box.setObjectName(f"{self.NAME}Month")
        self.filter_box = QComboBox()
        self.filter_box.setObjectName(f"{self.NAME}Filter")
        self.filter_box.setAccessibleName("Show")
        for value, label in self.FILTERS:
            self.filter_box.addItem(label, value)
        self.refresh_button = QPushButton("Refresh")
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.table = QTableView()

        self.month_box.chosen.connect(lambda _month: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.table.doubleClicked.connect(self._open_index)
        self._build()
        self.reload()

    # --- what subclasses say ------------------------------------------------------------------

    def _build(self) -> None:
        """Build the rest of the page (the table's model, the layout) before the first load."""
        raise NotImplementedError

    def loaded_month(self) -> str | None:
        """The month whose rows are on screen, if any."""
        raise NotImplementedError

    def _load(self, actor: Actor, month: str) -> Any:
        """On the worker thread: everything the page shows of the month."""
        raise NotImplementedError

    def _loaded(self, loaded: Any) -> None:
        raise NotImplementedError

    def _drop_loaded(self) -> None:
        """Take the month's rows off the screen."""
        raise NotImplementedError

    def _failure_text(self, month: str) -> str:
        return f"{month_label(month)} could not be evaluated; nothing is shown."

    def _mrn_at(self, row: int) -> str:
        raise NotImplementedError

    # --- the month -----------------------------------------------------------------------------

    def _practice_today(self) -> dt.date:
        return self._services.today()

    def current_month(self) -> str:
        return self.month_box.month()

    def set_month(self, month: str) -> None:
        """Show a month now (it is added to the picker, in order, if it is not there)."""
        self.month_box.choose(month)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        # A window left open over a month end offers the new month too.
        self.month_box.offer_month_of(self._today())
        super().showEvent(event)

    def reload(self) -> None:
        """Evaluate the chosen month on a worker thread. Only the latest request's outcome is
        shown; a month's rows never stay on screen under another month's name."""
        month = self.current_month()
        if self.loaded_month() not in (None, month):
            self._drop_loaded()
        self.status_label.setText(f"{self.LOADING} {month_label(month)}…")
        actor = self._actor()
        self._loads.run(lambda: self._load(actor, month), self._loaded, self._failed)

    def refresh(self, _changes: Changes) -> None:
        self.reload()

    def clear(self) -> None:
        """Show nothing (the person signed in may not see the page); a late result is ignored."""
        self._loads.forget()
        self._selected = None
        self._drop_loaded()
        self.status_label.setText("")

    def forget_person(self) -> None:
        self.table.clearSelection()

    def _change(self, change: Callable[[], object]) -> None:
        """Make a change through the services; a refusal is shown, and either way the page
        shows the month as it now is."""
        try:
            change()
        except ServiceError as error:
            show_failure(self, error)
        self._after_change()

    def _after_change(self) -> None:
        self.reload()

    def _failed(self, error: BaseException) -> None:
        self._drop_loaded()
        self.status_label.setText(self._failure_text(self.current_month()))
        show_failure(self, error)

    # --- rows ----------------------------------------------------------------------------------

    def select_mrn(self, mrn: str) -> bool:
        row = self.model.row_of(mrn)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(self._mrn_at(index.row()))
