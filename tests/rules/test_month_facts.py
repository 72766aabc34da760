"""Each month-facts rule once: complexity, other services, inpatient stays."""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.rules.month_facts import (
    complexity_error,
    month_facts_errors,
    other_services,
    other_services_errors,
    parse_stay,
    stay_error,
)
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import OTHER_SERVICES_LIMIT, ParseError

D = dt.date


@pytest.mark.parametrize("value", ["none", "moderate", "high"])
def test_the_three_complexities_are_accepted(value: str) -> None:
    assert complexity_error(value) is None


def test_any_other_complexity_is_refused_quoting_it() -> None:
    assert complexity_error("severe") == "'severe' is not none, moderate or high"
    assert complexity_error("High") == "'High' is not none, moderate or high"


def test_other_services_are_stored_in_capitals_without_blanks_or_repeats() -> None:
    assert other_services([" g0181", "", "99495 ", "G0181"]) == ("G0181", "99495")


def test_a_code_is_five_ascii_letters_or_digits() -> None:
    assert other_services_errors(("G0181", "99495")) == []
    assert other_services_errors(("G01", "Ｇ０１８１", "G0181X")) == [
        "'G01' is not a CPT or HCPCS code (5 letters or digits)",
        "'Ｇ０１８１' is not a CPT or HCPCS code (5 letters or digits)",
        "'G0181X' is not a CPT or HCPCS code (5 letters or digits)",
    ]


def test_a_month_lists_at_most_the_limit_of_other_services() -> None:
    codes = tuple(f"G{n:04d}" for n in range(OTHER_SERVICES_LIMIT + 1))
    assert other_services_errors(codes[:OTHER_SERVICES_LIMIT]) == []
    assert other_services_errors(codes) == [
        f"lists {OTHER_SERVICES_LIMIT + 1} codes; at most {OTHER_SERVICES_LIMIT}"
    ]


def test_a_stay_is_read_from_its_text() -> None:
    assert parse_stay("2026-03-10..2026-03-12") == (D(2026, 3, 10), D(2026, 3, 12))
    with pytest.raises(ParseError, match=r"is not a stay; use YYYY-MM-DD\.\.YYYY-MM-DD"):
        parse_stay("2026-03-10")
    with pytest.raises(ParseError, match="needs both dates"):
        parse_stay("2026-03-10..")


def test_a_stay_must_not_end_before_it_starts() -> None:
    assert stay_error((D(2026, 3, 12), D(2026, 3, 10)), "2026-03") == (
        "'2026-03-12..2026-03-10' ends before it starts"
    )
    assert stay_error((D(2026, 3, 12), D(2026, 3, 12)), "2026-03") is None  # one day


def test_a_stay_needs_a_day_in_its_month_and_may_reach_beyond_it() -> None:
    assert stay_error((D(2026, 4, 2), D(2026, 4, 3)), "2026-03") == (
        "'2026-04-02..2026-04-03' is not in 2026-03"
    )
    assert stay_error((D(2026, 2, 27), D(2026, 3, 1)), "2026-03") is None
    assert stay_error((D(2026, 3, 31), D(2026, 4, 2)), "2026-03") is None
    assert stay_error((D(2026, 4, 2), D(2026, 4, 3)), None) is None  # month unknown


def test_month_facts_errors_gathers_every_rule_by_field() -> None:
    errors = month_facts_errors("2026-03", "severe", ("G01",), [(D(2026, 3, 12), D(2026, 3, 10))])
    assert errors == [
        FieldError("complexity", "'severe' is not none, moderate or high"),
        FieldError("other_services", "'G01' is not a CPT or HCPCS code (5 letters or digits)"),
        FieldError("inpatient", "'2026-03-12..2026-03-10' ends before it starts"),
    ]
    assert month_facts_errors("2026-03", "none", (), ()) == []
