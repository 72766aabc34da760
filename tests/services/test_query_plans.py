"""SQLite's plans for the stopwatch's and month evaluation's hot queries use the intended index.

SQLite keeps no statistics here (nothing runs ANALYZE), so a plan depends on the schema and the
SQL alone: these tests see on a small database the plan a 300,000-entry one gets. They run
`EXPLAIN QUERY PLAN` on the statements the services actually emit, so a new index or a
reworded query that sends SQLite through a whole table, or through every segment of history,
fails here instead of in a benchmark months later (issue #16: stop p99 49-62 ms).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Services
from tests.helpers.common import BILLER, CLI, NURSE, FakeClock, patient_text
from tests.helpers.database import Statement, emitted

NOW = dt.datetime(2026, 3, 28, 16, 0, tzinfo=dt.UTC)
MONTH = "2026-03"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sw(db: Database, clock: FakeClock, staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    staffed.patients.save_text(CLI, patient_text(mrn="1002", last_name="Okafor"))
    services = Services(db, clock=clock)
    # Some history, so every query has rows of other entries of the same person to consider.
    start = NOW - dt.timedelta(days=2)
    for mrn in ("1001", "1002"):
        services.entries.add_manual(
            NURSE, mrn, start, start + dt.timedelta(minutes=20), reason="call from home"
        )
        start += dt.timedelta(hours=1)
    return services


def plan(db: Database, statement: Statement) -> list[str]:
    """SQLite's query plan for one statement, one line per step."""
    sql, parameters = statement
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        return [row[3] for row in rows]


def plans_of(db: Database, action: Callable[[], object], table: str) -> dict[str, list[str]]:
    """The plans of the statements `action` emits that read `table`."""
    with emitted(db) as seen:
        action()
    reads = re.compile(rf"\b(FROM|JOIN) {table}\b")
    found = {sql: plan(db, (sql, parameters)) for sql, parameters in seen if reads.search(sql)}
    assert found, f"no statement read {table}"
    return found


def walks_history(steps: list[str]) -> list[str]:
    """Steps that read a whole table of time, or every segment started before an instant."""
    return [
        step
        for step in steps
        if step.startswith(("SCAN time_segment", "SCAN time_entry"))
        or step.endswith("ix_time_segment_span (started_at<?)")
    ]


def test_the_overlap_check_at_stop_reads_only_segments_ending_after_the_entry_starts(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=5)
    plans = plans_of(db, lambda: sw.stopwatch.stop(NURSE, timer.entry_id), "time_segment")
    # The overlap check's queries leave the stopped entry out; the month's progress, read in
    # the same transaction, is a query of its own (its plan is checked below with the rest).
    own = {sql: steps for sql, steps in plans.items() if "time_entry.id !=" in sql}
    overlap = [steps for sql, steps in own.items() if "time_segment.ended_at >" in sql]
    assert overlap, "the stop ran no query for closed segments of other entries"
    for steps in overlap:
        assert "SEARCH time_segment USING INDEX ix_time_segment_ended_at (ended_at>?)" in steps
    running = [steps for sql, steps in own.items() if "time_segment.ended_at IS NULL" in sql]
    assert running, "the stop ran no query for running stopwatches of other entries"
    for steps in running:
        assert "SEARCH time_segment USING INDEX ix_time_segment_ended_at (ended_at=?)" in steps
    assert {sql: walks_history(steps) for sql, steps in plans.items()} == {sql: [] for sql in plans}


@pytest.mark.parametrize("table", ["time_segment", "time_entry"])
def test_start_heartbeat_pause_and_resume_never_walk_the_time_tables(
    sw: Services, db: Database, clock: FakeClock, table: str
) -> None:
    def session() -> None:
        timer = sw.stopwatch.start(NURSE, "1002")
        clock.advance(seconds=30)
        sw.stopwatch.heartbeat(NURSE, timer.entry_id)
        sw.stopwatch.pause(NURSE, timer.entry_id)
        sw.stopwatch.resume(NURSE, timer.entry_id)
        sw.stopwatch.open_timers(NURSE)

    plans = plans_of(db, session, table)
    assert {sql: walks_history(steps) for sql, steps in plans.items()} == {sql: [] for sql in plans}


def month_segment_plans(db: Database, action: Callable[[], object]) -> dict[str, list[str]]:
    # The month's segments: the statements that bound segments by time (not by their entry).
    plans = plans_of(db, action, "time_segment")
    return {sql: steps for sql, steps in plans.items() if "time_segment.started_at <" in sql}


@pytest.mark.parametrize("evaluation", ["worklist", "billing"])
def test_month_evaluation_reads_segments_from_the_covering_span_index(
    sw: Services, db: Database, evaluation: str
) -> None:
    def action() -> object:
        if evaluation == "worklist":
            return sw.minutes.worklist(NURSE, MONTH)
        return sw.billing.month(BILLER, MONTH)

    plans = month_segment_plans(db, action)
    assert plans, f"the {evaluation} read no segments by time"
    for sql, steps in plans.items():
        assert not [s for s in steps if s.startswith("SCAN time_segment")], (sql, steps)
        if "time_segment.ended_at IS NULL" in sql and "time_segment.ended_at >" not in sql:
            # Running stopwatches only: the few open segments, by the ended_at index.
            assert any("ix_time_segment_ended_at (ended_at=?)" in s for s in steps), steps
        else:
            assert any(
                "USING COVERING INDEX ix_time_segment_span (started_at<?)" in s for s in steps
            ), (sql, steps)


def scans(steps: list[str]) -> list[str]:
    """The steps that read a whole table or subquery, row by row."""
    return [step for step in steps if step.startswith("SCAN ")]


@pytest.mark.parametrize("read", ["stop", "patient panel"])
def test_one_patients_progress_counts_only_that_patients_conditions(
    sw: Services, db: Database, clock: FakeClock, read: str
) -> None:
    # The progress a stop returns (and the patient panel shows) is one patient's: counting
    # every patient's conditions to join one of them cost each Stop and save about 5 ms with
    # 10,000 patients (issue #16).
    def action() -> object:
        if read == "patient panel":
            return sw.minutes.month_progress(NURSE, "1001", MONTH)
        timer = sw.stopwatch.start(NURSE, "1001")
        clock.advance(minutes=5)
        return sw.stopwatch.stop(NURSE, timer.entry_id)

    plans = plans_of(db, action, "patient_condition")
    for sql, steps in plans.items():
        assert scans(steps) == [], (sql, steps)
        assert (
            "SEARCH patient_condition USING COVERING INDEX ix_patient_condition_patient_id "
            "(patient_id=?)" in steps
        ), (sql, steps)


def test_a_stop_scans_no_table_of_patients_or_of_time(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    # Everything a stop reads is looked up by key or by a bounded index range; only tables of
    # settings and staff (a few rows) may be read whole, and the audit chain's newest event
    # is read from the end of its table.
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=5)
    with emitted(db) as seen:
        sw.stopwatch.stop(NURSE, timer.entry_id)
    assert seen, "the stop read nothing"
    small = re.compile(r"SCAN (practice|staff)\b")
    walks = [
        (step, sql)
        for sql, parameters in seen
        for step in scans(plan(db, (sql, parameters)))
        if not small.match(step)
        and not (step == "SCAN audit_event" and "ORDER BY audit_event.id DESC" in sql)
    ]
    assert walks == []
