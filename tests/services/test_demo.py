"""The demo practice: realistic, deterministic, and only into an empty database."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Practice, Staff, TimeEntry
from ccmdesk.services import Actor, ServiceError, Services
from ccmdesk.services.claims import claim_statuses
from ccmdesk.services.demo import build_demo
from tests.helpers.common import CLI, NOW


def rows(name: str) -> list[dict[str, str]]:
    data = dict(build_demo(NOW).files)[name]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_demo_is_the_same_for_the_same_clock() -> None:
    assert build_demo(NOW) == build_demo(NOW)


def test_the_demo_has_eight_staff_covering_every_role() -> None:
    staff = rows("staff.csv")
    assert len(staff) == 8
    assert {s["role"] for s in staff} == {
        "clinical", "practitioner", "non_clinical", "billing", "admin",
    }  # fmt: skip


def test_the_demo_patients_are_varied_like_a_real_panel() -> None:
    patients = rows("patients.csv")
    assert 190 <= len(patients) <= 210
    payers = Counter(p["payer_type"] for p in patients)
    assert set(payers) == {"medicare", "medicare_advantage", "medicaid", "commercial"}
    assert sum(1 for p in patients if not p["consent_date"]) >= 3  # a few without consent
    assert sum(1 for p in patients if len(p["conditions"].split(";")) == 1) >= 5  # PCM
    assert any(p["qmb"] == "yes" for p in patients)


def test_the_demo_spans_three_months_with_short_and_long_patients() -> None:
    entries = rows("time_entries.csv")
    months = {e["start"][:7] for e in entries}
    assert months == {"2026-02", "2026-03", "2026-04"}  # three months ending with NOW's
    seconds: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        from datetime import datetime

        span = datetime.fromisoformat(e["end"]) - datetime.fromisoformat(e["start"])
        seconds[(e["mrn"], e["start"][:7])] += int(span.total_seconds())
        assert datetime.fromisoformat(e["end"]) <= NOW
    march = [s for (_, month), s in seconds.items() if month == "2026-03"]
    assert sum(1 for s in march if s < 20 * 60) >= 10  # some short of 20 minutes
    assert sum(1 for s in march if s >= 60 * 60) >= 5  # some long enough for complex CCM
    assert any(m["complexity"] in ("moderate", "high") for m in rows("patient_months.csv"))


def test_demo_create_imports_everything(services: Services, db: Database) -> None:
    summary = services.demo.create(CLI)
    assert summary.counts["patients"].created == len(rows("patients.csv"))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Staff)) == 8
        assert session.scalar(select(func.count()).select_from(Patient)) == len(
            rows("patients.csv")
        )
        assert session.scalar(select(func.count()).select_from(TimeEntry)) == len(
            rows("time_entries.csv")
        )
    assert services.practice.get().name == "Riverbend Family Medicine"
    # Grace Lee's day opens with callbacks: two due today, one overdue (docs/calls.md).
    lee = Actor("rn-lee", "Grace Lee", "clinical")
    due = services.calls.due(lee, NOW + dt.timedelta(hours=6))
    assert len(due) == 3 and sum(c.due_at < NOW for c in due) == 1
    first = services.minutes.worklist(lee)[:3]
    assert [r.callback_id for r in first] == [c.callback_id for c in due]
    assert all(r.phones and r.last_outcome for r in first)
    with pytest.raises(ServiceError, match="already holds patients"):
        services.demo.create(CLI)


def test_a_refused_demo_leaves_no_practice_behind(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.services import ImportFailed
    from ccmdesk.services.demo import DemoFiles, DemoService

    broken = DemoFiles((("staff.csv", b"staff_id,name,role\nx,X,wizard\n"),))
    monkeypatch.setattr(DemoService, "files", lambda self: broken)
    with pytest.raises(ImportFailed):
        services.demo.create(CLI)
    assert services.practice.get() is None


def test_the_demo_password_never_lands_on_a_practices_own_staff(tmp_path) -> None:
    from ccmdesk.db import open_database
    from ccmdesk.rules.records import StaffRecord
    from ccmdesk.services import Actor, Services
    from ccmdesk.services.auth import SignInRefused
    from ccmdesk.services.demo import DEMO_PASSWORD
    from tests.helpers.common import FAST_HASHER

    db = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}")
    try:
        services = Services(db, hasher=FAST_HASHER)
        cli = Actor.command_line()
        services.staff.save(cli, StaffRecord("admin-real", "Real Admin", "admin"), is_new=True)
        services.staff.save(cli, StaffRecord("ma-new", "New Assistant", "clinical"), is_new=True)
        services.auth.set_password(cli, "admin-real", "the real one, kept")
        services.demo.create(cli)
        with pytest.raises(SignInRefused):
            services.auth.sign_in("admin-real", DEMO_PASSWORD)
        with pytest.raises(SignInRefused):
            services.auth.sign_in("ma-new", DEMO_PASSWORD)
        assert services.auth.sign_in("admin-real", "the real one, kept").key == "admin-real"
        assert services.auth.sign_in("admin-patel", DEMO_PASSWORD).key == "admin-patel"
    finally:
        db.dispose()


def test_the_demo_practice_can_send_claims_to_some_payers_but_not_all(
    services: Services, db: Database
) -> None:
    services.demo.create(CLI)
    with db.read() as session:
        statuses = claim_statuses(session, "2026-03")
        secondary = session.scalar(
            select(func.count()).select_from(Patient).where(Patient.secondary_payer_id.is_not(None))
        )
    ready = [s for s in statuses.values() if s.ready]
    # Medicare, Medicare Advantage and MaineCare take claim files; Anthem has no EDI id yet,
    # and a patient with no condition on file has nothing to put in box 21.
    assert len(ready) >= 150
    assert {s.edits for s in statuses.values() if not s.ready} == {
        ("CLAIM_NO_EDI_PAYER_ID",),
        ("CLAIM_NO_DIAGNOSIS",),
    }
    assert secondary and secondary >= 10  # Medigap patients, whose estimate goes to the Medigap


def _bhi_mrns() -> list[str]:
    """The demo's behavioural-health patients, in patient order."""
    found = dict.fromkeys(e["mrn"] for e in rows("time_entries.csv") if e["service"] == "bhi")
    return sorted(found)


def test_the_demo_has_behavioural_health_patients_with_bhi_time() -> None:
    patients = {p["mrn"]: p for p in rows("patients.csv")}
    mrns = _bhi_mrns()
    assert len(mrns) == 3
    assert [patients[m]["conditions"].split(";")[0] for m in mrns] == ["F33.1", "F41.1", "F41.1"]
    chosen = build_demo(NOW).programs
    assert [p for _, p, _ in chosen.programs] == ["apcm", "pcm_focus"]
    (focus,) = [m for m, p, _ in chosen.programs if p == "pcm_focus"]
    assert len(patients[focus]["conditions"].split(";")) == 3
    assert len(chosen.g0506) == 1 and chosen.last_visit_days


def test_the_demo_bills_every_program_and_shows_where_another_pays_more(
    services: Services, db: Database
) -> None:
    from ccmdesk.models import AuditEvent

    services.demo.create(CLI)
    chosen = build_demo(NOW).programs
    (apcm_mrn,) = [m for m, p, _ in chosen.programs if p == "apcm"]
    (focus_mrn,) = [m for m, p, _ in chosen.programs if p == "pcm_focus"]
    over_mrn, under_mrn = _bhi_mrns()[:2]  # 26 minutes, then 12, a month
    for month in ("2026-03", "2026-04"):
        results = {row.mrn: row.result for row in services.billing.month(CLI, month).rows}
        assert sum(1 for r in results.values() if r.pays_more is not None) >= 5
        apcm = results[apcm_mrn]
        assert (apcm.program, apcm.codes) == ("apcm", "G0558x1")  # QMB, two conditions
        focus = results[focus_mrn]
        assert focus.program == "pcm_focus" and focus.conditions == 3
        over, under = results[over_mrn].bhi, results[under_mrn].bhi
        assert over is not None and over.codes == "99484x1"
        assert under is not None and under.blocks == ("BELOW_THRESHOLD",)
    april = {row.mrn: row.result for row in services.billing.month(CLI, "2026-04").rows}
    assert april[chosen.g0506[0]].g0506 is not None
    with db.read() as session:
        actions = Counter(session.scalars(select(AuditEvent.action)))
        attested = session.scalars(select(Practice.apcm_attested_by_id)).one()
        okafor = session.scalars(select(Staff.id).where(Staff.staff_id == "dr-okafor")).one()
    assert attested == okafor
    assert actions["patient.program"] == 2 and actions["practice.apcm_attest"] == 1


def test_the_demo_has_believable_care_plans(services: Services) -> None:
    """Most enrolled patients have a signed plan given to them; a few keep only a plan kept
    elsewhere, were never given the newest copy, are past review or have a draft waiting
    (services/demo.py, PLAN_SEED). The rows read as the care plan service reads them."""
    services.demo.create(CLI)
    doctor = Actor("dr-okafor", "Adaeze Okafor", "practitioner")
    enrolled = [r for r in rows("patients.csv") if r["consent_date"] and r["care_plan_date"]]
    plans = [services.care_plans.plan(doctor, r["mrn"]) for r in enrolled]
    in_app = [p for p in plans if p.signed is not None]
    external = [p for p in plans if not p.versions]
    assert len(in_app) > 0.8 * len(plans) and 10 <= len(external) < 0.15 * len(plans)
    assert all(p.external_date is not None for p in external)
    assert all(p.in_force is not None for p in plans)
    first = {r["mrn"]: dt.date.fromisoformat(r["care_plan_date"]) for r in enrolled}
    for plan in in_app:
        assert plan.versions[0].signed_on == first[plan.mrn]  # the old care plan date
        for version in plan.versions:
            if version.signed:
                _, sha = services.care_plans.document(doctor, plan.mrn, version.number)
                assert sha == version.document_hash
                assert version.content.review_on is not None
                assert version.content.review_on - version.signed_on >= dt.timedelta(days=182)
                assert not version.missing
    today = NOW.date()
    due = [p for p in in_app if p.signed.content.review_on < today]
    not_given = [p for p in in_app if not p.signed.given]
    drafts = [p for p in in_app if not p.latest.signed]
    revised = [p for p in in_app if p.signed.number > 1]
    for group in (due, not_given, drafts):
        assert 3 <= len(group) <= 0.15 * len(in_app)
    assert len(revised) > 0.3 * len(in_app)
    copies = [c for p in in_app for v in p.versions for c in v.copies]
    assert {c.method for c in copies} == {"in_person", "mail", "portal"}
    spanish = [p for p in in_app if p.preferred_language == "es"]
    assert spanish and all(c.language == "es" for p in spanish for c in p.signed.copies)
    assert 3 <= sum(c.language == "es" for c in copies) < len(copies) / 4
    admin = Actor("admin-patel", "Priya Patel", "admin")
    assert services.audit.verify(admin).ok and services.audit.deep_check(admin).ok
