"""Practice details and first-start set-up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccmdesk.models import Practice, Staff
from ccmdesk.rules.records import (
    CLAIM_SETTING_FIELDS,
    DEFAULT_ATTESTATION,
    FieldError,
    PracticeRecord,
    StaffRecord,
    StopwatchSettings,
)
from ccmdesk.rules.validation import (
    validate_practice,
    validate_staff,
    validate_stopwatch_settings,
)
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, forget_practice_zone
from ccmdesk.services.context import SYSTEM_ROLE, Actor, Permission
from ccmdesk.services.errors import PermissionDenied, ServiceError, ValidationFailed


@dataclass(frozen=True)
class ApcmAttestation:
    """Who attested the practice's APCM prerequisites (APCM_ATTESTATION), and when."""

    staff_id: str
    name: str
    at: dt.datetime


AUTO_LOCK_DEFAULT = 10
# An unattended screen must lock (HIPAA's automatic logoff); two hours is the longest allowed.
AUTO_LOCK_RANGE = (1, 120)
# Long enough for a paragraph a compliance officer writes; short enough to print under a summary.
ATTESTATION_LIMIT = 1000


def attestation_text(session: Session) -> str:
    """The practice's own attestation statement, or the default."""
    text = session.scalars(select(Practice.attestation).limit(1)).first()
    return text.strip() if text and text.strip() else DEFAULT_ATTESTATION


def _record(practice: Practice) -> PracticeRecord:
    return PracticeRecord(
        name=practice.name,
        address=practice.address,
        phone=practice.phone,
        after_hours_phone=practice.after_hours_phone,
        group_npi=practice.group_npi or "",
        tin=practice.tin,
        timezone=practice.timezone,
        place_of_service=practice.place_of_service,
        date_of_service_rule=practice.date_of_service_rule,
        **{name: getattr(practice, name) for name in CLAIM_SETTING_FIELDS},
    )


def _apply(practice: Practice, record: PracticeRecord) -> None:
    practice.name = record.name
    practice.address = record.address
    practice.phone = record.phone
    practice.after_hours_phone = record.after_hours_phone
    practice.group_npi = record.group_npi or None
    practice.tin = record.tin
    practice.timezone = record.timezone
    practice.place_of_service = record.place_of_service
    practice.date_of_service_rule = record.date_of_service_rule
    # The address parts are kept as given: never guessed from the printed address, so a claim
    # edit says what is missing instead of a claim carrying a wrong split (docs/payers.md).
    for name in CLAIM_SETTING_FIELDS:
        setattr(practice, name, getattr(record, name))


def add_practice(session: Session, at: dt.datetime, actor: Actor, record: PracticeRecord) -> None:
    """Describe the practice on a database that has none, in the caller's transaction."""
    practice = Practice()
    _apply(practice, record)
    forget_practice_zone(session)  # the time zone may be new
    session.add(practice)
    audit.record_saved(
        session, at, actor, "practice", "practice", (None, dataclasses.asdict(record))
    )


class PracticeService(ServiceBase):
    """Read and change the practice; create it on first start."""

    def get(self) -> PracticeRecord | None:
        with self._db.read() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            return _record(practice) if practice else None

    def needs_setup(self) -> bool:
        """True on a fresh database: no practice and nobody to sign in as."""
        with self._db.read() as session:
            has_practice = (
                session.execute(select(func.count()).select_from(Practice)).scalar_one() > 0
            )
            has_staff = session.execute(select(func.count()).select_from(Staff)).scalar_one() > 0
            return not (has_practice and has_staff)

    def save(self, actor: Actor, record: PracticeRecord) -> PracticeRecord:
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        if errors := validate_practice(record):
            raise ValidationFailed(errors)
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            before = dataclasses.asdict(_record(practice)) if practice else None
            if practice is None:
                practice = Practice()
                session.add(practice)
            _apply(practice, record)
            forget_practice_zone(session)  # the time zone may be new
            change = (before, dataclasses.asdict(record))
            audit.record_saved(session, self._now(), actor, "practice", "practice", change)
        return record

    def set_up(
        self,
        practice: PracticeRecord,
        admin: StaffRecord,
        *,
        password_hash: str | None = None,
        more_errors: Sequence[FieldError] = (),
    ) -> Actor:
        """First start: create the practice and its first administrator, and act as them.

        `password_hash` is the administrator's (AuthService.set_up_practice makes it);
        `more_errors` are its problems, refused together with the form's own."""
        admin = dataclasses.replace(admin, role="admin", active=True)
        errors = validate_practice(practice) + [
            FieldError(f"admin_{e.field}", e.message) for e in validate_staff(admin)
        ]
        errors += more_errors
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            if session.execute(select(func.count()).select_from(Staff)).scalar_one() > 0:
                raise ServiceError(
                    "This database already has staff; sign in as an administrator instead."
                )
            try:
                user = getpass.getuser()
            except (KeyError, OSError):
                user = "unknown"
            setup_actor = Actor(key=f"setup:{user}", name="first start", role="admin")
            existing = session.scalars(select(Practice).limit(1)).first()
            # The command line may have described the practice already: keep its "before".
            before = dataclasses.asdict(_record(existing)) if existing else None
            if existing is not None:
                # The first start does not ask for the claim settings: keep those the command
                # line gave rather than put the defaults over them.
                kept = _record(existing)
                practice = dataclasses.replace(
                    practice, **{name: getattr(kept, name) for name in CLAIM_SETTING_FIELDS}
                )
            target = existing or Practice()
            _apply(target, practice)
            forget_practice_zone(session)  # the time zone may be new
            session.add(target)
            staff = Staff(
                staff_id=admin.staff_id,
                name=admin.name,
                role="admin",
                credentials=admin.credentials,
                npi=admin.npi or None,
                active=True,
                password_hash=password_hash,
                password_set_at=self._now() if password_hash else None,
            )
            session.add(staff)
            now = self._now()
            audit.record(
                session,
                at=now,
                actor=setup_actor,
                action="practice.update" if before else "practice.create",
                entity="practice",
                entity_key="practice",
                before=before,
                after=dataclasses.asdict(practice),
            )
            audit.record(
                session,
                at=now,
                actor=setup_actor,
                action="staff.create",
                entity="staff",
                entity_key=admin.staff_id,
                # The password's fingerprint, never its hash: `audit verify --deep` checks it.
                after={
                    **dataclasses.asdict(admin),
                    "password_sha256": audit.fingerprint(password_hash),
                },
            )
        return Actor(key=admin.staff_id, name=admin.name, role="admin")

    # --- stopwatch settings -----------------------------------------------------------------

    def stopwatch_settings(self) -> StopwatchSettings:
        """The idle threshold and the activity list (the defaults before set-up)."""
        with self._db.read() as session:
            row = session.execute(select(Practice.idle_minutes, Practice.activities)).first()
        if row is None:
            return StopwatchSettings()
        activities = tuple(line for line in row.activities.splitlines() if line.strip())
        return StopwatchSettings(row.idle_minutes, activities or StopwatchSettings().activities)

    def save_stopwatch_settings(
        self, actor: Actor, settings: StopwatchSettings
    ) -> StopwatchSettings:
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        settings = StopwatchSettings(
            settings.idle_minutes, tuple(a.strip() for a in settings.activities)
        )
        if errors := validate_stopwatch_settings(settings):
            raise ValidationFailed(errors)
        before = self.stopwatch_settings()
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            if practice is None:
                raise ServiceError("Describe the practice first.")
            practice.idle_minutes = settings.idle_minutes
            practice.activities = "\n".join(settings.activities)
            if before != settings:
                audit.record(
                    session,
                    at=self._now(),
                    actor=actor,
                    action="practice.stopwatch_settings",
                    entity="practice",
                    entity_key="practice",
                    before=dataclasses.asdict(before),
                    after=dataclasses.asdict(settings),
                )
        return settings

    # --- auto-lock ----------------------------------------------------------------------------

    def auto_lock_minutes(self) -> int:
        """Minutes without keyboard or mouse before ccmdesk locks (the default before set-up)."""
        with self._db.read() as session:
            minutes = session.scalars(select(Practice.auto_lock_minutes).limit(1)).first()
        return minutes if minutes is not None else AUTO_LOCK_DEFAULT

    def save_auto_lock_minutes(self, actor: Actor, minutes: int) -> int:
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        low, high = AUTO_LOCK_RANGE
        if not low <= minutes <= high:
            raise ValidationFailed(
                [FieldError("auto_lock_minutes", f"must be {low} to {high} minutes")]
            )

        def apply(practice: Practice) -> tuple[object, object]:
            before, practice.auto_lock_minutes = practice.auto_lock_minutes, minutes
            return before, minutes

        self._change(actor, "practice.auto_lock", "auto_lock_minutes", apply)
        return minutes

    def _change(
        self,
        actor: Actor,
        action: str,
        field: str,
        apply: Callable[[Practice], tuple[object, object]],
    ) -> None:
        """Change one practice setting (`apply` returns its value before and after), with an
        audit event when it really changed."""
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            if practice is None:
                raise ServiceError("Describe the practice first.")
            before, after = apply(practice)
            if before != after:
                audit.record(
                    session,
                    at=self._now(),
                    actor=actor,
                    action=action,
                    entity="practice",
                    entity_key="practice",
                    before={field: before},
                    after={field: after},
                )

    # --- attestation ------------------------------------------------------------------------

    def attestation(self) -> str:
        """The statement practitioners sign monthly summaries with (the default until set)."""
        with self._db.read() as session:
            return attestation_text(session)

    def save_attestation(self, actor: Actor, text: str) -> str:
        """Word the practice's own attestation; empty text goes back to the default."""
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        text = text.strip()
        if len(text) > ATTESTATION_LIMIT:
            raise ValidationFailed(
                [FieldError("attestation", f"is longer than {ATTESTATION_LIMIT} characters")]
            )
        before = self.attestation()

        def apply(practice: Practice) -> tuple[object, object]:
            practice.attestation = text
            return before, text or DEFAULT_ATTESTATION

        self._change(actor, "practice.attestation", "attestation", apply)
        return text or DEFAULT_ATTESTATION

    # --- APCM attestation ---------------------------------------------------------------------

    def apcm_attestation(self) -> ApcmAttestation | None:
        """Who attested the APCM prerequisites, and when; None: APCM months are blocked."""
        with self._db.read() as session:
            return _apcm(session)

    def attest_apcm(self, actor: Actor, staff_id: str | None = None) -> ApcmAttestation:
        """A practitioner attests the APCM prerequisites (rules.records.APCM_ATTESTATION) in
        their own name; the command line names the practitioner (`staff_id`). Attesting
        again renews it in the new name and day."""
        actor = self._authorize(actor, Permission.ATTEST_APCM)
        is_cli = actor.role == SYSTEM_ROLE
        if not is_cli and staff_id not in (None, actor.key):
            raise PermissionDenied(
                f"{actor.name} may attest only in their own name; {staff_id} attests for "
                "themselves."
            )
        key = staff_id if is_cli else actor.key
        if not key:
            raise ServiceError("Name the practitioner who attests (their staff id).")
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            if practice is None:
                raise ServiceError("Describe the practice first.")
            staff = session.scalars(select(Staff).where(Staff.staff_id == key)).first()
            if staff is None or staff.role != "practitioner" or not staff.active:
                raise ServiceError(
                    f"'{key}' is not an active practitioner; only a practitioner attests the "
                    "APCM prerequisites."
                )
            before = _apcm(session)
            now = self._now().replace(microsecond=0)
            practice.apcm_attested_by_id = staff.id
            practice.apcm_attested_at = now
            after = ApcmAttestation(staff.staff_id, staff.name, now)
            audit.record(
                session, at=now, actor=actor, action="practice.apcm_attest", entity="practice",
                entity_key="practice", before=_apcm_form(before), after=_apcm_form(after),
            )  # fmt: skip
            return after

    def withdraw_apcm(self, actor: Actor) -> None:
        """Withdraw the APCM attestation (an administrator): APCM months are blocked again
        until a practitioner attests. Nothing happens when there is none."""
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            before = _apcm(session)
            if practice is None or before is None:
                return
            practice.apcm_attested_by_id = None
            practice.apcm_attested_at = None
            audit.record(
                session, at=self._now(), actor=actor, action="practice.apcm_withdraw",
                entity="practice", entity_key="practice", before=_apcm_form(before),
                after=_apcm_form(None),
            )  # fmt: skip


def _apcm(session: Session) -> ApcmAttestation | None:
    row = session.execute(
        select(Staff.staff_id, Staff.name, Practice.apcm_attested_at)
        .join(Staff, Staff.id == Practice.apcm_attested_by_id)
        .limit(1)
    ).first()
    if row is None or row.apcm_attested_at is None:
        return None
    return ApcmAttestation(row.staff_id, row.name, row.apcm_attested_at)


def _apcm_form(attestation: ApcmAttestation | None) -> dict[str, object]:
    if attestation is None:
        return {"apcm_attested_by": None, "apcm_attested_at": None}
    return {
        "apcm_attested_by": attestation.staff_id,
        "apcm_attested_at": attestation.at.isoformat(),
    }
