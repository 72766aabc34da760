"""A read-only table model over a list of row records: the part every list page shares."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt

from ccmdesk.ui.widgets.tables import ModelIndex

Row = TypeVar("Row")


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Rows in a list and a fixed set of columns; subclasses say what each cell shows
    (`_text`) and holds for the other roles (`_cell`)."""

    def __init__(
        self,
        headers: Sequence[str],
        parent: QObject | None = None,
        numeric: Collection[int] = (),
    ) -> None:
        """`numeric`: the columns whose figures (and headers) align right."""
        super().__init__(parent)
        self._headers = tuple(headers)
        self._numeric = frozenset(numeric)
        self._rows: list[Row] = []

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Show these rows instead (the views keep their sorting and filters)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row:
        return self._rows[row]

    def position_where(self, matches: Callable[[Row], bool]) -> int:
        """The first row that matches, or -1."""
        return next((i for i, row in enumerate(self._rows) if matches(row)), -1)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._numeric:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return self._cell(row, column, role)

    def _text(self, row: Row, column: int) -> str:
        """What a cell shows."""
        raise NotImplementedError

    def _cell(self, row: Row, column: int, role: int) -> Any:
        """What a cell holds for the other roles (tooltips, colours, the row's key)."""
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self._numeric:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None
