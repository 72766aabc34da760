"""Many workstations on one database at once: python -m benchmarks.stress [--seconds N].

Seven operating-system processes (multiprocessing's spawn context), each opening the database
itself and calling the services as the GUI does, for the same few seconds:

- three nurses time patients with the stopwatch (start, heartbeat, pause, resume, stop and
  save) in the current month and add time by hand, dated in the past month and in this one;
- the practitioner signs patients' months from the review queue, past and current, as the
  review page does (what it was shown must still hold), and unlocks some again;
- billing opens the past month's billing panel, closes the month and exports it, 837P claim
  files included (every third export sends the claims again); an administrator reopens it a
  moment later, so it is closed again and again;
- an administrator imports staff, patients and minutes CSV files;
- staff sign in, their screens lock automatically, they unlock and sign out.

The clock runs sixty times faster than the wall clock from 20 April 2026, noon in New York, so
March is a past month that is being signed and closed while the nurses still add time to it.

A refusal that is the product's intended answer (a ServiceError, or ccmdesk.errors' known errors
such as "busy, try again") is counted by kind; any other exception is an unexpected error.
Afterwards `check` reads the database and tests five invariants (see its docstring):
the audit chain verifies; every signature covers every entry committed before it; no live entry
was committed into a month closed (or, for its patient, signed) at that moment; no process
saw an unexpected error; and the claim files took control numbers 1, 2, 3... in commit order
from the one counter, with no claim sent twice unless its export asked to resend.

    python -m benchmarks.stress --seconds 120                   # SQLite, a file in a temp folder
    bash scripts/with-postgres.sh .venv/bin/python -m benchmarks.stress --backend both

--backend postgresql uses CCMDESK_TEST_POSTGRES_URL, a scratch database: its schema is dropped.
The exit status is 1 when an invariant fails. tests/test_concurrency.py runs it for 20 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import multiprocessing as mp
import os
import platform
import queue
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ccmdesk.db import open_database
from ccmdesk.errors import KnownError
from ccmdesk.models import AuditEvent, MonthlyReview, Patient, Practice, SentClaim, TimeEntry
from ccmdesk.rules.intervals import month_of, split_by_month
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.payers import MEDICARE_PART_B_RECORD
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.audit import verify_chain

# The known errors (busy, full, ...) are the product's answers too, not surprises.
REFUSALS: tuple[type[BaseException], ...] = (ServiceError, KnownError)

ZONE_NAME = "America/New_York"
ZONE = ZoneInfo(ZONE_NAME)
BASE = dt.datetime(2026, 4, 20, 16, 0, tzinfo=dt.UTC)  # noon in New York
SPEED = 60  # simulated seconds per wall-clock second
PAST, CURRENT = "2026-03", "2026-04"
PASSWORD = "stress-test-passphrase"
CLI = Actor(key="cli:stress", name="command line (stress)", role="system")
ADMIN = Actor(key="admin-a", name="Ann Admin", role="admin")
DOCTOR = Actor(key="dr-a", name="Dr. A", role="practitioner")
BILLER = Actor(key="bill-b", name="Bo Biller", role="billing")
NURSES = ("rn-1", "rn-2", "rn-3")
IMPORTER_NURSE = "rn-imp"  # whose minutes the import brings in
SIGNING_IN = (*NURSES, "dr-a", "bill-b", "admin-a")
PATIENTS = tuple(f"{1001 + n}" for n in range(6))
STAFF = (
    StaffRecord("admin-a", "Ann Admin", "admin"),
    StaffRecord("dr-a", "Dr. A", "practitioner", "MD", "1234567893"),
    StaffRecord("bill-b", "Bo Biller", "billing"),
    *(StaffRecord(sid, f"Nurse {sid[-1]}", "clinical", "RN") for sid in NURSES),
    StaffRecord(IMPORTER_NURSE, "Imported Nurse", "clinical", "RN"),
)
SLOT = dt.timedelta(minutes=5)  # entries by hand and imported ones: 4 minutes every 5
ENTRY = dt.timedelta(minutes=4)
# Each writer has its own row of slots, so its own entries never overlap (one person cannot be
# in two places; that refusal is tested elsewhere and would only add noise here).
SLOTS = {
    PAST: (
        dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 1, 0, 0, tzinfo=dt.UTC),
    ),
    CURRENT: (dt.datetime(2026, 4, 3, 5, 0, tzinfo=dt.UTC), BASE - dt.timedelta(hours=1)),
}


# --- the work of each process ------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    url: str
    seconds: float
    t0: float  # the wall-clock instant the simulated clock reads BASE
    seed: int


@dataclass
class Tally:
    """What one process did: operations done, refused (by kind) and failed unexpectedly."""

    name: str
    done: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # the first tracebacks, to read

    def attempt(self, op: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The call's result, or None when it was refused or failed (counted either way)."""
        try:
            result = call(*args, **kwargs)
        except REFUSALS as error:
            self.refused[f"{op}: {refusal_kind(error)}"] += 1
            return None
        except Exception as error:
            self.unexpected[f"{op}: {error_line(error)}"] += 1
            if len(self.samples) < 3:
                self.samples.append(f"{self.name} {op}:\n{traceback.format_exc()}")
            return None
        self.done[op] += 1
        return result if result is not None else True


_KINDS = (
    (r"changed since it was shown", "changed since it was shown"),
    (r"closed already", "closed already"),
    (r"is not closed", "not closed"),
    (r"is closed for billing", "month closed"),
    (r"signed already", "signed already"),
    (r"is signed for this patient", "month signed"),
    (r"nothing to unlock", "not signed"),
    (r"stopwatch .*(running|paused)|still running", "a stopwatch is open"),
    (r"not billable", "not billable"),
    (r"overlaps", "overlaps"),
    (r"busy", "busy, try again"),
)


def refusal_kind(error: BaseException) -> str:
    """A short name for an intended refusal, from its sentence."""
    message = str(error)
    for pattern, kind in _KINDS:
        if re.search(pattern, message, re.IGNORECASE):
            return kind
    return f"{type(error).__name__}: {message.splitlines()[0][:80]}"


def error_line(error: BaseException) -> str:
    """The type and first line of an unexpected error (a driver's own message when wrapped)."""
    inner = getattr(error, "orig", None) or error
    lines = str(inner).strip().splitlines() or [""]
    return f"{type(error).__name__}({type(inner).__name__}): {lines[0][:120]}"


def clock_from(t0: float) -> Callable[[], dt.datetime]:
    def clock() -> dt.datetime:
        return BASE + dt.timedelta(seconds=(time.time() - t0) * SPEED)

    return clock


def slot(month: str, k: int) -> tuple[dt.datetime, dt.datetime] | None:
    """The k-th 4-minute slot of a month's row, or None once the row is used up."""
    first, last = SLOTS[month]
    start = first + k * SLOT
    return (start, start + ENTRY) if start + ENTRY <= last else None


def nurse(services: Services, tally: Tally, until: float, rng: random.Random, name: str) -> None:
    """A stopwatch at a time in the current month, and time added by hand to both months."""
    me = Actor(key=name, name=f"Nurse {name[-1]}", role="clinical")  # signed in as `name`
    watch = services.stopwatch
    slots = {PAST: 0, CURRENT: 0}
    timer: int | None = None
    state = ""
    while time.monotonic() < until:
        if timer is None:
            started = tally.attempt("stopwatch start", watch.start, me, rng.choice(PATIENTS))
            if started:
                timer, state = started.entry_id, "running"
        if timer is not None:
            time.sleep(rng.uniform(0.03, 0.08))
            tally.attempt("stopwatch heartbeat", watch.heartbeat, me, timer)
            if state == "running" and rng.random() < 0.4:
                if tally.attempt("stopwatch pause", watch.pause, me, timer):
                    state = "paused"
                time.sleep(rng.uniform(0.03, 0.06))
            if state == "paused" and tally.attempt("stopwatch resume", watch.resume, me, timer):
                state = "running"
            time.sleep(rng.uniform(0.03, 0.08))
            # A stop refused (the month was signed meanwhile) leaves it running: tried again.
            if state == "running" and tally.attempt(
                "stopwatch stop", watch.stop, me, timer, activity="Call with patient or caregiver"
            ):
                timer = None
        # The past month most: its time races with its signing and closing.
        for month, chance in ((PAST, 1), (PAST, 0.6), (CURRENT, 0.4)):
            span = slot(month, slots[month])
            if span is None or rng.random() > chance:
                continue
            slots[month] += 1
            tally.attempt(
                f"add by hand ({'past' if month == PAST else 'current'} month)",
                services.entries.add_manual,
                me,
                rng.choice(PATIENTS),
                *span,
                reason="call taken away from the desk",
                activity="Call with patient or caregiver",
            )


def practitioner(
    services: Services, tally: Tally, until: float, rng: random.Random, _: str
) -> None:
    """Sign what the review queue shows ready (one or two at once), and unlock some again."""
    review = services.review
    while time.monotonic() < until:
        month = PAST if rng.random() < 0.5 else CURRENT
        shown = tally.attempt("review queue", review.queue, DOCTOR, month)
        if not shown:
            time.sleep(0.05)
            continue
        ready = [row for row, status in shown.rows if status == "ready to sign"]
        signed = [row for row, status in shown.rows if status == "signed"]
        if ready:
            rows = rng.sample(ready, min(len(ready), rng.choice((1, 1, 2))))
            seen = {row.mrn: (row.result.codes, row.result.amount_cents) for row in rows}
            tally.attempt("sign", review.sign_many, DOCTOR, month, list(seen), seen)
        # Unlocked again soon, so that months are open for more time (and signed again).
        if signed and rng.random() < 0.9:
            row = rng.choice(signed)
            tally.attempt("unlock", review.unlock, DOCTOR, row.mrn, month, "more time came in")
        time.sleep(rng.uniform(0.02, 0.1))


def billing(services: Services, tally: Tally, until: float, rng: random.Random, _: str) -> None:
    """Billing looks at the past month, closes it and exports it (claim files too, every
    third time sending the claims again); an administrator reopens it."""
    folder = Path(tempfile.mkdtemp(prefix="ccmdesk-stress-export-"))
    turn = 0
    try:
        while time.monotonic() < until:
            turn += 1
            tally.attempt("billing panel", services.billing.month, BILLER, PAST)
            tally.attempt("close", services.closing.close, BILLER, PAST)
            tally.attempt(
                "export", services.export.export, BILLER, PAST, folder / str(turn),
                resend=turn % 3 == 0,
            )  # fmt: skip
            time.sleep(rng.uniform(0.1, 0.2))
            tally.attempt("reopen", services.closing.reopen, ADMIN, PAST, "a late entry to add")
            time.sleep(rng.uniform(0.2, 0.4))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def importer(services: Services, tally: Tally, until: float, rng: random.Random, _: str) -> None:
    """Staff and patients files that change a little each time; minutes in every other one."""
    slots = {PAST: 0, CURRENT: 0}
    turn = 0
    while time.monotonic() < until:
        turn += 1
        staff = [
            {"staff_id": s.staff_id, "name": s.name, "role": s.role, "npi": s.npi,
             "credentials": s.credentials if turn % 2 else s.credentials + ", BSN"}
            for s in STAFF
            if s.staff_id in (*NURSES, IMPORTER_NURSE)
        ]  # fmt: skip
        mrn = rng.choice(PATIENTS)
        files = [
            ("staff.csv", csv_bytes(staff)),
            ("patients.csv", csv_bytes([patient_row(mrn, phone=f"207-555-{turn % 10000:04d}")])),
        ]
        if turn % 2:
            month = PAST if rng.random() < 0.5 else CURRENT
            rows = []
            for _ in range(2):
                span = slot(month, slots[month])
                slots[month] += 1
                if span is not None:
                    rows.append(minutes_row(mrn, IMPORTER_NURSE, *span))
            if rows:
                files.append(("minutes.csv", csv_bytes(rows)))
        tally.attempt("import", services.imports.import_data, ADMIN, files)
        time.sleep(rng.uniform(0.05, 0.2))


def sign_ins(services: Services, tally: Tally, until: float, rng: random.Random, _: str) -> None:
    """Each in turn signs in; the screen locks after inactivity; they unlock and sign out."""
    turn = 0
    while time.monotonic() < until:
        staff_id = SIGNING_IN[turn % len(SIGNING_IN)]
        turn += 1
        actor = tally.attempt("sign in", services.auth.sign_in, staff_id, PASSWORD)
        if not isinstance(actor, Actor):
            time.sleep(0.05)
            continue
        time.sleep(rng.uniform(0.01, 0.05))
        tally.attempt("automatic screen lock", services.auth.screen_locked, actor, automatic=True)
        tally.attempt("screen unlock", services.auth.unlock, actor, PASSWORD)
        tally.attempt("sign out", services.auth.signed_out, actor)
        # Argon2id at its real cost (about 0.1 s a check here) would take a core to itself.
        time.sleep(rng.uniform(0.1, 0.3))


Role = Callable[[Services, Tally, float, random.Random, str], None]  # the last: the process
ROLES: dict[str, Role] = {
    "nurse": nurse,
    "practitioner": practitioner,
    "billing": billing,
    "import": importer,
    "sign-ins": sign_ins,
}


def work(name: str, role: str, plan: Plan, messages: Any, go: Any) -> None:
    """One process: open the database, say ready, wait for the start, work, report."""
    tally = Tally(name)
    db = None
    try:
        db = open_database(plan.url)
        services = Services(db, clock=clock_from(plan.t0))
        messages.put(("ready", name, None))
        go.wait()
        rng = random.Random(f"{plan.seed}:{name}")
        ROLES[role](services, tally, time.monotonic() + plan.seconds, rng, name)
    except Exception as error:  # the process's own failure, not one call's: reported too
        tally.unexpected[f"process: {error_line(error)}"] += 1
        tally.samples.append(f"{name}:\n{traceback.format_exc()}")
        messages.put(("ready", name, None))  # the start must not wait for a process that died
    finally:
        if db is not None:
            db.dispose()
        messages.put(("done", name, tally))


# --- the practice they work in -------------------------------------------------------------------


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def patient_row(mrn: str, phone: str = "207-555-0100") -> dict[str, str]:
    n = int(mrn) - 1000
    return {
        "mrn": mrn, "last_name": f"Patient{n}", "first_name": "Test", "dob": "1950-02-03",
        "sex": "F", "phone": phone, "address": "5 Oak Ave", "city": "Portland", "state": "ME",
        "zip": "04101",
        "payer": "Medicare Part B", "payer_type": "medicare", "member_id": f"1EG4-TE5-MK{n:02d}",
        "qmb": "no", "billing_practitioner": "dr-a", "care_manager": NURSES[n % len(NURSES)],
        "conditions": "E11.9;I10", "consent_date": "2025-11-04", "consent_method": "verbal",
        "consent_practitioner": "", "consent_revoked_date": "",
        "initiating_visit_date": "2025-11-04", "care_plan_date": "2025-11-04",
    }  # fmt: skip


def minutes_row(mrn: str, staff_id: str, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {"mrn": mrn, "staff_id": staff_id, "start": start.isoformat(), "end": end.isoformat(),
            "activity": "Call with patient or caregiver"}  # fmt: skip


def prepare(url: str) -> None:
    """An empty database with the practice, its staff (with passwords) and six patients who
    already have 20 minutes in each month, so signing and closing start at once."""
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    db = open_database(url)
    try:
        services = Services(db, clock=lambda: BASE)
        # Claim settings and an EDI id for Medicare Part B, so exports write claim files.
        services.practice.save(
            CLI,
            PracticeRecord(
                name="Stress Practice", group_npi="1245319599", tin="123456789",
                timezone=ZONE_NAME, street="1 Main St", city="Portland", state="ME",
                zip="04101-1234", submitter_id="STRESS", submitter_name="Stress Practice",
                submitter_phone="2075550100", receiver_id="CLEAR", receiver_name="Clearinghouse",
            ),
        )  # fmt: skip
        services.payers.save(CLI, replace(MEDICARE_PART_B_RECORD, edi_payer_id="STRESSMCR"))
        for record in STAFF:
            services.staff.save(CLI, record, is_new=True)
        for staff_id in SIGNING_IN:
            services.auth.set_password(CLI, staff_id, PASSWORD)
        first = {PAST: dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC),
                 CURRENT: dt.datetime(2026, 4, 2, 14, 0, tzinfo=dt.UTC)}  # fmt: skip
        minutes = [
            minutes_row(mrn, IMPORTER_NURSE, start + n * SLOT * 6, start + n * SLOT * 6 + SLOT * 4)
            for start in first.values()
            for n, mrn in enumerate(PATIENTS)
        ]
        services.imports.import_data(
            CLI,
            [
                ("patients.csv", csv_bytes([patient_row(mrn) for mrn in PATIENTS])),
                ("minutes.csv", csv_bytes(minutes)),
            ],
        )
    finally:
        db.dispose()


# --- running them together ---------------------------------------------------------------------


@dataclass
class Report:
    """The figures of one run: what the processes did and what the invariants found."""

    backend: str
    seconds: float
    done: Counter[str]
    refused: Counter[str]
    unexpected: Counter[str]
    samples: list[str]
    findings: Findings

    @property
    def failures(self) -> list[str]:
        """One sentence per invariant that does not hold."""
        found = list(self.findings.failures)
        if self.unexpected:
            total = sum(self.unexpected.values())
            kinds = "; ".join(f"{n} × {k}" for k, n in self.unexpected.most_common(5))
            found.append(f"(4) {total} unexpected error(s): {kinds}")
        return found

    def lines(self) -> Iterator[str]:
        f = self.findings
        yield f"{self.backend}: {self.seconds:g} s, {len(PROCESSES)} processes"
        yield "  done: " + ", ".join(f"{op} {n}" for op, n in sorted(self.done.items()))
        yield f"  refused as intended: {sum(self.refused.values())}"
        for kind, n in sorted(self.refused.items()):
            yield f"    {n:6d}  {kind}"
        yield "  unexpected errors:" + ("" if self.unexpected else " none")
        for kind, n in self.unexpected.most_common():
            yield f"    {n:6d}  {kind}"
        yield (
            f"  database: {f.events} audit events, {f.signatures} signatures, {f.closes} closes, "
            f"{f.reopens} reopens, live entries: "
            + ", ".join(f"{source} {n}" for source, n in sorted(f.entries.items()))
        )
        yield "  invariants:"
        yield "    (1) audit chain: " + (
            "verifies"
            if f.chain_ok
            else f"BROKEN, {f.broken_links} broken link(s); first at event {f.first_bad_id}: "
            f"{f.chain_problem}"
        )
        yield "    (1) deep check, tables against the audit trail: " + (
            f"{len(f.deep)} row(s) differ; first: {f.deep[0]}" if f.deep else "every row matches"
        )
        yield (
            f"    (2) signatures covering every entry committed before them: "
            f"{f.signatures - f.short_signatures} of {f.signatures}"
            + (
                f"; {f.short_signatures} missed {f.missed_entries} entries "
                f"({f.missed_open} of them a stopwatch open at signing)"
                if f.short_signatures
                else ""
            )
        )
        yield (
            f"    (3) live entries committed into a closed month: {len(f.into_closed)}; "
            f"into a month signed for the patient: {len(f.into_signed)}"
        )
        yield f"    (4) unexpected errors: {sum(self.unexpected.values())}"
        yield (
            f"    (5) claim files: {f.claim_files} from {f.exports} exports, "
            + ("control numbers 1 to n in commit order, no claim sent twice unasked"
               if not f.claims else f"{len(f.claims)} problem(s); first: {f.claims[0]}")
        )  # fmt: skip
        for example in f.examples[:6]:
            yield f"      e.g. {example}"


PROCESSES = (
    *((f"rn-{n}", "nurse") for n in (1, 2, 3)),
    ("practitioner", "practitioner"),
    ("billing", "billing"),
    ("import", "import"),
    ("sign-ins", "sign-ins"),
)


def run(url: str, seconds: float, seed: int = 0, backend: str = "") -> Report:
    """Prepare the database, run the seven processes for `seconds`, check the invariants."""
    prepare(url)
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    go = ctx.Event()
    plan = Plan(url, seconds, time.time(), seed)
    processes = {
        name: ctx.Process(target=work, args=(name, role, plan, messages, go), name=name)
        for name, role in PROCESSES
    }
    for process in processes.values():
        process.start()
    tallies: dict[str, Tally] = {}
    ready: set[str] = set()
    deadline = time.monotonic() + 300 + seconds
    try:
        while len(tallies) < len(processes) and time.monotonic() < deadline:
            try:
                kind, name, tally = messages.get(timeout=1)
            except queue.Empty:
                for name, process in processes.items():
                    if name not in tallies and process.exitcode not in (None, 0):
                        # Killed before it could report (a crash in the driver, say).
                        lost = Tally(name)
                        lost.unexpected[f"process: ended with exit code {process.exitcode}"] += 1
                        tallies[name] = lost
                        ready.add(name)
                if len(ready) == len(processes):
                    go.set()
                continue
            if kind == "ready":
                ready.add(name)
                if len(ready) == len(processes):
                    go.set()
            else:
                tallies[name] = tally
    finally:
        go.set()
        for process in processes.values():
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    for name in processes:
        if name not in tallies:
            tallies[name] = Tally(name)
            tallies[name].unexpected["process: did not report in time"] += 1
    done: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    samples: list[str] = []
    for tally in tallies.values():
        done.update(tally.done)
        refused.update(tally.refused)
        unexpected.update(tally.unexpected)
        samples.extend(tally.samples)
    return Report(
        backend or make_url(url).get_backend_name(),
        seconds,
        done,
        refused,
        unexpected,
        samples,
        check(url),
    )


# --- the invariants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One audit event, as the check replays it."""

    id: int
    action: str
    key: str
    patient_id: int | None
    after: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass
class Trail:
    """What the check reads from the database after the run."""

    events: list[Event]
    summaries: dict[tuple[int, str, str], str]  # (patient id, month, SHA-256) → summary JSON
    live_entries: Counter[str]  # the time_entry table's live rows, by source
    mrns: dict[int, str]
    chain_ok: bool = True
    chain_problem: str = ""
    first_bad_id: int | None = None
    # The sent_claim table's rows as (patient id, month, control number), and the practice's
    # control-number counter at the end.
    sent: list[tuple[int, str, int]] = field(default_factory=list)
    counter: int = 0


@dataclass
class Findings:
    """What the database shows after the run."""

    events: int = 0
    chain_ok: bool = True
    chain_problem: str = ""
    first_bad_id: int | None = None
    broken_links: int = 0
    signatures: int = 0
    short_signatures: int = 0  # signatures that missed an entry committed before them
    missed_entries: int = 0
    missed_open: int = 0
    closes: int = 0
    reopens: int = 0
    into_closed: list[str] = field(default_factory=list)  # entry ids
    into_signed: list[str] = field(default_factory=list)
    entries: Counter[str] = field(default_factory=Counter)  # live, by source
    tracked: int = 0  # live entries the replay of the audit trail ends with
    unreadable: Counter[str] = field(default_factory=Counter)  # time events without segments
    examples: list[str] = field(default_factory=list)
    deep: list[str] = field(default_factory=list)  # rows `audit verify --deep` names
    exports: int = 0  # month.export events
    claim_files: int = 0  # claim files those exports wrote
    claims: list[str] = field(default_factory=list)  # (5): what is wrong with the claim files

    @property
    def failures(self) -> list[str]:
        found = []
        if not self.chain_ok:
            found.append(
                f"(1) the audit chain does not verify: {self.broken_links} broken link(s), the "
                f"first at event {self.first_bad_id} ({self.chain_problem})"
            )
        if self.short_signatures:
            found.append(
                f"(2) {self.short_signatures} of {self.signatures} signatures missed "
                f"{self.missed_entries} entries committed before them ({self.missed_open} of "
                "them a stopwatch open at signing)"
            )
        if self.into_closed or self.into_signed:
            found.append(
                f"(3) {len(self.into_closed)} live entries were committed into a closed month "
                f"and {len(self.into_signed)} into a month signed for the patient"
            )
        if self.claims:
            found.append(
                f"(5) the claim files' control numbers or sent claims are wrong: "
                f"{len(self.claims)} problem(s), first: {self.claims[0]}"
            )
        if self.deep:
            found.append(
                f"(1) the deep check names {len(self.deep)} row(s) that differ from the audit "
                f"trail, first: {self.deep[0]}"
            )
        # The check must see every entry, or it would pass by not looking.
        if self.unreadable or self.tracked != sum(self.entries.values()):
            found.append(
                f"(check) the audit trail's replay ends with {self.tracked} live entries, the "
                f"table has {sum(self.entries.values())}; events without segments: "
                f"{dict(self.unreadable)}"
            )
        return found


def read_trail(url: str) -> Trail:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            chain = verify_chain(session)
            summaries = {
                (patient_id, month, digest): summary
                for patient_id, month, digest, summary in session.execute(
                    select(
                        MonthlyReview.patient_id,
                        MonthlyReview.month,
                        MonthlyReview.summary_hash,
                        MonthlyReview.summary,
                    )
                )
            }
            live: Counter[str] = Counter(
                dict(
                    session.execute(
                        select(TimeEntry.source, func.count())
                        .where(TimeEntry.deleted_at.is_(None))
                        .group_by(TimeEntry.source)
                    ).all()
                )
            )
            mrns = dict(session.execute(select(Patient.id, Patient.mrn)).all())
            events = [
                Event(id_, action, key, patient_id, json.loads(after) if after else {}, prev, hash_)
                for id_, action, key, patient_id, after, prev, hash_ in session.execute(
                    select(
                        AuditEvent.id,
                        AuditEvent.action,
                        AuditEvent.entity_key,
                        AuditEvent.patient_id,
                        AuditEvent.after,
                        AuditEvent.prev_hash,
                        AuditEvent.hash,
                    ).order_by(AuditEvent.id)
                )
            ]
            sent = [
                (patient_id, month, number)
                for patient_id, month, number in session.execute(
                    select(SentClaim.patient_id, SentClaim.month, SentClaim.control_number)
                )
            ]
            counter = session.scalar(select(Practice.control_number)) or 0
    finally:
        engine.dispose()
    return Trail(
        events, summaries, live, mrns, chain.ok, chain.problem, chain.first_bad_id, sent, counter
    )


def check(url: str) -> Findings:
    """Read the database after the run and test the invariants (see `judge`), and rebuild the
    tables from the audit trail (`audit verify --deep`): every row must match."""
    findings = judge(read_trail(url))
    db = open_database(url, guarded=False)
    try:
        deep = Services(db).audit.deep_check(Actor.command_line())
    finally:
        db.dispose()
    findings.deep = [d.message() for d in deep.differences]
    return findings


@dataclass
class _Entry:
    patient_id: int
    segments: list[tuple[dt.datetime, dt.datetime | None]]
    open: bool
    live: bool = True


Segments = list[tuple[dt.datetime, dt.datetime | None]]
# Events that make an entry's time final (or change it): where it lands is checked then.
_COMMITTING = ("time.create", "time.stop", "time.update")


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _segments(after: dict[str, Any]) -> Segments | None:
    """An entry's segments from an audit after-image (stopwatch, by hand, import), if any."""
    if "segments" in after:
        return [(_instant(a), _instant(b) if b else None) for a, b in after["segments"]]
    if "start" in after and "end" in after:
        return [(_instant(after["start"]), _instant(after["end"]))]
    return None


def _months(segments: Segments) -> set[str]:
    months: set[str] = set()
    for start, end in segments:
        if end is None:
            months.add(month_of(start, ZONE))
        else:
            months.update(month for month, _ in split_by_month((start, end), ZONE))
    return months


def _seconds_in(segments: Segments, month: str) -> int:
    """The entry's seconds inside the month, as the review's time log counts them."""
    lo, hi = month_bounds(month, ZONE)
    return sum(
        int((min(end, hi) - max(start, lo)).total_seconds())
        for start, end in segments
        if end is not None and end > lo and start < hi
    )


def judge(trail: Trail) -> Findings:
    """Test the invariants on what the database holds after the run.

    The audit trail is the record of commit order: every service writes its audit events in
    the transaction that makes its change, and appending to the chain is serialised (SQLite
    has one writer at a time; on PostgreSQL appenders take turns on an advisory lock held to
    commit), so event ids increase in commit order. Replaying the events in id order:

    (1) `verify_chain` recomputes every hash; a link whose prev_hash is not the hash of the
        event before it is counted as broken (two transactions extended the same head).
    (2) Signatures. A month.sign event records the summary's SHA-256; the MonthlyReview row
        with that hash holds the summary itself, whose "entries" list every time entry the
        signature covers (id and seconds in the month). The entries that should be there are
        those of the patient with time in that month whose creating event (time.create by hand
        or by import, time.start for a stopwatch) precedes the sign event and that were not
        deleted before it, with their segments as of that point (from the events'
        after-images). Each must be in the summary with the same seconds; a stopwatch still
        running or paused at the sign event cannot be covered (its time is not final; signing
        refuses it) and counts as missed.
    (3) Closed and signed months. month.close and month.reopen events give the months closed
        at each point; month.sign and month.unlock the patient-months signed. An entry whose
        creating or changing event (time.create, time.stop, time.update) puts time into a
        month closed at that point (or signed for its patient) breaks the invariant if the
        entry is still live at the end.
    (4) is the processes' own count of unexpected errors (Report.failures).
    (5) Claim files (`_check_claim_files`): the month.export events' claim files carry control
        numbers 1, 2, 3... in event order, the practice's counter ends at the last, and every
        sent_claim row names one of them; a patient-month is in a second file only when that
        file's export asked to resend.
    The replay must end with the live entries the time_entry table has (and read segments from
    every event that should carry them), or the check itself fails: it must not pass blind.
    """
    findings = Findings(
        events=len(trail.events),
        chain_ok=trail.chain_ok,
        chain_problem=trail.chain_problem,
        first_bad_id=trail.first_bad_id,
        entries=Counter(trail.live_entries),
    )
    entries: dict[str, _Entry] = {}
    closed: set[str] = set()
    signed: set[tuple[int | None, str]] = set()
    committed_into: list[tuple[str, str, str]] = []  # (entry key, "closed"/"signed", text)
    previous = None
    for event in trail.events:
        if previous is not None and event.prev_hash != previous:
            findings.broken_links += 1
        previous = event.hash
        action, key, patient_id = event.action, event.key, event.patient_id
        if action == "month.close":
            findings.closes += 1
            closed.add(key)
        elif action == "month.reopen":
            findings.reopens += 1
            closed.discard(key)
        elif action == "month.unlock":
            signed.discard((patient_id, key.split()[-1]))
        elif action == "month.sign":
            month = key.split()[-1]
            signed.add((patient_id, month))
            findings.signatures += 1
            _check_signature(findings, trail, event, month, entries)
        elif action == "time.start":
            if "start" not in event.after or patient_id is None:
                findings.unreadable[action] += 1
                continue
            entries[key] = _Entry(patient_id, [(_instant(event.after["start"]), None)], True)
        elif action in ("time.delete", "time.discard"):
            if key in entries:
                entries[key].live = False
        elif action.startswith("time.") and (action == "time.create" or key in entries):
            segments = _segments(event.after)
            if segments is None:
                if action in _COMMITTING:
                    findings.unreadable[action] += 1
                continue  # a pause or resume: the stop carries the segments
            if action == "time.create":
                if patient_id is None:
                    findings.unreadable[action] += 1
                    continue
                entries[key] = _Entry(patient_id, segments, open=False)
            else:
                entries[key].segments = segments
                entries[key].open = entries[key].open and action != "time.stop"
            if action in _COMMITTING:
                for month in sorted(_months(segments)):
                    mrn = trail.mrns.get(patient_id or 0, "?")
                    where = f"entry {key} ({mrn} {month}) saved at event {event.id}"
                    if month in closed:
                        committed_into.append((key, "closed", f"{where}, month closed"))
                    elif (patient_id, month) in signed:
                        committed_into.append((key, "signed", f"{where}, month signed"))
    for key, why, description in committed_into:
        if entries[key].live:
            (findings.into_closed if why == "closed" else findings.into_signed).append(key)
            _example(findings, f"(3) {description}")
    findings.tracked = sum(1 for entry in entries.values() if entry.live)
    _check_claim_files(findings, trail)
    return findings


def _check_claim_files(findings: Findings, trail: Trail) -> None:
    """(5) Control numbers come from one counter, one step per file in commit order, never
    twice; every sent claim belongs to a file an export recorded; a patient-month is sent
    again only by an export that asked to resend."""
    numbers: list[int] = []
    resent: dict[int, bool] = {}  # control number -> its export asked to resend
    for event in trail.events:
        if event.action != "month.export":
            continue
        findings.exports += 1
        for claim_file in event.after.get("claim_files", []):
            numbers.append(int(claim_file["control_number"]))
            resent[numbers[-1]] = bool(event.after.get("resend"))
    findings.claim_files = len(numbers)
    problems = findings.claims
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"the files' control numbers in commit order are {numbers[:12]}")
    if trail.counter != len(numbers):
        problems.append(f"the counter reads {trail.counter} after {len(numbers)} claim files")
    seen: set[tuple[int, str]] = set()
    for patient_id, month, number in sorted(trail.sent, key=lambda row: row[2]):
        if number not in resent:
            problems.append(f"a claim was sent with control number {number}, no export's")
        elif (patient_id, month) in seen and not resent[number]:
            mrn = trail.mrns.get(patient_id, "?")
            problems.append(f"{mrn} {month} sent again in file {number} without resend")
        seen.add((patient_id, month))


def _example(findings: Findings, text: str) -> None:
    if len(findings.examples) < 20:
        findings.examples.append(text)


def _check_signature(
    findings: Findings, trail: Trail, event: Event, month: str, entries: dict[str, _Entry]
) -> None:
    wanted = (event.patient_id or 0, month, event.after.get("summary_sha256", ""))
    summary = trail.summaries.get(wanted)
    covered = (
        {str(line[0]): int(line[3]) for line in json.loads(summary)["entries"]} if summary else {}
    )
    missed = missed_open = 0
    for key, entry in entries.items():
        if entry.patient_id != event.patient_id or not entry.live:
            continue
        if month not in _months(entry.segments):
            continue
        seconds = _seconds_in(entry.segments, month)
        if entry.open:
            missed_open += 1
            what = "a stopwatch open at signing"
        elif covered.get(key) != seconds:
            what = f"{seconds} s; the signature has {covered.get(key, 'no such entry')}"
        else:
            continue
        missed += 1
        _example(findings, f"(2) signature at event {event.id} ({event.key}) missed entry {key} "
                           f"({what})")  # fmt: skip
    if missed:
        findings.short_signatures += 1
        findings.missed_entries += missed
        findings.missed_open += missed_open


# --- the script --------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{os.cpu_count()} CPU, Python {platform.python_version()}, {platform.platform(terse=True)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long (default 60)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="sqlite",
        help="postgresql and both need CCMDESK_TEST_POSTGRES_URL (a scratch database)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracebacks", action="store_true", help="print unexpected tracebacks")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    pg_url = os.environ.get("CCMDESK_TEST_POSTGRES_URL", "")
    if "postgresql" in backends and not pg_url:
        parser.error("set CCMDESK_TEST_POSTGRES_URL (or run under scripts/with-postgres.sh)")
    print(f"machine: {machine()}")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            url = pg_url if backend == "postgresql" else f"sqlite:///{Path(folder) / 'shared.db'}"
            started = time.monotonic()
            report = run(url, args.seconds, args.seed, backend)
            for line in report.lines():
                print(line)
            print(f"  wall time {time.monotonic() - started:.0f} s")
            for failure in report.failures:
                print(f"  FAILS {failure}")
            if args.tracebacks:
                for sample in report.samples:
                    print(sample)
            failed = failed or bool(report.failures)
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    # Through the module's own name, so the processes' reports unpickle as its classes.
    from benchmarks import stress

    sys.exit(stress.main())
