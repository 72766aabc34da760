"""An 837P file of 1,000 claims, written and checked: python -m benchmarks.claims_837p [RUNS].

Each run builds the file with `checked_837p` (the call the export makes): the writer, then
pyx12's 005010X222A1 check, which loads its 837 map each time. Every claim carries three code
lines (99490, 99439, 99484), the most a month bills, so this is the file's worst case for its
size. The first run also imports pyx12. Target (issue #17): under 5 s with the check.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from ccmdesk.reports import x12

CLAIMS = 1_000
DIAGNOSES = ("E11.9", "I10", "J44.9", "N18.3", "E78.5", "I50.9", "F33.1", "M17.0")
CODES = (("99490", 6613), ("99439", 4763), ("99484", 5073))


def interchange(claims: int = CLAIMS) -> x12.Interchange:
    made = []
    for n in range(claims):
        diagnoses = DIAGNOSES[: 2 + n % 6]
        lines = tuple(
            x12.ServiceLine(code, 1, cents, dt.date(2026, 3, 31), (1, 2, 3, 4)[: len(diagnoses)])
            for code, cents in CODES
        )
        made.append(
            x12.Claim(
                claim_id=x12.claim_id(f"{100_000 + n}", "2026-03"),
                patient=x12.Patient(
                    last_name=f"Patient{n}",
                    first_name="Zoë",
                    birth_date=dt.date(1940 + n % 40, 1 + n % 12, 1 + n % 28),
                    sex="F" if n % 2 else "M",
                    address=x12.Address(f"{n} Oak Ave", "Springfield", "IL", "62702"),
                ),
                member_id="1EG4TE5MK73",
                payer_name="Medicare Part B",
                payer_edi_id="12345",
                payer_kind="medicare",
                diagnoses=diagnoses,
                lines=lines,
                rendering=x12.Practitioner("Lee", "Ana", "1234567893") if n % 3 else None,
            )
        )
    return x12.Interchange(
        envelope=x12.Envelope(control_number=1, created=dt.datetime(2026, 4, 2, 9, 30)),
        submitter=x12.Submitter("Springfield Clinic", "SUB123", "2175550100"),
        receiver=x12.Receiver("Clearing Co", "REC456"),
        billing_provider=x12.BillingProvider(
            "Springfield Clinic",
            "1245319599",
            x12.Address("12 Main St", "Springfield", "IL", "62701-1234"),
            "123456789",
        ),
        claims=tuple(made),
    )


def main(runs: int) -> None:
    data = interchange()
    times: list[float] = []
    for n in range(runs):
        started = time.perf_counter()
        text = x12.checked_837p(data)  # the writer, then pyx12's check
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        x12.write_837p(data)
        writing = time.perf_counter() - started
        print(
            f"run {n + 1}: {times[-1]:.2f} s for {len(data.claims):,} claims "
            f"(writing alone {writing * 1000:.0f} ms), {text.count('~'):,} segments, "
            f"{len(text.encode()):,} bytes"
        )
    print(f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
