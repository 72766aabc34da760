"""The comprehensive care plan: its elements, what makes it signable, and the plan in force."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ccmdesk.rules.intervals import date_text

# The elements of a comprehensive care plan, in the order a plan is written and printed
# (docs/billing-rules.md, "Care plan"). Every element must be filled before a version is signed.
ELEMENTS: dict[str, str] = {
    "problems": "Problem list",
    "outcomes": "Expected outcomes and prognosis",
    "goals": "Measurable treatment goals",
    "symptoms": "Symptom management",
    "interventions": "Planned interventions and who is responsible",
    "medications": "Medication management",
    "community": "Community and social services",
    "coordination": "Coordination with other practitioners",
    "review_on": "Next review date",
}
TEXT_ELEMENTS = tuple(key for key in ELEMENTS if key != "review_on")
# The elements a condition template prefills (the nurse edits what it gives).
TEMPLATE_ELEMENTS = ("goals", "symptoms", "interventions")

# How a copy of the signed plan reached the patient or caregiver.
COPY_METHODS: dict[str, str] = {
    "in_person": "In person",
    "mail": "By mail",
    "portal": "Patient portal",
}
# The languages the patient copy is printed in; a patient's preferred language picks one.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Spanish (español)"}
DEFAULT_LANGUAGE = "en"


def language_name(language: str) -> str:
    """ "Spanish" for "es": the language's English name without its own."""
    return LANGUAGES.get(language, language).split(" (")[0]


# The practice-editable texts of the patient copy, per language.
COPY_TEXTS: dict[str, str] = {
    "title": "Title",
    "intro": "Opening words",
    "worse": "What to do when symptoms get worse",
    "emergency": "When to call 911",
    "closing": "Closing words",
}


@dataclass(frozen=True)
class PlanContent:
    """What one version of a care plan says: a text per element and the next review date."""

    problems: str = ""
    outcomes: str = ""
    goals: str = ""
    symptoms: str = ""
    interventions: str = ""
    medications: str = ""
    community: str = ""
    coordination: str = ""
    review_on: dt.date | None = None

    def text(self, key: str) -> str:
        """An element as text: the review date as YYYY-MM-DD, blank when not set."""
        value = getattr(self, key)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value or ""

    def as_dict(self) -> dict[str, str]:
        """Every element as text, in ELEMENTS order: the audit trail's before and after."""
        return {key: self.text(key) for key in ELEMENTS}

    def cleaned(self) -> PlanContent:
        """The same content with each text's surrounding white space and trailing spaces of
        lines removed: what is stored."""
        changes: dict[str, Any] = {
            key: "\n".join(line.rstrip() for line in getattr(self, key).strip().splitlines())
            for key in TEXT_ELEMENTS
        }
        return dataclasses.replace(self, **changes)


def missing(content: PlanContent) -> tuple[str, ...]:
    """The labels of the elements left empty, in plan order: a version with any cannot be
    signed (docs/billing-rules.md, "Care plan")."""
    return tuple(label for key, label in ELEMENTS.items() if not content.text(key).strip())


@dataclass(frozen=True)
class Change:
    """One element that differs between two versions."""

    key: str
    label: str
    before: str
    after: str


def changes(before: PlanContent | None, after: PlanContent) -> list[Change]:
    """The elements `after` changed from `before` (every filled one when there is none)."""
    old = before or PlanContent()
    return [
        Change(key, label, old.text(key), after.text(key))
        for key, label in ELEMENTS.items()
        if old.text(key) != after.text(key)
    ]


@dataclass(frozen=True)
class SignedPlan:
    """A signed care plan version as the billing rules see it."""

    number: int
    signed_on: dt.date  # the day it was signed, in the practice: "the care plan date"
    review_on: dt.date
    given: bool  # a copy was recorded as given to the patient or caregiver


@dataclass(frozen=True)
class PlanInForce:
    """The care plan a month is billed on: a signed version, or a plan kept elsewhere (the
    CSV's care_plan_date) known only by its date."""

    signed_on: dt.date
    number: int | None = None  # None: an external plan
    review_on: dt.date | None = None
    given: bool = False

    @property
    def external(self) -> bool:
        return self.number is None


def in_force(
    plans: Iterable[SignedPlan], external_date: dt.date | None, last_day: dt.date
) -> PlanInForce | None:
    """The plan in force on a month's last day: the latest version signed on or before it; an
    external plan dated on or before it only when no such version exists (docs/billing-rules.md,
    "Care plan")."""
    signed = [p for p in plans if p.signed_on <= last_day]
    if signed:
        plan = max(signed, key=lambda p: (p.signed_on, p.number))
        return PlanInForce(plan.signed_on, plan.number, plan.review_on, plan.given)
    if external_date is not None and external_date <= last_day:
        return PlanInForce(external_date)
    return None


def plan_warnings(plan: PlanInForce | None, last_day: dt.date) -> set[str]:
    """CARE_PLAN_REVIEW_DUE and CARE_PLAN_NOT_GIVEN for a signed version in force; an external
    plan raises neither (docs/billing-rules.md, "Care plan")."""
    warnings: set[str] = set()
    if plan is None or plan.external:
        return warnings
    if plan.review_on is not None and plan.review_on < last_day:
        warnings.add("CARE_PLAN_REVIEW_DUE")
    if not plan.given:
        warnings.add("CARE_PLAN_NOT_GIVEN")
    return warnings


def plan_label(plan: PlanInForce | None, day: Callable[[dt.date], str] = date_text) -> str:
    """The plan in force in a line: "version 3, signed 04 Nov 2026", "kept elsewhere, dated
    04 Nov 2026", or "none"; `day` writes the dates."""
    if plan is None:
        return "none"
    if plan.external:
        return f"kept elsewhere, dated {day(plan.signed_on)}"
    return f"version {plan.number}, signed {day(plan.signed_on)}"


@dataclass(frozen=True)
class ConditionTemplate:
    """A practice's template for one chronic condition: the ICD-10-CM prefixes it matches and
    the goals, symptom management and interventions it prefills."""

    key: str
    name: str
    prefixes: tuple[str, ...]
    goals: str = ""
    symptoms: str = ""
    interventions: str = ""

    def matches(self, code: str) -> bool:
        plain = code.replace(".", "").upper()
        return any(plain.startswith(p.replace(".", "").upper()) for p in self.prefixes if p)


def templates_for(
    conditions: Sequence[str], templates: Iterable[ConditionTemplate]
) -> list[ConditionTemplate]:
    """The templates that match any of the patient's conditions, in the templates' order."""
    return [t for t in templates if any(t.matches(code) for code in conditions)]


def prefill(
    content: PlanContent, chosen: Iterable[ConditionTemplate], problems: str = ""
) -> PlanContent:
    """`content` with the chosen templates' texts added under each condition's name (texts
    already there are kept), and the problem list filled from `problems` when empty."""
    changes_: dict[str, Any] = {}
    for key in TEMPLATE_ELEMENTS:
        text = getattr(content, key)
        for template in chosen:
            addition = getattr(template, key).strip()
            if addition and addition not in text:
                block = f"{template.name}:\n{addition}"
                text = f"{text.rstrip()}\n\n{block}" if text.strip() else block
        changes_[key] = text
    if not content.problems.strip() and problems:
        changes_["problems"] = problems
    return dataclasses.replace(content, **changes_)
