"""Evaluation plumbing: SQL compiler extensions, a helper thread and the GC pause."""

from __future__ import annotations

import gc
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class Epoch(FunctionElement[int]):
    """Whole UTC epoch seconds of a stored instant, computed by the database: a month of
    300,000 segments is fetched as integers instead of being parsed into datetimes."""

    type = Integer()
    inherit_cache = True


@compiles(Epoch, "sqlite")
def _epoch_sqlite(element: Epoch, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch({column})"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


@compiles(Epoch, "postgresql")
def _epoch_postgresql(element: Epoch, compiler: Any, **kw: Any) -> str:
    # Stored naive UTC (see UTCDateTime): read it as UTC, not as the server's zone.
    column = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column} AT TIME ZONE 'UTC')) AS BIGINT)"


class Joined(FunctionElement[Any]):
    """A group's integers as one JSON array. Every `Joined` of one query lists its group's
    rows in the same order (one pass on SQLite; the rows' ids on PostgreSQL), so several of
    them read as columns of the same segments."""

    inherit_cache = True


@compiles(Joined, "sqlite")
def _joined_sqlite(element: Joined, compiler: Any, **kw: Any) -> str:
    # No CAST or concatenation per row: the aggregate writes the integers itself, and the
    # JSON decoder reads them back faster than splitting and int() (measured).
    value = compiler.process(element.clauses.clauses[0], **kw)
    if sqlite3.sqlite_version_info >= (3, 38):  # JSON functions built in
        return f"json_group_array({value})"
    return f"'[' || group_concat({value}) || ']'"


@compiles(Joined, "postgresql")
def _joined_postgresql(element: Joined, compiler: Any, **kw: Any) -> str:
    value, order = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_agg({value} ORDER BY {order})"


_read_json = json.JSONDecoder().raw_decode


def json_numbers(value: str | list[int]) -> list[int]:
    """A `Joined` value as a list (PostgreSQL's driver has decoded it already)."""
    return value if isinstance(value, list) else _read_json(value)[0]


_pause_lock = threading.Lock()
_pauses = 0  # evaluations running now (the GUI may run several on worker threads)
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """A month builds about a million small objects, none in a reference cycle; the cyclic
    garbage collector would rescan them again and again while they are made (0.2-0.6 s of a
    10,000-patient month, measured). The collector is process-wide, so overlapping
    evaluations share one pause and the last to finish restores it."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


T = TypeVar("T")
U = TypeVar("U")


def beside(helper: Callable[[], T], main: Callable[[], U]) -> tuple[T, U]:
    """Run `helper` on a helper thread while this thread runs `main`; both results. An
    error on the helper thread reaches the caller."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing") as pool:
        helping = pool.submit(helper)
        result = main()
        return helping.result(), result
