"""Many workstations on one database: the multi-process stress run, and the check it relies on."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks import stress
from benchmarks.stress import Event, Trail, judge
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
from tests.helpers.common import FakeClock
from tests.helpers.database import postgres_url

SECONDS = 20  # of load per backend; with start-up and the check, about half a minute each
MARCH_10 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def entry(start: dt.datetime, minutes: int = 4) -> dict[str, Any]:
    """The after-image of an entry added by hand."""
    return {"segments": [[start.isoformat(), (start + dt.timedelta(minutes=minutes)).isoformat()]]}


def trail(
    *events: tuple[str, str, dict[str, Any]],
    summaries: dict[tuple[int, str, str], list[list[Any]]] | None = None,
    live: int | None = None,
) -> Trail:
    """A trail of (action, key, after) events on patient 1 (MRN 1001), chained link to link."""
    chained = [
        Event(n, action, key, 1, after, f"h{n - 1}", f"h{n}")
        for n, (action, key, after) in enumerate(events, start=1)
    ]
    if live is None:
        live = len({key for action, key, _ in events if action in ("time.create", "time.start")})
    return Trail(
        chained,
        {k: json.dumps({"entries": lines}) for k, lines in (summaries or {}).items()},
        Counter({"manual": live}),
        {1: "1001"},
    )


def slot(month: str) -> tuple[dt.datetime, dt.datetime]:
    span = stress.slot(month, 0)
    assert span is not None
    return span


def sign(digest: str = "s1") -> tuple[str, str, dict[str, Any]]:
    return ("month.sign", "1001 2026-03", {"summary_sha256": digest})


# --- the check, on trails written out by hand ---------------------------------------------------


def test_a_signature_that_misses_an_entry_saved_before_it_is_found() -> None:
    saved = ("time.create", "7", entry(MARCH_10))
    missed = judge(trail(saved, sign(), summaries={(1, "2026-03", "s1"): []}))
    covered = judge(trail(saved, sign(), summaries={(1, "2026-03", "s1"): [[7, "", "", 240]]}))
    short = judge(trail(saved, sign(), summaries={(1, "2026-03", "s1"): [[7, "", "", 60]]}))
    assert (missed.signatures, missed.short_signatures, missed.missed_entries) == (1, 1, 1)
    assert missed.failures[0].startswith("(2) 1 of 1 signatures missed 1 entries")
    assert covered.failures == []
    assert short.short_signatures == 1  # the signature has fewer seconds than the entry


def test_entries_saved_after_a_signature_or_in_another_month_are_not_its_concern() -> None:
    found = judge(
        trail(
            ("time.create", "1", entry(MARCH_10 + dt.timedelta(days=30))),  # April
            sign(),
            ("month.unlock", "1001 2026-03", {}),
            ("time.create", "2", entry(MARCH_10)),
            summaries={(1, "2026-03", "s1"): []},
        )
    )
    assert (found.signatures, found.short_signatures, found.failures) == (1, 0, [])


def test_a_stopwatch_open_when_the_month_was_signed_counts_as_missed() -> None:
    found = judge(
        trail(
            ("time.start", "3", {"start": MARCH_10.isoformat()}),
            ("time.pause", "3", {"at": (MARCH_10 + dt.timedelta(minutes=2)).isoformat()}),
            sign(),
            summaries={(1, "2026-03", "s1"): []},
        )
    )
    assert (found.short_signatures, found.missed_open) == (1, 1)


def test_time_saved_into_a_closed_month_is_found_unless_it_was_deleted() -> None:
    close = ("month.close", "2026-03", {})
    reopen = ("month.reopen", "2026-03", {})
    into_closed = judge(trail(close, ("time.create", "4", entry(MARCH_10))))
    after_reopen = judge(trail(close, reopen, ("time.create", "4", entry(MARCH_10))))
    deleted = judge(
        trail(
            close, ("time.create", "4", entry(MARCH_10)), reopen, ("time.delete", "4", {}), live=0
        )
    )
    assert into_closed.into_closed == ["4"]
    assert into_closed.failures == [
        "(3) 1 live entries were committed into a closed month and 0 into a month signed for "
        "the patient"
    ]
    assert (after_reopen.closes, after_reopen.reopens, after_reopen.failures) == (1, 1, [])
    assert deleted.failures == []


def test_a_stopwatch_stopped_into_a_signed_month_is_found() -> None:
    found = judge(
        trail(
            ("time.start", "5", {"start": MARCH_10.isoformat()}),
            sign(),
            ("time.stop", "5", entry(MARCH_10)),
            summaries={(1, "2026-03", "s1"): []},
        )
    )
    assert found.into_signed == ["5"]


def test_a_forked_audit_chain_is_counted_link_by_link() -> None:
    forked = trail(("auth.screen_lock", "rn-1", {}), ("time.create", "1", entry(MARCH_10)))
    forked.events[1] = Event(2, "time.create", "1", 1, entry(MARCH_10), "h0", "h2")
    forked.chain_ok, forked.first_bad_id, forked.chain_problem = False, 2, "does not follow"
    found = judge(forked)
    assert (found.broken_links, found.first_bad_id) == (1, 2)
    assert found.failures[0].startswith("(1) the audit chain does not verify: 1 broken link(s)")


def exported(*numbers: int, resend: bool = False) -> tuple[str, str, dict[str, Any]]:
    """A month.export event whose claim files took these control numbers."""
    files = [{"name": f"claims-2026-03-p{n}.x12", "control_number": n} for n in numbers]
    return ("month.export", "2026-03", {"resend": resend, "claim_files": files})


def test_claim_files_are_numbered_once_from_the_counter_and_never_resent_unasked() -> None:
    good = trail(exported(1), exported(), exported(2, 3, resend=True))
    good.sent, good.counter = [(1, "2026-03", 1), (1, "2026-03", 2), (2, "2026-03", 3)], 3
    assert judge(good).claims == [] and judge(good).claim_files == 3
    # Two exports that read the same counter write the same control number.
    twice = trail(exported(1), exported(1))
    twice.sent, twice.counter = [(1, "2026-03", 1)], 1
    assert judge(twice).failures[0].startswith("(5) the claim files' control numbers")
    # A claim in a second file that its export did not ask to resend.
    again = trail(exported(1), exported(2))
    again.sent, again.counter = [(1, "2026-03", 1), (1, "2026-03", 2)], 2
    assert judge(again).claims == ["1001 2026-03 sent again in file 2 without resend"]
    # A sent claim that no export recorded, and a counter that ran ahead.
    stray = trail(exported(1))
    stray.sent, stray.counter = [(1, "2026-03", 7)], 2
    assert judge(stray).claims == [
        "the counter reads 2 after 1 claim files",
        "a claim was sent with control number 7, no export's",
    ]


def test_the_check_fails_rather_than_pass_without_seeing_every_entry() -> None:
    unseen = judge(trail(("time.create", "1", entry(MARCH_10)), live=2))
    unreadable = judge(trail(("time.create", "1", {"minutes": 4})))
    assert unseen.failures[0].startswith("(check) the audit trail's replay ends with 1 live")
    assert unreadable.unreadable == {"time.create": 1}
    assert unreadable.failures[0].startswith("(check)")


def test_ordinary_use_in_one_process_passes_the_check(tmp_path: Path) -> None:
    # The after-images the services really write are the ones the check reads.
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    stress.prepare(url)
    db = open_database(url)
    clock = FakeClock(stress.BASE)
    services = Services(db, clock=clock)
    nurse = Actor(key="rn-1", name="Nurse 1", role="clinical")
    try:
        services.entries.add_manual(nurse, "1001", *slot(stress.PAST), reason="call")
        timer = services.stopwatch.start(nurse, "1002")
        clock.advance(minutes=3)
        services.stopwatch.pause(nurse, timer.entry_id)
        clock.advance(minutes=1)
        services.stopwatch.resume(nurse, timer.entry_id)
        clock.advance(minutes=2)
        services.stopwatch.stop(nurse, timer.entry_id)
        services.review.sign(stress.DOCTOR, "1001", stress.PAST)
        services.review.sign(stress.DOCTOR, "1002", stress.CURRENT)
        services.closing.close(stress.BILLER, stress.PAST)
        services.closing.reopen(stress.ADMIN, stress.PAST, "one more entry")
        row = stress.minutes_row("1003", stress.IMPORTER_NURSE, *slot(stress.PAST))
        services.imports.import_data(stress.ADMIN, [("m.csv", stress.csv_bytes([row]))])
    finally:
        db.dispose()
    found = stress.check(url)
    assert found.failures == []
    assert (found.signatures, found.closes, found.reopens, found.tracked) == (2, 1, 1, 15)
    assert found.entries == {"import": 13, "manual": 1, "stopwatch": 1}


# --- seven processes at once ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])  # fmt: skip
def test_seven_processes_at_once_keep_one_trustworthy_record(backend: str, tmp_path: Path) -> None:
    """Three nurses (stopwatch and time by hand, in March and April), a practitioner signing,
    billing closing March (and an administrator reopening it), an import and sign-ins with
    automatic screen locks, each its own process on one database, for 20 s. Then:

    (1) the audit chain verifies;
    (2) every signature covers every entry committed before it. Audit event ids follow commit
        order (each change writes its events in its own transaction, and the chain is extended
        one transaction at a time), so the trail is replayed in id order. A signature covers
        what its stored summary lists (MonthlyReview.summary, whose SHA-256 the month.sign
        event records): each entry's id and seconds in the month. It must list every live entry
        of that patient in that month whose creating event (time.create, by hand or imported;
        time.start for a stopwatch) precedes the sign event, with the seconds the entry had
        then; a stopwatch still running or paused then counts as missed;
    (3) no live entry was committed (time.create, time.stop, time.update) into a month that was
        closed, or signed for its patient, at that point of the replay (month.close/reopen,
        month.sign/unlock);
    (4) no process met an unexpected error (only ServiceErrors and known errors are refusals);
    (5) the exports' claim files took control numbers 1, 2, 3... from the one counter in commit
        order, and no claim went in two files unless the second export asked to resend.
    benchmarks/stress.py `judge` is the check; docs/reliability.md has longer runs' figures."""
    url = postgres_url() if backend == "postgresql" else f"sqlite:///{tmp_path / 'shared.db'}"
    report = stress.run(url, SECONDS, backend=backend)
    figures = "\n".join(report.lines())
    assert report.failures == [], figures
    for operation in ("stopwatch stop", "add by hand (past month)", "sign", "close", "import",
                      "sign in", "automatic screen lock", "export"):  # fmt: skip
        assert report.done[operation] > 0, f"no {operation} succeeded:\n{figures}"
