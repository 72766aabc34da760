"""Writing and checking the hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ccmdesk.models import AuditEvent
from ccmdesk.services.context import Actor

GENESIS_HASH = "0" * 64
_HEAD_KEY = "ccmdesk.audit_head"
_CHAIN_LOCK = 0x43434D  # any fixed number; "CCM"


def canonical_json(value: Any) -> str | None:
    """Sorted keys, no whitespace, dates as ISO text: the same content always hashes the same."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot put {type(value).__name__} in the audit trail")


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
    """Append one event to the chain, in the caller's transaction."""
    # The head is read once per transaction. On SQLite (WAL) a transaction whose snapshot went
    # stale because another process wrote meanwhile is refused when it tries to write, so the
    # chain cannot fork there; PostgreSQL needs the lock below.
    prev_hash = session.info.get(_HEAD_KEY)
    if prev_hash is None:
        if session.get_bind().dialect.name == "postgresql":
            # PostgreSQL lets two transactions read the same head; this lock, held until commit,
            # makes appenders take turns so the chain never forks.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
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


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str = ""


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every hash in order; name the first event that does not fit."""
    prev_hash = GENESIS_HASH
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if event.prev_hash != prev_hash:
            return ChainCheck(False, count, event.id, "does not follow the event before it")
        expected = event_hash(
            event.prev_hash,
            event.at,
            event.actor,
            event.action,
            event.entity,
            event.entity_key,
            event.patient_id,
            event.before,
            event.after,
            event.reason,
        )
        if expected != event.hash:
            return ChainCheck(False, count, event.id, "its content was changed")
        prev_hash = event.hash
    return ChainCheck(True, count)
