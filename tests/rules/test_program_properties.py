"""Properties of issue #18's programs that must hold for any month (Hypothesis): general BHI
apart from care management, the APCM level, and which program pays more."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.rules.billing import (
    BHI_SERVICE,
    FACE_TO_FACE,
    NON_CLINICAL,
    Month,
    MonthFacts,
    PatientFacts,
    Segment,
    evaluate,
)
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.rules.intervals import minus
from tests.helpers.scenario_cases import NY

# March 2026 and March 2025: from 2026 an APCM month bills no 99484 ("Dated rules").
MONTHS = {
    (month, attested): Month.of(month, NY, DEFAULT_FEES, apcm_attested=attested)
    for month in ("2025-03", "2026-03")
    for attested in (False, True)
}
ROLES = {1: "practitioner", 2: "clinical", 3: "clinical", 4: "non_clinical"}
POOL = ("E11.9", "I10", "F32.A", "J44.9", "F41.1", "N18.30")
# Warnings that only say what became of some time; BHI time may add them to the CCM result.
TIME_WARNINGS = {
    "OTHER_SERVICE_TIME_EXCLUDED",
    "NON_CLINICAL_TIME_EXCLUDED",
    "INPATIENT_TIME_EXCLUDED",
    "PRE_CONSENT_TIME_EXCLUDED",
    "SPLIT_AT_MONTH_BOUNDARY",
}


def bounds(m: Month) -> tuple[int, int]:
    """A week either side of the month: entries may cross either month end."""
    return m.start - 7 * 86400, m.end + 7 * 86400


@st.composite
def month(draw: st.DrawFn) -> Month:
    return MONTHS[(draw(st.sampled_from(["2025-03", "2026-03"])), draw(st.booleans()))]


def entries(m: Month, services: list[str]) -> st.SearchStrategy[list[Segment]]:
    """A month's entries: most inside it, some across either month end; long enough that
    thresholds are met as often as not."""
    lo, hi = bounds(m)
    one = st.builds(
        lambda staff, start, length, service, f2f: Segment.of(
            start, min(hi, start + length), staff, ROLES[staff], service, f2f
        ),
        st.sampled_from([1, 2, 2, 3, 3, 4]),
        st.one_of(st.integers(m.start, m.end - 60), st.integers(lo, hi - 60)),
        st.integers(1, 50 * 60),
        st.sampled_from(services),
        st.integers(0, 4).map(lambda k: k == 0),
    )
    return st.lists(one, max_size=8)


@st.composite
def patient(draw: st.DrawFn, m: Month) -> PatientFacts:
    """Mostly a patient every program could bill (consent, visit, conditions in order), so
    the other programs are priced often; sometimes anything."""
    first = m.first_day
    day = lambda a, b: st.dates(first - dt.timedelta(days=a), m.last_day - dt.timedelta(days=b))  # noqa: E731
    anyday = st.one_of(st.none(), day(1300, 0))
    program = draw(st.sampled_from(["ccm", "pcm_focus", "apcm"]))
    conditions = tuple(draw(st.lists(st.sampled_from(POOL), unique=True, max_size=4)))
    enrolled = draw(day(300, 31))  # consent and initiating visit before the month
    clean = draw(st.integers(0, 3)) > 0
    focus = None
    if program == "pcm_focus":
        on_list = st.sampled_from(conditions) if conditions and clean else st.sampled_from(POOL)
        focus = draw(on_list)
    return PatientFacts(
        conditions=conditions,
        billing_practitioner_id=1,
        consent_date=enrolled if clean else draw(anyday),
        initiating_visit_date=enrolled if clean else draw(anyday),
        last_visit_date=draw(anyday),
        care_plan_date=dt.date(2024, 11, 4),
        qmb=draw(st.booleans()),
        program=program,
        focus_condition=focus,
        g0506=draw(st.booleans()),
    )


@st.composite
def facts(draw: st.DrawFn, m: Month) -> MonthFacts:
    others = ("99490", "99495", "G0181", "G0557", "99426", "99484")
    stay = draw(st.one_of(st.none(), st.dates(m.first_day, m.last_day)))
    odd = draw(st.integers(0, 3)) == 0  # now and then other services or another practitioner
    return MonthFacts(
        complexity=draw(st.sampled_from(["none", "moderate"])),
        other_services=tuple(draw(st.lists(st.sampled_from(others), unique=True, max_size=2)))
        if odd
        else (),
        billed_elsewhere=odd and draw(st.booleans()),
        inpatient_stays=((stay, stay + dt.timedelta(days=1)),) if stay and odd else (),
    )


@st.composite
def a_month(draw: st.DrawFn) -> tuple[Month, PatientFacts, MonthFacts]:
    m = draw(month())
    return m, draw(patient(m)), draw(facts(m))


def reference_bhi_seconds(
    m: Month,
    work: list[Segment],
    consent: dt.date | None,
    stays: tuple[tuple[dt.date, dt.date], ...],
) -> int:
    """General BHI's countable time read straight from docs/billing-rules.md ("General BHI"):
    BHI-tagged segments by clinical staff or practitioners, not face to face, the month's part
    less inpatient days and the days before a consent dated in the month, counted once."""
    day = lambda d: int(dt.datetime.combine(d, dt.time(), NY).timestamp())  # noqa: E731
    cuts = [(day(a), day(b + dt.timedelta(days=1))) for a, b in stays]
    if consent is not None and m.first_day < consent <= m.last_day:
        cuts.append((m.start, day(consent)))
    pieces: list[tuple[int, int]] = []
    for seg in work:
        if not seg.kind & BHI_SERVICE or seg.kind & (NON_CLINICAL | FACE_TO_FACE):
            continue
        kept = [(max(seg.start, m.start), min(seg.end, m.end))]
        if kept[0][1] <= kept[0][0]:
            continue
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


def in_month(m: Month, work: list[Segment]) -> int:
    return sum(max(0, min(s.end, m.end) - max(s.start, m.start)) for s in work)


@settings(max_examples=300, deadline=None)
@given(a_month(), st.data())
def test_bhi_time_never_changes_the_care_management_result(month_facts, data) -> None:  # type: ignore[no-untyped-def]
    m, p, f = month_facts
    work = data.draw(entries(m, ["ccm", "ccm", "pcm", "tcm"]))
    bhi = data.draw(entries(m, ["bhi"]))
    before, after = evaluate(m, p, f, work), evaluate(m, p, f, [*work, *bhi])
    same = lambda r: (r.program, r.codes, r.status, r.blocks, r.amount_cents, r.option,  # noqa: E731
                      r.countable_seconds, r.practitioner_seconds, r.overlap_seconds)  # fmt: skip
    assert same(after) == same(before)
    ignored = TIME_WARNINGS | {"OTHER_PROGRAM_PAYS_MORE"}
    assert set(after.warnings) - ignored == set(before.warnings) - ignored
    # Time tagged BHI is reported as excluded from care management, never counted in it.
    if bhi and any(min(s.end, m.end) > max(s.start, m.start) for s in bhi) and p.program != "apcm":
        assert "OTHER_SERVICE_TIME_EXCLUDED" in after.warnings


@settings(max_examples=300, deadline=None)
@given(a_month(), st.data())
def test_bhi_counts_only_bhi_time_and_never_more_than_was_given(month_facts, data) -> None:  # type: ignore[no-untyped-def]
    m, p, f = month_facts
    work = data.draw(entries(m, ["ccm", "pcm", "tcm"]))
    bhi = data.draw(entries(m, ["bhi"]))
    both = evaluate(m, p, f, [*work, *bhi])
    alone = evaluate(m, p, f, bhi)
    given_in_month = in_month(m, bhi)
    if given_in_month == 0:
        # A patient-month has a BHI result only when it has BHI time.
        assert both.bhi is None and alone.bhi is None
        return
    assert both.bhi is not None and alone.bhi is not None
    seconds = both.bhi.countable_seconds
    assert seconds == alone.bhi.countable_seconds  # non-BHI time is never in it
    assert seconds <= given_in_month
    assert seconds == reference_bhi_seconds(m, bhi, p.consent_date, f.inpatient_stays)
    assert (both.bhi.codes == "99484x1") == (seconds >= 1200 and not both.bhi.blocks)


@settings(max_examples=300, deadline=None)
@given(a_month(), st.data())
def test_the_apcm_code_depends_only_on_the_conditions_and_qmb(month_facts, data) -> None:  # type: ignore[no-untyped-def]
    m, p, f = month_facts
    work = data.draw(entries(m, ["ccm", "bhi", "tcm"]))
    n = len(p.conditions)
    level = "G0556" if n <= 1 else ("G0558" if p.qmb else "G0557")
    r = evaluate(m, dataclasses.replace(p, program="apcm"), f, work)
    assert r.option is not None and r.option.codes == f"{level}x1"
    assert r.option.amount_cents == m.fees[level]
    assert "BELOW_THRESHOLD" not in r.blocks and "NO_CONDITIONS" not in r.blocks
    # Offered to a patient of another program, APCM is priced at the same level.
    for price in evaluate(m, p, f, work).others:
        if price.program == "apcm":
            assert price.lines[0].code == level


@settings(max_examples=300, deadline=None)
@given(a_month(), st.data())
def test_other_program_pays_more_is_warned_exactly_when_one_does(month_facts, data) -> None:  # type: ignore[no-untyped-def]
    m, p, f = month_facts
    work = data.draw(entries(m, ["ccm", "ccm", "bhi", "tcm"]))
    r = evaluate(m, p, f, work)
    richer = [price for price in r.others if price.amount_cents > r.total_cents]
    assert ("OTHER_PROGRAM_PAYS_MORE" in r.warnings) == bool(richer)
    assert (r.pays_more is not None) == bool(richer)
    if richer:
        assert r.pays_more == max(richer, key=lambda price: price.amount_cents)
    assert [x.amount_cents for x in r.others] == sorted(
        (x.amount_cents for x in r.others), reverse=True
    )
    # Each other program priced as the patient's month would bill under it, with the BHI it
    # allows; one that would be blocked is not offered, nor one whose code is already among
    # the month's other services, and APCM only once attested.
    alternatives = {"ccm": ["apcm"], "pcm_focus": ["ccm", "apcm"], "apcm": ["ccm"]}[p.program]
    billed_already = {code.upper() for code in f.other_services}
    expected = []
    for program in alternatives:
        other = evaluate(m, dataclasses.replace(p, program=program), f, work)
        again = any(line.code in billed_already for line in other.lines)
        if other.billable and not again and (program != "apcm" or m.apcm_attested):
            lines = other.lines + (other.bhi.lines if other.bhi is not None else ())
            expected.append((program, lines))
    assert sorted((x.program, x.lines) for x in r.others) == sorted(expected)
