"""`audit verify --deep`: the data tables rebuilt from the audit trail, and what differs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from ccmdesk.models import (
    AuditEvent,
    CarePlanCopy,
    CarePlanVersion,
    FeeScheduleAmount,
    MonthClose,
    MonthlyReview,
    Patient,
    PatientMonth,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.care_plan import ELEMENTS, PlanContent
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.rules.records import (
    CLAIM_SETTING_FIELDS,
    DEFAULT_ATTESTATION,
    PatientRecord,
    PracticeRecord,
    StaffRecord,
    StopwatchSettings,
)
from ccmdesk.services.audit import EVENT_COLUMNS, canonical_json, fingerprint
from ccmdesk.services.billing.month_facts import month_document, month_record
from ccmdesk.services.care_plans import content_of
from ccmdesk.services.coverage import payer_keys
from ccmdesk.services.patients import patient_record
from ccmdesk.services.practice import AUTO_LOCK_DEFAULT
from ccmdesk.services.staff import staff_record

# The tables compared, named as in the database.
PRACTICE, STAFF, PATIENT, TIME_ENTRY = "practice", "staff", "patient", "time_entry"
PATIENT_MONTH, SIGNATURE, FEE = "patient_month", "monthly_review", "fee_schedule_amount"
CLOSE = "month_close"
PLAN_VERSION, PLAN_COPY = "care_plan_version", "care_plan_copy"
_ENTITIES = (
    "care_plan",
    "practice",
    "staff",
    "patient",
    "time_entry",
    "patient_month",
    "month",
    "fee_schedule",
)

PRACTICE_RECORD_FIELDS = tuple(PracticeRecord.__dataclass_fields__)
PRACTICE_FIELDS = (
    *PRACTICE_RECORD_FIELDS,
    "idle_minutes",
    "activities",
    "auto_lock_minutes",
    "attestation",
)
STAFF_RECORD_FIELDS = tuple(StaffRecord.__dataclass_fields__)
STAFF_FIELDS = (*STAFF_RECORD_FIELDS, "password", "pin")
PATIENT_FIELDS = tuple(PatientRecord.__dataclass_fields__)
ENTRY_DOCUMENT = ("segments", "service", "face_to_face", "activity", "note")
ENTRY_FIELDS = ("patient", "staff", "source", "state", "deleted", *ENTRY_DOCUMENT)
IMPORTED_ENTRY = ("service", "face_to_face", "activity", "note")
FACT_FIELDS = ("complexity", "other_services", "billed_elsewhere", "inpatient")
MONTH_FIELDS = (*FACT_FIELDS, "family")
SIGNATURE_FIELDS = (
    "signed_by",
    "signed_at",
    "attestation",
    "summary_sha256",
    "voided_at",
    "voided_by",
    "void_reason",
)
CLOSE_FIELDS = ("closed_at", "closed_by", "reopened_at", "reopened_by", "reopen_reason", "bill")
# A care plan version: what it says (as text, the review date as YYYY-MM-DD), who saved it, and
# its signature (document: the SHA-256 of the document the table keeps, which must be the one
# signed). A version is never changed after it is saved (docs/billing-rules.md, "Care plan").
PLAN_CONTENT = tuple(ELEMENTS)
PLAN_SIGNATURE = ("signed_at", "signed_by", "signed_on", "attestation", "document_sha256")
PLAN_FIELDS = (*PLAN_CONTENT, "saved_at", "saved_by", *PLAN_SIGNATURE, "document")
PLAN_UNSIGNED = dict.fromkeys(PLAN_SIGNATURE[:3]) | {
    "attestation": "",
    "document_sha256": "",
    "document": "",
}
COPY_FIELDS = ("given_on", "method", "language", "note", "recorded_at", "recorded_by")
# A value the table did not keep yet when the row was written: not covered, like a field no
# event carried.
NOT_KEPT = object()
# The first administrator's event before it carried the password's fingerprint.
_SETUP_ACTOR = "setup:"


@dataclass(frozen=True)
class Event:
    """One audit event as the replay reads it (before and after as parsed JSON)."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    key: str
    patient_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str = ""


@dataclass(frozen=True)
class Stale:
    """A before-image that does not match the row the audit trail rebuilt up to that event:
    the row was changed outside ccmdesk before the event (and the event then carried it on)."""

    event: Event
    field: str
    held: Any  # what the event found in the table
    said: Any  # what the audit trail said the table held


@dataclass
class Rebuilt:
    """One row as the audit trail describes it: the fields it vouches for (a field no event
    carried is absent: not covered), and whether an event made the row at all."""

    fields: dict[str, Any] = field(default_factory=dict)
    made: bool = False
    stale: list[Stale] = field(default_factory=list)

    def check_before(self, event: Event, names: Iterable[str]) -> None:
        """Compare the event's before-image with what the trail says the row held then."""
        before = event.before or {}
        for name in names:
            if name in before and name in self.fields:
                held, said = normal(name, before[name]), normal(name, self.fields[name])
                if held != said:
                    self.stale.append(Stale(event, name, held, said))

    def take(self, values: Mapping[str, Any], names: Iterable[str]) -> None:
        for name in names:
            if name in values:
                self.fields[name] = normal(name, values[name])

    def forget(self, *names: str) -> None:
        """The event changed these without saying to what (an older kind of event)."""
        for name in names:
            self.fields.pop(name, None)


@dataclass(frozen=True)
class Difference:
    """One row or field where a data table and the audit trail disagree."""

    table: str
    key: str
    field: str = ""  # empty: the row as a whole
    table_holds: str = ""
    trail_says: str = ""
    # field; extra (no event made the row); missing; before (an event's before-image);
    # unreadable (the table holds a value the database driver cannot read); signed (a signed
    # care plan version's columns no longer say what its document does)
    kind: str = "field"
    event_id: int | None = None
    event_action: str = ""

    def message(self) -> str:
        where = f"{self.table} {escaped(self.key)}" if self.key else self.table
        if self.kind == "extra":
            return f"{where}: the table holds this row, but no event in the audit trail made it"
        if self.kind == "missing":
            return f"{where}: the audit trail says this row exists; the table has no such row"
        if self.kind == "unreadable":
            return (
                f"{where}: a value in it cannot be read ({escaped(self.table_holds)}): it was "
                "written with other tools; this table's rows are not compared"
            )
        if self.kind == "signed":
            mrn, _, number = self.key.rpartition(" v")
            return (
                f"care plan of MRN {escaped(mrn)} version {number} changed after it was signed: "
                f"{self.field}: the table and the document signed differ"
            )
        if self.kind == "before":
            return (
                f"{where}: {self.field}: event {self.event_id} ({self.event_action}) found "
                f"{self.table_holds} where the audit trail said {self.trail_says}: it was "
                "changed outside ccmdesk before that event"
            )
        return (
            f"{where}: {self.field}: the table holds {self.table_holds}; the audit trail says "
            f"{self.trail_says}"
        )


@dataclass(frozen=True)
class Coverage:
    """How much of one table the audit trail vouches for."""

    table: str
    rows: int  # rows in the table
    fields_compared: int
    fields_not_covered: int  # fields no event ever carried (rows written by older versions)
    rows_not_covered: int  # rows with at least one such field


@dataclass(frozen=True)
class DeepCheck:
    """Every data table compared with the audit trail's after-images."""

    events: int
    differences: tuple[Difference, ...]
    coverage: tuple[Coverage, ...]

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        rows = sum(c.rows for c in self.coverage)
        compared = sum(c.fields_compared for c in self.coverage)
        text = (
            f"{len(self.differences):,} difference(s) between the data tables and the audit trail"
            if self.differences
            else "The data tables match the audit trail"
        )
        text += (
            f" ({rows:,} rows of {len(self.coverage)} tables, {compared:,} fields compared "
            f"with {self.events:,} events)."
        )
        gaps = [c for c in self.coverage if c.fields_not_covered]
        if gaps:
            text += (
                f" Not covered: {sum(c.fields_not_covered for c in gaps):,} fields of "
                f"{sum(c.rows_not_covered for c in gaps):,} rows ("
                + ", ".join(f"{c.table} {c.fields_not_covered:,}" for c in gaps)
                + "), written before the audit trail carried them."
            )
        else:
            text += " Every field is covered."
        return text


# --- values ---------------------------------------------------------------------------------


def _stored(column: Any) -> Any:
    """An instant column read as the database holds it (SQLite: text; naive means UTC)."""
    return type_coerce(column, String)


def _instant(value: Any) -> Any:
    """ISO text in UTC; a stored value that is not a time stays as it is (and so differs)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def _spans(value: Any) -> list[list[Any]]:
    """Stretches as UTC instants in time order (imports write them with the file's offset)."""
    spans = [[_instant(start), _instant(end)] for start, end in value or []]
    return sorted(spans, key=lambda span: (str(span[0] or ""), str(span[1] or "")))


def _plain(value: Any) -> Any:
    """The value as the audit trail's JSON holds it (dates as ISO text, tuples as lists)."""
    # The common kinds directly: a JSON round trip for each of 200,000 fields takes seconds.
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.date):  # a datetime too, as canonical_json writes both
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    text = canonical_json(value)
    return None if text is None else json.loads(text)


_NORMAL: dict[str, Callable[[Any], Any]] = {
    "segments": _spans,
    "signed_at": _instant,
    "voided_at": _instant,
    "closed_at": _instant,
    "reopened_at": _instant,
    "saved_at": _instant,
    "recorded_at": _instant,
}


def normal(name: str, value: Any) -> Any:
    """A field's value in the one form both sides are compared in."""
    return _NORMAL.get(name, _plain)(value)


def _minutes(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def _show_spans(spans: list[list[Any]]) -> str:
    parts, total = [], 0
    for start, end in spans:
        try:
            begin = dt.datetime.fromisoformat(start)
            finish = None if end is None else dt.datetime.fromisoformat(end)
        except (TypeError, ValueError):
            parts.append(f"{show('', start)} to {show('', end)} (not times)")
            continue
        if finish is None:
            parts.append(f"{begin:%Y-%m-%d %H:%M:%S} UTC onwards (running)")
            continue
        total += int((finish - begin).total_seconds())
        shown = "%H:%M:%S" if finish.date() == begin.date() else "%Y-%m-%d %H:%M:%S"
        parts.append(f"{begin:%Y-%m-%d %H:%M:%S}–{finish:{shown}} UTC")
    return f"{_minutes(total)}: " + ", ".join(parts) if parts else "no time"


def show(name: str, value: Any) -> str:
    """A value for a message: short, quoted, control characters escaped, no secret."""
    if name == "segments":
        return _show_spans(value)
    if name in ("password", "pin"):
        what = "PIN" if name == "pin" else name
        return f"a {what} hash (fingerprint {value[:12]}…)" if value else f"no {what}"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = escaped(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= 160 else text[:157] + "…"


def escaped(text: str) -> str:
    """Control and format characters written out (\\x1b), so a value typed into a table
    cannot move the terminal's cursor or forge a line of the report."""
    return "".join(_escape(ch) if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


# --- reading ---------------------------------------------------------------------------------


def _parse(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {}  # an edited event: `audit verify` names it; nothing here relies on it
    return value if isinstance(value, dict) else {}


def read_events(session: Session) -> list[Event]:
    """The events that describe the data tables, oldest first."""
    rows = session.execute(
        select(*EVENT_COLUMNS).where(AuditEvent.entity.in_(_ENTITIES)).order_by(AuditEvent.id)
    )
    return [
        Event(id_, at, actor, action, entity, key, patient_id, _parse(before), _parse(after), why)
        for id_, at, actor, action, entity, key, patient_id, before, after, why in rows
    ]


# --- replaying the trail, one pure function per table ------------------------------------------


def replay_practice(events: Iterable[Event]) -> dict[str, Rebuilt]:
    row = Rebuilt()
    for e in events:
        after = e.after or {}
        if e.action in ("practice.create", "practice.update"):
            row.check_before(e, PRACTICE_RECORD_FIELDS)
            if e.action == "practice.create":
                # A new practice row starts with the settings' defaults.
                defaults = StopwatchSettings()
                row.take(
                    {
                        "idle_minutes": defaults.idle_minutes,
                        "activities": defaults.activities,
                        "auto_lock_minutes": AUTO_LOCK_DEFAULT,
                        "attestation": DEFAULT_ATTESTATION,
                    },
                    PRACTICE_FIELDS,
                )
            row.made = True
            row.take(after, PRACTICE_RECORD_FIELDS)
        elif e.action in (
            "practice.stopwatch_settings",
            "practice.auto_lock",
            "practice.attestation",
        ):
            row.check_before(e, PRACTICE_FIELDS)
            row.take(after, PRACTICE_FIELDS)
    return {"practice": row} if row.made or row.fields else {}


def replay_staff(events: Iterable[Event]) -> dict[str, Rebuilt]:
    rows: dict[str, Rebuilt] = {}
    for e in events:
        row = rows.setdefault(e.key, Rebuilt())
        after = e.after or {}
        if e.action in ("staff.create", "staff.update"):
            row.check_before(e, STAFF_RECORD_FIELDS)
            if e.action == "staff.create":
                # Someone new has no password and no PIN, except the first administrator,
                # whose password is set with them (its fingerprint is in the event since it
                # carried one; before that, the password is not covered).
                row.fields.update(password=None, pin=None)
                if e.actor.startswith(_SETUP_ACTOR) and "password_sha256" not in after:
                    row.forget("password")
            row.made = True
            row.take(after, STAFF_RECORD_FIELDS)
            if "password_sha256" in after:
                row.fields["password"] = after["password_sha256"]
        elif e.action == "auth.password_set":
            row.fields["password"] = after.get("password_sha256")
            if "password_sha256" not in after:
                row.forget("password")
        elif e.action == "auth.sign_in" and "password_sha256" in after:
            row.fields["password"] = after["password_sha256"]  # rehashed with stronger settings
        elif e.action == "auth.pin_set":
            row.fields["pin"] = after.get("pin_sha256")
            if "pin_sha256" not in after:
                row.forget("pin")
        elif e.action == "auth.pin_removed":
            row.fields["pin"] = None
    return rows


def replay_patients(events: Iterable[Event]) -> dict[int, Rebuilt]:
    rows: dict[int, Rebuilt] = {}
    for e in events:
        if e.patient_id is None or e.action not in ("patient.create", "patient.update"):
            continue
        row = rows.setdefault(e.patient_id, Rebuilt())
        row.check_before(e, PATIENT_FIELDS)
        row.made = True
        row.take(e.after or {}, PATIENT_FIELDS)
    return rows


def replay_time_entries(events: Iterable[Event]) -> dict[int, Rebuilt]:
    rows: dict[int, Rebuilt] = {}
    for e in events:
        try:
            row = rows.setdefault(int(e.key), Rebuilt())
        except ValueError:
            continue
        after, action = e.after or {}, e.action
        if action == "time.start":
            row.made = True
            row.take(
                {
                    "patient": e.patient_id,
                    "staff": e.actor,  # one's own stopwatch: the actor is the staff member
                    "source": "stopwatch",
                    "state": "running",
                    "deleted": False,
                    "segments": [[after.get("start"), None]],
                    "activity": "",
                    "note": "",
                    "face_to_face": False,
                },
                ENTRY_FIELDS,
            )
            row.forget("service")
            row.take(after, ["service"])
        elif action == "time.create":
            row.made = True
            imported = "segments" not in after
            row.take(
                {
                    "patient": e.patient_id,
                    "staff": after.get("staff_id") if imported else e.actor,
                    "source": "import" if imported else "manual",
                    "state": "stopped",
                    "deleted": False,
                },
                ENTRY_FIELDS,
            )
            if imported:
                row.take({"segments": [[after.get("start"), after.get("end")]]}, ["segments"])
            row.take(after, ENTRY_DOCUMENT)
        elif action in ("time.pause", "time.resume"):
            row.fields["state"] = "paused" if action == "time.pause" else "running"
            row.forget("segments")
            row.take(after, ["segments"])
        elif action == "time.stop":
            row.fields["state"] = "stopped"
            row.take(after, ENTRY_DOCUMENT)
        elif action == "time.update":
            # An import's update names one stretch only to find the entry; it changes the rest.
            changed = ENTRY_DOCUMENT if "segments" in after else IMPORTED_ENTRY
            row.check_before(e, changed)
            row.take(after, changed)
        elif action in ("time.idle_discard", "time.clock_set_back"):
            row.check_before(e, ENTRY_DOCUMENT)
            if e.after is None:
                row.fields["deleted"] = True  # moved back, nothing of it was left
            row.take(after, ENTRY_DOCUMENT)
        elif action in ("time.delete", "time.discard"):
            row.check_before(e, ENTRY_DOCUMENT if action == "time.delete" else ("state",))
            row.fields["deleted"] = True
        elif action not in ("time.idle_keep", "time.recover_keep"):  # those beat only
            row.forget(*ENTRY_FIELDS)  # a kind of event this check does not know
    return rows


def _month_key(e: Event) -> tuple[int, str] | None:
    if e.patient_id is None:
        return None
    return e.patient_id, e.key.rsplit(" ", 1)[-1]


def replay_months(events: Iterable[Event]) -> dict[tuple[int, str], Rebuilt]:
    rows: dict[tuple[int, str], Rebuilt] = {}
    for e in events:
        key = _month_key(e)
        if key is None or e.action not in ("month.update", "month.create", "month.family"):
            continue
        row = rows.get(key)
        if row is None:
            # The row is made with the defaults, then changed by the event.
            row = rows[key] = Rebuilt(made=True)
            row.take(month_document(month_record(None)) | {"family": None}, MONTH_FIELDS)
        row.check_before(e, MONTH_FIELDS)
        row.take(e.after or {}, MONTH_FIELDS)
    return rows


def replay_signatures(
    events: Iterable[Event], staff_ids: Iterable[str]
) -> dict[tuple[int, str, int], Rebuilt]:
    """Signatures by patient, month and order (1 for the month's first)."""
    staff = set(staff_ids)
    signed: dict[tuple[int, str], list[Rebuilt]] = defaultdict(list)
    for e in events:
        key = _month_key(e)
        if key is None:
            continue
        after = e.after or {}
        if e.action == "month.sign":
            row = Rebuilt(made=True)
            row.take(
                {
                    "signed_by": e.actor,
                    "signed_at": e.at,
                    "attestation": after.get("attestation"),
                    "summary_sha256": after.get("summary_sha256"),
                    "voided_at": None,
                    "voided_by": None,
                    "void_reason": None,
                },
                SIGNATURE_FIELDS,
            )
            # The summary the table keeps must still hash to what was signed.
            row.fields["summary"] = row.fields["summary_sha256"]
            signed[key].append(row)
        elif e.action == "month.unlock":
            in_force = [r for r in signed[key] if r.fields.get("voided_at") is None]
            if not in_force:
                continue
            row = in_force[-1]
            row.check_before(e, ("signed_by", "signed_at", "summary_sha256"))
            row.take(
                {
                    "voided_at": e.at,
                    # Voided from the command line: no staff member did it.
                    "voided_by": e.actor if e.actor in staff else None,
                    "void_reason": e.reason,
                },
                SIGNATURE_FIELDS,
            )
    return {
        (patient_id, month, n): row
        for (patient_id, month), rows in signed.items()
        for n, row in enumerate(rows, start=1)
    }


def _plan_key(e: Event) -> tuple[int, int] | None:
    """(patient id, version number) from a care plan event's key, "MRN vN"."""
    number = e.key.rpartition(" v")[2]
    if e.patient_id is None or not number.isdigit():
        return None
    return e.patient_id, int(number)


def replay_care_plans(
    events: Iterable[Event],
) -> tuple[dict[tuple[int, int], Rebuilt], dict[tuple[int, int, int], Rebuilt]]:
    """Care plan versions by patient and number, and the copies given of each by order (1 for
    a version's first). A save's event names only the elements it changed: the rest are the
    previous version's (none before the first)."""
    versions: dict[tuple[int, int], Rebuilt] = {}
    copies: dict[tuple[int, int], list[Rebuilt]] = defaultdict(list)
    for e in events:
        key = _plan_key(e)
        if key is None:
            continue
        after = e.after or {}
        if e.action == "care_plan.save":
            patient_id, number = key
            previous = versions.get((patient_id, number - 1))
            row = versions[key] = Rebuilt(made=True)
            if previous is not None:
                previous.check_before(e, PLAN_CONTENT)
                kept = previous.fields
                row.fields.update({name: kept[name] for name in PLAN_CONTENT if name in kept})
            elif number == 1:
                row.take(PlanContent().as_dict(), PLAN_CONTENT)
            row.take(after, PLAN_CONTENT)
            row.take({"saved_at": e.at, "saved_by": e.actor, **PLAN_UNSIGNED}, PLAN_FIELDS)
        elif e.action == "care_plan.sign":
            row = versions.setdefault(key, Rebuilt())
            row.take(
                {
                    "signed_at": e.at,
                    "signed_by": e.actor,
                    "signed_on": after.get("signed_on"),
                    "attestation": after.get("attestation"),
                    "document_sha256": after.get("document_sha256"),
                    # The document the table keeps must still hash to what was signed.
                    "document": after.get("document_sha256"),
                },
                PLAN_FIELDS,
            )
        elif e.action == "care_plan.give":
            copy = Rebuilt(made=True)
            copy.take(
                {**after, "recorded_at": e.at, "recorded_by": e.actor},
                COPY_FIELDS,
            )
            copies[key].append(copy)
        elif key in versions:
            versions[key].forget(*PLAN_FIELDS)  # a kind of event this check does not know
    given = {
        (patient_id, number, n): row
        for (patient_id, number), rows in copies.items()
        for n, row in enumerate(rows, start=1)
    }
    return versions, given


def replay_closes(events: Iterable[Event]) -> dict[tuple[str, int], Rebuilt]:
    """The practice's month closes by month and order (1 for the month's first close)."""
    closes: dict[str, list[Rebuilt]] = defaultdict(list)
    for e in events:
        after = e.after or {}
        in_force = [r for r in closes[e.key] if r.fields.get("reopened_at") is None]
        if e.action == "month.close":
            row = Rebuilt(made=True)
            row.take(
                {
                    "closed_at": e.at,
                    "closed_by": e.actor,
                    "reopened_at": None,
                    "reopened_by": None,
                    "reopen_reason": None,
                    "bill": after.get("rows_sha256"),
                },
                CLOSE_FIELDS,
            )
            closes[e.key].append(row)
        elif e.action == "month.reopen" and in_force:
            in_force[-1].check_before(e, ("closed_at", "closed_by"))
            in_force[-1].take(
                {"reopened_at": e.at, "reopened_by": e.actor, "reopen_reason": e.reason},
                CLOSE_FIELDS,
            )
        elif e.action == "month.acknowledge" and in_force and "rows_sha256" in after:
            in_force[-1].fields["bill"] = after["rows_sha256"]  # today's bill, acknowledged
    return {
        (month, n): row for month, rows in closes.items() for n, row in enumerate(rows, start=1)
    }


def replay_fees(
    events: Iterable[Event], seeded: Mapping[int, Mapping[str, int]]
) -> dict[tuple[int, str], Rebuilt]:
    """Each year's amounts: as seeded, then as each change left them. A year changed for the
    first time gets every code in force for it then (the latest earlier year's), as
    FeeService.save writes it, though its event names only the codes that changed."""
    years = {
        year: {code: Rebuilt({"amount_cents": cents}, made=True) for code, cents in amounts.items()}
        for year, amounts in seeded.items()
    }

    def in_force(year: int) -> dict[str, Rebuilt]:
        earlier = [y for y in years if y <= year]
        return years[max(earlier)] if earlier else {}

    for e in events:
        if e.action != "fees.update":
            continue
        try:
            year = int(e.key)
        except ValueError:
            continue
        current = in_force(year)
        for code, cents in (e.before or {}).items():  # the amounts in force before, changed
            said = current[code].fields.get("amount_cents") if code in current else None
            if said is not None and said != cents:
                current[code].stale.append(Stale(e, "amount_cents", cents, said))
        if year not in years:
            years[year] = {
                code: Rebuilt(dict(row.fields), made=True) for code, row in current.items()
            }
        for code, cents in (e.after or {}).items():
            row = years[year].setdefault(code, Rebuilt(made=True))
            row.fields["amount_cents"] = cents
    return {(year, code): row for year, codes in years.items() for code, row in codes.items()}


# --- what the tables hold --------------------------------------------------------------------


def read_practice(session: Session) -> dict[str, dict[str, Any]]:
    practice = session.scalars(select(Practice).limit(1)).first()
    if practice is None:
        return {}
    activities = tuple(line for line in practice.activities.splitlines() if line.strip())
    return {
        "practice": {
            "name": practice.name,
            "address": practice.address,
            "phone": practice.phone,
            "after_hours_phone": practice.after_hours_phone,
            "group_npi": practice.group_npi or "",
            "tin": practice.tin,
            "timezone": practice.timezone,
            "place_of_service": practice.place_of_service,
            "date_of_service_rule": practice.date_of_service_rule,
            **{name: getattr(practice, name) for name in CLAIM_SETTING_FIELDS},
            "idle_minutes": practice.idle_minutes,
            # As the services read them: an empty list or statement means the default.
            "activities": activities or StopwatchSettings().activities,
            "auto_lock_minutes": practice.auto_lock_minutes,
            "attestation": practice.attestation.strip() or DEFAULT_ATTESTATION,
        }
    }


def read_staff(session: Session) -> dict[str, dict[str, Any]]:
    return {
        staff.staff_id: {
            **dataclasses.asdict(staff_record(staff)),
            "password": fingerprint(staff.password_hash),
            "pin": fingerprint(staff.pin_hash),
        }
        for staff in session.scalars(select(Staff))
    }


def read_patients(session: Session, staff_keys: Mapping[int, str]) -> dict[int, dict[str, Any]]:
    patients = session.scalars(
        select(Patient).options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
    )
    # The fields as audit_form has them, without asdict's deep copies (seconds for 10,000).
    payers = payer_keys(session)
    records = ((p.id, patient_record(p, staff_keys, payers)) for p in patients)
    return {id_: {name: getattr(r, name) for name in PATIENT_FIELDS} for id_, r in records}


def read_time_entries(session: Session, staff_keys: Mapping[int, str]) -> dict[int, dict[str, Any]]:
    segments: dict[int, list[list[Any]]] = defaultdict(list)
    # As stored, parsed here: a start or end that is not a time is shown, not a traceback.
    for entry_id, started, ended in session.execute(
        select(TimeSegment.entry_id, _stored(TimeSegment.started_at), _stored(TimeSegment.ended_at))
    ):
        segments[entry_id].append([started, ended])
    rows = session.execute(
        select(
            TimeEntry.id,
            TimeEntry.patient_id,
            TimeEntry.staff_id,
            TimeEntry.source,
            TimeEntry.state,
            _stored(TimeEntry.deleted_at),
            TimeEntry.service,
            TimeEntry.face_to_face,
            TimeEntry.activity,
            TimeEntry.note,
        )
    )
    return {
        id_: {
            "patient": patient_id,
            "staff": staff_keys.get(staff_id, f"#{staff_id}"),
            "source": source,
            "state": state,
            "deleted": deleted_at is not None,
            "segments": segments.get(id_, []),
            "service": service,
            "face_to_face": face_to_face,
            "activity": activity,
            "note": note,
        }
        for id_, patient_id, staff_id, source, state, deleted_at, service, face_to_face, activity,
        note in rows
    }  # fmt: skip


def read_months(session: Session) -> dict[tuple[int, str], dict[str, Any]]:
    rows = session.scalars(select(PatientMonth).options(selectinload(PatientMonth.inpatient_stays)))
    return {
        (row.patient_id, row.month): month_document(month_record(row))
        | {"family": row.family_override}
        for row in rows
    }


def read_signatures(
    session: Session, staff_keys: Mapping[int, str]
) -> dict[tuple[int, str, int], dict[str, Any]]:
    out: dict[tuple[int, str, int], dict[str, Any]] = {}
    count: dict[tuple[int, str], int] = defaultdict(int)
    for review in session.scalars(select(MonthlyReview).order_by(MonthlyReview.id)):
        count[(review.patient_id, review.month)] += 1
        out[(review.patient_id, review.month, count[(review.patient_id, review.month)])] = {
            "signed_by": staff_keys.get(review.signed_by_id, f"#{review.signed_by_id}"),
            "signed_at": review.signed_at,
            "attestation": review.attestation,
            "summary_sha256": review.summary_hash,
            # What was signed, as the table holds it now: its hash must be the audited one.
            "summary": hashlib.sha256(review.summary.encode("utf-8")).hexdigest(),
            "voided_at": review.voided_at,
            "voided_by": (
                staff_keys.get(review.voided_by_id, f"#{review.voided_by_id}")
                if review.voided_by_id is not None
                else None
            ),
            "void_reason": review.void_reason,
        }
    return out


def read_closes(session: Session) -> dict[tuple[str, int], dict[str, Any]]:
    out: dict[tuple[str, int], dict[str, Any]] = {}
    count: dict[str, int] = defaultdict(int)
    for close in session.scalars(select(MonthClose).order_by(MonthClose.id)):
        count[close.month] += 1
        out[(close.month, count[close.month])] = {
            "closed_at": close.closed_at,
            "closed_by": close.closed_by,
            "reopened_at": close.reopened_at,
            "reopened_by": close.reopened_by,
            "reopen_reason": close.reopen_reason,
            # A month closed before the bill was kept (migration 0008) has none to compare.
            "bill": hashlib.sha256(close.bill.encode("utf-8")).hexdigest()
            if close.bill
            else NOT_KEPT,
        }
    return out


def read_care_plans(
    session: Session, staff_keys: Mapping[int, str]
) -> tuple[dict[tuple[int, int], dict[str, Any]], list[tuple[int, int, list[str]]]]:
    """Every care plan version's fields, and the signed versions whose columns no longer say
    what their document does: (patient id, number, the fields that differ)."""
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    changed: list[tuple[int, int, list[str]]] = []
    for v in session.scalars(select(CarePlanVersion).order_by(CarePlanVersion.id)):
        said = content_of(v).as_dict()
        rows[(v.patient_id, v.number)] = {
            **said,
            "saved_at": v.saved_at,
            "saved_by": v.saved_by,
            "signed_at": v.signed_at,
            "signed_by": (
                staff_keys.get(v.signed_by_id, f"#{v.signed_by_id}")
                if v.signed_by_id is not None
                else None
            ),
            "signed_on": v.signed_on,
            "attestation": v.attestation,
            "document_sha256": v.document_hash,
            "document": hashlib.sha256(v.document.encode("utf-8")).hexdigest()
            if v.document
            else "",
        }
        signed = _parse(v.document) if v.document else None
        if signed:  # one that is not a document differs from its hash, named above
            # The patient's name and birth date in it may have been corrected since: not the
            # version's columns, so not compared.
            differ = [name for name in PLAN_CONTENT if signed.get(name) != said[name]]
            if signed.get("version") != v.number:
                differ.insert(0, "version")
            if differ:
                changed.append((v.patient_id, v.number, differ))
    return rows, changed


def read_copies(session: Session) -> dict[tuple[int, int, int], dict[str, Any]]:
    out: dict[tuple[int, int, int], dict[str, Any]] = {}
    count: dict[tuple[int, int], int] = defaultdict(int)
    query = (
        select(CarePlanVersion.patient_id, CarePlanVersion.number, CarePlanCopy)
        .join(CarePlanVersion, CarePlanCopy.version_id == CarePlanVersion.id)
        .order_by(CarePlanCopy.id)
    )
    for patient_id, number, copy in session.execute(query):
        count[(patient_id, number)] += 1
        out[(patient_id, number, count[(patient_id, number)])] = {
            "given_on": copy.given_on,
            "method": copy.method,
            "language": copy.language,
            "note": copy.note,
            "recorded_at": copy.recorded_at,
            "recorded_by": copy.recorded_by,
        }
    return out


def read_fees(session: Session) -> dict[tuple[int, str], dict[str, Any]]:
    rows = session.execute(
        select(FeeScheduleAmount.year, FeeScheduleAmount.code, FeeScheduleAmount.amount_cents)
    )
    return {(year, code): {"amount_cents": cents} for year, code, cents in rows}


# --- comparing --------------------------------------------------------------------------------


def compare(
    table: str,
    rebuilt: Mapping[Any, Rebuilt],
    actual: Mapping[Any, Mapping[str, Any]],
    fields: Sequence[str],
    label: Callable[[Any], str],
    *,
    shown: Callable[[str, Any], str] = show,
    fields_of: Callable[[Rebuilt], Sequence[str]] | None = None,
) -> tuple[list[Difference], Coverage]:
    """Every row of one table beside the audit trail's version of it, field by field."""
    differences: list[Difference] = []
    compared = not_covered = rows_not_covered = 0
    keys: list[Hashable] = sorted(set(rebuilt) | set(actual))
    for key in keys:
        row, held = rebuilt.get(key), actual.get(key)
        name = label(key)
        if held is None:
            if row is not None and row.made:
                differences.append(Difference(table, name, kind="missing"))
        elif row is None or not row.made:
            differences.append(Difference(table, name, kind="extra"))
        else:
            gaps = 0
            for column in fields_of(row) if fields_of else fields:
                if column not in row.fields or held[column] is NOT_KEPT:
                    gaps += 1
                    continue
                compared += 1
                value, said = normal(column, held[column]), row.fields[column]
                if value != said:
                    differences.append(
                        Difference(table, name, column, shown(column, value), shown(column, said))
                    )
            not_covered += gaps
            rows_not_covered += bool(gaps)
        for stale in row.stale if row is not None else ():
            differences.append(
                Difference(
                    table,
                    name,
                    stale.field,
                    shown(stale.field, stale.held),
                    shown(stale.field, stale.said),
                    kind="before",
                    event_id=stale.event.id,
                    event_action=stale.event.action,
                )
            )
    return differences, Coverage(table, len(actual), compared, not_covered, rows_not_covered)


def deep_check(session: Session) -> DeepCheck:
    """Rebuild the data tables from the audit trail and compare, in one read snapshot."""
    events = read_events(session)
    by_entity: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_entity[event.entity].append(event)
    staff_keys: dict[int, str] = {
        i: k for i, k in session.execute(select(Staff.id, Staff.staff_id))
    }
    mrns: dict[int, str] = {i: m for i, m in session.execute(select(Patient.id, Patient.mrn))}

    def mrn(patient_id: Any) -> str:
        return mrns.get(patient_id, f"(patient #{patient_id})")

    rebuilt_entries = replay_time_entries(by_entity["time_entry"])
    entries: dict[int, dict[str, Any]] = {}

    def read_entries() -> dict[int, dict[str, Any]]:
        entries.update(read_time_entries(session, staff_keys))
        return entries

    def entry_label(key: int) -> str:
        row = entries.get(key)
        facts = row if row is not None else rebuilt_entries[key].fields
        if "patient" not in facts:
            return str(key)
        return f"{key} (MRN {mrn(facts['patient'])}, {facts.get('staff', '?')})"

    def entry_shown(name: str, value: Any) -> str:
        return f"MRN {mrn(value)}" if name == "patient" and value is not None else show(name, value)

    def entry_fields(row: Rebuilt) -> Sequence[str]:
        # A deleted entry counts nowhere: only that it is deleted matters.
        return ("deleted",) if row.fields.get("deleted") is True else ENTRY_FIELDS

    def summary_shown(name: str, value: Any) -> str:
        if name in ("summary", "summary_sha256", "bill") and isinstance(value, str):
            return f"a {'bill' if name == 'bill' else 'summary'} whose SHA-256 is {value[:12]}…"
        if name in ("document", "document_sha256") and value:
            return f"a document whose SHA-256 is {value[:12]}…"
        return show(name, value)

    rebuilt_plans, rebuilt_copies = replay_care_plans(by_entity["care_plan"])
    changed_plans: list[Difference] = []

    def read_plans() -> dict[tuple[int, int], dict[str, Any]]:
        rows, changed = read_care_plans(session, staff_keys)
        changed_plans.extend(
            Difference(PLAN_VERSION, f"{mrn(p)} v{n}", ", ".join(fields), kind="signed")
            for p, n, fields in changed
        )
        return rows

    def table(
        name: str,
        rebuilt: Mapping[Any, Rebuilt],
        read: Callable[[], Mapping[Any, Mapping[str, Any]]],
        fields: Sequence[str],
        label: Callable[[Any], str],
        **options: Any,
    ) -> tuple[list[Difference], Coverage]:
        try:
            actual = read()
        except (ValueError, TypeError) as error:
            # A value written with other tools that the database driver cannot even read (a
            # date that is not one): said, not a traceback; the other tables are still compared.
            unreadable = Difference(name, "", table_holds=str(error), kind="unreadable")
            return [unreadable], Coverage(name, 0, 0, 0, 0)
        return compare(name, rebuilt, actual, fields, label, **options)

    results = [
        table(
            PRACTICE,
            replay_practice(by_entity["practice"]),
            lambda: read_practice(session),
            PRACTICE_FIELDS,
            lambda _key: "",
        ),
        table(
            STAFF,
            replay_staff(by_entity["staff"]),
            lambda: read_staff(session),
            STAFF_FIELDS,
            str,
        ),
        table(
            PATIENT,
            replay_patients(by_entity["patient"]),
            lambda: read_patients(session, staff_keys),
            PATIENT_FIELDS,
            mrn,
        ),
        table(
            TIME_ENTRY,
            rebuilt_entries,
            read_entries,
            ENTRY_FIELDS,
            entry_label,
            shown=entry_shown,
            fields_of=entry_fields,
        ),
        table(
            PATIENT_MONTH,
            replay_months(by_entity["patient_month"]),
            lambda: read_months(session),
            MONTH_FIELDS,
            lambda key: f"{mrn(key[0])} {key[1]}",
        ),
        table(
            SIGNATURE,
            replay_signatures(by_entity["patient_month"], staff_keys.values()),
            lambda: read_signatures(session, staff_keys),
            (*SIGNATURE_FIELDS, "summary"),
            lambda key: f"{mrn(key[0])} {key[1]} signature {key[2]}",
            shown=summary_shown,
        ),
        table(
            CLOSE,
            replay_closes(by_entity["month"]),
            lambda: read_closes(session),
            CLOSE_FIELDS,
            lambda key: f"{key[0]} close {key[1]}",
            shown=summary_shown,
        ),
        table(
            PLAN_VERSION,
            rebuilt_plans,
            read_plans,
            PLAN_FIELDS,
            lambda key: f"{mrn(key[0])} v{key[1]}",
            shown=summary_shown,
        ),
        table(
            PLAN_COPY,
            rebuilt_copies,
            lambda: read_copies(session),
            COPY_FIELDS,
            lambda key: f"{mrn(key[0])} v{key[1]} copy {key[2]}",
        ),
        table(
            FEE,
            replay_fees(by_entity["fee_schedule"], DEFAULT_FEES),  # migration 0002 seeds these
            lambda: read_fees(session),
            ("amount_cents",),
            lambda key: f"{key[0]} {key[1]}",
        ),
    ]
    return DeepCheck(
        events=len(events),
        differences=(*(d for found, _ in results for d in found), *changed_plans),
        coverage=tuple(coverage for _, coverage in results),
    )
