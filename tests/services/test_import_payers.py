"""payers.csv, and patients.csv naming payers the new way or the old, never both."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.services import Services
from tests.helpers.common import ADMIN, CLI, NURSE, VALID_NPIS, patient_text
from tests.helpers.imports import failing, files

STAFF = f"staff_id,name,role,credentials,npi\ndr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}\n"
PAYERS = """payer_id,name,kind,edi_payer_id,covers,coinsurance_percent,min_diagnoses,notes
aetna-ma,Aetna Medicare,medicare_advantage,60054,ccm;pcm,20,2,"portal: aetna.com"
cash,Self-pay,self,,unknown,,,
mcd-me,MaineCare,medicaid,,ccm;pcm;apcm;bhi,0,,
"""
HEAD = "mrn,last_name,first_name,dob,billing_practitioner,"
NEW_WAY = (
    HEAD
    + """primary_payer,primary_member_id,relationship,insured_last_name,insured_first_name,secondary_payer,secondary_member_id,signature_on_file
1001,Rivera,Ana,1950-02-03,dr-a,mcr-b,1eg4-te5-mk73,,,,mcd-me,M77,yes
1002,Okafor,Ben,1952-05-06,dr-a,aetna-ma,W123,spouse,Okafor,Ada,,,no
1003,Lund,Cy,1949-09-09,dr-a,,,,,,,,
"""
)
OLD_WAY = (
    HEAD
    + """payer,payer_type,member_id
1001,Rivera,Ana,1950-02-03,dr-a,Medicare Part B,medicare,1EG4-TE5-MK73
1002,Okafor,Ben,1952-05-06,dr-a,Aetna Medicare,medicare_advantage,W123
1003,Lund,Cy,1949-09-09,dr-a,Harbor Health,,H1
1004,Lund,Di,1949-09-10,dr-a,harbor health,,H2
"""
)


def test_payers_import_and_a_second_import_changes_nothing(
    services: Services, tmp_path: Path
) -> None:
    summary = services.imports.import_paths(CLI, files(tmp_path, payers=PAYERS))
    assert summary.lines() == ["payers: 3 added, 0 updated, 0 unchanged"]
    aetna = services.payers.get(CLI, "aetna-ma")
    assert (aetna.edi_payer_id, aetna.covers, aetna.min_diagnoses, aetna.notes) == (
        "60054", "ccm;pcm", 2, "portal: aetna.com"
    )  # fmt: skip
    assert services.payers.get(CLI, "cash").coinsurance_percent == 100
    assert services.payers.get(CLI, "mcd-me").coinsurance_percent == 0
    again = services.imports.import_paths(CLI, files(tmp_path, payers=PAYERS))
    assert again.lines() == ["payers: 0 added, 0 updated, 3 unchanged"]


def test_a_retired_payer_stays_retired_when_its_row_is_imported_again(
    services: Services, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, payers=PAYERS))
    services.payers.retire(CLI, "cash")
    changed = PAYERS.replace("cash,Self-pay,self,,unknown,,,", "cash,Cash,self,,unknown,,,")
    services.imports.import_paths(CLI, files(tmp_path, payers=changed))
    assert services.payers.get(CLI, "cash").retired


def test_wrong_payer_rows_are_reported_by_line_and_column(
    services: Services, tmp_path: Path
) -> None:
    bad = PAYERS + "Aetna MA,X,hmo,,rpm,120,0,\naetna-ma,Again,commercial,,,,,\n"
    assert failing(services, files(tmp_path, payers=bad)) == [
        "payers.csv:5: payer_id: 'aetna ma' is not a payer id: lower-case letters, digits and "
        "'-', at most 20",
        "payers.csv:5: kind: 'hmo' is not a payer kind; use one of medicare, "
        "medicare_advantage, medicaid, commercial, self",
        "payers.csv:5: covers: 'rpm' is not a program; use ccm, pcm, apcm, bhi or unknown",
        "payers.csv:5: coinsurance_percent: 120 is not 0 to 100",
        "payers.csv:5: min_diagnoses: 0 is not 1 to 12 (blank: no rule)",
        "payers.csv:6: payer_id: 'aetna-ma' appears twice in this file (first on line 2)",
    ]


def test_patients_name_payers_by_payer_id_with_the_whole_coverage(
    services: Services, tmp_path: Path
) -> None:
    services.imports.import_paths(
        CLI, files(tmp_path, staff=STAFF, payers=PAYERS, patients=NEW_WAY)
    )
    ana = services.patients.get(CLI, "1001")
    assert (ana.primary_payer, ana.member_id, ana.relationship) == ("mcr-b", "1EG4TE5MK73", "self")
    assert (ana.secondary_payer, ana.secondary_member_id, ana.signature_on_file) == (
        "mcd-me", "M77", "yes"
    )  # fmt: skip
    # The old text follows the payer: the superbill prints it.
    assert (ana.payer, ana.payer_type) == ("Medicare Part B", "medicare")
    ben = services.patients.get(CLI, "1002")
    assert (ben.primary_payer, ben.relationship, ben.insured_last_name, ben.insured_first_name) == (
        "aetna-ma", "spouse", "Okafor", "Ada"
    )  # fmt: skip
    cy = services.patients.get(CLI, "1003")
    assert (cy.primary_payer, cy.payer, cy.relationship, cy.signature_on_file) == (
        "",
        "",
        "self",
        "",
    )
    again = services.imports.import_paths(
        CLI, files(tmp_path, staff=STAFF, payers=PAYERS, patients=NEW_WAY)
    )
    assert again.counts["patients"].unchanged == 3


def test_the_old_columns_name_payers_by_name_making_them_as_the_migration_does(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=OLD_WAY))
    payer_of = {mrn: services.patients.get(CLI, mrn).primary_payer for mrn in
                ("1001", "1002", "1003", "1004")}  # fmt: skip
    assert payer_of == {
        "1001": "mcr-b", "1002": "aetna-medicare", "1003": "harbor-health",
        "1004": "harbor-health",
    }  # fmt: skip
    harbor = services.payers.get(CLI, "harbor-health")
    assert (harbor.name, harbor.kind, harbor.covers, harbor.coinsurance_percent) == (
        "Harbor Health", "commercial", "unknown", 20
    )  # fmt: skip
    with db.read() as session:
        made = session.scalars(
            select(AuditEvent.entity_key).where(AuditEvent.action == "payer.create")
        ).all()
    assert sorted(made) == ["aetna-medicare", "harbor-health"]
    # Imported again: the payers are found by name, none made twice, nothing changes.
    again = services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=OLD_WAY))
    assert again.counts["patients"].unchanged == 4
    assert len(services.payers.list(CLI)) == 3


def test_a_file_may_not_name_payers_both_ways(services: Services, tmp_path: Path) -> None:
    mixed = HEAD + "payer,primary_payer\n1001,Rivera,Ana,1950-02-03,dr-a,Medicare Part B,\n"
    assert failing(services, files(tmp_path, staff=STAFF, patients=mixed)) == [
        "patients.csv:1: (header): names the primary payer both ways (primary_payer, payer); "
        "use primary_payer and primary_member_id, or payer, payer_type and member_id, not both"
    ]


def test_coverage_rows_are_checked_against_the_payer_list(
    services: Services, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, payers=PAYERS))
    services.payers.retire(CLI, "cash")
    rows = HEAD + (
        "primary_payer,primary_member_id,relationship,insured_last_name,secondary_payer,"
        "secondary_member_id\n"
        "2001,A,B,1950-01-01,dr-a,nope,,,,,\n"
        "2002,A,B,1950-01-01,dr-a,mcr-b,X1,spouse,B,,\n"
        "2003,A,B,1950-01-01,dr-a,cash,,,,cash,\n"
        "2004,A,B,1950-01-01,dr-a,aetna-ma,W1,,,,S9\n"
    )
    assert failing(services, files(tmp_path, staff=STAFF, patients=rows)) == [
        "patients.csv:2: primary_payer: no payer has payer_id 'nope'",
        "patients.csv:3: insured_first_name: is required when relationship is spouse",
        "patients.csv:3: relationship: is 'spouse', but a Medicare patient is always the "
        "insured; use self",
        "patients.csv:3: primary_member_id: 'X1' is not a Medicare MBI: it must be 11 "
        "characters, it has 2",
        "patients.csv:4: secondary_payer: is the primary payer too",
        "patients.csv:4: primary_payer: 'cash' is retired; choose another payer",
        "patients.csv:4: secondary_payer: 'cash' is retired; choose another payer",
        "patients.csv:5: secondary_member_id: is set but secondary_payer is empty",
    ]


def test_the_editor_keeps_coverage_it_does_not_show(staffed: Services) -> None:
    staffed.payers.save_text(ADMIN, {"payer_id": "mcd-me", "name": "MaineCare",
                                     "kind": "medicaid"})  # fmt: skip
    staffed.patients.save_text(
        ADMIN, {**patient_text(), "secondary_payer": "mcd-me", "signature_on_file": "yes"}
    )
    # The editor of today sends only its own fields, naming the payer the old way.
    staffed.patients.save_text(ADMIN, patient_text(phone="207 555 0100"), original_mrn="1001")
    record = staffed.patients.get(NURSE, "1001")
    assert (record.primary_payer, record.secondary_payer, record.signature_on_file) == (
        "mcr-b", "mcd-me", "yes"
    )  # fmt: skip


def test_a_medicare_patient_typed_in_is_the_insured(staffed: Services) -> None:
    from ccmdesk.services import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        staffed.patients.save_text(
            ADMIN, {**patient_text(), "relationship": "child", "insured_last_name": "Rivera",
                    "insured_first_name": "Mo"}
        )  # fmt: skip
    assert [str(e) for e in caught.value.errors] == [
        "relationship: is 'child', but a Medicare patient is always the insured; use self"
    ]
