"""The import's shared core: files read as streamed CSV, problems by row, the two passes."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import heapq
import io
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NoReturn, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import Patient
from ccmdesk.rules.intervals import split_by_month
from ccmdesk.rules.records import StaffRecord
from ccmdesk.rules.text import shown
from ccmdesk.rules.validation import ParseError, parse_bool
from ccmdesk.services import audit
from ccmdesk.services.billing.evaluation import BillingService
from ccmdesk.services.context import Actor
from ccmdesk.services.coverage import PayerBook
from ccmdesk.services.errors import ImportFailed
from ccmdesk.services.locks import LockTable
from ccmdesk.services.patients import StaffRef
from ccmdesk.services.results import ORDER, Counts, ImportSummary

# A field may be long (a note), but a file of one endless field is refused, not read into memory.
csv.field_size_limit(1_000_000)
# Rows read, checked against the database and written together: one query per batch rather
# than one per row, and no more than a batch of rows or ORM objects held at any time.
BATCH = 500
# Problems listed when a file is wrong throughout; the count of all of them is still given.
LISTED = 1_000
_CHUNK = 1 << 20
T = TypeVar("T")  # what an importer reads a row as
M = TypeVar("M")  # a mapped row an importer writes


@dataclass(frozen=True)
class FileKind:
    """A kind of import file: the columns that identify it, every column it may have, and the
    columns each of its rows needs (a file without one is told so once, at its header)."""

    name: str
    identifying: tuple[str, ...]
    columns: tuple[str, ...]
    required: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]
    index: int = 0  # the file's place among the files given


class Problems:
    """Problems as found; listed file by file (in the order given) and line by line.

    Only the first LISTED (in that order) are kept, so a file wrong on every one of a million
    rows does not fill the memory with messages; every problem is still counted.
    """

    def __init__(self) -> None:
        # A heap of the listed ones, the last in listing order on top (keys negated).
        self._kept: list[tuple[int, int, int, str, str, str]] = []
        self._count = 0
        self._files: dict[str, int] = {}
        self._missing: dict[str, set[str]] = {}

    def add(self, file: str, line: int, column: str, message: str) -> None:
        if message == "is required" and column in self._missing.get(file, ()):
            return  # said once at the header, not again on every row
        index = self._files.setdefault(file, len(self._files))
        self._count += 1
        item = (-index, -line, -self._count, file, column, message)
        if len(self._kept) < LISTED:
            heapq.heappush(self._kept, item)
        else:
            heapq.heappushpop(self._kept, item)  # drops whichever comes last in the listing

    def missing_column(self, file: str, column: str, kind: str) -> None:
        self.add(file, 1, column, f"required column is missing from this {kind} file")
        self._missing.setdefault(file, set()).add(column)

    def expect(self, files: Sequence[str]) -> None:
        for file in files:
            self._files.setdefault(file, len(self._files))

    def __bool__(self) -> bool:
        return self._count > 0

    @property
    def items(self) -> list[str]:
        # File names, column names and messages all quote the files' own text: escaped, so a
        # cell cannot break its problem line or forge another.
        return [
            f"{shown(file)}:{-line}: {shown(column)}: {shown(message)}"
            for _, line, _, file, column, message in sorted(self._kept, reverse=True)
        ]

    def fail(self) -> NoReturn:
        raise ImportFailed(self.items, self._count)


# --- files ---------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A binary stream that hashes what is read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class Source:
    """One file given to the import, opened afresh for each pass over it."""

    name: str
    open: Callable[[], BinaryIO]


def _first_pass(source: Source) -> tuple[str, int | None]:
    """The file's SHA-256, and the offset of its first byte that is not UTF-8 (None if all is)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    bad: int | None = None
    with source.open() as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            if bad is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset - pending + exc.start
            offset += len(chunk)
    if bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            bad = offset - len(exc.object) + exc.start
    return digest.hexdigest(), bad


@dataclass
class CsvFile:
    """A file whose header was read: its kind, columns and content hash. Its rows are read
    again on each pass, never all held at once."""

    source: Source
    index: int  # its place among the files given
    kind: str
    columns: list[str]
    digest: str

    @property
    def name(self) -> str:
        return self.source.name

    def rows(self, problems: Problems | None) -> Iterator[Row]:
        """The data rows; with `problems`, rows that cannot be read are reported there.
        Without (the writing pass, after every row was checked), any such row means the file
        changed since it was checked, and so does a different hash at its end."""
        name = self.name
        try:
            with (
                _Hashing(self.source.open()) as raw,
                io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="") as text,
            ):
                reader = csv.reader(text)
                next(reader, None)  # the header
                start = 2
                try:
                    for record in reader:
                        line = start
                        start = reader.line_num + 1
                        if not any(cell.strip() for cell in record):
                            continue
                        if len(record) != len(self.columns):
                            if problems is None:
                                self.changed()
                            problems.add(
                                name,
                                line,
                                "(row)",
                                f"has {len(record)} fields; the header has {len(self.columns)}",
                            )
                            continue
                        values = dict(zip(self.columns, record, strict=True))
                        yield Row(name, line, values, self.index)
                except csv.Error as exc:
                    if problems is None:
                        self.changed()
                    problems.add(name, start, "(row)", f"cannot be read as CSV: {exc}")
                    return
                except UnicodeDecodeError:
                    self.changed()
                if raw.digest.hexdigest() != self.digest:
                    self.changed()
        except OSError as exc:
            raise ImportFailed(
                [f"{name}:1: (file): cannot be read: {exc.strerror or exc}"]
            ) from exc

    def unexpected(self, column: str, message: str) -> NoReturn:
        """A problem met in the writing pass: the rows were all fine in the checking pass."""
        self.changed()

    def changed(self) -> NoReturn:
        raise ImportFailed(
            [
                f"{self.name}:1: (file): changed while it was being imported; make sure "
                "nothing else writes to it and import it again"
            ]
        )


def open_csv(
    source: Source, index: int, problems: Problems, kinds: Sequence[FileKind]
) -> CsvFile | None:
    """Check one file's encoding and header and decide its kind; report what is wrong."""
    name = source.name
    try:
        digest, bad = _first_pass(source)
        if bad is not None:
            problems.add(name, 1, "(file)", f"is not UTF-8 text (byte {bad})")
            return None
        with io.TextIOWrapper(source.open(), encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text))
    except OSError as exc:
        problems.add(name, 1, "(file)", f"cannot be read: {exc.strerror or exc}")
        return None
    except StopIteration:
        problems.add(name, 1, "(header)", "the file is empty")
        return None
    except csv.Error as exc:
        problems.add(name, 1, "(header)", f"cannot read the header: {exc}")
        return None
    columns = [c.strip().lower() for c in header]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.add(name, 1, column or "(blank)", "column appears twice")
        seen.add(column)
    candidates = [kind for kind in kinds if set(kind.identifying) <= seen]
    if not candidates:
        lacks = "; ".join(
            f"{kind.name} needs {', '.join(c for c in kind.identifying if c not in seen)}"
            for kind in kinds
        )
        problems.add(name, 1, "(header)", f"is not a ccmdesk import file: {lacks}")
        return None
    # A header can hold the identifying columns of two kinds; the one it fits best wins.
    kind = min(candidates, key=lambda k: (len(seen - set(k.columns)), ORDER.index(k.name)))
    allowed = set(kind.columns)
    for column in columns:
        if column not in allowed:
            problems.add(name, 1, column or "(blank)", f"unknown column in a {kind.name} file")
    for column in kind.required:
        if column not in seen:
            problems.missing_column(name, column, kind.name)
    return CsvFile(source, index, kind.name, columns, digest)


def batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


Report = Callable[[str, str], None]  # (column, message) for the row being read


class Cells:
    """One row's cells as a reader takes them: each problem reported as it is found; `ok`
    until one is."""

    def __init__(self, row: Row, report: Report) -> None:
        self.values = row.values
        self._report = report
        self.ok = True

    def bad(self, column: str, message: str) -> None:
        self._report(column, message)
        self.ok = False

    def reference(self, column: str, known: Callable[[str], bool] | None, unknown: str) -> str:
        """A required cell naming a patient or staff member; with `known` (the checking pass),
        one that exists, or `unknown` (with a {} for the value) is reported."""
        value = self.values.get(column, "").strip()
        if not value:
            self.bad(column, "is required")
        elif known is not None and not known(value):
            self.bad(column, unknown.format(value))
        return value

    def mrn(self, known: Callable[[str], bool] | None) -> str:
        """The row's patient, by MRN."""
        return self.reference("mrn", known, "no patient has MRN '{}'")

    def choice(self, column: str, default: str, error: Callable[[str], str | None]) -> str:
        """A word from a list (any case; `default` when blank), checked by the rule's `error`."""
        value = self.values.get(column, "").strip().lower() or default
        if message := error(value):
            self.bad(column, message)
        return value

    def flag(self, column: str) -> bool:
        """A yes/no cell; blank is no."""
        try:
            return parse_bool(self.values.get(column, ""))
        except ParseError as exc:
            self.bad(column, str(exc))
            return False


@dataclass
class Locks:
    """Checks each row that would change time or facts against the signed and closed months."""

    table: LockTable
    zone: dt.tzinfo
    problems: Problems

    def months_of(self, start: dt.datetime, end: dt.datetime) -> set[str]:
        return {month for month, _ in split_by_month((start, end), self.zone)}

    def check(
        self, row: Row, column: str, patient_id: int, months: set[str], what: str = "its time"
    ) -> None:
        lock = self.table.first(patient_id, months)
        if lock is not None:
            self.problems.add(row.file, row.line, column, lock.message(what))


# --- the two passes ---------------------------------------------------------------------------


@dataclass
class Check:
    """The checking pass: reads every row once and reports every problem, keeping only what
    later rows and the writing pass need: keys seen (with where), staff rows, and the MRNs of
    the files' patients."""

    session: Session
    problems: Problems
    files: list[CsvFile]
    today: dt.date
    now: dt.datetime
    refs: dict[str, StaffRef] = field(default_factory=dict)
    # The payers on file and in these files' payers rows, for the patients rows to name.
    payers: PayerBook = field(default_factory=PayerBook)
    staff_in: dict[str, tuple[Row, StaffRecord]] = field(default_factory=dict)
    patients_seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Billing practitioner and care manager counts the patients rows move, by staff_id.
    billing_moves: Counter[str] = field(default_factory=Counter)
    manager_moves: Counter[str] = field(default_factory=Counter)

    def rows(self, kind: str) -> Iterator[Row]:
        for csv_file in self.files:
            if csv_file.kind == kind:
                yield from csv_file.rows(self.problems)

    def reporter(self, row: Row) -> Report:
        return functools.partial(self.problems.add, row.file, row.line)

    def duplicate(
        self, seen: dict[Any, tuple[str, int]], key: object, row: Row, column: str, label: str
    ) -> bool:
        first = seen.get(key)
        if first is None:
            seen[key] = (row.file, row.line)
            return False
        file, line = first
        if file == row.file:
            message = f"{label} appears twice in this file (first on line {line})"
        else:
            message = f"{label} is also in {file} line {line}"
        self.problems.add(row.file, row.line, column, message)
        return True

    def mrn_batches(self, kind: str) -> Iterator[tuple[list[Row], Callable[[str], bool]]]:
        """The kind's rows a batch at a time, each with whether an MRN is known: MRNs of the
        files' patient rows count even when that row is wrong (its own error is the one to
        report, not one more for each row naming the patient), then those on file."""
        for batch in batches(self.rows(kind)):
            stored = self.stored_mrns(batch)

            def known(mrn: str, stored: set[str] = stored) -> bool:
                return mrn in self.patients_seen or mrn in stored

            yield batch, known

    def stored_mrns(self, batch: list[Row]) -> set[str]:
        """MRNs of the batch that are neither in these files nor in the database."""
        mrns = {row.values.get("mrn", "").strip() for row in batch} - self.patients_seen.keys()
        mrns.discard("")
        if not mrns:
            return set()
        query = select(Patient.mrn).where(Patient.mrn.in_(sorted(mrns)))
        return set(self.session.scalars(query))

    def name_of(self, index: int) -> str:
        return next(f.name for f in self.files if f.index == index)


@dataclass
class Write:
    """The writing pass: reads the checked rows again and writes them a batch at a time; after
    each batch the session lets go of its objects, so memory stays flat however long the files
    are. Rows that would change a signed or closed month are reported to `locks`."""

    session: Session
    actor: Actor
    now: dt.datetime
    reason: str
    summary: ImportSummary
    files: list[CsvFile]
    today: dt.date
    billing: BillingService
    locks: Locks
    staff_in: dict[str, tuple[Row, StaffRecord]]

    def rows(self, kind: str) -> Iterator[tuple[CsvFile, list[Row]]]:
        for csv_file in self.files:
            if csv_file.kind == kind:
                for batch in batches(csv_file.rows(None)):
                    yield csv_file, batch

    def items(
        self, kind: str, read: Callable[[Row, Report], T | None]
    ) -> Iterator[list[tuple[Row, T]]]:
        """The kind's rows a batch at a time, each with what `read` makes of it; every row
        passed the checking pass, so one that does not read now means its file changed."""
        for csv_file, batch in self.rows(kind):
            items: list[tuple[Row, T]] = []
            for row in batch:
                item = read(row, csv_file.unexpected)
                assert item is not None  # unexpected() raised otherwise
                items.append((row, item))
            yield items

    def patient_ids(self, mrns: Iterable[str]) -> dict[str, int]:
        """The database ids of the patients with these MRNs."""
        return patient_ids(self.session, mrns)

    def saved(self, counts: Counts, found: M | None, new: Callable[[], M]) -> M:
        """The row a file's row is written to: the stored one, counted as updated, or a new
        one, added to the session and counted as created."""
        if found is not None:
            counts.updated += 1
            return found
        row = new()
        self.session.add(row)
        counts.created += 1
        return row

    def record_saved(
        self,
        entity: str,
        key: str,
        change: tuple[dict[str, Any] | None, dict[str, Any]],
        patient_id: int | None = None,
    ) -> None:
        """audit.record_saved, as this import (its time, actor and reason)."""
        audit.record_saved(
            self.session, self.now, self.actor, entity, key, change,
            patient_id=patient_id, reason=self.reason,
        )  # fmt: skip

    def release(self) -> None:
        """Write what is pending and forget the batch's objects (the transaction goes on)."""
        self.session.flush()
        self.session.expunge_all()

    def record(
        self,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        patient_id: int | None = None,
    ) -> None:
        audit.record(
            self.session,
            at=self.now,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=entity_key,
            patient_id=patient_id,
            before=before,
            after=after,
            reason=self.reason,
        )


class Importer:
    """One kind of file: checked row by row in the checking pass, written in the writing pass."""

    kind: FileKind

    def check(self, c: Check) -> None:
        """Report every problem of this kind's rows (the checking pass)."""
        raise NotImplementedError

    def settle(self, c: Check) -> None:
        """Judge what the whole import leaves (after every kind is checked); nothing by default."""

    def write(self, w: Write) -> None:
        """Write this kind's rows (the writing pass)."""
        raise NotImplementedError


def patient_ids(session: Session, mrns: Iterable[str]) -> dict[str, int]:
    """The database ids of the patients with these MRNs (any of the import's passes)."""
    query = select(Patient.mrn, Patient.id).where(Patient.mrn.in_(sorted(set(mrns))))
    return {mrn: patient_id for mrn, patient_id in session.execute(query)}
