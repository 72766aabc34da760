"""Documents that restate the code say what the code does."""

from __future__ import annotations

from pathlib import Path

from ccmdesk.services.context import permissions_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_permission_table_in_the_docs_is_the_codes() -> None:
    text = (DOCS / "permissions.md").read_text(encoding="utf-8")
    assert permissions_markdown() in text


def test_the_field_limits_in_the_docs_are_the_codes() -> None:
    from ccmdesk.rules.intervals import FIRST_MONTH, LAST_MONTH
    from ccmdesk.rules.validation import (
        ACTIVITY_LIMIT,
        CONDITIONS_LIMIT,
        MAX_ACTIVITIES,
        NOTE_LIMIT,
        OTHER_SERVICES_LIMIT,
        PATIENT_TEXT_LIMITS,
        PRACTICE_TEXT_LIMITS,
        REASON_LIMIT,
        STAFF_TEXT_LIMITS,
    )
    from ccmdesk.services.importer import LISTED
    from ccmdesk.services.practice import ATTESTATION_LIMIT

    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    p, s, pr = PATIENT_TEXT_LIMITS, STAFF_TEXT_LIMITS, PRACTICE_TEXT_LIMITS
    assert p["mrn"] == p["phone"] == p["member_id"]
    assert p["last_name"] == p["first_name"] == p["city"] == p["payer"]
    assert s["staff_id"] == s["credentials"]
    for row in (
        f"| patient `mrn`, `phone`, `member_id` | {p['mrn']} characters |",
        f"| patient `last_name`, `first_name`, `city`, `payer` | {p['last_name']} characters |",
        f"| patient `address` | {p['address']} characters |",
        f"| patient `zip` | {p['zip']} characters",
        f"| patient `conditions` | {CONDITIONS_LIMIT} codes |",
        f"| staff `staff_id`, `credentials` | {s['staff_id']} characters |",
        f"| staff `name` | {s['name']} characters |",
        f"| practice name / address / phone | {pr['name']} / {pr['address']} / {pr['phone']} "
        "characters |",
        f"| time entry `activity` | {ACTIVITY_LIMIT} characters, one line |",
        f"| time entry `note` | {NOTE_LIMIT:,} characters; line breaks allowed |",
        f"| patient month `other_services` | {OTHER_SERVICES_LIMIT} codes |",
        f"fees changed) | {REASON_LIMIT} characters; line breaks allowed |",
        f"| the practice's attestation statement | {ATTESTATION_LIMIT:,} characters |",
        f"| stopwatch activities (Practice settings) | {MAX_ACTIVITIES} activities of "
        f"{ACTIVITY_LIMIT} characters each |",
        f"`YYYY-MM` from `{FIRST_MONTH}` to `{LAST_MONTH}`",
        f"the first {LISTED:,} problems",
    ):
        assert row in text, row
