"""A month's evaluation: what the billing panel shows for every patient, or for one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Patient
from ccmdesk.rules.billing import (
    Columns,
    Coverage,
    Month,
    MonthFacts,
    MonthResult,
    PatientFacts,
    Prepared,
    evaluate_prepared,
    prepare,
)
from ccmdesk.rules.care_plan import SignedPlan
from ccmdesk.rules.intervals import month_of
from ccmdesk.rules.validation import parse_list
from ccmdesk.services.base import ServiceBase, checked_month, practice_zone
from ccmdesk.services.billing import queries
from ccmdesk.services.billing.cache import EvaluationCache, Stamp, read_stamp
from ccmdesk.services.billing.capabilities import family_refusal
from ccmdesk.services.billing.comparison import SwitchGain, switch_gains
from ccmdesk.services.billing.plumbing import beside, collector_paused
from ccmdesk.services.billing.queries import MonthFactsRows, PatientRows, Programs, Stays, Waivers
from ccmdesk.services.claims import ClaimStatus, claim_reads, statuses_from
from ccmdesk.services.context import Actor, Clock, Permission, utc_now
from ccmdesk.services.errors import NotFound
from ccmdesk.services.refusals import message


@dataclass(frozen=True)
class BillingRow:
    """One patient's month on the billing panel."""

    mrn: str
    last_name: str
    first_name: str
    practitioner: str  # the billing practitioner's name, or ""
    practitioner_npi: str
    enrolled: bool
    active: bool
    result: MonthResult
    practitioner_key: str = ""  # the billing practitioner's staff_id, or ""

    @property
    def patient_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True)
class BillingMonth:
    """A whole month: every enrolled or active patient, sorted by MRN, as `viewer` sees it."""

    month: str
    rows: list[BillingRow]
    viewer: Actor  # who asked: what they may do with the rows depends on it
    closed: bool  # closed for billing for the whole practice
    # Each patient's claim status for the month (claim id, failing claim edits, the file it
    # was sent in), by MRN, read in the same transaction as the rows.
    claims: Mapping[str, ClaimStatus] = field(default_factory=dict)

    def claim(self, row: BillingRow) -> ClaimStatus | None:
        """The row's claim status; None for a month that does not bill (it is no claim)."""
        return self.claims.get(row.mrn) if row.result.bills else None

    def switch_family_refusal(self, row: BillingRow) -> str:
        """Why the viewer may not switch this row's code family ("" when they may), by the
        rule FamilyService.choose obeys."""
        return message(family_refusal(self.viewer, self.month, self.closed, row.result.signed))

    def can_switch_family(self, row: BillingRow) -> bool:
        return not self.switch_family_refusal(row)

    @property
    def billable(self) -> int:
        return sum(1 for row in self.rows if row.result.bills)

    @property
    def amount_cents(self) -> int:
        """What the month bills in all: each patient's program and general BHI."""
        return sum(row.result.total_cents for row in self.rows)

    def amount_by_code(self) -> dict[str, int]:
        return amount_by_code(self.rows)

    def switch_gains(self) -> list[SwitchGain]:
        """What switching the patients another program pays more for would add, by program
        (docs/billing-rules.md, "Which program pays more")."""
        return switch_gains(row.result for row in self.rows)


def amount_by_code(rows: Iterable[BillingRow]) -> dict[str, int]:
    """Cents per billed code over the rows, in code order (blocked months bill nothing), the
    general BHI's 99484 included."""
    totals: Counter[str] = Counter()
    for row in rows:
        for line in row.result.all_lines:
            totals[line.code] += line.charge_cents
    return dict(sorted(totals.items()))


@dataclass(frozen=True)
class Evaluated:
    """A whole month's enrolled or active rows as the billing panel evaluates them, with what
    they were evaluated from: for the dashboard and the worklist, through the cache."""

    m: Month
    rows: list[BillingRow]
    closed: bool
    key: Hashable  # the cache key: the month and the database stamp it was read at

    def amount_by_code(self) -> dict[str, int]:
        return amount_by_code(self.rows)


@dataclass(frozen=True)
class _Patient:
    id: int
    mrn: str
    last_name: str
    first_name: str
    practitioner: str
    npi: str
    facts: PatientFacts
    practitioner_key: str


class BillingService(ServiceBase):
    """Evaluates months with a few set-based queries, never one query per patient."""

    def __init__(
        self, db: Database, clock: Clock = utc_now, cache: EvaluationCache | None = None
    ) -> None:
        super().__init__(db, clock)
        # Shared with the dashboard and the worklist (docs/dashboard.md, "The evaluation
        # cache"); a service of its own when none is handed in.
        self.cache = cache if cache is not None else EvaluationCache()

    def evaluated_in(self, session: Session, month: str, stamp: Stamp | None = None) -> Evaluated:
        """The whole month (the rows BillingService.month shows), inside the caller's
        transaction, from the cache when nothing it reads has changed since it was
        evaluated: the key is read in the same transaction."""
        m, dos_rule, closed = queries.month_context(session, month)
        now = int(self._now().timestamp())
        key = (stamp or read_stamp(session)).for_month(m, now)
        segments = self.cache.segments(session, m, key, now)
        rows = self.cache.part(
            key,
            "rows",
            lambda: self._evaluate(session, m, dos_rule, None, False, read=segments)[0],
        )
        return Evaluated(m, rows, closed, key)

    def amounts_in(self, session: Session, month: str) -> dict[str, int]:
        """The month's amount by code (BillingMonth.amount_by_code), inside the caller's
        transaction, evaluated afresh: the dashboard keeps these small figures for its past
        months rather than their whole evaluations."""
        m, dos_rule, _ = queries.month_context(session, month)
        return amount_by_code(self._evaluate(session, m, dos_rule, None, False)[0])

    def month(self, actor: Actor, month: str) -> BillingMonth:
        """Every enrolled or active patient's month, evaluated."""
        actor = self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with collector_paused(), self._db.read() as session:
            m, dos_rule, closed = queries.month_context(session, month)
            rows, claims = self._evaluate(session, m, dos_rule, None, False, claims=True)
        return BillingMonth(month, rows, actor, closed, claims)

    def patient_month(self, actor: Actor, mrn: str, month: str) -> BillingRow:
        """One patient's month, evaluated (whether or not it is enrolled or active)."""
        self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with self._db.read() as session:
            rows = self.evaluate_in(session, month, Patient.mrn == mrn, every=True)
        if not rows:
            raise NotFound(f"There is no patient with MRN '{mrn}'.")
        return rows[0]

    def current_month(self) -> str:
        with self._db.read() as session:
            return month_of(self._now(), practice_zone(session))

    def evaluate_in(
        self,
        session: Session,
        month: str,
        which: ColumnElement[bool] | None = None,
        *,
        every: bool = False,
    ) -> list[BillingRow]:
        """The month (YYYY-MM) of the patients `which` selects (all by default), in MRN order,
        inside the caller's transaction; only the enrolled or active ones unless `every`.
        For services that must act on exactly what they evaluated (signing)."""
        m, dos_rule, _ = queries.month_context(session, month)
        return self._evaluate(session, m, dos_rule, which, every)[0]

    def evaluate_with_claims(
        self, session: Session, month: str
    ) -> tuple[list[BillingRow], dict[str, ClaimStatus]]:
        """The whole month, as evaluate_in, with each billable month's claim status (by MRN),
        worked out from the conditions the evaluation read: for the export."""
        m, dos_rule, _ = queries.month_context(session, month)
        return self._evaluate(session, m, dos_rule, None, False, claims=True)

    def _evaluate(
        self,
        session: Session,
        m: Month,
        dos_rule: str,
        which: ColumnElement[bool] | None,
        every: bool,
        *,
        claims: bool = False,
        read: dict[int, Columns] | None = None,
    ) -> tuple[list[BillingRow], dict[str, ClaimStatus]]:
        """The rows, and with `claims` every patient's claim status for the month; from
        `read` when the caller has read the month's already."""
        now = int(self._now().timestamp())
        patient_rows, conditions = queries.patient_rows(session, which)
        # A subset's ids narrow the other queries; the whole practice needs no list.
        ids = [row[0] for row in patient_rows] if which is not None else None
        months, stays, signed = queries.month_rows(session, m, ids)
        waivers = queries.waivers(session, m.month, ids)
        programs = queries.programs(session, m.month, ids)
        plans = queries.signed_plans(session, ids, until=m.last_day)

        # Preparing 10,000 patients (their facts, blocks and open families) is Python work,
        # and SQLite builds the month's segments with the interpreter lock released: a helper
        # thread does the one while this thread waits on the other, on the second core. The
        # helper touches no database.
        def prepared_() -> list[tuple[_Patient, bool, Prepared]]:
            return _prepare(
                m,
                dos_rule,
                patient_rows,
                conditions,
                months,
                stays,
                signed,
                waivers,
                programs,
                plans,
            )

        if read is not None:
            prepared, work = prepared_(), read
        else:
            prepared, work = beside(prepared_, lambda: queries.work(session, m, now, ids))
        rows: list[BillingRow] = []
        none = Columns([], [], [], [])
        for p, enrolled, patient_month in prepared:
            segments = work.get(p.id, none)
            active = bool(segments.starts)
            if not every and not enrolled and not active:
                continue
            rows.append(
                BillingRow(
                    p.mrn,
                    p.last_name,
                    p.first_name,
                    p.practitioner,
                    p.npi,
                    enrolled,
                    active,
                    evaluate_prepared(patient_month, segments),
                    p.practitioner_key,
                )
            )
        # After the segments, on this thread: on the helper thread beside them the claim
        # statuses' Python slowed the segments' fetch three times what it saved (measured).
        # Only months that bill (their program, their BHI or both) are claims, so only theirs
        # are worked out.
        statuses = (
            statuses_from(
                claim_reads(session, m.month, conditions=conditions),
                only={row.mrn for row in rows if row.result.bills},
            )
            if claims
            else {}
        )
        return rows, statuses


def coverage_of(
    payer_id: str, name: str, kind: str, covers: str, percent: int, min_diagnoses: int | None
) -> Coverage:
    """A payer row as the rules read it: `covers` is the `;`-list of docs/payers.md."""
    return Coverage(
        payer_id=payer_id,
        name=name,
        kind=kind,
        covers=parse_list(covers),
        coinsurance_percent=percent,
        min_diagnoses=min_diagnoses,
    )


def _build_patients(
    rows: PatientRows,
    conditions: dict[int, list[str]],
    waivers: Waivers,
    programs: Programs,
    plans: dict[int, list[SignedPlan]],
) -> list[_Patient]:
    """The rules' patient facts from the patients' rows: pure Python, no database."""
    out = []
    # A practice has a handful of payers: one Coverage each, shared by its patients.
    coverages: dict[int, Coverage] = {}
    for (
        pid,
        mrn,
        last,
        first,
        qmb,
        bp,
        bp_name,
        bp_role,
        npi,
        bp_key,
        consent,
        consent_for,
        revoked,
        visit,
        care_plan,
        payer_key,
        payer_id,
        payer_name,
        payer_kind,
        covers,
        percent,
        min_diagnoses,
        secondary,
        last_visit,
        g0506,
    ) in rows:
        program, focus = programs.get(pid, queries.NO_PERIOD)
        coverage = None
        if payer_key is not None:
            coverage = coverages.get(payer_key)
            if coverage is None:
                coverage = coverages[payer_key] = coverage_of(
                    payer_id, payer_name, payer_kind, covers, percent, min_diagnoses
                )
        out.append(
            _Patient(
                pid,
                mrn,
                last,
                first,
                bp_name or "",
                npi or "",
                PatientFacts(
                    conditions=tuple(conditions.get(pid, ())),
                    billing_practitioner_id=bp,
                    billing_practitioner_name=bp_name or "",
                    billing_practitioner_ok=bp_role == "practitioner" and bool(npi),
                    consent_date=consent,
                    consent_practitioner_id=consent_for,
                    consent_revoked_date=revoked,
                    initiating_visit_date=visit,
                    care_plan_date=care_plan,
                    care_plans=tuple(plans.get(pid, ())),
                    qmb=bool(qmb),
                    coverage=coverage,
                    secondary_payer=secondary or "",
                    waivers=waivers.get(pid, ()),
                    program=program,
                    focus_condition=focus,
                    last_visit_date=last_visit,
                    g0506=bool(g0506),
                ),
                bp_key or "",
            )
        )
    return out


def _prepare(
    m: Month,
    dos_rule: str,
    patient_rows: PatientRows,
    conditions: dict[int, list[str]],
    months: MonthFactsRows,
    stays: Stays,
    signed: set[int],
    waivers: Waivers,
    programs: Programs,
    plans: dict[int, list[SignedPlan]],
) -> list[tuple[_Patient, bool, Prepared]]:
    """Each patient, whether enrolled in the month, and its month prepared for the rules:
    pure Python, no database."""
    out = []
    # Most patients share the same month facts (none on file, unsigned): one object each.
    shared: dict[tuple[Any, ...], MonthFacts] = {}
    for p in _build_patients(patient_rows, conditions, waivers, programs, plans):
        facts = p.facts
        enrolled = (
            facts.consent_date is not None
            and facts.consent_date <= m.last_day
            and not (
                facts.consent_revoked_date is not None and facts.consent_revoked_date < m.first_day
            )
        )
        key = (*months.get(p.id, ("none", "", False, None)), stays.get(p.id, ()), p.id in signed)
        month_facts = shared.get(key)
        if month_facts is None:
            complexity, others, elsewhere, override, stays_of, is_signed = key
            month_facts = shared[key] = MonthFacts(
                complexity=complexity,
                other_services=tuple(c for c in others.split(";") if c),
                billed_elsewhere=bool(elsewhere),
                inpatient_stays=stays_of,
                family_override=override,
                signed=is_signed,
            )
        out.append((p, enrolled, prepare(m, facts, month_facts, dos_rule=dos_rule)))
    return out
