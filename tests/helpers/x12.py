"""837P interchanges and claims to write, and a file read back segment by segment."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from ccmdesk.reports import x12

BILLING_NPI = "1245319599"
RENDERING_NPI = "1234567893"
CREATED = dt.datetime(2026, 4, 2, 9, 30)
CODES = (("99490", 6613), ("99439", 4763), ("99484", 5073))


def patient(**changes: Any) -> x12.Patient:
    base = x12.Patient(
        last_name="Okafor",
        first_name="Ada",
        birth_date=dt.date(1950, 3, 4),
        sex="F",
        address=x12.Address("5 Oak Ave", "Springfield", "IL", "62702"),
    )
    return replace(base, **changes)


def claim(mrn: str = "1001", codes: int = 1, **changes: Any) -> x12.Claim:
    """A Medicare patient-month of March 2026 with lines for the first `codes` CODES, pointing at both diagnoses."""
    base = x12.Claim(
        claim_id=x12.claim_id(mrn, "2026-03"),
        patient=patient(),
        member_id="1EG4TE5MK73",
        payer_name="Medicare Part B",
        payer_edi_id="12345",
        payer_kind="medicare",
        diagnoses=("E11.9", "I10"),
        lines=tuple(
            x12.ServiceLine(code, 1, cents, dt.date(2026, 3, 31), (1, 2))
            for code, cents in CODES[:codes]
        ),
        rendering=x12.Practitioner("Lee", "Ana", RENDERING_NPI),
    )
    return replace(base, **changes)


def interchange(*claims: x12.Claim, **changes: Any) -> x12.Interchange:
    base = x12.Interchange(
        envelope=x12.Envelope(control_number=7, created=CREATED),
        submitter=x12.Submitter("Springfield Clinic", "SUB123", "(217) 555-0100"),
        receiver=x12.Receiver("Clearing Co", "REC456"),
        billing_provider=x12.BillingProvider(
            name="Springfield Clinic",
            npi=BILLING_NPI,
            address=x12.Address("12 Main St", "Springfield", "IL", "62701-1234"),
            tin="12-3456789",
            taxonomy="207Q00000X",
        ),
        claims=claims or (claim(),),
    )
    return replace(base, **changes)


def segments(text: str) -> list[list[str]]:
    """The file's segments, each as its elements (the segment id first)."""
    assert text.endswith("~\n")
    return [line.removesuffix("~").split("*") for line in text.splitlines()]


def find(text: str, segment_id: str, *starts: str) -> list[list[str]]:
    """The segments with this id whose first elements are `starts`."""
    return [
        s for s in segments(text) if s[0] == segment_id and s[1 : 1 + len(starts)] == list(starts)
    ]
