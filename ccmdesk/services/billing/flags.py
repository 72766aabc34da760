"""Changes that reach a billed month: the bill line compared, and the month flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import MonthClose, MonthFlag, MonthlyReview, Patient
from ccmdesk.services import audit
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.context import Actor


def bill_line(row: BillingRow) -> str:
    """One patient's line of a month's bill, as closing stores and re-checks it. When the
    month's general BHI bills, `|bhi:<codes>|<cents>` follows, so a line without BHI reads
    exactly as before BHI existed (docs/billing-rules.md, "Closed and signed months")."""
    r = row.result
    line = f"{row.mrn}|{r.codes}|{r.amount_cents}|{r.signed}"
    if r.bhi is not None and r.bhi.bills:
        line += f"|bhi:{r.bhi.codes}|{r.bhi.amount_cents}"
    return line


def billed_months(session: Session, patient_ids: Iterable[int]) -> set[str]:
    """The months whose bill these patients' records feed and that are settled: closed for the
    practice, or signed for one of them."""
    closed = set(session.scalars(select(MonthClose.month).where(MonthClose.reopened_at.is_(None))))
    signed = set(
        session.scalars(
            select(MonthlyReview.month).where(
                MonthlyReview.patient_id.in_(sorted(set(patient_ids))),
                MonthlyReview.voided_at.is_(None),
            )
        )
    )
    return closed | signed


def _lines(
    session: Session, billing: BillingService, month: str, patient_ids: list[int]
) -> dict[int, str]:
    rows = billing.evaluate_in(session, month, Patient.id.in_(patient_ids))
    query = select(Patient.mrn, Patient.id).where(Patient.id.in_(patient_ids))
    ids: dict[str, int] = {mrn: id_ for mrn, id_ in session.execute(query)}
    return {ids[r.mrn]: bill_line(r) for r in rows}


@contextmanager
def billed_months_kept(
    session: Session,
    billing: BillingService,
    patient_ids: list[int],
    *,
    flag_why: Callable[[int], str],
    actor: Actor,
    now: dt.datetime,
) -> Iterator[None]:
    """Around a change to these patients' records: where it alters the bill of a closed or
    signed month, that month is flagged, saying why (`flag_why`), until billing acknowledges
    it. The record still changes: it must say what is true (a revocation recorded late), and a
    condition added today must not wait for last year's months (docs/integrity.md, "Billed
    months stay billed")."""
    months = sorted(billed_months(session, patient_ids)) if patient_ids else []
    before = {m: _lines(session, billing, m, patient_ids) for m in months}
    yield
    if not months:
        return
    session.flush()
    for month in months:
        after = _lines(session, billing, month, patient_ids)
        for patient_id in patient_ids:
            was, now_line = before[month].get(patient_id, ""), after.get(patient_id, "")
            if was == now_line:
                continue
            why = flag_why(patient_id)
            session.add(
                MonthFlag(
                    month=month,
                    patient_id=patient_id,
                    raised_at=now,
                    raised_by=actor.key,
                    why=why,
                    before=was,
                    after=now_line,
                )
            )
            audit.record(
                session,
                at=now,
                actor=actor,
                action="month.flag",
                entity="month",
                entity_key=month,
                patient_id=patient_id,
                before={"line": was},
                after={"line": now_line},
                reason=why,
            )
