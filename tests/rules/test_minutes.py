"""Countable seconds for a month (C1-C6), as the worklist shows them, and the next threshold."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.rules.billing import (
    Month,
    MonthFacts,
    PatientFacts,
    Segment,
    bhi_countable_seconds,
    countable_seconds,
    epoch,
    evaluate,
)
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.rules.minutes import (
    NO_MINUTES,
    days_left,
    family_for,
    month_bounds,
    progress,
    progress_share,
    threshold_ticks,
)

NY = ZoneInfo("America/New_York")
STAFF = {"practitioner": 1, "clinical": 2, "non_clinical": 3, "billing": 4}  # one person each


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=NY).astimezone(dt.UTC)


def work(
    start: dt.datetime,
    minutes: float,
    role: str = "clinical",
    service: str = "ccm",
    face_to_face: bool = False,
) -> Segment:
    end = start + dt.timedelta(minutes=minutes)
    return Segment.of(epoch(start), epoch(end), STAFF[role], role, service, face_to_face)


def countable(
    entries: list[Segment],
    month: str,
    consent: dt.date | None = None,
    stays: tuple[tuple[dt.date, dt.date], ...] = (),
) -> int:
    return countable_seconds(Month.of(month, NY, {}), consent, stays, entries)


def test_only_clinical_care_management_time_away_from_the_patient_counts() -> None:
    day = local(2026, 3, 10, 9)
    entries = [
        work(day, 10),
        work(day + dt.timedelta(hours=1), 5, role="non_clinical"),
        work(day + dt.timedelta(hours=2), 5, role="billing"),
        work(day + dt.timedelta(hours=3), 5, service="rpm"),
        work(day + dt.timedelta(hours=4), 5, face_to_face=True),
        work(day + dt.timedelta(hours=5), 7, role="practitioner", service="pcm"),
    ]
    assert countable(entries, "2026-03") == 17 * 60


def test_overlapping_time_of_two_people_counts_once() -> None:
    day = local(2026, 3, 10, 9)
    entries = [work(day, 10), work(day + dt.timedelta(minutes=5), 10, role="practitioner")]
    assert countable(entries, "2026-03") == 15 * 60


def test_time_before_the_consent_day_and_on_inpatient_days_is_not_counted() -> None:
    entries = [
        work(local(2026, 3, 9, 23, 50), 20),  # 10 minutes before the consent day begins
        work(local(2026, 3, 20, 9), 15),  # admitted that day
        work(local(2026, 3, 22, 23, 55), 10),  # discharged the 22nd: 5 minutes are on the 23rd
    ]
    seconds = countable(
        entries, "2026-03", dt.date(2026, 3, 10), ((dt.date(2026, 3, 20), dt.date(2026, 3, 22)),)
    )
    assert seconds == 10 * 60 + 5 * 60


def test_a_consent_dated_after_the_month_cuts_nothing_as_on_the_bill() -> None:
    # Issue #16: the worklist cut every minute before such a consent (0:00), while the bill
    # counts them all and is blocked by NO_CONSENT alone.
    entries = [work(local(2026, 3, 5, 9), 12), work(local(2026, 3, 30, 14), 13)]
    march = Month.of("2026-03", NY, DEFAULT_FEES)
    visit = dt.date(2026, 2, 20)
    patient = PatientFacts(
        ("E11.9", "I10"),
        1,
        consent_date=dt.date(2026, 4, 2),
        initiating_visit_date=visit,
        care_plan_date=visit,
    )
    bill = evaluate(march, patient, MonthFacts(), entries)
    assert bill.blocks == ("NO_CONSENT",) and bill.countable_seconds == 25 * 60
    assert countable(entries, "2026-03", dt.date(2026, 4, 2)) == 25 * 60
    # Consent on a day inside the month still cuts the days before it.
    assert countable(entries, "2026-03", dt.date(2026, 3, 6)) == 13 * 60


def test_a_timer_across_the_local_month_end_leaves_each_month_its_own_seconds() -> None:
    entries = [work(local(2026, 3, 31, 23, 50), 25)]
    assert countable(entries, "2026-03") == 10 * 60
    assert countable(entries, "2026-04") == 15 * 60


def test_thresholds_need_every_second() -> None:
    assert (
        progress("ccm", 19 * 60 + 59, "2026-03", dt.date(2026, 3, 25)).next_threshold_minutes == 20
    )
    reached = progress("ccm", 20 * 60, "2026-03", dt.date(2026, 3, 25))
    assert (reached.previous_threshold_minutes, reached.next_threshold_minutes) == (20, 40)
    assert progress("ccm", 60 * 60, "2026-03", dt.date(2026, 3, 25)).next_threshold_minutes is None
    assert progress("complex", 61 * 60, "2026-03", dt.date(2026, 3, 1)).next_threshold_minutes == 90
    assert progress("pcm", 10 * 60, "2026-03", dt.date(2026, 3, 1)).seconds_short == 20 * 60
    assert progress(None, 999, "2026-03", dt.date(2026, 3, 1)).next_threshold_minutes is None


def test_need_is_the_time_short_per_day_left() -> None:
    late = progress("ccm", 10 * 60, "2026-03", dt.date(2026, 3, 30))  # 2 days left
    early = progress("ccm", 0, "2026-03", dt.date(2026, 3, 2))  # 30 days left
    assert (late.days_left, early.days_left) == (2, 30)
    assert late.need == 300 and early.need == 40
    assert late.need > early.need


def test_families_follow_the_conditions_and_the_attested_complexity() -> None:
    assert [family_for(0, "none"), family_for(1, "high"), family_for(2, "none")] == [
        None,
        "pcm",
        "ccm",
    ]
    assert family_for(3, "moderate") == family_for(2, "high") == "complex"


def test_the_program_in_force_sets_the_target() -> None:
    # docs/billing-rules.md, "Programs": PCM by focus aims at PCM whatever the condition
    # count; APCM bills without minutes, so it has no target at all.
    assert family_for(3, "high", "pcm_focus") == family_for(2, "none", "pcm_focus") == "pcm"
    assert family_for(0, "none", "pcm_focus") is None
    assert family_for(2, "none", "ccm") == "ccm" and family_for(1, "none", "ccm") == "pcm"
    assert family_for(0, "none", "apcm") == family_for(3, "high", "apcm") == NO_MINUTES
    apcm = progress(NO_MINUTES, 25 * 60, "2026-03", dt.date(2026, 3, 16))
    assert not apcm.aims and apcm.next_threshold_minutes is None and apcm.seconds_short == 0
    assert progress_share(apcm) is None and threshold_ticks(apcm) == ()
    assert apcm.need == 0  # last on the worklist, with the months already done


def test_bhi_progress_aims_at_twenty_minutes() -> None:
    today = dt.date(2026, 3, 16)
    short = progress("bhi", 20 * 60 - 1, "2026-03", today)
    assert short.aims and short.next_threshold_minutes == 20 and short.seconds_short == 1
    done = progress("bhi", 20 * 60, "2026-03", today)
    assert done.next_threshold_minutes is None and progress_share(done) == 1.0


def test_bhi_seconds_are_what_the_bill_counts_for_99484() -> None:
    # BHI time by a nurse, part face to face, part on an inpatient day, with CCM time and a
    # scheduler's BHI call beside it: only the nurse's BHI time outside the stay counts, and
    # it is exactly the BHI result's count (docs/billing-rules.md, "General BHI").
    segments = [
        work(local(2026, 3, 3, 9), 12, service="bhi"),
        work(local(2026, 3, 4, 9), 9, service="bhi", face_to_face=True),
        work(local(2026, 3, 5, 9), 7, service="bhi"),  # on the stay
        work(local(2026, 3, 6, 9), 8, "non_clinical", service="bhi"),
        work(local(2026, 3, 7, 9), 6, service="bhi"),
        work(local(2026, 3, 8, 9), 30),  # CCM: not BHI
    ]
    stays = ((dt.date(2026, 3, 5), dt.date(2026, 3, 5)),)
    patient = PatientFacts(
        conditions=("F32.9", "I10"),
        billing_practitioner_id=1,
        consent_date=dt.date(2025, 11, 4),
        initiating_visit_date=dt.date(2025, 11, 4),
        care_plan_date=dt.date(2025, 11, 4),
    )
    march = Month.of("2026-03", NY, DEFAULT_FEES)
    billed = evaluate(march, patient, MonthFacts(inpatient_stays=stays), segments)
    assert billed.bhi is not None
    shown = bhi_countable_seconds(march, patient.consent_date, stays, segments)
    assert shown == billed.bhi.countable_seconds == 18 * 60
    assert countable_seconds(march, patient.consent_date, stays, segments) == 30 * 60
    assert bhi_countable_seconds(march, patient.consent_date, stays, segments[-1:]) == 0


def test_days_left_and_month_bounds_follow_the_local_calendar() -> None:
    assert days_left("2026-02", dt.date(2026, 2, 28)) == 1
    assert days_left("2026-02", dt.date(2026, 3, 1)) == 0
    assert days_left("2026-12", dt.date(2026, 11, 20)) == 31
    start, end = month_bounds("2026-03", NY)
    assert (start, end) == (local(2026, 3, 1), local(2026, 4, 1))
    assert end - start == dt.timedelta(days=31, hours=-1)  # the spring-forward night


def test_every_progress_bar_shows_the_share_of_the_next_threshold_with_ticks_below() -> None:
    march = "2026-03"
    today = dt.date(2026, 3, 16)
    cases = [
        (progress("ccm", 17 * 60, march, today), 17 / 20, ()),
        (progress("ccm", 45 * 60, march, today), 45 / 60, (20 / 60, 40 / 60)),
        (progress("ccm", 61 * 60, march, today), 1.0, (20 / 60, 40 / 60)),
        (progress("complex", 70 * 60, march, today), 70 / 90, (60 / 90,)),
        (progress("pcm", 10 * 60, march, today), 10 / 30, ()),
    ]
    for made, share, ticks in cases:
        assert progress_share(made) == share
        assert threshold_ticks(made) == ticks
    nothing = progress(None, 600, march, today)
    assert progress_share(nothing) is None and threshold_ticks(nothing) == ()


_LO = epoch(local(2026, 2, 27))
_HI = epoch(local(2026, 4, 3))
_ROLES = ("practitioner", "clinical", "non_clinical")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(_LO, _HI - 60),
            st.integers(1, 3 * 3600),
            st.sampled_from(_ROLES),
            st.sampled_from(["bhi", "bhi", "ccm", "tcm"]),
            st.booleans(),
        ),
        max_size=8,
    ),
    st.one_of(st.none(), st.dates(dt.date(2026, 2, 25), dt.date(2026, 4, 2))),
    st.one_of(st.none(), st.dates(dt.date(2026, 2, 27), dt.date(2026, 4, 1))),
)
def test_the_bhi_bar_counts_the_seconds_99484_counts(raw, consent, stay_day) -> None:  # type: ignore[no-untyped-def]
    # Any BHI time, by any role, face to face or not, across either month end, with a stay
    # and a consent inside or outside the month: the panel's count is the bill's.
    segments = [
        Segment.of(a, min(_HI, a + n), STAFF[role], role, service, f2f)
        for a, n, role, service, f2f in raw
    ]
    stays = ((stay_day, stay_day + dt.timedelta(days=1)),) if stay_day else ()
    patient = PatientFacts(
        conditions=("F41.1",),
        billing_practitioner_id=1,
        consent_date=consent,
        initiating_visit_date=dt.date(2025, 11, 4),
        care_plan_date=dt.date(2025, 11, 4),
    )
    march = Month.of("2026-03", NY, DEFAULT_FEES)
    billed = evaluate(march, patient, MonthFacts(inpatient_stays=stays), segments)
    shown = bhi_countable_seconds(march, consent, stays, segments)
    assert shown == (billed.bhi.countable_seconds if billed.bhi is not None else 0)
