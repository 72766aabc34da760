"""What every time service shares: whole-second instants, one's own entry, state and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from ccmdesk.models import TimeEntry
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor
from ccmdesk.services.time import store
from ccmdesk.services.time.records import TimerState


class TimeService(ServiceBase):
    """Durations come from UTC instants written at each transition, never from counting ticks."""

    def _now(self) -> dt.datetime:
        # Whole seconds, as entries typed by hand and imported ones are, and as C1 counts
        # (docs/billing-rules.md, "C1 Whole seconds").
        return super()._now().replace(microsecond=0)

    def _entry(self, session: Session, actor: Actor, entry_id: int) -> TimeEntry:
        return store.own_entry(session, actor, entry_id)

    def _state(self, session: Session, entry: TimeEntry, now: dt.datetime) -> TimerState:
        return store.timer_state(session, entry, now)

    def _audit(
        self,
        session: Session,
        actor: Actor,
        entry: TimeEntry,
        action: str,
        before: Mapping[str, object] | None,
        after: Mapping[str, object] | None,
        reason: str = "",
    ) -> None:
        audit.record(
            session,
            at=self._now(),
            actor=actor,
            action=action,
            entity="time_entry",
            entity_key=str(entry.id),
            patient_id=entry.patient_id,
            before=None if before is None else dict(before),
            after=None if after is None else dict(after),
            reason=reason,
        )
