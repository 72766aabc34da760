"""A realistic demo practice: eight staff, about 200 patients, three months of minutes."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.db import Database
from ccmdesk.models import (
    CarePlanTemplate,
    CarePlanVersion,
    Enrollment,
    Patient,
    Staff,
)
from ccmdesk.rules.care_plan import (
    DEFAULT_LANGUAGE,
    ConditionTemplate,
    PlanContent,
    prefill,
    templates_for,
)
from ccmdesk.rules.catalog import PREFERRED_CALL_TIMES
from ccmdesk.rules.programs import PROGRAM_COLUMNS
from ccmdesk.rules.records import (
    CALL_COLUMNS,
    LANGUAGE_COLUMN,
    PATIENT_COLUMNS,
    STAFF_COLUMNS,
    PracticeRecord,
)
from ccmdesk.rules.validation import luhn_check_digit
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.calls import CallService, add_callback
from ccmdesk.services.care_plans import (
    problem_list,
    template_of,
    write_copy,
    write_signature,
    write_version,
)
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.enrolment import EnrolmentService
from ccmdesk.services.errors import ServiceError
from ccmdesk.services.importing.service import ImportService
from ccmdesk.services.results import ImportSummary

SEED = 20260301
DEMO_ZONE = "America/New_York"
ENTRY_COLUMNS = ("mrn", "staff_id", "start", "end", "service", "face_to_face", "activity", "note")
MONTH_COLUMNS = ("mrn", "month", "complexity", "other_services", "billed_elsewhere", "inpatient")

DEMO_PRACTICE = PracticeRecord(
    name="Riverbend Family Medicine",
    address="120 Harbor Street, Suite 4, Portland, ME 04101",
    phone="(207) 555-0142",
    after_hours_phone="(207) 555-0199",
    group_npi="1245319599",
    tin="12-3456789".replace("-", ""),
    timezone=DEMO_ZONE,
    place_of_service="11",
    date_of_service_rule="last_day",
    street="120 Harbor Street, Suite 4",
    city="Portland",
    state="ME",
    zip="04101-3912",
    taxonomy="207Q00000X",
    submitter_id="RIVERBEND01",
    submitter_name="Riverbend Family Medicine",
    submitter_phone="2075550142",
    receiver_id="DEMOCLEAR",
    receiver_name="Demo Clearinghouse",
)

# (staff_id, name, role, credentials, NPI seed or None)
DEMO_STAFF = (
    ("dr-okafor", "Adaeze Okafor", "practitioner", "MD", "100000001"),
    ("np-lindqvist", "Maja Lindqvist", "practitioner", "NP", "100000002"),
    ("rn-lee", "Grace Lee", "clinical", "RN", None),
    ("lpn-garcia", "Mateo García", "clinical", "LPN", None),
    ("ma-brooks", "Tamika Brooks", "clinical", "MA", None),
    ("sched-nowak", "Piotr Nowak", "non_clinical", "", None),
    ("bill-chen", "Wei Chen", "billing", "", None),
    ("admin-patel", "Priya Patel", "admin", "", None),
)
PRACTITIONERS = ("dr-okafor", "np-lindqvist")
CLINICAL = ("rn-lee", "lpn-garcia", "ma-brooks")

LAST_NAMES = (
    "Abernathy", "Baptiste", "Castillo", "Delacroix", "Eriksen", "Fitzgerald", "Gonzalez",
    "Haddad", "Ivanova", "Jablonski", "Kowalczyk", "Larsen", "MacLeod", "Nguyen", "O'Brien",
    "Petrov", "Quintero", "Rasmussen", "Schäfer", "Thibodeau", "Underwood", "Vasquez",
    "Washington", "Xiong", "Yamamoto", "Zielinski", "Núñez", "Beaulieu", "Cohen", "Dubois",
    "Esposito", "Friedman", "Gallagher", "Hernández", "Ingram", "Johansson", "Kelly", "Lefebvre",
    "Moreau", "Novak", "Ouellette", "Pelletier", "Robichaud", "Sullivan", "Tremblay", "Wójcik",
)  # fmt: skip
FIRST_NAMES = (
    "Margaret", "Harold", "Dorothy", "Walter", "Evelyn", "Raymond", "Beatriz", "Eugene",
    "Lorraine", "Francis", "Joan", "Albert", "Rosa", "Clarence", "Ingrid", "Leonard", "Zoë",
    "Stanley", "Mildred", "Chester", "Aurelio", "Gladys", "Bernard", "Thérèse", "Howard",
    "Agnes", "Vernon", "Yolanda", "Kwame", "Fatima", "José", "Hyun-woo", "Mei", "Olúwasẹ́gun",
)  # fmt: skip
SPANISH_NAMES = frozenset({"Castillo", "Gonzalez", "Quintero", "Vasquez", "Núñez", "Hernández"})
STREETS = ("Maple Ave", "Ocean View Rd", "Cumberland St", "Fore St", "Elm Ct", "Brighton Ave")
CITIES = (("Portland", "04101"), ("South Portland", "04106"), ("Westbrook", "04092"),
          ("Falmouth", "04105"), ("Scarborough", "04074"))  # fmt: skip
# Common chronic conditions seen in CCM panels (billable ICD-10-CM codes).
CONDITIONS = (
    "E11.9", "I10", "E78.5", "I50.22", "J44.9", "N18.30", "I48.91", "E03.9", "I25.10",
    "M17.0", "G47.33", "F32.A", "E66.9", "M81.0", "E11.22", "F03.90",
)  # fmt: skip
ACTIVITIES = (
    ("call with patient or caregiver", "Monthly check-in call; reviewed symptoms and goals."),
    ("medication reconciliation", "Reconciled medication list after pharmacy refill."),
    ("coordination with other providers", "Called cardiology office re: echo results."),
    ("care plan review or revision", "Updated care plan goals with patient."),
    ("referrals and community resources", "Arranged Meals on Wheels referral."),
    ("education", "Taught home BP monitoring; patient repeated back correctly."),
)
# The demo's payer list: (payer_id, name, kind, edi_payer_id, covers, coinsurance_percent).
# Anthem has not been asked what it covers and has no EDI id yet, so its months show
# COVERAGE_UNKNOWN and stay out of the claim file; AARP Medigap is a secondary payer only.
DEMO_PAYERS = (
    ("mcr-b", "Medicare Part B", "medicare", "DEMO-MCRB", "ccm;pcm;apcm;bhi", "20"),
    ("harbor-ma", "Medicare Advantage (Harbor Health)", "medicare_advantage", "DEMO-HARBOR",
     "ccm;pcm", "20"),
    ("mainecare", "MaineCare", "medicaid", "DEMO-MAINECARE", "ccm;pcm", "0"),
    ("anthem", "Anthem Blue Cross", "commercial", "", "unknown", "20"),
    ("aarp-medigap", "AARP Medigap", "commercial", "", "unknown", "0"),
)  # fmt: skip
# The demo's programs (docs/billing-rules.md "Programs" and "General BHI"). Behavioural-health
# patients: (condition added, minutes of BHI time a month): one over the 20 minutes 99484 needs,
# one under, one just over.
DEMO_BHI = (("F33.1", 26), ("F41.1", 12), ("F41.1", 21))
BHI_NOTE = (
    "behavioural health check-in",
    "Reviewed PHQ-9 and GAD-7 scores with the patient; care plan goals for mood updated.",
)
APCM_LAST_VISIT_DAYS = 45  # the APCM patient was seen this many days before today
APCM_ATTESTED_BY = "dr-okafor"
PAYER_FILE_COLUMNS = ("payer_id", "name", "kind", "edi_payer_id", "covers", "coinsurance_percent")
# Who the demo's patients have as their primary payer, and how many of them: (name, kind,
# weight), named from DEMO_PAYERS so that patients.csv names only payers on the list.
_SHARE = {"mcr-b": 0.62, "harbor-ma": 0.2, "mainecare": 0.1, "anthem": 0.08}
PAYERS = tuple((p[1], p[2], _SHARE[p[0]]) for p in DEMO_PAYERS if p[0] in _SHARE)
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def demo_npi(seed: str) -> str:
    return seed + str(luhn_check_digit("80840" + seed))


def demo_mbi(rng: random.Random) -> str:
    def letter() -> str:
        return rng.choice(MBI_LETTERS)

    def alnum() -> str:
        return rng.choice(MBI_LETTERS + "0123456789")

    def digit() -> str:
        return str(rng.randint(0, 9))

    return (
        str(rng.randint(1, 9)) + letter() + alnum() + digit() + letter() + alnum() + digit()
        + letter() + letter() + digit() + digit()
    )  # fmt: skip


@dataclass(frozen=True)
class DemoPrograms:
    """What the import files do not carry, by MRN: programs (MRN, program, focus condition),
    the APCM patient's last visit, the initiating visits with G0506."""

    programs: tuple[tuple[str, str, str | None], ...] = ()
    last_visit_days: tuple[tuple[str, int], ...] = ()
    g0506: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoFiles:
    """The demo practice as its import files: (file name, CSV bytes)."""

    files: tuple[tuple[str, bytes], ...]
    programs: DemoPrograms = DemoPrograms()

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in self.files:
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
        return paths


def _csv(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


class _Schedule:
    """Keeps each staff member's day free of overlaps while entries are placed."""

    def __init__(self, zone: ZoneInfo, now: dt.datetime) -> None:
        self.zone = zone
        self.now = now
        self.cursor: dict[tuple[str, dt.date], dt.datetime] = {}

    def place(
        self, rng: random.Random, staff_id: str, day: dt.date, minutes: int, seconds: int
    ) -> tuple[dt.datetime, dt.datetime] | None:
        opening = dt.datetime.combine(day, dt.time(8, 0), self.zone)
        cursor = self.cursor.get(
            (staff_id, day), opening + dt.timedelta(minutes=rng.randint(0, 90))
        )
        start = cursor + dt.timedelta(minutes=rng.randint(2, 40))
        end = start + dt.timedelta(minutes=minutes, seconds=seconds)
        if end.time() > dt.time(18, 0) or end.astimezone(dt.UTC) > self.now:
            return None
        self.cursor[(staff_id, day)] = end
        return start, end


def build_demo(now: dt.datetime, seed: int = SEED, patients: int = 200) -> DemoFiles:
    """The demo files for three months ending with the month of `now` (practice time)."""
    rng = random.Random(seed)
    zone = ZoneInfo(DEMO_ZONE)
    today = now.astimezone(zone).date()
    first_month = _month_start(today, 2)
    staff_rows = [
        {"staff_id": sid, "name": name, "role": role, "credentials": cred,
         "npi": demo_npi(npi) if npi else ""}
        for sid, name, role, cred, npi in DEMO_STAFF
    ]  # fmt: skip
    patient_rows: list[dict[str, str]] = []
    entry_rows: list[dict[str, str]] = []
    month_rows: list[dict[str, str]] = []
    schedule = _Schedule(zone, now)
    months = [_month_start(today, back) for back in (2, 1, 0)]
    for index in range(patients):
        mrn = f"RB{100001 + index}"
        practitioner = PRACTITIONERS[index % 3 == 2]
        care_manager = CLINICAL[index % len(CLINICAL)]
        payer, payer_type, _ = rng.choices(PAYERS, weights=[p[2] for p in PAYERS])[0]
        dob = dt.date(rng.randint(1934, 1961), rng.randint(1, 12), rng.randint(1, 28))
        roll = rng.random()
        if roll < 0.08:
            conditions = [rng.choice(CONDITIONS)]  # one condition: PCM
        elif roll < 0.1:
            conditions = []
        else:
            conditions = rng.sample(CONDITIONS, rng.randint(2, 5))
        consented = first_month - dt.timedelta(days=rng.randint(20, 500))
        consent: dt.date | None = consented
        visit: dt.date | None = consented - dt.timedelta(days=rng.randint(0, 60))
        revoked = ""
        if index % 40 == 7:
            consent = None  # never consented
        elif index % 50 == 11:
            visit = None  # initiating visit missing from the chart
        elif index % 45 == 13:
            # Consent in the middle of the current month: earlier minutes must not count.
            consent = months[2] + dt.timedelta(days=min(9, max(0, today.day - 2)))
            visit = consent
        elif index % 60 == 17:
            revoked = (months[0] + dt.timedelta(days=rng.randint(3, 20))).isoformat()
        care_plan = min(today, consent + dt.timedelta(days=rng.randint(0, 14))) if consent else None
        city, zip_code = rng.choice(CITIES)
        patient_rows.append({
            "mrn": mrn, "last_name": rng.choice(LAST_NAMES), "first_name": rng.choice(FIRST_NAMES),
            "dob": dob.isoformat(), "sex": rng.choice("FM"), "phone": f"(207) 555-{1000 + index}",
            "address": f"{rng.randint(2, 990)} {rng.choice(STREETS)}", "city": city, "state": "ME",
            "zip": zip_code, "payer": payer, "payer_type": payer_type,
            "member_id": demo_mbi(rng) if payer_type == "medicare"
            else f"M{rng.randint(10**7, 10**8)}",
            "qmb": "yes" if payer_type == "medicare" and rng.random() < 0.12 else "no",
            "billing_practitioner": practitioner, "care_manager": care_manager,
            "conditions": ";".join(conditions),
            "consent_date": consent.isoformat() if consent else "",
            "consent_method": rng.choice(("verbal", "written")) if consent else "",
            "consent_practitioner": "", "consent_revoked_date": revoked,
            "initiating_visit_date": visit.isoformat() if visit else "",
            "care_plan_date": care_plan.isoformat() if care_plan else "",
        })  # fmt: skip
        # Numbers and best times by the patient's place in the list, not drawn: the draws
        # that follow, and so the rest of the demo, stay as they were.
        times = ("", *PREFERRED_CALL_TIMES)
        patient_rows[-1].update(
            mobile_phone=f"(207) 555-{3000 + index}" if index % 3 != 1 else "",
            other_phone=f"(207) 555-{6000 + index}" if index % 11 == 4 else "",
            preferred_call_time=times[index % len(times)],
        )
        # About half the patients with a Spanish family name read Spanish: their care plan
        # copy is printed in Spanish (docs/care-plan-templates.md).
        spanish = patient_rows[-1]["last_name"] in SPANISH_NAMES and index % 2 == 0
        patient_rows[-1][LANGUAGE_COLUMN] = "es" if spanish else "en"
        if payer_type == "medicare" and index % 6 == 4:
            # Some Medicare patients have a Medigap plan that takes the coinsurance.
            patient_rows[-1].update(secondary_payer="aarp-medigap",
                                    secondary_member_id=f"AARP{100000 + index}")  # fmt: skip
        profile = rng.random()  # how much attention this patient gets
        complex_patient = len(conditions) >= 3 and profile > 0.9
        for month in months:
            if complex_patient:
                target = rng.randint(55, 100)
            elif profile < 0.2:
                target = rng.randint(6, 19)  # short of 20 minutes
            elif profile < 0.8:
                target = rng.randint(18, 45)
            else:
                target = rng.randint(38, 70)
            days_in_month = (_month_start(month, -1) - month).days
            workdays = [
                d
                for offset in range(days_in_month)
                if (d := month + dt.timedelta(days=offset)).weekday() < 5 and d <= today
            ]
            if not workdays:
                continue
            spent = 0
            while spent < target:
                minutes = min(target - spent, rng.choice((3, 5, 6, 8, 10, 12, 15, 20)))
                spent += minutes
                day = rng.choice(workdays)
                kind = rng.random()
                staff = practitioner if kind < 0.07 else care_manager
                service = "ccm"
                if kind > 0.97:
                    staff = "sched-nowak"  # scheduling call: never counts
                elif kind > 0.95:
                    service = "tcm"
                slot = schedule.place(rng, staff, day, minutes, rng.choice((0, 0, 15, 30, 45)))
                if slot is None:
                    continue
                activity, note = rng.choice(ACTIVITIES)
                entry_rows.append({
                    "mrn": mrn, "staff_id": staff, "start": slot[0].isoformat(),
                    "end": slot[1].isoformat(), "service": service, "face_to_face": "no",
                    "activity": activity, "note": note,
                })  # fmt: skip
            facts: dict[str, str] = {}
            if complex_patient:
                facts["complexity"] = rng.choice(("moderate", "high"))
            if index % 67 == 5:
                facts["other_services"] = "G0181"
            if index % 71 == 9:
                facts["billed_elsewhere"] = "yes"
            if index % 53 == 21 and month == months[0]:
                stay_start = month + dt.timedelta(days=9)
                facts["inpatient"] = f"{stay_start}..{stay_start + dt.timedelta(days=3)}"
            if facts:
                month_rows.append({"mrn": mrn, "month": month.strftime("%Y-%m"), **facts})
    programs, bhi = _choose_programs(patient_rows, month_rows, months[-1].isoformat())
    _with_programs(patient_rows, programs, today)
    _add_bhi(rng, schedule, months, today, [patient_rows[i] for i in bhi], entry_rows)
    entry_rows.sort(key=lambda r: (r["start"], r["staff_id"]))
    payer_rows = [dict(zip(PAYER_FILE_COLUMNS, payer, strict=True)) for payer in DEMO_PAYERS]
    patient_columns = (
        *PATIENT_COLUMNS, "secondary_payer", "secondary_member_id", *PROGRAM_COLUMNS,
        "last_visit_date", "initiating_visit_g0506", *CALL_COLUMNS, LANGUAGE_COLUMN,
    )  # fmt: skip
    return DemoFiles((
        ("staff.csv", _csv(STAFF_COLUMNS, staff_rows)),
        ("payers.csv", _csv(PAYER_FILE_COLUMNS, payer_rows)),
        ("patients.csv", _csv(patient_columns, patient_rows)),
        ("time_entries.csv", _csv(ENTRY_COLUMNS, entry_rows)),
        ("patient_months.csv", _csv(MONTH_COLUMNS, month_rows)),
    ), programs)  # fmt: skip


def _choose_programs(
    patient_rows: list[dict[str, str]], month_rows: list[dict[str, str]], this_month: str
) -> tuple[DemoPrograms, list[int]]:
    """The patients the programs go to, by what they are like whatever the day's draw: Medicare
    Part B patients (it pays for APCM and BHI) enrolled with an initiating visit and no month
    facts. The APCM patient is a QMB one with two conditions or more when there is one (G0558);
    the PCM one has three conditions; G0506 goes to an initiating visit of this month. Returns
    them, and the indexes of the behavioural-health patients."""
    with_facts = {row["mrn"] for row in month_rows}
    taken: set[int] = set()

    def pick(test: Callable[[dict[str, str]], bool], part_b: bool = True) -> int | None:
        for index, row in enumerate(patient_rows):
            if (
                index not in taken
                and (row["payer"] == "Medicare Part B" or not part_b)
                and row["consent_date"]
                and row["initiating_visit_date"]
                and not row["consent_revoked_date"]
                and row["mrn"] not in with_facts
                and test(row)
            ):
                taken.add(index)
                return index
        return None

    def count(row: dict[str, str]) -> int:
        return len([c for c in row["conditions"].split(";") if c])

    # G0506 goes on the visit's own claim, whoever pays: any payer will do.
    g0506 = pick(lambda row: row["initiating_visit_date"] >= this_month, part_b=False)
    apcm = pick(lambda row: row["qmb"] == "yes" and count(row) >= 2)
    if apcm is None:
        apcm = pick(lambda row: count(row) >= 2)
    focus = pick(lambda row: count(row) == 3)
    bhi = [i for _ in DEMO_BHI if (i := pick(lambda row: count(row) >= 1)) is not None]
    mrn = [row["mrn"] for row in patient_rows]
    programs: list[tuple[str, str, str | None]] = []
    visits: list[tuple[str, int]] = []
    if apcm is not None:
        programs.append((mrn[apcm], "apcm", None))
        visits.append((mrn[apcm], APCM_LAST_VISIT_DAYS))
    if focus is not None:
        programs.append((mrn[focus], "pcm_focus", patient_rows[focus]["conditions"].split(";")[0]))
    chosen = DemoPrograms(
        tuple(programs), tuple(visits), (mrn[g0506],) if g0506 is not None else ()
    )
    return chosen, bhi


def _with_programs(
    patient_rows: list[dict[str, str]], chosen: DemoPrograms, today: dt.date
) -> None:
    """The programs, last visits and G0506 flags into the patients' rows: the import sets and
    audits them as a practice's own file would (docs/formats.md)."""
    rows = {row["mrn"]: row for row in patient_rows}
    for mrn, program, focus in chosen.programs:
        rows[mrn].update(program=program, focus_condition=focus or "", program_from="")
    for mrn, days in chosen.last_visit_days:
        rows[mrn]["last_visit_date"] = (today - dt.timedelta(days=days)).isoformat()
    for mrn in chosen.g0506:
        rows[mrn]["initiating_visit_g0506"] = "yes"


def _add_bhi(
    rng: random.Random,
    schedule: _Schedule,
    months: Sequence[dt.date],
    today: dt.date,
    patient_rows: list[dict[str, str]],
    entry_rows: list[dict[str, str]],
) -> None:
    """A behavioural-health condition and BHI-tagged time for each of `patient_rows` (as many
    as DEMO_BHI), drawn after everything else so the rest of the demo is as it was."""
    for row, (condition, minutes) in zip(patient_rows, DEMO_BHI, strict=False):
        row["conditions"] = ";".join([condition, *(c for c in row["conditions"].split(";") if c)])
        for month in months:
            days_in_month = (_month_start(month, -1) - month).days
            workdays = [
                d
                for offset in range(days_in_month)
                if (d := month + dt.timedelta(days=offset)).weekday() < 5 and d <= today
            ]
            # Two calls a month by the care team: the patient's care manager first, another
            # nurse when the care manager's days are full, the billing practitioner last (BHI
            # counts a practitioner's time too; early in a month the nurses' days are full).
            team = [
                row["care_manager"],
                *(c for c in CLINICAL if c != row["care_manager"]),
                row["billing_practitioner"],
            ]
            for attempt in range(40):
                placed = sum(
                    1 for e in entry_rows if e["mrn"] == row["mrn"] and e["service"] == "bhi"
                    and e["start"][:7] == month.strftime("%Y-%m")
                )  # fmt: skip
                if placed >= 2 or not workdays:
                    break
                half = minutes // 2 if placed == 0 else minutes - minutes // 2
                staff = team[attempt // 10 % len(team)]
                slot = schedule.place(rng, staff, rng.choice(workdays), half, 0)
                if slot is None:
                    continue
                entry_rows.append({
                    "mrn": row["mrn"], "staff_id": staff,
                    "start": slot[0].isoformat(), "end": slot[1].isoformat(), "service": "bhi",
                    "face_to_face": "no", "activity": BHI_NOTE[0], "note": BHI_NOTE[1],
                })  # fmt: skip


# Grace Lee's calls, patient by patient (her enrolled patients by MRN): the attempts (hours
# ago, outcome, note) and the callback promised (hours from now, who calls, note).
DEMO_CALLS: tuple[
    tuple[tuple[tuple[int, str, str], ...], tuple[float, str, str] | None], ...
] = (
    (((75, "voicemail", "Left a message about the new glucose meter"), (28, "no answer", "")),
     (-20, "", "No answer yesterday; try the mobile first")),
    (((120, "reached", "Doing well; starting the new BP dose"),),
     (1, "", "Check the BP log after the new dose")),
    (((22, "voicemail", "Left a message about the cardiology referral"),),
     (3, "", "Returning our call about the referral")),
    (((72, "no answer", ""), (71, "wrong number", "Home number is disconnected")),
     (50, "", "Ask for a working home number")),
    (((190, "reached", "Medication list reviewed with daughter"),), None),
    (((140, "declined", "Too busy this month; asked for a call next week"),),
     (140, "sched-nowak", "Offer a time next week")),
)  # fmt: skip

# The demo's care plans (docs/care-plan-templates.md). Most enrolled patients have a plan written
# by their care manager from the templates matching their conditions, signed by their billing
# practitioner on their care plan date and revised at each review since, the newest version
# given to them. By the patient's place among the enrolled (so the draws stay put): a few keep
# only the date of a plan kept elsewhere, a few were never given the newest copy, a few are past
# their review date, a few have a newer draft waiting to be signed.
PLAN_SEED = SEED + 20
PLAN_EXTERNAL, PLAN_DUE, PLAN_NOT_GIVEN, PLAN_DRAFT = (10, 3), (17, 5), (9, 2), (13, 6)
PLAN_OUTCOMES = (
    "Stable with monthly care management; prognosis good if the goals below are kept.",
    "Slowly progressive; the aim is to keep the patient at home and out of the hospital.",
    "Fair: symptoms controlled most weeks; one emergency visit in the past year.",
)
PLAN_MEDICATIONS = (
    "Medication list reconciled at each monthly call and after every hospital or specialist "
    "visit. Patient fills a weekly pill organizer; daughter checks it on Sundays."
)
PLAN_COMMUNITY = (
    "Meals on Wheels referral; Area Agency on Aging for transport to appointments.",
    "Senior center exercise class twice a week; pharmacy delivers refills.",
    "Caregiver support group for the spouse; home-safety check by the fire department.",
)
PLAN_COORDINATION = (
    "Specialists' notes reviewed when they arrive; the care manager sends the plan to the "
    "cardiology and endocrinology offices after each revision."
)
PLAN_FALLBACK = {  # for conditions no template matches
    "goals": "Keep every scheduled visit; no emergency visit for the chronic conditions.",
    "symptoms": "New or worse symptoms: call the office the same day.",
    "interventions": "Care manager: monthly call. Billing practitioner: review at each visit.",
}
PLAN_COPY_METHODS = ("in_person", "mail", "portal")


def plan_versions(
    rng: random.Random, first: dt.date, today: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """(signed on, review on) of each version of a plan first signed on `first`: revised a few
    days before each review date, until the review date is past the month's end."""
    versions = [(first, first + dt.timedelta(days=rng.randint(182, 365)))]
    while versions[-1][1] <= today + dt.timedelta(days=31):
        signed = versions[-1][1] - dt.timedelta(days=rng.randint(0, 20))
        if signed >= today:
            break
        versions.append((signed, signed + dt.timedelta(days=rng.randint(182, 365))))
    return versions


@dataclass(frozen=True)
class _PlanStep:
    """One step of a demo care plan, written as CarePlanService writes it: a version saved
    (`content`), signed, or its copy given (`given_on`, `method`)."""

    at: dt.datetime
    kind: str  # save, sign or give
    patient: Patient
    number: int
    actor: str  # a staff_id
    content: PlanContent | None = None
    before: PlanContent | None = None
    given_on: dt.date | None = None
    method: str = ""

    def write(
        self,
        session: Session,
        people: Mapping[str, Actor],
        versions: dict[tuple[int, int], CarePlanVersion],
        zone: dt.tzinfo,
    ) -> None:
        patient, actor = self.patient, people[self.actor]
        if self.kind == "save":
            assert self.content is not None
            versions[(patient.id, self.number)] = write_version(
                session, self.at, actor, patient, self.number, self.content, self.before
            )
        elif self.kind == "sign":
            version = versions[(patient.id, self.number)]
            signer = patient.billing_practitioner_id
            write_signature(session, self.at, actor, patient, version, signer, zone)
        else:
            assert self.given_on is not None
            version = versions[(patient.id, self.number)]
            language = patient.preferred_language or DEFAULT_LANGUAGE
            write_copy(
                session, self.at, actor, patient, version, self.given_on, self.method,
                language, "",
            )  # fmt: skip


def _plan_steps(
    rng: random.Random,
    k: int,
    patient: Patient,
    templates: Sequence[ConditionTemplate],
    keys: Mapping[int, str],
    today: dt.date,
    at: Callable[[dt.date, int, int], dt.datetime],
) -> list[_PlanStep]:
    """The steps of the `k`th enrolled patient's care plan (none: a plan kept elsewhere)."""
    conditions = [c.code for c in patient.conditions]
    first = patient.enrollment.care_plan_date if patient.enrollment else None
    doctor = keys.get(patient.billing_practitioner_id or 0)
    if k % PLAN_EXTERNAL[0] == PLAN_EXTERNAL[1] or not conditions or doctor is None:
        return []
    if first is None or first >= today:
        return []
    nurse = keys.get(patient.care_manager_id or 0, "rn-lee")
    versions = plan_versions(rng, first, today)
    due = k % PLAN_DUE[0] == PLAN_DUE[1]
    if due and len(versions) > 1:
        versions.pop()  # the review came and went without a revision
    content = prefill(PlanContent(), templates_for(conditions, templates), problem_list(conditions))
    content = dataclasses.replace(
        content,
        goals=content.goals or PLAN_FALLBACK["goals"],
        symptoms=content.symptoms or PLAN_FALLBACK["symptoms"],
        interventions=content.interventions or PLAN_FALLBACK["interventions"],
        outcomes=PLAN_OUTCOMES[k % len(PLAN_OUTCOMES)],
        medications=PLAN_MEDICATIONS,
        community=PLAN_COMMUNITY[k % len(PLAN_COMMUNITY)],
        coordination=PLAN_COORDINATION,
    ).cleaned()
    steps: list[_PlanStep] = []
    before: PlanContent | None = None
    for number, (signed, review) in enumerate(versions, start=1):
        if number > 1:
            outcome = PLAN_OUTCOMES[(k + number) % len(PLAN_OUTCOMES)]
            content = dataclasses.replace(
                content,
                outcomes=f"Reviewed with the patient on {signed.isoformat()}: {outcome}",
            )
        content = dataclasses.replace(content, review_on=review)
        steps.append(_PlanStep(at(signed, 9, 40), "save", patient, number, nurse, content, before))
        steps.append(_PlanStep(at(signed, 16, 20), "sign", patient, number, doctor))
        before = content
    number, signed = len(versions), versions[-1][0]
    if k % PLAN_NOT_GIVEN[0] != PLAN_NOT_GIVEN[1]:
        given = min(signed + dt.timedelta(days=rng.randint(0, 7)), today)
        method = PLAN_COPY_METHODS[k % len(PLAN_COPY_METHODS)]
        steps.append(_PlanStep(at(given, 11, 5), "give", patient, number, nurse,
                               given_on=given, method=method))  # fmt: skip
    if k % PLAN_DRAFT[0] == PLAN_DRAFT[1] and not due:
        draft = dataclasses.replace(
            content,
            medications=PLAN_MEDICATIONS + " New: lisinopril 10 mg daily since the last visit; "
            "to be reviewed with the practitioner.",
        )
        day = today - dt.timedelta(days=rng.randint(1, 6))
        steps.append(_PlanStep(at(day, 10, 15), "save", patient, number + 1, nurse, draft,
                               content))  # fmt: skip
    return steps


# Every demo person signs in with this (the sign-in screen says so after a demo is made).
DEMO_PASSWORD = "ccmdesk-demo"


class DemoService(ServiceBase):
    """Fill an empty database with the demo practice."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        imports: ImportService,
        hash_password: Callable[[str], str] | None = None,
        attest_apcm: Callable[[Actor, str | None], object] | None = None,
    ) -> None:
        super().__init__(db, clock)
        self._imports = imports
        self._hash_password = hash_password
        self._attest = attest_apcm

    def files(self) -> DemoFiles:
        return build_demo(self._now())

    def create(self, actor: Actor) -> ImportSummary:
        actor = self._authorize(actor, Permission.IMPORT_DATA)
        with self._db.session() as session:
            if session.scalar(select(func.count()).select_from(Patient)):
                raise ServiceError(
                    "This database already holds patients; the demo needs an empty data folder "
                    "(choose one with --data-dir)."
                )
        files = self.files()
        summary = self._imports.import_data(actor, files.files, practice=DEMO_PRACTICE)
        self._attest_apcm()
        self._enrolment_history()
        self._add_calls()
        self._care_plans()
        if self._hash_password is not None:
            self._set_demo_passwords(actor)
        return summary

    def _add_calls(self) -> None:
        """Grace Lee's outreach (docs/calls.md): calls logged over the past days, callbacks due
        today and one overdue, so her worklist opens with whom to call first."""
        now = self._now().replace(microsecond=0)
        with self._db.read() as session:
            lee = session.scalars(select(Staff.id).where(Staff.staff_id == "rn-lee")).one()
            patients = session.scalars(
                select(Patient)
                .join(Enrollment, Enrollment.patient_id == Patient.id)
                .where(
                    Patient.care_manager_id == lee,
                    Enrollment.consent_date.is_not(None),
                    Enrollment.consent_revoked_date.is_(None),
                )
                .order_by(Patient.mrn)
                .limit(len(DEMO_CALLS))
            ).all()
            numbers = [(p.mrn, p.mobile_phone or p.phone) for p in patients]
        calls = CallService(self._db, self._clock)
        people = {key: Actor(key, name, role) for key, name, role, *_ in DEMO_STAFF}
        for (mrn, phone), (attempts, callback) in zip(numbers, DEMO_CALLS, strict=False):
            for hours_ago, outcome, note in attempts:
                at = now - dt.timedelta(hours=hours_ago)
                calls.record_attempt(people["rn-lee"], mrn, outcome, phone, note, at=at)
            if callback is None:
                continue
            hours, assignee, note = callback
            with self._db.session() as session:
                patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
                staff = session.scalars(select(Staff.id).where(Staff.staff_id == assignee)).first()
                due = now + dt.timedelta(hours=hours)
                add_callback(session, people["rn-lee"], patient, mrn, due, staff, note, now)

    def _care_plans(self) -> None:
        """Care plans written, signed, revised and given (see PLAN_SEED). Written in one
        transaction, as the care plan service writes each step (the same rows, the same audit
        events at the time the step happened, in time order): through the service it took
        a thousand transactions, seconds the demo would add to every test that makes it."""
        rng = random.Random(PLAN_SEED)
        now = self._now().replace(microsecond=0)
        people = {key: Actor(key, name, role) for key, name, role, *_ in DEMO_STAFF}
        with self._db.session() as session:
            zone = practice_zone(session)
            today = self._today(session)
            keys = {i: key for i, key in session.execute(select(Staff.id, Staff.staff_id))}
            templates = [
                template_of(row)
                for row in session.scalars(
                    select(CarePlanTemplate).order_by(CarePlanTemplate.position)
                )
            ]
            patients = session.scalars(
                select(Patient)
                .join(Enrollment, Enrollment.patient_id == Patient.id)
                .where(Enrollment.consent_date.is_not(None),
                       Enrollment.care_plan_date.is_not(None))
                .options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
                .order_by(Patient.mrn)
            ).all()  # fmt: skip

            def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
                return min(dt.datetime.combine(day, dt.time(hour, minute), zone), now)

            steps: list[_PlanStep] = []
            for k, patient in enumerate(patients):
                steps += _plan_steps(rng, k, patient, templates, keys, today, at)
            steps.sort(key=lambda step: step.at)
            versions: dict[tuple[int, int], CarePlanVersion] = {}
            for step in steps:
                step.write(session, people, versions, zone)

    def _attest_apcm(self) -> None:
        """The demo practitioner attests the APCM prerequisites in their own name, as a
        practitioner does in the practice settings (whoever creates the demo: the command
        line, or an administrator at first start, who may not attest)."""
        if self._attest is None:
            return
        name = next(row[1] for row in DEMO_STAFF if row[0] == APCM_ATTESTED_BY)
        self._attest(Actor(key=APCM_ATTESTED_BY, name=name, role="practitioner"), None)

    def _enrolment_history(self) -> None:
        """The patients without consent were offered care management by their care manager
        a month ago; three declined since, each for a reason, and the others have not
        answered yet: the dashboard's enrolment chart shows the whole path."""
        service = EnrolmentService(self._db, self._clock)
        names = {row[0]: row[1] for row in DEMO_STAFF}
        with self._db.read() as session:
            today = self._today(session)
            waiting = session.execute(
                select(Patient.mrn, Staff.staff_id)
                .join(Staff, Staff.id == Patient.care_manager_id)
                .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
                .where(Enrollment.consent_date.is_(None))
                .order_by(Patient.mrn)
            ).all()
        reasons = ("cost share", "not interested", "enrolled elsewhere")
        for k, (mrn, manager) in enumerate(waiting):
            nurse = Actor(key=manager, name=names.get(manager, manager), role="clinical")
            service.offered(nurse, mrn, today - dt.timedelta(days=30 - k), "by phone")
            if k < len(reasons):
                service.declined(nurse, mrn, today - dt.timedelta(days=12 - k), reasons[k])

    def _set_demo_passwords(self, actor: Actor) -> None:
        hashed = self._hash_password(DEMO_PASSWORD) if self._hash_password else None
        now = self._now()
        with self._db.session() as session:
            # The demo's own people only, and only those without a password: a practice's real
            # staff (imported before the demo, say) must never get the published one.
            demo_ids = [row[0] for row in DEMO_STAFF]
            for staff in session.scalars(
                select(Staff)
                .where(Staff.staff_id.in_(demo_ids), Staff.password_hash.is_(None))
                .order_by(Staff.staff_id)
            ):
                staff.password_hash = hashed
                staff.password_set_at = now
                audit.record(session, at=now, actor=actor, action="auth.password_set",
                             entity="staff", entity_key=staff.staff_id,
                             after={"password_sha256": audit.fingerprint(hashed)},
                             reason="the demo practice's password")  # fmt: skip
