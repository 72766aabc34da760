"""The dashboard's figures against the billing engine, and the evaluation cache behind them."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.services import PermissionDenied, Services
from ccmdesk.services.dashboard import (
    MINUTES_BANDS,
    counts_of,
    previous_months,
    split_by_week,
)
from tests.helpers.common import (
    BILLER,
    CLI,
    DOCTOR,
    FAST_HASHER,
    NOW,
    NURSE,
    SCHEDULER,
    patient_text,
)

MONTH = "2026-04"  # NOW's month: the demo's open month, with days left


def handoff_cents(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as file:
        return sum(int(row["amount_cents"]) for row in csv.DictReader(file))


@pytest.mark.parametrize("month", ["2026-03", MONTH])
def test_the_dashboard_the_billing_panel_and_the_handoff_give_the_same_month(
    demo: Services, db: Database, month: str, tmp_path: Path
) -> None:
    dashboard = demo.dashboard.month(CLI, month)
    with db.read() as session:  # what the export's handoff draws, in its own transaction
        assert demo.dashboard.compute_in(session, month) == dashboard
    with db.read() as session:  # and with nothing cached
        fresh = Services(db, clock=lambda: NOW, hasher=FAST_HASHER)
        assert fresh.dashboard.compute_in(session, month) == dashboard
    panel = demo.billing.month(CLI, month)
    assert dashboard.counts == counts_of(panel.rows)
    assert dashboard.counts.billable == panel.billable > 0
    assert dashboard.amount_cents == panel.amount_cents > 0
    assert dashboard.months[-1].cents_by_code == panel.amount_by_code()
    assert dashboard.months[-1].total_cents == panel.amount_cents
    demo.export.export(CLI, month, tmp_path, allow_open_month=True)
    assert handoff_cents(tmp_path / f"handoff-{month}.csv") == dashboard.amount_cents


def test_the_twelve_months_are_each_months_billing_panel(demo: Services) -> None:
    dashboard = demo.dashboard.month(CLI, MONTH)
    assert [m.month for m in dashboard.months] == previous_months(MONTH)
    assert dashboard.months[0].month == "2025-05" and len(dashboard.months) == 12
    for amounts in dashboard.months:
        assert amounts.cents_by_code == demo.billing.month(CLI, amounts.month).amount_by_code()


def test_each_evaluated_patient_is_in_one_band_or_counted_as_apcm(demo: Services) -> None:
    dashboard = demo.dashboard.month(CLI, MONTH)
    panel = demo.billing.month(CLI, MONTH)
    assert [(b.low, b.high) for b in dashboard.bands] == list(MINUTES_BANDS)
    assert sum(b.patients for b in dashboard.bands) + dashboard.apcm_patients == len(panel.rows)
    apcm = [r for r in panel.rows if r.result.program == "apcm"]
    assert dashboard.apcm_patients == len(apcm) > 0
    low = [r for r in panel.rows if r.result.program != "apcm" and r.result.countable_seconds < 600]
    assert dashboard.bands[0].patients == len(low)
    # An open month with days left: short months that nothing else blocks can still earn.
    assert dashboard.bands[0].reachable_cents > 0


def test_reachable_is_the_next_codes_fee_for_months_only_short_of_minutes(
    demo: Services,
) -> None:
    dashboard = demo.dashboard.month(CLI, MONTH)
    panel = demo.billing.month(CLI, MONTH)
    expected = 0
    for row in panel.rows:
        r = row.result
        if r.program == "apcm" or r.signed or r.next_threshold is None:
            continue
        if set(r.blocks) <= {"BELOW_THRESHOLD"}:
            expected += r.inputs[0].fees[r.next_threshold[1]]
    assert sum(b.reachable_cents for b in dashboard.bands) == expected > 0


def test_nothing_is_reachable_in_a_month_that_has_ended(demo: Services) -> None:
    dashboard = demo.dashboard.month(CLI, "2026-03")
    assert sum(b.patients for b in dashboard.bands) > 0
    assert all(b.reachable_cents == 0 for b in dashboard.bands)


def test_the_weeks_add_up_to_every_persons_recorded_time(demo: Services) -> None:
    dashboard = demo.dashboard.month(CLI, "2026-03")
    mondays = sorted({w.week for w in dashboard.weeks})
    # March 2026 runs Sunday the 1st to Tuesday the 31st: six weeks touch it.
    assert mondays[0] == dt.date(2026, 2, 23) and mondays[-1] == dt.date(2026, 3, 30)
    assert len(mondays) == 6 and all(d.weekday() == 0 for d in mondays)
    assert sum(w.seconds for w in dashboard.weeks) > 0
    assert len({w.staff_key for w in dashboard.weeks}) >= 3


def test_enrolment_counts_each_patient_once_at_the_latest_step(demo: Services) -> None:
    enrolment = demo.dashboard.month(CLI, MONTH).enrolment
    # The demo's 200 patients: 195 with consent on file (4 revoked since), and the 5 without
    # it offered care management, of whom 3 declined, each for a reason.
    assert (enrolment.offered, enrolment.consented, enrolment.revoked) == (200, 191, 4)
    assert enrolment.declined == 3
    assert enrolment.declined_by_reason == {
        "cost share": 1, "not interested": 1, "enrolled elsewhere": 1,
    }  # fmt: skip
    waiting = enrolment.offered - enrolment.consented - enrolment.declined - enrolment.revoked
    assert waiting == 2


def test_the_dashboard_needs_its_permission(staffed: Services) -> None:
    staffed.dashboard.month(NURSE, MONTH)
    staffed.dashboard.month(BILLER, MONTH)
    with pytest.raises(PermissionDenied, match="may not view the dashboard"):
        staffed.dashboard.month(SCHEDULER, MONTH)


def test_the_week_split_cuts_at_the_bounds() -> None:
    bounds = [0, 100, 200, 300]
    assert split_by_week([50, 250], [150, 400], bounds) == [50, 50, 50]
    assert split_by_week([-20], [10], bounds) == [10, 0, 0]
    assert split_by_week([], [], bounds) == [0, 0, 0]


def entry(services: Services, start: dt.datetime, minutes: int, service: str = "ccm") -> int:
    return services.entries.add_manual(
        NURSE, "A1", start, start + dt.timedelta(minutes=minutes), reason="call", service=service
    ).entry_id


def test_weeks_are_split_at_local_mondays_across_dst_and_the_month_end(
    staffed: Services,
) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="A1", last_name="Ames"))
    # New York springs forward on Sunday 8 March 2026: that week has 167 hours, and Monday
    # 9 March begins at 04:00 UTC (not 05:00, as the week before began).
    entry(staffed, dt.datetime(2026, 3, 9, 3, 30, tzinfo=dt.UTC), 60)  # 23:30-00:30 local
    # Past the month's end, in the week of Monday 30 March: it counts there, all of it.
    entry(staffed, dt.datetime(2026, 4, 2, 14, 0, tzinfo=dt.UTC), 20, service="bhi")
    # In February, in the week of Monday 23 February that March's first days share.
    entry(staffed, dt.datetime(2026, 2, 27, 15, 0, tzinfo=dt.UTC), 10)
    # A deleted entry is left out; one in the week after the month's last is not shown.
    gone = entry(staffed, dt.datetime(2026, 3, 17, 15, 0, tzinfo=dt.UTC), 45)
    staffed.entries.delete(NURSE, gone, "wrong patient")
    entry(staffed, dt.datetime(2026, 4, 6, 15, 0, tzinfo=dt.UTC), 30)
    weeks = {w.week: w.seconds for w in staffed.dashboard.month(CLI, "2026-03").weeks}
    assert weeks == {
        dt.date(2026, 2, 23): 600,
        dt.date(2026, 3, 2): 1800,
        dt.date(2026, 3, 9): 1800,
        dt.date(2026, 3, 16): 0,
        dt.date(2026, 3, 23): 0,
        dt.date(2026, 3, 30): 1200,
    }
    people = {(w.staff_key, w.staff_name) for w in staffed.dashboard.month(CLI, "2026-03").weeks}
    assert people == {("rn-lee", "Grace Lee")}


def test_reachable_is_the_next_units_fee_until_the_month_is_signed(staffed: Services) -> None:
    staffed.fees.save(CLI, 2026, {"99490": 6000, "99439": 4500})
    for mrn in ("A1", "B2"):
        staffed.patients.save_text(CLI, patient_text(mrn=mrn, last_name=mrn))
    start = NOW - dt.timedelta(days=3)
    for mrn, minutes in (("A1", 25), ("B2", 12)):
        staffed.entries.add_manual(
            NURSE, mrn, start, start + dt.timedelta(minutes=minutes), reason="call"
        )
        start += dt.timedelta(hours=1)
    bands = {b.label: b for b in staffed.dashboard.month(CLI, MONTH).bands}
    assert (bands["20-39"].patients, bands["20-39"].reachable_cents) == (1, 4500)  # 99439
    assert (bands["10-19"].patients, bands["10-19"].reachable_cents) == (1, 6000)  # 99490
    staffed.review.sign(DOCTOR, "A1", MONTH)
    bands = {b.label: b for b in staffed.dashboard.month(CLI, MONTH).bands}
    assert (bands["20-39"].patients, bands["20-39"].reachable_cents) == (1, 0)  # settled
    assert bands["10-19"].reachable_cents == 6000
