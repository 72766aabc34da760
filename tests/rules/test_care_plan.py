"""The care plan's elements, the plan in force on a month's last day and its warnings."""

from __future__ import annotations

import datetime as dt

from ccmdesk.rules.care_plan import (
    ConditionTemplate,
    PlanContent,
    SignedPlan,
    changes,
    in_force,
    missing,
    plan_label,
    plan_warnings,
    prefill,
    templates_for,
)

D = dt.date
NOV_30 = D(2026, 11, 30)


def test_missing_names_every_empty_element_in_plan_order() -> None:
    assert missing(PlanContent(goals="walk", review_on=D(2027, 1, 1))) == (
        "Problem list",
        "Expected outcomes and prognosis",
        "Symptom management",
        "Planned interventions and who is responsible",
        "Medication management",
        "Community and social services",
        "Coordination with other practitioners",
    )
    assert "Next review date" in missing(PlanContent(goals="walk"))


def test_the_latest_version_signed_by_the_last_day_is_in_force() -> None:
    plans = [
        SignedPlan(1, D(2026, 3, 2), D(2026, 9, 1), True),
        SignedPlan(2, D(2026, 11, 30), D(2027, 5, 1), False),
        SignedPlan(3, D(2026, 12, 1), D(2027, 6, 1), True),
    ]
    plan = in_force(plans, None, NOV_30)
    assert plan is not None and (plan.number, plan.given) == (2, False)
    assert in_force(plans, None, D(2026, 2, 28)) is None


def test_a_signed_version_wins_over_a_plan_kept_elsewhere() -> None:
    signed = [SignedPlan(1, D(2026, 6, 1), D(2027, 1, 1), True)]
    assert in_force(signed, D(2026, 10, 1), NOV_30).number == 1  # type: ignore[union-attr]
    external = in_force(signed, D(2026, 3, 1), D(2026, 4, 30))
    assert external is not None and external.external and external.signed_on == D(2026, 3, 1)
    assert in_force([], D(2026, 12, 1), NOV_30) is None  # dated after the month


def test_review_due_only_when_the_review_date_is_before_the_last_day() -> None:
    due = in_force([SignedPlan(1, D(2026, 1, 5), D(2026, 11, 29), True)], None, NOV_30)
    on_the_day = in_force([SignedPlan(1, D(2026, 1, 5), NOV_30, True)], None, NOV_30)
    assert plan_warnings(due, NOV_30) == {"CARE_PLAN_REVIEW_DUE"}
    assert plan_warnings(on_the_day, NOV_30) == set()


def test_not_given_for_a_signed_version_never_for_an_external_plan() -> None:
    ungiven = in_force([SignedPlan(1, D(2026, 1, 5), D(2027, 1, 5), False)], None, NOV_30)
    assert plan_warnings(ungiven, NOV_30) == {"CARE_PLAN_NOT_GIVEN"}
    external = in_force([], D(2020, 1, 1), NOV_30)
    assert plan_warnings(external, NOV_30) == set()
    assert plan_warnings(None, NOV_30) == set()


def test_plan_labels() -> None:
    assert plan_label(None) == "none"
    assert plan_label(in_force([], D(2026, 3, 1), NOV_30)) == "kept elsewhere, dated 01 Mar 2026"
    signed = in_force([SignedPlan(4, D(2026, 3, 1), D(2027, 1, 1), True)], None, NOV_30)
    assert plan_label(signed) == "version 4, signed 01 Mar 2026"


def test_templates_match_codes_by_prefix_and_prefill_once() -> None:
    diabetes = ConditionTemplate("diabetes", "Diabetes", ("E11",), goals="HbA1c < 7", symptoms="")
    copd = ConditionTemplate("copd", "COPD", ("J44",), interventions="Inhaler check")
    chosen = templates_for(["E11.9", "I10"], [diabetes, copd])
    assert chosen == [diabetes]
    filled = prefill(PlanContent(goals="Walk daily"), [diabetes, copd], problems="E11.9 Diabetes")
    assert filled.goals == "Walk daily\n\nDiabetes:\nHbA1c < 7"
    assert filled.interventions == "COPD:\nInhaler check"
    assert filled.problems == "E11.9 Diabetes"
    assert prefill(filled, [diabetes]) == filled  # a second prefill adds nothing twice


def test_changes_list_the_elements_that_differ() -> None:
    before = PlanContent(goals="a", review_on=D(2027, 1, 1))
    after = PlanContent(goals="b", review_on=D(2027, 1, 1), community="library")
    assert [(c.key, c.before, c.after) for c in changes(before, after)] == [
        ("goals", "a", "b"),
        ("community", "", "library"),
    ]
    assert [c.key for c in changes(None, before)] == ["goals", "review_on"]


def test_cleaning_strips_each_element() -> None:
    assert PlanContent(goals="  walk  \n run  \n").cleaned().goals == "walk\n run"
