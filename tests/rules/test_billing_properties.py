"""Properties of the rules engine that must hold for any month's entries (Hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.rules.billing import (
    Month,
    MonthFacts,
    PatientFacts,
    Segment,
    countable_seconds,
    evaluate,
)
from ccmdesk.rules.catalog import DEFAULT_FEES, FAMILIES
from ccmdesk.rules.intervals import minus, split_by_month
from tests.helpers.scenario_cases import NY

MARCH = Month.of("2026-03", NY, DEFAULT_FEES)
# Feb 25 to Apr 5 local: entries may cross either month end of March.
LO = int(dt.datetime(2026, 2, 25, tzinfo=NY).timestamp())
HI = int(dt.datetime(2026, 4, 5, tzinfo=NY).timestamp())
ROLES = {1: "practitioner", 2: "clinical", 3: "clinical", 4: "non_clinical"}
Stay = tuple[dt.date, dt.date]

segment = st.tuples(st.integers(LO, HI - 60), st.integers(1, 3 * 3600)).map(
    lambda t: (t[0], min(HI, t[0] + t[1]))
)


def _disjoint(start: int, steps: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """An entry's segments: in order, never overlapping (a pause leaves a gap of 0 or more)."""
    spans = []
    for gap, length in steps:
        start += gap
        if start + length > HI:
            break
        spans.append((start, start + length))
        start += length
    return tuple(spans) or ((HI - 60, HI),)


# One time entry: its segments, with who did it and for what.
entry = st.builds(
    lambda staff, start, steps, service, f2f: [
        Segment.of(a, b, staff, ROLES[staff], service, f2f) for a, b in _disjoint(start, steps)
    ],
    st.sampled_from(sorted(ROLES)),
    st.integers(LO, HI - 60),
    st.lists(st.tuples(st.integers(0, 6 * 3600), st.integers(1, 3 * 3600)), min_size=1, max_size=3),
    st.sampled_from(["ccm", "ccm", "pcm", "tcm"]),
    st.booleans(),
)
patient = st.builds(
    lambda n, consent: PatientFacts(
        conditions=("E11.9", "I10", "J44.9")[:n],
        billing_practitioner_id=1,
        consent_date=consent,
        initiating_visit_date=dt.date(2025, 11, 4),
        care_plan_date=dt.date(2025, 11, 4),
    ),
    st.integers(1, 3),
    st.one_of(st.none(), st.dates(dt.date(2026, 2, 20), dt.date(2026, 4, 3))),
)
facts = st.builds(
    lambda complexity, stay_day: MonthFacts(
        complexity=complexity,
        inpatient_stays=((stay_day, stay_day + dt.timedelta(days=1)),) if stay_day else (),
    ),
    st.sampled_from(["none", "moderate", "high"]),
    st.one_of(st.none(), st.dates(dt.date(2026, 2, 26), dt.date(2026, 4, 2))),
)


def summary(result):  # type: ignore[no-untyped-def]
    """Everything the month bills and says, explanation included."""
    fields = [f.name for f in dataclasses.fields(result) if f.name not in ("inputs", "spans")]
    return (*(getattr(result, name) for name in fields), result.thresholds, result.notes)


def flat(entries: list[list[Segment]]) -> list[Segment]:
    return [segment for item in entries for segment in item]


@settings(max_examples=300, deadline=None)
@given(patient, facts, st.lists(entry, max_size=8), st.data())
def test_cutting_an_entry_into_pieces_never_changes_the_result(p, f, entries, data) -> None:  # type: ignore[no-untyped-def]
    work = flat(entries)
    if not work:
        return
    index = data.draw(st.integers(0, len(work) - 1))
    seg = work[index]
    if seg.end - seg.start < 2:
        return
    cut = data.draw(st.integers(seg.start + 1, seg.end - 1))
    if cut in (MARCH.start, MARCH.end):
        # Cut exactly at a month end, no piece crosses it any more: only the warning
        # SPLIT_AT_MONTH_BOUNDARY may go: the split works on segments (C0, docs/billing-rules.md,
        # "C0 Segments").
        return
    # Two touching pieces (a pause of no length, or two entries back to back): no change.
    pieces = [seg._replace(end=cut), seg._replace(start=cut)]
    cut_work = [*work[:index], *pieces, *work[index + 1 :]]
    assert summary(evaluate(MARCH, p, f, cut_work)) == summary(evaluate(MARCH, p, f, work))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FAMILIES)), st.integers(0, 6 * 3600), st.integers(0, 3600))
def test_more_time_in_one_family_never_gives_fewer_units_or_less_money(key, seconds, more) -> None:  # type: ignore[no-untyped-def]
    family = FAMILIES[key]
    fees = MARCH.fees
    low, high = family.units(seconds), family.units(seconds + more)
    assert high >= low
    money = lambda units: units[0] * fees[family.base] + units[1] * fees[family.addon]  # noqa: E731
    assert money(high) >= money(low)


@settings(max_examples=300, deadline=None)
@given(patient, facts, st.lists(entry, max_size=8), st.integers(0, 4 * 3600))
def test_adding_countable_time_never_lowers_the_bill_of_the_same_family(
    p, f, entries, extra
) -> None:  # type: ignore[no-untyped-def]
    entries = flat(entries)
    before = evaluate(MARCH, p, f, entries)
    # A clinical-staff CCM entry late on the last day, after consent and any stay.
    last = MARCH.end - 1
    added = Segment.of(last - extra, last, 3, "clinical") if extra else None
    if added is None or before.option is None:
        return
    stays_clear = all(d < MARCH.last_day - dt.timedelta(days=1) for _, d in f.inpatient_stays)
    if not stays_clear or (p.consent_date and p.consent_date >= MARCH.last_day):
        return
    after = evaluate(
        MARCH, p, dataclasses.replace(f, family_override=before.option.family), [*entries, added]
    )
    assert after.countable_seconds >= before.countable_seconds
    if after.option is not None and after.option.family == before.option.family:
        assert after.option.amount_cents >= before.option.amount_cents
        assert sum(x.units for x in after.option.lines) >= sum(x.units for x in before.option.lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(entry, max_size=10))
def test_99439_never_exceeds_two_units(entries) -> None:  # type: ignore[no-untyped-def]
    p = PatientFacts(("E11.9", "I10"), 1, consent_date=dt.date(2025, 1, 1))
    result = evaluate(MARCH, p, MonthFacts(), flat(entries))
    units = {line.code: line.units for line in (result.option.lines if result.option else ())}
    assert units.get("99439", 0) <= 2
    if result.option and result.option.family == "ccm" and result.countable_seconds > 3600:
        assert "ADDON_CAP_REACHED" in result.warnings


@settings(max_examples=200, deadline=None)
@given(st.lists(segment, min_size=1, max_size=6))
def test_splitting_at_month_ends_conserves_every_second(segments) -> None:  # type: ignore[no-untyped-def]
    # One clinical person's time, all countable: the months' totals add up to the union.
    entries = [Segment.of(a, b, 2, "clinical") for a, b in segments]
    p = PatientFacts(("E11.9", "I10"), 1, consent_date=dt.date(2025, 1, 1))
    months = [Month.of(m, NY, DEFAULT_FEES) for m in ("2026-02", "2026-03", "2026-04")]
    per_month = sum(evaluate(m, p, MonthFacts(), entries).countable_seconds for m in months)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    assert per_month == sum(end - start for start, end in merged)
    for start, end in segments:
        a = dt.datetime.fromtimestamp(start, dt.UTC)
        b = dt.datetime.fromtimestamp(end, dt.UTC)
        pieces = split_by_month((a, b), NY)
        assert sum(int((y - x).total_seconds()) for _, (x, y) in pieces) == end - start


@settings(max_examples=300, deadline=None)
@given(patient, facts, st.lists(entry, max_size=8))
def test_time_wholly_in_another_month_changes_nothing(p, f, entries) -> None:  # type: ignore[no-untyped-def]
    # The extra April segment makes the month's one path cut at the month end, a step the
    # month's own segments alone skip: the result must not change.
    work = flat(entries)
    april = Segment.of(MARCH.end + 3600, MARCH.end + 7200, 2, "clinical")
    assert summary(evaluate(MARCH, p, f, [*work, april])) == summary(evaluate(MARCH, p, f, work))


def reference_seconds(work: list[Segment], consent: dt.date | None, stays: Sequence[Stay]) -> int:
    """C2-C6 read straight from the conventions (docs/billing-rules.md), one segment at a
    time, with no shortcut: March's part of each countable segment, less inpatient days and the
    days before a consent dated inside March (one dated after it is no consent for March),
    counted once."""
    day = lambda d: int(dt.datetime.combine(d, dt.time(), NY).timestamp())  # noqa: E731
    cuts = [(day(a), day(d + dt.timedelta(days=1))) for a, d in stays]
    if consent is not None and MARCH.first_day < consent <= MARCH.last_day:
        cuts.append((MARCH.start, day(consent)))
    pieces: list[tuple[int, int]] = []
    for seg in work:
        if seg.kind or min(seg.end, MARCH.end) <= max(seg.start, MARCH.start):
            continue
        kept = [(max(seg.start, MARCH.start), min(seg.end, MARCH.end))]
        for cut in cuts:
            kept = minus(kept, cut)
        pieces.extend(kept)
    covered, reach = 0, None
    for start, end in sorted(pieces):
        if reach is not None and start < reach:
            covered += max(0, end - reach)
        else:
            covered += end - start
        reach = end if reach is None else max(reach, end)
    return covered


@settings(max_examples=300, deadline=None)
@given(patient, facts, st.lists(entry, max_size=8))
def test_the_worklist_counts_the_seconds_the_bill_counts(p, f, entries) -> None:  # type: ignore[no-untyped-def]
    # Issue #16: the worklist had its own count, which disagreed with the bill when consent
    # was dated after the month. Random entries by every role, consent before, inside and
    # after the month (or none), stays across the month ends.
    work = flat(entries)
    shown = countable_seconds(MARCH, p.consent_date, f.inpatient_stays, work)
    billed = evaluate(MARCH, p, f, work)
    assert (
        shown
        == billed.countable_seconds
        == reference_seconds(work, p.consent_date, f.inpatient_stays)
    )
    assert billed.countable_seconds + billed.excluded_seconds + billed.overlap_seconds == sum(
        min(s.end, MARCH.end) - max(s.start, MARCH.start)
        for s in work
        if min(s.end, MARCH.end) > max(s.start, MARCH.start)
    )
