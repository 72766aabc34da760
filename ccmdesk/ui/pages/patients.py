"""The patient list: a table model over PatientRow, a fast type-to-filter proxy, and the page."""

from __future__ import annotations

import gc
import heapq
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.payers import PayerRecord
from ccmdesk.rules.text import fold
from ccmdesk.services import Actor, PatientRow, Permission, Services, allowed
from ccmdesk.ui.forms import ValueComboBox, show_failure
from ccmdesk.ui.refresh import PATIENTS, PAYERS, PRACTICE, TIME, TIMERS, Changes, touches
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import ModelIndex, current_source_row, prepare_table

if TYPE_CHECKING:
    from ccmdesk.ui.patient_panel import PatientPanel
    from ccmdesk.ui.stopwatch import StopwatchController

MRN, NAME, DOB, PRACTITIONER, PAYER, ENROLLMENT, CONDITIONS = range(7)
HEADERS = (
    "MRN",
    "Name",
    "Date of birth",
    "Billing practitioner",
    "Payer",
    "Enrollment",
    "Chronic conditions",
)
# The payer filter's values beside payer ids (which never hold "*"): everyone, and no payer.
ALL_PAYERS, NO_PAYER = "*", ""

PANEL_DELAY_MS = 120
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def search_words(text: str) -> tuple[str, ...]:
    """The words a search must all find; a full MM/DD/YYYY date becomes YYYY-MM-DD."""
    words: list[str] = []
    for word in fold(text).replace(",", " ").split():
        if match := _US_DATE.fullmatch(word):
            month, day, year = match.groups()
            word = f"{year}-{int(month):02d}-{int(day):02d}"
        words.append(word)
    return tuple(dict.fromkeys(words))


NameKey = tuple[str, str, str]


def name_key(row: PatientRow) -> NameKey:
    """Folded last name, first name, MRN: the name order, and part of every search key."""
    return (fold(row.last_name), fold(row.first_name), row.mrn)


def search_key(row: PatientRow, name: NameKey) -> str:
    """Everything a row can be found by: name, MRN and the date of birth in the ISO,
    MM/DD/YYYY and M/D/YYYY forms, so a partly typed date of either form matches."""
    dob = row.dob
    return (
        f"{name[0]} {name[1]} {row.mrn.lower()} {dob.isoformat()} "
        f"{dob.month:02d}/{dob.day:02d}/{dob.year} {dob.month}/{dob.day}/{dob.year}"
    )


class PatientTableModel(RowsModel[PatientRow]):
    """Every patient as one row, with what the search needs worked out once per load.

    Sorting happens here, in one Python pass with a key function: a proxy sorting 10,000
    rows would call data() a few hundred thousand times.
    """

    def __init__(self, rows: Sequence[PatientRow] = (), parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)
        self._names: list[NameKey] = []  # by row, for sorting
        self._keys: list[str] = []  # by row, for searching
        # One flag per row, in row order: does the row match the search words? The list is
        # only ever changed in place, so a proxy may hold it and look rows up directly.
        self.matches: list[bool] = []
        self._words: tuple[str, ...] = ()
        self._payer = ALL_PAYERS
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.set_rows(rows)

    # --- data ------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[PatientRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._names = [name_key(row) for row in self._rows]
        self._keys = [
            search_key(row, name) for row, name in zip(self._rows, self._names, strict=True)
        ]
        self.matches[:] = [True] * len(self._rows)
        if self._sort_column >= 0:
            self._reorder(self._sorted_positions(self._sort_column, self._sort_order))
        self._match()
        self.endResetModel()

    def rows(self) -> Sequence[PatientRow]:
        """Every row in display order (not a copy: do not change it)."""
        return self._rows

    def row_of(self, mrn: str) -> int:
        """The row showing a patient, or -1."""
        return self.position_where(lambda row: row.mrn == mrn)

    def search_words(self) -> tuple[str, ...]:
        return self._words

    def set_search_words(self, words: Sequence[str]) -> None:
        """Work out `matches` for new search words: one pass over the precomputed keys.

        The model's rows do not change; a filter proxy shows the matching ones.
        """
        self._words = tuple(words)
        self._match()

    def payer_filter(self) -> str:
        return self._payer

    def set_payer_filter(self, payer_id: str) -> None:
        """Show only the patients whose primary payer is `payer_id` (NO_PAYER: those with
        none; ALL_PAYERS: everyone), together with the search words."""
        self._payer = payer_id
        self._match()

    def _match(self) -> None:
        words = self._words
        if not words:
            self.matches[:] = [True] * len(self._keys)
        else:
            first, *rest = words
            self.matches[:] = [
                first in key and all(word in key for word in rest) for key in self._keys
            ]
        if self._payer != ALL_PAYERS:
            payer = self._payer
            self.matches[:] = [
                match and row.primary_payer == payer
                for match, row in zip(self.matches, self._rows, strict=True)
            ]

    # --- QAbstractTableModel ----------------------------------------------------------------

    def _text(self, row: PatientRow, column: int) -> str:
        return (
            row.mrn,
            f"{row.last_name}, {row.first_name}",
            row.dob.isoformat(),
            row.billing_practitioner,
            row.payer_name or "—",
            row.enrollment,
            ", ".join(row.conditions),
        )[column]

    def _cell(self, row: PatientRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == DOB:
                return f"{row.dob.month:02d}/{row.dob.day:02d}/{row.dob.year}"
            if column == CONDITIONS and row.conditions:
                return "\n".join(row.conditions)
            if column == PAYER:
                return row.primary_payer or "No payer on file"
        elif role == Qt.ItemDataRole.UserRole:
            return row.mrn
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(HEADERS):
            return
        self._sort_column = column
        self._sort_order = order
        self.layoutAboutToBeChanged.emit()
        positions = self._sorted_positions(column, order)
        new_row = [0] * len(positions)
        for new, old in enumerate(positions):
            new_row[old] = new
        # matches moves too, before layoutChanged: a proxy re-filters the rows on that signal.
        self._reorder(positions)
        old_indexes = self.persistentIndexList()
        self.changePersistentIndexList(
            old_indexes,
            [self.index(new_row[index.row()], index.column()) for index in old_indexes],
        )
        self.layoutChanged.emit()

    def _sorted_positions(self, column: int, order: Qt.SortOrder) -> list[int]:
        """Row positions in the new order; ties stay in name order (sorted() is stable, with
        reverse=True too)."""
        rows, names = self._rows, self._names
        keys: Sequence[Any]
        if column == MRN:
            keys = [row.mrn for row in rows]
        elif column == NAME:
            keys = names
        elif column == DOB:
            keys = [(row.dob, name) for row, name in zip(rows, names, strict=True)]
        elif column == PRACTITIONER:
            keys = [
                (fold(row.billing_practitioner), name)
                for row, name in zip(rows, names, strict=True)
            ]
        elif column == ENROLLMENT:
            keys = [(row.enrollment, name) for row, name in zip(rows, names, strict=True)]
        elif column == PAYER:
            keys = [(fold(row.payer_name), name) for row, name in zip(rows, names, strict=True)]
        else:
            keys = [(row.conditions, name) for row, name in zip(rows, names, strict=True)]
        return sorted(
            range(len(rows)),
            key=keys.__getitem__,
            reverse=order == Qt.SortOrder.DescendingOrder,
        )

    def _reorder(self, positions: list[int]) -> None:
        self._rows = [self._rows[old] for old in positions]
        self._names = [self._names[old] for old in positions]
        self._keys = [self._keys[old] for old in positions]
        matches = self.matches
        matches[:] = [matches[old] for old in positions]  # in place: proxies hold the list


class PatientFilterProxyModel(QSortFilterProxyModel):
    """Shows the rows whose every typed word matches; one pass per change of the search text.

    Qt calls filterAcceptsRow once per row, so it only looks up the flag the model worked out
    for the whole list in one pass. A text change rebuilds the mapping in one go
    (invalidate) rather than row range by row range, which for a scattered result over
    10,000 rows costs several times more.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._matches: list[bool] = []

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        if not isinstance(model, PatientTableModel):
            raise TypeError("PatientFilterProxyModel filters a PatientTableModel")
        self._matches = model.matches
        super().setSourceModel(model)

    def patient_model(self) -> PatientTableModel:
        model = self.sourceModel()
        assert isinstance(model, PatientTableModel)
        return model

    def search_text_words(self) -> tuple[str, ...]:
        return self.patient_model().search_words()

    def set_payer(self, payer_id: str) -> None:
        model = self.patient_model()
        if payer_id == model.payer_filter():
            return
        model.set_payer_filter(payer_id)
        self.invalidate()

    def set_search_text(self, text: str) -> None:
        model = self.patient_model()
        words = search_words(text)
        if words == model.search_words():
            return
        model.set_search_words(words)
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        return self._matches[source_row]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source sorts itself in one Python pass; the proxy keeps the source order.
        self.patient_model().sort(column, order)


class PatientsPage(QWidget):
    """Find a patient by name, MRN or date of birth; open, add and edit patients."""

    # A patient's record, enrolment or waivers changed here: the other pages re-read.
    patients_changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        parent: QWidget | None = None,
        *,
        first_rows: Callable[[], Sequence[PatientRow]] | None = None,
        controller: StopwatchController | None = None,
    ) -> None:
        """`first_rows`, if given, supplies the first list instead of a service call: the
        application starts that call on a thread while the window is being built. With a
        stopwatch `controller`, the chosen patient's panel (stopwatch, month, log) sits beside
        the list."""
        super().__init__(parent)
        self._services = services
        self._actor = actor

        self.search_field = QLineEdit()
        self.search_field.setObjectName("patientSearch")
        self.search_field.setPlaceholderText(
            "Find a patient: name, MRN or date of birth (1948-03-02 or 03/02/1948)"
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setAccessibleName("Find a patient")
        self.payer_filter = ValueComboBox()
        self.payer_filter.setObjectName("payerFilter")
        self.payer_filter.setAccessibleName("Filter by payer")
        self.payer_filter.setToolTip("Show the patients of one primary payer, or with none")
        # A long payer name would squeeze the search box: the list shows it whole.
        self.payer_filter.setSizeAdjustPolicy(
            ValueComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.payer_filter.setMinimumContentsLength(18)
        self.payer_filter.add_value("All payers", ALL_PAYERS)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.new_button = QPushButton("New patient…")
        self.new_button.setObjectName("primaryButton")
        self.edit_button = QPushButton("Edit…")

        self.model = PatientTableModel(parent=self)
        self.proxy = PatientFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("patientTable")
        self.table.setModel(self.proxy)
        self._columns_fitted = False
        self._configure_table()

        top = QHBoxLayout()
        top.addWidget(self.search_field, 1)
        top.addWidget(self.payer_filter)
        top.addWidget(self.count_label)
        top.addSpacing(12)
        top.addWidget(self.edit_button)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        self.panel: PatientPanel | None = None
        if controller is not None:
            from ccmdesk.ui.patient_panel import PatientPanel

            self.panel = PatientPanel(services, actor, controller)
            self.panel.enrolment.changed.connect(self.patients_changed)
            # A saved or signed care plan changes what the month pages bill and warn about.
            self.panel.care_plan.changed.connect(self.patients_changed)
            self.splitter = QSplitter(Qt.Orientation.Horizontal)
            self.splitter.setChildrenCollapsible(False)
            self.splitter.addWidget(self.table)
            self.splitter.addWidget(self.panel)
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 1)
            self.splitter.setSizes([520, 540])
            layout.addWidget(self.splitter, 1)
            # The panel reads a few queries; wait until the selection settles (typing in the
            # search box moves it on every key).
            self._panel_timer = QTimer(self)
            self._panel_timer.setSingleShot(True)
            self._panel_timer.setInterval(PANEL_DELAY_MS)
            self._panel_timer.timeout.connect(self._show_panel)
        else:
            layout.addWidget(self.table, 1)

        self.search_field.textChanged.connect(self._on_search)
        self.payer_filter.currentIndexChanged.connect(self._on_payer)
        self.search_field.returnPressed.connect(self._open_from_search)
        self.search_field.installEventFilter(self)
        self.table.installEventFilter(self)
        self.table.doubleClicked.connect(self._open_index)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        if self.panel is not None:
            self.table.selectionModel().currentRowChanged.connect(self._panel_timer.start)
        self.new_button.clicked.connect(self.new_patient)
        self.edit_button.clicked.connect(self.edit_current)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

        self.apply_permissions()
        self.reload(rows=first_rows)

    def _configure_table(self) -> None:
        table = self.table
        # The list the app opens on keeps its first, denser look: rows 2px lower, headers
        # centred (Qt's own).
        prepare_table(table, row_padding=10, headers=Qt.AlignmentFlag.AlignCenter)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSortIndicator(NAME, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)

    def _fit_columns(self) -> None:
        """Size the columns to what they hold, once, measuring only the longest few values.

        resizeColumnsToContents would measure every one of 10,000 rows; after this first fit
        the widths are the user's to change.
        """
        rows = self.model.rows()
        values = {
            MRN: [row.mrn for row in rows],
            NAME: [f"{row.last_name}, {row.first_name}" for row in rows],
            DOB: ["0000-00-00"],
            PRACTITIONER: [row.billing_practitioner for row in rows],
            ENROLLMENT: ["Consent revoked", "Consent pending", *(row.enrollment for row in rows)],
            PAYER: [row.payer_name for row in rows],
        }
        # In average characters: long names elide.
        limits = {NAME: 28, PRACTITIONER: 22, PAYER: 22}
        cell = self.table.fontMetrics()
        heading = self.table.horizontalHeader().fontMetrics()
        average = cell.averageCharWidth()
        for column, texts in values.items():
            longest = heapq.nlargest(12, set(texts), key=len)
            content = max((cell.horizontalAdvance(text) for text in longest), default=0)
            content = min(content, limits.get(column, 1000) * average)
            # Room for the cell padding, and for the sort arrow beside the heading.
            width = max(content + 24, heading.horizontalAdvance(HEADERS[column]) + 36)
            self.table.horizontalHeader().resizeSection(column, width)
        self._columns_fitted = True

    # --- permissions and data ---------------------------------------------------------------

    def apply_permissions(self) -> None:
        """Show what the acting user may do; called again after "Switch user"."""
        can_edit = allowed(self._actor(), Permission.EDIT_PATIENTS)
        self.new_button.setVisible(can_edit)
        self.edit_button.setText("Edit…" if can_edit else "View…")
        self._update_buttons()

    def reload(
        self,
        select_mrn: str | None = None,
        rows: Callable[[], Sequence[PatientRow]] | None = None,
    ) -> None:
        """Read the list again (one service call) and keep or move the selection."""
        current = select_mrn or self.current_mrn()
        try:
            found = rows() if rows else self._services.patients.list_rows(self._actor())
            payers = self._services.payers.list(self._actor())
        except Exception as error:
            show_failure(self, error)
            return
        self._set_payer_choices(payers)
        self.model.set_rows(found)
        # Tens of thousands of long-lived row objects would make every full garbage collection
        # rescan them, a 100-200 ms stall in the middle of typing; they hold no cycles, so move
        # them out of the collector's sight (they are still freed normally when replaced).
        gc.freeze()
        if not self._columns_fitted and found:
            self._fit_columns()
        if current:
            self.select_mrn(current)
        self._update_count()
        self._update_buttons()

    def _set_payer_choices(self, payers: Sequence[PayerRecord]) -> None:
        """The filter offers every payer (retired ones too: patients may still have them),
        keeping the one chosen while it is still on the list."""
        chosen = self.payer_filter.value()
        self.payer_filter.blockSignals(True)
        try:
            self.payer_filter.clear()
            self.payer_filter.add_value("All payers", ALL_PAYERS)
            for payer in payers:
                retired = " (retired)" if payer.retired else ""
                self.payer_filter.add_value(payer.name + retired, payer.payer_id)
            self.payer_filter.add_value("No payer", NO_PAYER)
            index = self.payer_filter.findData(chosen)
            self.payer_filter.setCurrentIndex(max(index, 0))
        finally:
            self.payer_filter.blockSignals(False)
        self.proxy.set_payer(self.payer_filter.value())

    def refresh(self, changes: Changes) -> None:
        """The list when patients or payers changed; only the chosen patient's panel when
        time did."""
        if touches(changes, PATIENTS, PAYERS):
            self.reload()
        if self.panel is None:
            return
        if touches(changes, PATIENTS, PRACTICE, PAYERS):
            self.panel.refresh()
        elif touches(changes, TIME, TIMERS):
            self.panel.refresh_time()

    def clear(self) -> None:
        self.forget_person()
        self.model.set_rows([])

    def forget_person(self) -> None:
        """Another person signs in at this window: nothing the last one searched for or chose
        (a patient's name and record) stays on screen for them."""
        self.search_field.clear()
        self.payer_filter.setCurrentIndex(0)  # all payers
        self.table.setCurrentIndex(QModelIndex())
        self.table.clearSelection()
        self._update_buttons()
        if self.panel is not None:
            self.panel.set_mrn(None)

    def select_mrn(self, mrn: str) -> bool:
        source_row = self.model.row_of(mrn)
        if source_row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, NAME))
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def current_mrn(self) -> str | None:
        row = current_source_row(self.table, self.proxy)
        return None if row is None else self.model.row_at(row).mrn

    def count_text(self) -> str:
        shown = self.proxy.rowCount()
        total = self.model.rowCount()
        noun = "patient" if total == 1 else "patients"
        if not self.proxy.search_text_words() and self.payer_filter.value() == ALL_PAYERS:
            return f"{total:,} {noun}"
        return f"{shown:,} of {total:,} {noun}"

    def _update_count(self) -> None:
        self.count_label.setText(self.count_text())

    def _update_buttons(self) -> None:
        self.edit_button.setEnabled(self.table.currentIndex().isValid())

    def _show_panel(self) -> None:
        if self.panel is not None and self.panel.mrn != self.current_mrn():
            self.panel.set_mrn(self.current_mrn())

    def show_patient(self, mrn: str) -> bool:
        """Select the patient (clearing a search that hides them) and show their panel now."""
        if not self.select_mrn(mrn) and self.search_field.text():
            self.search_field.clear()
            self.select_mrn(mrn)
        if self.current_mrn() != mrn:
            return False
        self._show_panel()
        return True

    def _on_payer(self) -> None:
        self.proxy.set_payer(self.payer_filter.value())
        self._update_count()
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, NAME))
        self._update_buttons()

    def _on_search(self, text: str) -> None:
        self.proxy.set_search_text(text)
        self._update_count()
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, NAME))
        self._update_buttons()

    # --- opening the editor ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.edit_current()
                return True
            if watched is self.search_field and key == Qt.Key.Key_Down and self.proxy.rowCount():
                # From the search box straight into the list, as in a browser's address bar.
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.setCurrentIndex(self.proxy.index(0, NAME))
                return True
        return super().eventFilter(watched, event)

    def _open_from_search(self) -> None:
        if not self.proxy.rowCount():
            return
        if not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, NAME))
        self.edit_current()

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_patient(self.model.row_at(self.proxy.mapToSource(index).row()).mrn)

    def edit_current(self) -> None:
        mrn = self.current_mrn()
        if mrn is not None:
            self.open_patient(mrn)

    def open_patient(self, mrn: str) -> QWidget | None:
        """Open the editor (read-only without EDIT_PATIENTS) on one patient; return the dialog."""
        return self._open_editor(mrn)

    def new_patient(self) -> QWidget | None:
        if not allowed(self._actor(), Permission.EDIT_PATIENTS):
            return None
        return self._open_editor(None)

    def _open_editor(self, mrn: str | None) -> QWidget | None:
        """The patient editor on one patient, or on a new one (`mrn` None)."""
        # Imported here: the editor is not needed to show the list, and start-up time counts.
        from ccmdesk.ui.patient_dialog import PatientDialog

        actor = self._actor()
        try:
            record = None if mrn is None else self._services.patients.get(actor, mrn)
            staff = self._services.staff.list(include_inactive=True)
            payers = self._services.payers.list(actor)
        except Exception as error:
            show_failure(self, error)
            return None
        dialog = PatientDialog(
            self._services,
            actor,
            staff,
            record,
            read_only=not allowed(actor, Permission.EDIT_PATIENTS),
            payers=payers,
            parent=self,
        )
        dialog.saved.connect(self.reload if mrn is not None else self._after_new)
        dialog.saved.connect(self.patients_changed)
        dialog.open()
        return dialog

    def _after_new(self, mrn: str) -> None:
        # A new patient may not match the current search: clear it so the patient is in view.
        if self.search_field.text():
            self.search_field.clear()
        self.reload(select_mrn=mrn)
