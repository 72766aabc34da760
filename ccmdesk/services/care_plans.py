"""Care plans: versions saved by the care team, signed by the billing practitioner, given out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.models import (
    CarePlanCopy,
    CarePlanTemplate,
    CarePlanVersion,
    Patient,
    PatientCopyText,
    Practice,
    Staff,
)
from ccmdesk.models.staff import Role
from ccmdesk.reports.care_plan_copy import PatientCopy, patient_copy_pdf
from ccmdesk.rules import icd10
from ccmdesk.rules.care_plan import (
    COPY_METHODS,
    COPY_TEXTS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TEMPLATE_ELEMENTS,
    TEXT_ELEMENTS,
    ConditionTemplate,
    PlanContent,
    PlanInForce,
    SignedPlan,
    changes,
    in_force,
    missing,
    templates_for,
)
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import (
    ServiceBase,
    patient_by_mrn,
    practice_zone,
    staff_label,
    staff_names,
    who_did,
)
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.export import practice_address

# What the billing practitioner attests by signing a version.
ATTESTATION = (
    "I have reviewed this comprehensive care plan, established with the patient and the care "
    "team, and I approve it."
)
# Longest text ccmdesk keeps in one element: a plan is read and printed, not an archive.
MAX_ELEMENT_CHARS = 20_000
MAX_TEMPLATE_CHARS = 5_000


@dataclass(frozen=True)
class CopyGiven:
    """A copy of a signed version given to the patient or caregiver."""

    given_on: dt.date
    method: str  # a key of COPY_METHODS
    language: str  # a key of LANGUAGES
    note: str
    recorded_by: str  # the name of who recorded it
    recorded_at: dt.datetime

    @property
    def method_label(self) -> str:
        return COPY_METHODS[self.method]


@dataclass(frozen=True)
class PlanVersion:
    """One saved version of a patient's care plan, as the editor and the history show it."""

    version_id: int
    number: int
    content: PlanContent
    saved_at: dt.datetime
    saved_by: str  # a name
    signed_at: dt.datetime | None = None
    signed_by: str = ""  # a name, with credentials
    signed_on: dt.date | None = None
    attestation: str = ""
    document_hash: str = ""
    copies: tuple[CopyGiven, ...] = ()

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def given(self) -> bool:
        return bool(self.copies)

    @property
    def missing(self) -> tuple[str, ...]:
        return missing(self.content)

    @property
    def status(self) -> str:
        """ "Draft", "Signed", or "Signed, given"."""
        if not self.signed:
            return "Draft"
        return "Signed, given" if self.given else "Signed"


@dataclass(frozen=True)
class CarePlan:
    """A patient's care plan: every version, the plan kept elsewhere, and what prefills a new
    version."""

    mrn: str
    patient_name: str  # "First Last"
    billing_practitioner: str  # a name; blank: none on file
    preferred_language: str
    versions: tuple[PlanVersion, ...]  # oldest first
    external_date: dt.date | None  # a plan kept elsewhere (patients.csv care_plan_date)
    in_force: PlanInForce | None  # on `today`
    today: dt.date
    zone: dt.tzinfo  # the practice's, for showing when versions were saved
    problems: str  # the problem list made from the chronic conditions on file
    templates: tuple[ConditionTemplate, ...]  # the templates matching the conditions
    can_sign: bool  # the person asking is the billing practitioner

    @property
    def latest(self) -> PlanVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> PlanVersion:
        for v in self.versions:
            if v.number == number:
                return v
        raise NotFound(f"The care plan of {self.patient_name} has no version {number}.")

    @property
    def signed(self) -> PlanVersion | None:
        """The newest signed version."""
        return next((v for v in reversed(self.versions) if v.signed), None)


@dataclass(frozen=True)
class CopyTexts:
    """The practice's words for the patient copy in one language."""

    language: str
    title: str = ""
    intro: str = ""
    worse: str = ""
    emergency: str = ""
    closing: str = ""


def content_of(version: CarePlanVersion) -> PlanContent:
    return PlanContent(
        **{key: getattr(version, key) for key in TEXT_ELEMENTS}, review_on=version.review_on
    )


def document_of(patient: Patient, version: CarePlanVersion) -> dict[str, Any]:
    """What a signature covers: the patient, the version number and every element."""
    return {
        "mrn": patient.mrn,
        "patient": f"{patient.first_name} {patient.last_name}",
        "dob": patient.dob.isoformat(),
        "version": version.number,
        **content_of(version).as_dict(),
    }


# What a save, a signature and a copy given write (rows and audit events), shared by the
# service and the demo so the two never drift apart (the deep check replays these events).


def write_version(
    session: Session,
    at: dt.datetime,
    actor: Actor,
    patient: Patient,
    number: int,
    content: PlanContent,
    before: PlanContent | None,
) -> CarePlanVersion:
    """Add version `number` with `content` and its care_plan.save event (the elements that
    changed from `before`, before and after)."""
    version = CarePlanVersion(
        patient_id=patient.id,
        number=number,
        **{key: getattr(content, key) for key in TEXT_ELEMENTS},
        review_on=content.review_on,
        saved_at=at,
        saved_by=actor.key,
    )
    session.add(version)
    session.flush()
    changed = changes(before, content)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="care_plan.save",
        entity="care_plan",
        entity_key=f"{patient.mrn} v{number}",
        before={c.key: c.before for c in changed} if before is not None else None,
        after={c.key: c.after for c in changed},
        patient_id=patient.id,
    )
    return version


def write_signature(
    session: Session,
    at: dt.datetime,
    actor: Actor,
    patient: Patient,
    version: CarePlanVersion,
    signer_id: int | None,
    zone: dt.tzinfo,
) -> None:
    """Sign `version` at `at` (its day in `zone` is the care plan date), storing the canonical
    document and its SHA-256, with its care_plan.sign event."""
    document = document_of(patient, version)
    sha = audit.document_digest(document)
    signed_on = at.astimezone(zone).date()
    version.signed_at = at
    version.signed_by_id = signer_id
    version.signed_on = signed_on
    version.attestation = ATTESTATION
    version.document = audit.canonical_json(document) or ""
    version.document_hash = sha
    audit.record(
        session,
        at=at,
        actor=actor,
        action="care_plan.sign",
        entity="care_plan",
        entity_key=f"{patient.mrn} v{version.number}",
        after={"attestation": ATTESTATION, "document_sha256": sha,
               "signed_on": signed_on.isoformat()},
        patient_id=patient.id,
    )  # fmt: skip


def write_copy(
    session: Session,
    at: dt.datetime,
    actor: Actor,
    patient: Patient,
    version: CarePlanVersion,
    given_on: dt.date,
    method: str,
    language: str,
    note: str,
) -> CarePlanCopy:
    """Record a copy of `version` given, with its care_plan.give event."""
    copy = CarePlanCopy(
        version_id=version.id,
        given_on=given_on,
        method=method,
        language=language,
        note=note,
        recorded_at=at,
        recorded_by=actor.key,
    )
    session.add(copy)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="care_plan.give",
        entity="care_plan",
        entity_key=f"{patient.mrn} v{version.number}",
        after={"given_on": given_on.isoformat(), "method": method, "language": language,
               "note": note},
        patient_id=patient.id,
    )  # fmt: skip
    return copy


def problem_list(codes: Sequence[str]) -> str:
    """The chronic conditions on file as the problem list starts: "E11.9 Type 2 ..." a line each."""
    return "\n".join(f"{code} {icd10.description(code)}".strip() for code in codes)


def template_of(row: CarePlanTemplate) -> ConditionTemplate:
    return ConditionTemplate(
        key=row.key,
        name=row.name,
        prefixes=tuple(p.strip() for p in row.prefixes.split(";") if p.strip()),
        goals=row.goals,
        symptoms=row.symptoms,
        interventions=row.interventions,
    )


class CarePlanService(ServiceBase):
    """Write, revise, sign and give out care plans; keep the practice's templates. Every change
    is in the audit trail with its before and after."""

    # -- reading ---------------------------------------------------------------------------

    def plan(self, actor: Actor, mrn: str) -> CarePlan:
        """A patient's care plan with every version (anyone who may see patients)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(
                session, mrn, selectinload(Patient.conditions), selectinload(Patient.enrollment)
            )
            return self._plan(session, actor, patient)

    def document(self, actor: Actor, mrn: str, number: int) -> tuple[str, str]:
        """A version's canonical document and its SHA-256: what signing it would cover."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            version = self._version(session, patient, number)
            document = document_of(patient, version)
            return audit.canonical_json(document) or "", audit.document_digest(document)

    def templates(self, actor: Actor) -> list[ConditionTemplate]:
        """The practice's condition templates, in their order."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            return [template_of(row) for row in self._template_rows(session)]

    def copy_texts(self, actor: Actor) -> dict[str, CopyTexts]:
        """The practice's words for the patient copy, per language (every language present)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            return _copy_texts(session)

    # -- writing ---------------------------------------------------------------------------

    def save(
        self, actor: Actor, mrn: str, content: PlanContent, based_on: int | None
    ) -> PlanVersion:
        """Save `content` as the patient's next version. `based_on` is the version the editor
        started from (None: a first plan); when someone saved another version meanwhile,
        nothing is saved and the refusal says so (the editor keeps the text)."""
        actor = self._authorize(actor, Permission.EDIT_CARE_PLAN)
        content = content.cleaned()
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            today = self._today(session)
            errors = _content_errors(content, today)
            if errors:
                raise ValidationFailed(errors)
            latest = self._latest(session, patient)
            newest = latest.number if latest is not None else None
            if newest != based_on:
                who = who_did(latest.saved_by, staff_names(session)) if latest else ""
                raise ServiceError(_stale(who, based_on, newest))
            before = content_of(latest) if latest is not None else None
            if before == content:
                raise ServiceError(
                    f"Nothing changed: version {newest} already says this. Nothing was saved."
                )
            now = self._now().replace(microsecond=0)
            version = write_version(
                session, now, actor, patient, (newest or 0) + 1, content, before
            )
            return self._row(session, version)

    def sign(self, actor: Actor, mrn: str, number: int, shown_hash: str) -> PlanVersion:
        """Sign a version as the patient's billing practitioner. `shown_hash` is the SHA-256 of
        the document the practitioner read (document()): if the version reads differently now,
        nothing is signed."""
        actor = self._authorize(actor, Permission.SIGN_CARE_PLAN)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            me = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
            if me is None or patient.billing_practitioner_id != me.id:
                raise PermissionDenied(
                    f"{actor.name} is not the billing practitioner of {patient.first_name} "
                    f"{patient.last_name}; only that practitioner signs the care plan."
                )
            version = self._version(session, patient, number)
            latest = self._latest(session, patient)
            if version.signed_at is not None:
                raise ServiceError(f"Version {number} of this care plan is signed already.")
            if latest is not None and latest.number != number:
                raise ServiceError(
                    f"Version {number} is not the newest: version {latest.number} was saved "
                    "since. Sign the newest version."
                )
            if gaps := missing(content_of(version)):
                raise ServiceError(
                    f"Version {number} cannot be signed: it has no "
                    + "; ".join(g.lower() for g in gaps)
                    + ". Complete the plan and save it, then sign."
                )
            document = document_of(patient, version)
            sha = audit.document_digest(document)
            if sha != shown_hash:
                raise ServiceError(
                    f"Version {number} changed since it was shown; look at it again. Nothing "
                    "was signed."
                )
            now = self._now().replace(microsecond=0)
            write_signature(session, now, actor, patient, version, me.id, practice_zone(session))
            session.flush()
            return self._row(session, version)

    def record_copy(
        self,
        actor: Actor,
        mrn: str,
        number: int,
        given_on: dt.date,
        method: str,
        language: str | None = None,
        note: str = "",
    ) -> CopyGiven:
        """Record that a copy of a signed version reached the patient or caregiver (the day,
        how, and the language printed: the patient's preferred language unless given)."""
        actor = self._authorize(actor, Permission.GIVE_CARE_PLAN)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            version = self._version(session, patient, number)
            language = language or patient.preferred_language or DEFAULT_LANGUAGE
            errors = []
            if version.signed_on is None:
                raise ServiceError(
                    f"Version {number} is not signed yet: only a signed care plan is given to "
                    "the patient."
                )
            if method not in COPY_METHODS:
                errors.append(
                    FieldError("method", f"must be one of {', '.join(COPY_METHODS.values())}")
                )
            if language not in LANGUAGES:
                errors.append(FieldError("language", f"must be one of {', '.join(LANGUAGES)}"))
            if given_on > self._today(session):
                errors.append(FieldError("given_on", "is in the future"))
            elif given_on < version.signed_on:
                errors.append(
                    FieldError(
                        "given_on",
                        f"is before the version was signed ({version.signed_on.isoformat()})",
                    )
                )
            if len(note) > MAX_TEMPLATE_CHARS:
                errors.append(FieldError("note", f"is longer than {MAX_TEMPLATE_CHARS} characters"))
            if errors:
                raise ValidationFailed(errors)
            now = self._now().replace(microsecond=0)
            copy = write_copy(
                session, now, actor, patient, version, given_on, method, language, note.strip()
            )
            return CopyGiven(given_on, method, language, copy.note, actor.name, now)

    def save_template(
        self, actor: Actor, template: ConditionTemplate, is_new: bool
    ) -> ConditionTemplate:
        """Add a condition template or change one (found by its key)."""
        actor = self._authorize(actor, Permission.MANAGE_CARE_PLAN_TEMPLATES)
        template = _clean_template(template)
        if errors := _template_errors(template):
            raise ValidationFailed(errors)
        with self._db.session() as session:
            row = session.scalars(
                select(CarePlanTemplate).where(CarePlanTemplate.key == template.key)
            ).first()
            if is_new and row is not None:
                raise ValidationFailed(
                    [FieldError("key", f"'{template.key}' is already a template's key")]
                )
            if not is_new and row is None:
                raise NotFound(f"There is no care plan template '{template.key}'.")
            before = _template_form(template_of(row)) if row is not None else None
            if row is None:
                last = session.scalar(select(func.max(CarePlanTemplate.position)))
                row = CarePlanTemplate(key=template.key, position=(last or 0) + 1)
                session.add(row)
            row.name = template.name
            row.prefixes = ";".join(template.prefixes)
            row.goals, row.symptoms = template.goals, template.symptoms
            row.interventions = template.interventions
            audit.record_saved(
                session,
                self._now(),
                actor,
                "care_plan_template",
                template.key,
                (before, _template_form(template)),
            )
            return template

    def delete_template(self, actor: Actor, key: str) -> None:
        """Remove a condition template (plans written from it keep their text)."""
        actor = self._authorize(actor, Permission.MANAGE_CARE_PLAN_TEMPLATES)
        with self._db.session() as session:
            row = session.scalars(
                select(CarePlanTemplate).where(CarePlanTemplate.key == key)
            ).first()
            if row is None:
                raise NotFound(f"There is no care plan template '{key}'.")
            before = _template_form(template_of(row))
            session.delete(row)
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="care_plan_template.delete",
                entity="care_plan_template",
                entity_key=key,
                before=before,
            )

    def save_copy_texts(self, actor: Actor, texts: CopyTexts) -> CopyTexts:
        """Change the practice's words for the patient copy in one language."""
        actor = self._authorize(actor, Permission.MANAGE_CARE_PLAN_TEMPLATES)
        if texts.language not in LANGUAGES:
            raise ValidationFailed(
                [FieldError("language", f"must be one of {', '.join(LANGUAGES)}")]
            )
        texts = dataclasses.replace(
            texts, **{key: getattr(texts, key).strip() for key in COPY_TEXTS}
        )
        errors = [
            FieldError(key, f"is longer than {MAX_TEMPLATE_CHARS} characters")
            for key in COPY_TEXTS
            if len(getattr(texts, key)) > MAX_TEMPLATE_CHARS
        ]
        if not texts.title:
            errors.append(FieldError("title", "is required"))
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            row = session.get(PatientCopyText, texts.language)
            before = None
            if row is None:
                row = PatientCopyText(language=texts.language)
                session.add(row)
            else:
                before = {key: getattr(row, key) for key in COPY_TEXTS}
            for key in COPY_TEXTS:
                setattr(row, key, getattr(texts, key))
            audit.record_saved(
                session,
                self._now(),
                actor,
                "patient_copy_text",
                texts.language,
                (before, {key: getattr(texts, key) for key in COPY_TEXTS}),
            )
            return texts

    # -- helpers ---------------------------------------------------------------------------

    def _plan(self, session: Session, actor: Actor, patient: Patient) -> CarePlan:
        rows = session.scalars(
            select(CarePlanVersion)
            .where(CarePlanVersion.patient_id == patient.id)
            .order_by(CarePlanVersion.number)
        ).all()
        versions = tuple(self._rows(session, rows))
        today = self._today(session)
        external = patient.enrollment.care_plan_date if patient.enrollment else None
        signed = [
            SignedPlan(v.number, day, v.content.review_on or day, v.given)
            for v in versions
            if (day := v.signed_on) is not None
        ]
        practitioner = (
            session.get(Staff, patient.billing_practitioner_id)
            if patient.billing_practitioner_id
            else None
        )
        codes = [c.code for c in patient.conditions]
        return CarePlan(
            mrn=patient.mrn,
            patient_name=f"{patient.first_name} {patient.last_name}",
            billing_practitioner=staff_label(practitioner),
            preferred_language=patient.preferred_language or DEFAULT_LANGUAGE,
            versions=versions,
            external_date=external,
            in_force=in_force(signed, external, today),
            today=today,
            zone=practice_zone(session),
            problems=problem_list(codes),
            templates=tuple(
                templates_for(codes, [template_of(r) for r in self._template_rows(session)])
            ),
            can_sign=actor.role == Role.PRACTITIONER
            and practitioner is not None
            and practitioner.staff_id == actor.key,
        )

    def _rows(self, session: Session, rows: Sequence[CarePlanVersion]) -> list[PlanVersion]:
        staff = {s.id: s for s in session.scalars(select(Staff))}
        names = {s.staff_id: s.name for s in staff.values()}
        copies: dict[int, list[CopyGiven]] = {}
        if rows:
            for c in session.scalars(
                select(CarePlanCopy)
                .where(CarePlanCopy.version_id.in_([r.id for r in rows]))
                .order_by(CarePlanCopy.given_on, CarePlanCopy.id)
            ):
                copies.setdefault(c.version_id, []).append(
                    CopyGiven(
                        c.given_on,
                        c.method,
                        c.language,
                        c.note,
                        who_did(c.recorded_by, names),
                        c.recorded_at,
                    )
                )
        return [
            PlanVersion(
                version_id=r.id,
                number=r.number,
                content=content_of(r),
                saved_at=r.saved_at,
                saved_by=who_did(r.saved_by, names),
                signed_at=r.signed_at,
                signed_by=staff_label(staff.get(r.signed_by_id)) if r.signed_by_id else "",
                signed_on=r.signed_on,
                attestation=r.attestation,
                document_hash=r.document_hash,
                copies=tuple(copies.get(r.id, ())),
            )
            for r in rows
        ]

    def _row(self, session: Session, version: CarePlanVersion) -> PlanVersion:
        return self._rows(session, [version])[0]

    @staticmethod
    def _latest(session: Session, patient: Patient) -> CarePlanVersion | None:
        return session.scalars(
            select(CarePlanVersion)
            .where(CarePlanVersion.patient_id == patient.id)
            .order_by(CarePlanVersion.number.desc())
            .limit(1)
        ).first()

    @staticmethod
    def _version(session: Session, patient: Patient, number: int) -> CarePlanVersion:
        version = session.scalars(
            select(CarePlanVersion).where(
                CarePlanVersion.patient_id == patient.id, CarePlanVersion.number == number
            )
        ).first()
        if version is None:
            raise NotFound(
                f"The care plan of {patient.first_name} {patient.last_name} has no version "
                f"{number}."
            )
        return version

    @staticmethod
    def _template_rows(session: Session) -> Sequence[CarePlanTemplate]:
        return session.scalars(
            select(CarePlanTemplate).order_by(CarePlanTemplate.position, CarePlanTemplate.id)
        ).all()

    # -- the patient copy (issue #20; docs/patient-copy.md) ---------------------------------

    def patient_copy(
        self, actor: Actor, mrn: str, number: int | None = None, language: str | None = None
    ) -> PatientCopy:
        """What the patient copy of a signed version prints (the newest signed version unless
        `number` is given), in `language` or else the patient's preferred language."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            name = f"{patient.first_name} {patient.last_name}"
            if number is None:
                version = session.scalars(
                    select(CarePlanVersion)
                    .where(
                        CarePlanVersion.patient_id == patient.id,
                        CarePlanVersion.signed_on.is_not(None),
                    )
                    .order_by(CarePlanVersion.number.desc())
                    .limit(1)
                ).first()
                if version is None:
                    raise ServiceError(
                        f"The care plan of {name} has no signed version yet: the practitioner "
                        "signs a version before a copy is printed for the patient."
                    )
            else:
                version = self._version(session, patient, number)
            if version.signed_on is None:
                raise ServiceError(
                    f"Version {version.number} of the care plan of {name} is not signed yet: "
                    "only a signed version is printed for the patient."
                )
            if language is None:
                # A preference ccmdesk has no words for (the column has no CHECK) prints the
                # default rather than refusing the copy.
                preferred = patient.preferred_language
                language = preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE
            elif language not in LANGUAGES:
                raise ValidationFailed(
                    [FieldError("language", f"must be one of {', '.join(LANGUAGES)}")]
                )
            practice = session.scalars(select(Practice).limit(1)).first()
            texts = _copy_texts(session)[language]
            return PatientCopy(
                language=language,
                practice_name=practice.name if practice else "",
                practice_address=practice_address(practice) if practice else "",
                phone=practice.phone if practice else "",
                after_hours_phone=practice.after_hours_phone if practice else "",
                patient_name=name,
                version=version.number,
                signed_on=version.signed_on,
                signed_by=staff_label(session.get(Staff, version.signed_by_id))
                if version.signed_by_id
                else "",
                practitioner=staff_label(session.get(Staff, patient.billing_practitioner_id))
                if patient.billing_practitioner_id
                else "",
                care_manager=staff_label(session.get(Staff, patient.care_manager_id))
                if patient.care_manager_id
                else "",
                content=content_of(version),
                title=texts.title,
                intro=texts.intro,
                worse=texts.worse,
                emergency=texts.emergency,
                closing=texts.closing,
                created=self._now(),
            )

    def write_patient_copy(
        self,
        actor: Actor,
        mrn: str,
        path: Path,
        number: int | None = None,
        language: str | None = None,
    ) -> Path:
        """Write the patient copy's PDF to `path` (replacing a file there only once the new one
        is whole); a file that cannot be written is said in a sentence."""
        document = patient_copy_pdf(self.patient_copy(actor, mrn, number, language))
        path = Path(path)
        temporary: Path | None = None
        try:
            with tempfile.NamedTemporaryFile(
                "wb", dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as out:
                temporary = Path(out.name)
                out.write(document)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except OSError as error:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            raise ServiceError(
                f"The care plan copy could not be written to {path}: "
                f"{error.strerror or error}. Nothing was written; choose a folder you may "
                "write to."
            ) from error
        return path


def _stale(who: str, based_on: int | None, newest: int | None) -> str:
    """Why a save was refused: the editor started from another version than the newest."""
    if newest is None:
        return f"Version {based_on} of this care plan no longer exists; nothing was saved."
    started = f"editing version {based_on}" if based_on is not None else "writing it"
    return (
        f"{who or 'Someone'} saved version {newest} of this care plan while you were {started}. "
        "Nothing was saved; your text is still in the editor. Look at the newest version, "
        "then save again."
    )


def _copy_texts(session: Session) -> dict[str, CopyTexts]:
    found = {
        row.language: CopyTexts(row.language, *(getattr(row, key) for key in COPY_TEXTS))
        for row in session.scalars(select(PatientCopyText))
    }
    return {language: found.get(language, CopyTexts(language)) for language in LANGUAGES}


def _content_errors(content: PlanContent, today: dt.date) -> list[FieldError]:
    errors = [
        FieldError(key, f"is longer than {MAX_ELEMENT_CHARS} characters")
        for key in TEXT_ELEMENTS
        if len(getattr(content, key)) > MAX_ELEMENT_CHARS
    ]
    if content.review_on is not None and content.review_on < today:
        errors.append(FieldError("review_on", f"({content.review_on.isoformat()}) is in the past"))
    elif content.review_on is not None and content.review_on > today + dt.timedelta(days=731):
        errors.append(FieldError("review_on", "is more than two years away"))
    return errors


def _clean_template(template: ConditionTemplate) -> ConditionTemplate:
    return dataclasses.replace(
        template,
        key=template.key.strip().lower(),
        name=template.name.strip(),
        prefixes=tuple(p.strip().upper() for p in template.prefixes if p.strip()),
        goals=template.goals.strip(),
        symptoms=template.symptoms.strip(),
        interventions=template.interventions.strip(),
    )


def _template_errors(template: ConditionTemplate) -> list[FieldError]:
    errors = []
    if not template.key or not template.key.replace("_", "").isalnum():
        errors.append(FieldError("key", "is required: letters, digits and _ only"))
    if not template.name:
        errors.append(FieldError("name", "is required"))
    if not template.prefixes:
        errors.append(FieldError("prefixes", "name at least one ICD-10-CM code or prefix (E11)"))
    for prefix in template.prefixes:
        if not prefix.replace(".", "").isalnum() or not prefix[:1].isalpha():
            errors.append(FieldError("prefixes", f"'{prefix}' is not an ICD-10-CM code or prefix"))
    for key in TEMPLATE_ELEMENTS:
        if len(getattr(template, key)) > MAX_TEMPLATE_CHARS:
            errors.append(FieldError(key, f"is longer than {MAX_TEMPLATE_CHARS} characters"))
    return errors


def _template_form(template: ConditionTemplate) -> dict[str, Any]:
    form = dataclasses.asdict(template)
    form["prefixes"] = ";".join(template.prefixes)
    return form
