"""The rules engine on the worked cases of scenarios.md and on the cases around them."""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.rules.billing import (
    Month,
    MonthFacts,
    Segment,
    epoch,
    evaluate,
)
from ccmdesk.rules.catalog import DEFAULT_FEES, REASONS
from tests.helpers.rules import MARCH, entry, patient
from tests.helpers.scenario_cases import CASES, NY, Case, Work, assert_case, at


def run(case: Case, month: Month = MARCH, **facts: object):  # type: ignore[no-untyped-def]
    return evaluate(
        month,
        patient(**case.patient),
        MonthFacts(**(case.month | facts)),  # type: ignore[arg-type]
        [entry(item) for item in case.work],
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_every_worked_case_of_the_scenarios_file(case: Case) -> None:
    assert_case(case, run(case))
    signed = run(case, signed=True)
    assert signed.warnings == tuple(sorted(case.warnings))


def test_a_call_across_the_month_end_gives_april_its_own_ten_minutes() -> None:
    case = next(c for c in CASES if c.number == 15)
    april = Month.of("2026-04", NY, DEFAULT_FEES)
    result = run(case, month=april)
    assert result.countable_seconds == 10 * 60
    assert "SPLIT_AT_MONTH_BOUNDARY" in result.warnings


def test_the_better_paying_alternative_is_named_with_its_amount() -> None:
    result = run(next(c for c in CASES if c.number == 8))
    assert result.alternative is not None
    assert (result.alternative.family, result.alternative.codes) == ("ccm", "99490x1;99439x2")
    assert result.alternative.amount_cents == 16701
    assert any("$167.01" in note.text and note.code == "ALTERNATIVE_PAYS_MORE"
               for note in result.notes)  # fmt: skip


def test_a_biller_may_switch_to_a_compliant_family_and_hear_what_the_rules_chose() -> None:
    case = next(c for c in CASES if c.number == 8)
    switched = run(case, family_override="ccm")
    assert switched.codes == "99490x1;99439x2" and switched.amount_cents == 16701
    assert "ALTERNATIVE_PAYS_MORE" not in switched.warnings
    back = run(case, family_override="complex")
    assert back.codes == "99487x1"


def test_a_switch_the_time_no_longer_supports_falls_back_to_the_rules_choice() -> None:
    case = next(c for c in CASES if c.number == 7)  # 59 minutes: complex does not fit
    result = run(case, family_override="complex")
    assert result.codes == "99490x1;99439x1" and result.override_ignored
    assert any("no longer qualifies" in note.text for note in result.notes)


def test_explanation_says_when_each_threshold_was_reached() -> None:
    case = next(c for c in CASES if c.number == 2)
    texts = [note.text for note in run(case).notes]
    assert "20:00 of clinical staff time reached on 25 Mar → 99490" in texts


def test_explanation_names_the_pre_consent_minutes_and_the_consent_day() -> None:
    case = next(c for c in CASES if c.number == 16)
    result = run(case)
    assert result.excluded == {"PRE_CONSENT_TIME_EXCLUDED": 15 * 60}
    notes = {note.code: note.text for note in result.notes}
    assert notes["PRE_CONSENT_TIME_EXCLUDED"] == "15:00 before consent on 15 Mar not counted."


def test_every_reason_the_engine_can_give_has_a_sentence() -> None:
    for case in CASES:
        result = run(case)
        for code in (*result.blocks, *result.warnings):
            assert REASONS[code].text.endswith(".")
        assert all(note.text for note in result.notes)


# --- around the worked cases --------------------------------------------------------------


def test_19_minutes_59_seconds_is_not_20_minutes() -> None:
    start = at(4)
    short = Segment.of(epoch(start), epoch(start) + 20 * 60 - 1, 2, "clinical")
    result = evaluate(MARCH, patient(), MonthFacts(), [short])
    assert result.blocks == ("BELOW_THRESHOLD",) and result.seconds_to_next == 1
    assert result.near_threshold


def test_blocks_are_all_reported_together_with_what_the_month_would_bill() -> None:
    case = next(c for c in CASES if c.number == 5)
    result = evaluate(
        MARCH,
        patient(consent_date=None, care_plan_date=None, billing_practitioner_id=None),
        MonthFacts(billed_elsewhere=True),
        [entry(item) for item in case.work],
    )
    assert result.blocks == (
        "BILLED_ELSEWHERE",
        "NO_BILLING_PRACTITIONER",
        "NO_CARE_PLAN",
        "NO_CONSENT",
    )
    assert result.codes == "" and result.amount_cents == 0
    assert result.option is not None and result.option.codes == "99490x1;99439x2"


def test_consent_for_another_practitioner_needs_new_consent() -> None:
    result = evaluate(MARCH, patient(consent_practitioner_id=6), MonthFacts(), [])
    assert "NEW_CONSENT_REQUIRED" in result.blocks


def test_a_revocation_ends_billing_after_its_own_month() -> None:
    work = [entry(Work("RN", at(4), 25))]
    same_month = evaluate(
        MARCH, patient(consent_revoked_date=dt.date(2026, 3, 2)), MonthFacts(), work
    )
    assert same_month.billable
    earlier = evaluate(
        MARCH, patient(consent_revoked_date=dt.date(2026, 2, 27)), MonthFacts(), work
    )
    assert earlier.blocks == ("CONSENT_REVOKED",)


@pytest.mark.parametrize(
    ("visit", "blocked"),
    [
        (dt.date(2024, 11, 4), False),  # exactly 12 months before consent
        (dt.date(2024, 11, 3), True),  # a day more
        (dt.date(2026, 3, 31), False),  # the last day of the month billed
        (dt.date(2026, 4, 1), True),  # after the month
    ],
)
def test_the_initiating_visit_window(visit: dt.date, blocked: bool) -> None:
    facts = patient(initiating_visit_date=visit)
    result = evaluate(MARCH, facts, MonthFacts(), [entry(Work("RN", at(4), 25))])
    assert ("NO_INITIATING_VISIT" in result.blocks) is blocked


def test_a_care_plan_dated_after_the_month_does_not_count() -> None:
    result = evaluate(MARCH, patient(care_plan_date=dt.date(2026, 4, 1)), MonthFacts(), [])
    assert "NO_CARE_PLAN" in result.blocks


@pytest.mark.parametrize(
    ("conditions", "other", "blocked"),
    [
        (("E11.9", "I10"), "99426", True),  # PCM by the same practitioner, CCM patient
        (("I10",), "99490", True),  # CCM by the same practitioner, PCM patient
        (("I10",), "99426", False),  # the PCM patient's own family is not an exclusion
        (("E11.9", "I10"), "90960", True),  # ESRD
        (("E11.9", "I10"), "G0557", True),  # APCM
        (("E11.9", "I10"), "99495", False),  # TCM is allowed since 2020
    ],
)
def test_services_that_exclude_care_management(
    conditions: tuple[str, ...], other: str, blocked: bool
) -> None:
    result = evaluate(
        MARCH, patient(conditions=conditions), MonthFacts(other_services=(other,)), []
    )
    assert ("EXCLUDED_SERVICE" in result.blocks) is blocked


def test_no_conditions_blocks_without_below_threshold() -> None:
    result = evaluate(MARCH, patient(conditions=()), MonthFacts(), [entry(Work("RN", at(4), 5))])
    assert result.blocks == ("NO_CONDITIONS",)


def test_inpatient_days_are_cut_from_a_stay_entered_on_another_months_record() -> None:
    # A stay from 27 Feb to 2 Mar: the 1st and 2nd of March are inpatient days.
    work = [entry(Work("RN", at(1), 10)), entry(Work("RN", at(2, 23, 55), 10)),
            entry(Work("RN", at(5), 20))]  # fmt: skip
    stays = ((dt.date(2026, 2, 27), dt.date(2026, 3, 2)),)
    result = evaluate(MARCH, patient(), MonthFacts(inpatient_stays=stays), work)
    assert result.countable_seconds == 25 * 60
    assert result.excluded == {"INPATIENT_TIME_EXCLUDED": 15 * 60}
    assert "INPATIENT_TIME_EXCLUDED" in result.warnings


def test_a_segment_excluded_for_several_reasons_counts_under_the_first() -> None:
    # A scheduler's face-to-face minutes before consent: non-clinical first, all three warn.
    work = [entry(Work("SCHED", at(3), 10, face_to_face=True)), entry(Work("RN", at(20), 25))]
    result = evaluate(MARCH, patient(consent_date=dt.date(2026, 3, 15)), MonthFacts(), work)
    assert result.excluded == {"NON_CLINICAL_TIME_EXCLUDED": 600}
    assert {"NON_CLINICAL_TIME_EXCLUDED", "OTHER_SERVICE_TIME_EXCLUDED",
            "PRE_CONSENT_TIME_EXCLUDED"} <= set(result.warnings)  # fmt: skip


def test_a_paused_stopwatch_counts_its_segments_not_its_span() -> None:
    start = epoch(at(4))
    paused = [Segment.of(start, start + 600, 2, "clinical"),
              Segment.of(start + 3600, start + 4800, 2, "clinical")]  # fmt: skip
    result = evaluate(MARCH, patient(), MonthFacts(), paused)
    assert result.countable_seconds == 30 * 60 and result.codes == "99490x1"


def test_another_practitioners_time_is_staff_type_time() -> None:
    work = [entry(Work("DRB", at(4), 30))]
    result = evaluate(MARCH, patient(), MonthFacts(), work)
    assert (result.practitioner_seconds, result.staff_seconds) == (0, 30 * 60)
    assert result.codes == "99490x1"


def test_pcm_practitioner_time_bills_99424_and_large_units_ask_for_review() -> None:
    work = [entry(Work("MD", at(4), 100))]
    result = evaluate(MARCH, patient(conditions=("I10",)), MonthFacts(), work)
    assert result.codes == "99424x1;99425x2"
    complex_work = [entry(Work("RN", at(4, 8), 155))]
    heavy = evaluate(MARCH, patient(), MonthFacts(complexity="high"), complex_work)
    assert heavy.codes == "99487x1;99489x3" and "UNITS_REVIEW" in heavy.warnings


def test_complex_fallback_is_warned_even_with_no_time_at_all() -> None:
    result = evaluate(MARCH, patient(), MonthFacts(complexity="moderate"), [])
    assert "COMPLEX_FALLBACK" in result.warnings and result.blocks == ("BELOW_THRESHOLD",)


def test_a_year_without_a_fee_schedule_uses_the_latest_earlier_one() -> None:
    month = Month.of("2027-01", NY, DEFAULT_FEES)
    work = [entry(Work("RN", dt.datetime(2027, 1, 5, 10, tzinfo=NY), 20))]
    result = evaluate(month, patient(), MonthFacts(), work)
    assert result.amount_cents == 6613 and "FEES_FROM_EARLIER_YEAR" in result.warnings
    notes = {note.code: note.text for note in result.notes}
    assert "2026 amounts" in notes["FEES_FROM_EARLIER_YEAR"]


def test_patient_share_is_twenty_percent_rounded_half_up() -> None:
    case = next(c for c in CASES if c.number == 2)
    assert run(case).patient_share_cents == 1323  # 20 % of $66.13 = $13.226


def test_date_of_service_can_be_the_day_the_highest_threshold_was_reached() -> None:
    case = next(c for c in CASES if c.number == 4)  # 20 on the 4th, 40 on the 12th
    facts = patient()
    entries = [entry(item) for item in case.work]
    assert evaluate(MARCH, facts, MonthFacts(), entries).date_of_service == dt.date(2026, 3, 31)
    by_threshold = evaluate(MARCH, facts, MonthFacts(), entries, dos_rule="threshold_date")
    assert by_threshold.date_of_service == dt.date(2026, 3, 12)
    assert [t.day.day for t in by_threshold.thresholds] == [4, 12]


def test_a_dst_night_counts_true_elapsed_time() -> None:
    # 8 March 2026: clocks go from 2:00 to 3:00 in New York; 1:30 to 3:30 is one hour.
    start = dt.datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    end = dt.datetime(2026, 3, 8, 3, 30, tzinfo=NY)
    result = evaluate(
        MARCH, patient(), MonthFacts(), [Segment.of(epoch(start), epoch(end), 2, "clinical")]
    )
    assert result.countable_seconds == 3600


def test_the_database_is_seeded_with_the_catalogs_default_fees() -> None:
    import importlib

    seeded = importlib.import_module("ccmdesk.migrations.versions.0002_default_fee_schedules")
    bhi = importlib.import_module("ccmdesk.migrations.versions.0011_programs")
    both = {year: {**codes, **bhi.FEES.get(year, {})} for year, codes in seeded.FEES.items()}
    assert both == DEFAULT_FEES


def test_the_choices_are_every_compliant_family_best_paying_first() -> None:
    result = run(next(c for c in CASES if c.number == 12))  # 60 min, all Dr. A's own
    assert [(o.family, o.codes, o.amount_cents) for o in result.choices] == [
        ("ccm", "99490x1;99439x2", 16701),
        ("ccm_practitioner", "99491x1;99437x1", 15231),
    ]


# --- found in review -------------------------------------------------------------------------


def test_a_zero_length_segment_changes_nothing_on_either_path() -> None:
    work = [Segment.of(epoch(at(4)), epoch(at(4)) + 25 * 60, 2, "clinical"),
            Segment.of(epoch(at(5)), epoch(at(5)), 2, "clinical", "tcm")]  # fmt: skip
    april = Segment.of(MARCH.end + 3600, MARCH.end + 7200, 2, "clinical")
    fast = evaluate(MARCH, patient(), MonthFacts(), work)
    careful = evaluate(MARCH, patient(), MonthFacts(), [*work, april])
    assert fast.warnings == careful.warnings == ("NOT_SIGNED",)
    assert fast.excluded == careful.excluded == {}


def test_a_code_in_force_bills_in_a_year_before_its_add_on_existed() -> None:
    june_2020 = Month.of("2020-06", NY, DEFAULT_FEES)
    start = epoch(dt.datetime(2020, 6, 4, 10, tzinfo=NY))
    facts = patient(consent_date=dt.date(2020, 1, 4), initiating_visit_date=dt.date(2020, 1, 4),
                    care_plan_date=dt.date(2020, 1, 4))  # fmt: skip
    result = evaluate(
        june_2020, facts, MonthFacts(), [Segment.of(start, start + 45 * 60, 2, "clinical")]
    )
    assert result.option is not None and result.option.codes == "99490x1"  # 99439 began in 2021
    assert "ADDON_CAP_REACHED" not in result.warnings
    pcm_2021 = evaluate(Month.of("2021-06", NY, DEFAULT_FEES), patient(conditions=("I10",)),
                        MonthFacts(), [])  # fmt: skip
    assert any("no care-management code" in n.text for n in pcm_2021.notes)


def test_consent_dated_after_the_month_is_no_consent_for_it() -> None:
    work = [entry(Work("RN", at(4), 45))]
    result = evaluate(MARCH, patient(consent_date=dt.date(2026, 4, 10)), MonthFacts(), work)
    assert result.blocks == ("NO_CONSENT",) and result.countable_seconds == 45 * 60
    assert "PRE_CONSENT_TIME_EXCLUDED" not in result.warnings


def test_every_consent_block_is_reported_together() -> None:
    result = evaluate(
        MARCH,
        patient(consent_date=dt.date(2026, 4, 10), consent_practitioner_id=6),
        MonthFacts(),
        [],
    )
    assert {"NO_CONSENT", "NEW_CONSENT_REQUIRED"} <= set(result.blocks)


def test_the_next_threshold_note_names_its_code() -> None:
    result = run(next(c for c in CASES if c.number == 11))  # 30 min of Dr. A's own: 99491
    assert "10:00 more reaches 99439 at 40:00." in [n.text for n in result.notes]


def test_consent_on_the_first_or_last_day_of_the_month_cuts_only_what_came_before_it() -> None:
    work = [entry(Work("RN", at(2), 25)), entry(Work("RN", at(31), 10))]
    last = evaluate(MARCH, patient(consent_date=dt.date(2026, 3, 31)), MonthFacts(), work)
    assert last.excluded == {"PRE_CONSENT_TIME_EXCLUDED": 25 * 60}
    assert last.countable_seconds == 10 * 60
    first = evaluate(MARCH, patient(consent_date=dt.date(2026, 3, 1)), MonthFacts(), work)
    assert first.excluded == {} and first.countable_seconds == 35 * 60
    assert "PRE_CONSENT_TIME_EXCLUDED" not in first.warnings
