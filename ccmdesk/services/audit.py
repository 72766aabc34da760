"""Writing and checking the hash-chained audit trail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.db import file_damage, is_write_session, missing_audit_triggers
from ccmdesk.models import AuditEvent, Patient, Staff
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.context import Actor, Permission

if TYPE_CHECKING:
    from ccmdesk.services.deep_check import DeepCheck

GENESIS_HASH = "0" * 64
_HEAD_KEY = "ccmdesk.audit_head"


def canonical_json(value: Any) -> str | None:
    """Sorted keys, no whitespace, dates as ISO text: the same content always hashes the same."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def document_digest(document: dict[str, Any]) -> str:
    """SHA-256 of a document's canonical JSON: what a month's or a care plan's signature
    stores."""
    return hashlib.sha256((canonical_json(document) or "").encode("utf-8")).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot put {type(value).__name__} in the audit trail")


def fingerprint(secret_hash: str | None) -> str | None:
    """SHA-256 of a stored password or PIN hash: the audit trail can then vouch for the hash
    without holding it (the hash's own salt is not in the trail, so this helps no guessing)."""
    if secret_hash is None:
        return None
    return hashlib.sha256(secret_hash.encode("utf-8")).hexdigest()


def event_hash(
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    patient_id: int | None,
    before: str | None,
    after: str | None,
    reason: str,
) -> str:
    content = json.dumps(
        [
            prev_hash,
            at.astimezone(dt.UTC).isoformat(),
            actor,
            action,
            entity,
            entity_key,
            patient_id,
            before,
            after,
            reason,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor: Actor,
    action: str,
    entity: str,
    entity_key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    patient_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's write transaction."""
    if not is_write_session(session):
        # The head must be read under the write lock, or two workstations extend the same head.
        raise RuntimeError("the audit trail is extended only inside a write session")
    prev_hash = session.info.get(_HEAD_KEY)
    if prev_hash is None:
        head = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        prev_hash = head.first() or GENESIS_HASH
    before_json, after_json = canonical_json(before), canonical_json(after)
    # Microseconds are dropped so the stored value reads back identically on every backend.
    at = at.astimezone(dt.UTC).replace(microsecond=0)
    event = AuditEvent(
        at=at,
        actor=actor.key,
        action=action,
        entity=entity,
        entity_key=entity_key,
        patient_id=patient_id,
        before=before_json,
        after=after_json,
        reason=reason,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash,
            at,
            actor.key,
            action,
            entity,
            entity_key,
            patient_id,
            before_json,
            after_json,
            reason,
        ),
    )
    session.add(event)
    session.info[_HEAD_KEY] = event.hash
    return event


def record_saved(
    session: Session,
    at: dt.datetime,
    actor: Actor,
    entity: str,
    key: str,
    change: tuple[dict[str, Any] | None, dict[str, Any]],
    *,
    patient_id: int | None = None,
    reason: str = "",
) -> None:
    """The practice, a staff member or a patient saved, (before, after): "<entity>.create"
    when there was none before, "<entity>.update" when it changed, no event when nothing did."""
    before, after = change
    if before == after:
        return
    record(
        session,
        at=at,
        actor=actor,
        action=f"{entity}.update" if before else f"{entity}.create",
        entity=entity,
        entity_key=key,
        before=before,
        after=after,
        reason=reason,
        patient_id=patient_id,
    )


def record_month(
    session: Session,
    at: dt.datetime,
    actor: Actor,
    action: str,
    patient: Patient,
    month: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """An event on a patient's month (sign, unlock, facts, family): keyed "MRN YYYY-MM"."""
    return record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="patient_month",
        entity_key=f"{patient.mrn} {month}",
        patient_id=patient.id,
        before=before,
        after=after,
        reason=reason,
    )


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of recomputing the chain: whether it holds, how many events were read,
    the head hash (to write down outside the database) and, when broken, where."""

    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str = ""
    head: str = GENESIS_HASH
    first_bad: AuditRow | None = None


# What an event says (the deep check reads these), then its place in the chain.
EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.entity,
    AuditEvent.entity_key,
    AuditEvent.patient_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.reason,
)
_CHAIN_COLUMNS = (
    *EVENT_COLUMNS,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def verify_chain(session: Session, expected_head: str | None = None) -> ChainCheck:
    """Recompute every hash in order; name the first event that does not fit.

    `expected_head` is a head hash written down earlier (printed by `ccmdesk audit verify` and
    on exports): it must still be in the chain, or events up to it were removed or rewritten,
    which no hash inside the database alone can show.
    """
    prev_hash = GENESIS_HASH
    count = 0
    seen_expected = expected_head is None or expected_head == GENESIS_HASH
    for row in session.execute(select(*_CHAIN_COLUMNS).order_by(AuditEvent.id)):
        count += 1
        (id_, at, actor, action, entity, key, patient_id, before, after, reason, prev, digest) = row
        problem = ""
        if prev != prev_hash:
            problem = "does not follow the event before it (one was removed, added or moved)"
        elif digest != event_hash(
            prev, at, actor, action, entity, key, patient_id, before, after, reason
        ):
            problem = "its content was changed"
        if problem:
            return ChainCheck(False, count, id_, problem, prev_hash, _row(session, row._mapping))
        prev_hash = digest
        if digest == expected_head:
            seen_expected = True
    if not seen_expected:
        return ChainCheck(
            False,
            count,
            None,
            f"the head {expected_head} written down earlier is not in the chain: events "
            "were removed or the chain was rewritten",
            prev_hash,
        )
    return ChainCheck(True, count, head=prev_hash)


@dataclass(frozen=True)
class AuditRow:
    """One event as the audit viewer shows it."""

    id: int
    at: dt.datetime
    actor: str  # staff_id, or "cli:<os user>"
    actor_name: str
    action: str
    entity: str
    entity_key: str
    mrn: str
    patient_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer narrows the trail to; empty fields do not narrow."""

    mrn: str = ""
    actor: str = ""  # staff_id
    action: str = ""  # exact, or a prefix ending in "." ("time.")
    first_day: dt.date | None = None  # local days of the practice, both ends included
    last_day: dt.date | None = None
    limit: int = 1000


def _document(text_value: str | None) -> dict[str, Any] | None:
    if text_value is None:
        return None
    try:
        value = json.loads(text_value)
    except ValueError:
        return {"(unreadable)": text_value}
    return value if isinstance(value, dict) else {"value": value}


def _row(session: Session, row: Any) -> AuditRow:
    patient = session.get(Patient, row["patient_id"]) if row["patient_id"] else None
    staff = session.scalars(select(Staff.name).where(Staff.staff_id == row["actor"])).first()
    return AuditRow(
        row["id"],
        row["at"],
        row["actor"],
        staff or row["actor"],
        row["action"],
        row["entity"],
        row["entity_key"],
        patient.mrn if patient else "",
        f"{patient.first_name} {patient.last_name}" if patient else "",
        _document(row["before"]),
        _document(row["after"]),
        row["reason"],
        row["hash"],
    )


class AuditService(ServiceBase):
    """Reading and checking the audit trail (writing is `record`, inside each service)."""

    def events(self, actor: Actor, wanted: AuditFilter) -> tuple[list[AuditRow], bool]:
        """The newest events that match, and whether there were more than the limit."""
        self._authorize(actor, Permission.VIEW_AUDIT)
        with self._db.read() as session:
            query = (
                select(
                    AuditEvent,
                    Patient.mrn,
                    Patient.first_name,
                    Patient.last_name,
                    Staff.name,
                )
                .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
                .outerjoin(Staff, Staff.staff_id == AuditEvent.actor)
                .order_by(AuditEvent.id.desc())
                .limit(wanted.limit + 1)
            )
            if wanted.mrn.strip():
                query = query.where(Patient.mrn == wanted.mrn.strip())
            if wanted.actor.strip():
                query = query.where(AuditEvent.actor == wanted.actor.strip())
            action = wanted.action.strip()
            if action.endswith("."):
                query = query.where(AuditEvent.action.startswith(action, autoescape=True))
            elif action:
                query = query.where(AuditEvent.action == action)
            zone = practice_zone(session)
            if wanted.first_day is not None:
                query = query.where(AuditEvent.at >= _midnight(wanted.first_day, zone))
            if wanted.last_day is not None:
                following = wanted.last_day + dt.timedelta(days=1)
                query = query.where(AuditEvent.at < _midnight(following, zone))
            found = session.execute(query).all()
        rows = [
            AuditRow(
                e.id,
                e.at,
                e.actor,
                staff_name or e.actor,
                e.action,
                e.entity,
                e.entity_key,
                mrn or "",
                f"{first} {last}" if mrn else "",
                _document(e.before),
                _document(e.after),
                e.reason,
                e.hash,
            )
            for e, mrn, first, last, staff_name in found[: wanted.limit]
        ]
        return rows, len(found) > wanted.limit

    def actions(self, actor: Actor) -> list[str]:
        """Every action the trail holds, for the viewer's filter."""
        self._authorize(actor, Permission.VIEW_AUDIT)
        with self._db.read() as session:
            return sorted(session.scalars(select(AuditEvent.action).distinct()))

    def verify(self, actor: Actor, expected_head: str | None = None) -> ChainCheck:
        """The chain recomputed, and the triggers that keep it append-only still in place."""
        self._authorize(actor, Permission.VIEW_AUDIT)
        with self._db.read() as session:
            check = verify_chain(session, expected_head)
            missing = missing_audit_triggers(session.connection())
        problems = [check.problem] if check.problem else []
        if missing:
            problems.append(
                f"the audit trail's protecting triggers were dropped ({', '.join(missing)}), so "
                "rows could have been changed or removed without a trace"
            )
        # Damage the chain's hashes cannot see (an index that no longer matches its table).
        if damage := file_damage(self._db):
            problems.append(damage)
        if check.ok and not problems:
            return check
        return dataclasses.replace(check, ok=False, problem="; and ".join(problems))

    def deep_check(self, actor: Actor) -> DeepCheck:
        """The data tables rebuilt from the audit trail's after-images: every row that differs
        (`ccmdesk audit verify --deep`, the Audit trail page's Deep check)."""
        self._authorize(actor, Permission.VIEW_AUDIT)
        # Imported here: the replay uses the services whose writes it rebuilds, and they
        # import this module to write the trail.
        from ccmdesk.services.deep_check import deep_check

        with self._db.read() as session:
            return deep_check(session)


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
