"""waivers.csv: keyed by mrn + from_month, all or nothing, row-numbered problems."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.services import Services
from ccmdesk.services.importing.service import KINDS
from tests.helpers.common import ADMIN, CLI, NOW, patient_text
from tests.helpers.database import sign
from tests.helpers.imports import failing, files

HEAD = "mrn,from_month,to_month,approved_by,approved_on,reason\n"
GOOD = HEAD + (
    "1001,2026-01,2026-03,bill-b,2025-12-20,Lost her job\n"
    '1002,2026-02,,admin-a,2026-01-30,"Husband\'s care home, see letter"\n'
)


def two_patients(services: Services) -> Services:
    services.patients.save_text(ADMIN, patient_text())
    services.patients.save_text(ADMIN, patient_text(mrn="1002", last_name="Okafor"))
    return services


def test_waivers_are_a_kind_of_import_file_known_by_mrn_and_from_month() -> None:
    [kind] = [k for k in KINDS if k.name == "waivers"]
    assert kind.identifying == ("mrn", "from_month")


def test_a_waivers_file_adds_then_updates_by_mrn_and_first_month(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    two_patients(staffed)
    summary = staffed.imports.import_paths(CLI, files(tmp_path, waivers=GOOD))
    assert "waivers: 2 added, 0 updated, 0 unchanged" in summary.lines()
    rows = staffed.waivers.list(ADMIN)
    assert [(r.record.mrn, r.span, r.approved_by_name) for r in rows] == [
        ("1002", "from February 2026 on", "Ann Admin"),
        ("1001", "January 2026 to March 2026", "Bo Biller"),
    ]
    ended = GOOD.replace("1002,2026-02,,", "1002,2026-02,2026-05,")
    summary = staffed.imports.import_paths(CLI, files(tmp_path, waivers=ended))
    assert "waivers: 0 added, 1 updated, 1 unchanged" in summary.lines()
    with db.read() as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "waiver"))
        )
    assert actions == ["waiver.create", "waiver.create", "waiver.update"]


def test_a_wrong_waivers_file_is_refused_whole_with_each_row_named(
    staffed: Services, tmp_path: Path
) -> None:
    two_patients(staffed)
    bad = HEAD + (
        "1001,2026-01,2026-03,bill-b,2025-12-20,Lost her job\n"
        "1001,2026-03,2026-04,bill-b,2025-12-20,Overlapping\n"
        "1002,2026-02,2026-01,rn-lee,2026-01-30,\n"
        "9999,2026-02,,bill-b,2026-05-01,Unknown patient\n"
        "1001,2026-01,,bill-b,2025-12-20,Twice\n"
    )
    assert failing(staffed, files(tmp_path, waivers=bad)) == [
        "waivers.csv:3: from_month: overlaps the patient's waiver January 2026 to March 2026; "
        "change or end that one first",
        "waivers.csv:4: reason: is required: the hardship, judged against the practice's "
        "written criteria",
        "waivers.csv:4: to_month: January 2026 is before the first month, February 2026",
        "waivers.csv:4: approved_by: 'rn-lee' is not billing staff or an administrator; only "
        "they approve hardship waivers",
        "waivers.csv:5: approved_on: is in the future",
        "waivers.csv:5: mrn: no patient has MRN '9999'",
        "waivers.csv:6: from_month: 1001 2026-01 appears twice in this file (first on line 2)",
    ]
    assert staffed.waivers.list(ADMIN) == []


def test_a_waivers_file_may_not_touch_a_signed_month(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    two_patients(staffed)
    sign(db, "1002", "2026-03", NOW)
    assert failing(staffed, files(tmp_path, waivers=GOOD)) == [
        "waivers.csv:3: from_month: March 2026 is signed for this patient; whether its "
        "coinsurance is waived cannot change until a practitioner or an administrator unlocks "
        "the month."
    ]
    assert staffed.waivers.list(ADMIN) == []
