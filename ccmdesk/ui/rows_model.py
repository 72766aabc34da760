"""A read-only table model over a list of row records: the part every list page shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex

Row = TypeVar("Row")
ModelIndex = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Rows in a list and a fixed set of columns; subclasses say what each cell shows."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._rows: list[Row] = []

    def row_at(self, row: int) -> Row:
        return self._rows[row]

    def position_where(self, matches: Callable[[Row], bool]) -> int:
        """The first row that matches, or -1."""
        return next((i for i, row in enumerate(self._rows) if matches(row)), -1)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)
