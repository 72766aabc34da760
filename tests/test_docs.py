"""Documents that restate the code say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from ccmdesk.services.context import permissions_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"
ROOT = DOCS.parent
# Top-level folders of the repository: a path in the docs that starts with one names a file here.
REPO_FOLDERS = ("docs/", "ccmdesk/", "scripts/", "tests/", "benchmarks/", "tools/", "resources/",
                ".ci/", "shared/")  # fmt: skip
MADE_BY_RUNS = ("benchmarks/.cache/",)  # named in the docs, made by the benchmarks


def test_the_permission_table_in_the_docs_is_the_codes() -> None:
    text = (DOCS / "permissions.md").read_text(encoding="utf-8")
    assert permissions_markdown() in text


def test_the_field_limits_in_the_docs_are_the_codes() -> None:
    from ccmdesk.rules.intervals import FIRST_MONTH, LAST_MONTH
    from ccmdesk.rules.payers import PAYER_ID_LIMIT, PAYER_TEXT_LIMITS
    from ccmdesk.rules.validation import (
        ACTIVITY_LIMIT,
        CONDITIONS_LIMIT,
        COVERAGE_TEXT_LIMITS,
        MAX_ACTIVITIES,
        NOTE_LIMIT,
        OTHER_SERVICES_LIMIT,
        PATIENT_TEXT_LIMITS,
        PRACTICE_CLAIM_TEXT_LIMITS,
        PRACTICE_TEXT_LIMITS,
        REASON_LIMIT,
        STAFF_TEXT_LIMITS,
    )
    from ccmdesk.services.importing.core import LISTED
    from ccmdesk.services.practice import ATTESTATION_LIMIT

    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    p, s, pr = PATIENT_TEXT_LIMITS, STAFF_TEXT_LIMITS, PRACTICE_TEXT_LIMITS
    assert p["mrn"] == p["phone"] == p["member_id"]
    assert p["last_name"] == p["first_name"] == p["city"] == p["payer"]
    assert s["staff_id"] == s["credentials"]
    v = COVERAGE_TEXT_LIMITS
    assert v["secondary_member_id"] == p["member_id"]
    assert v["insured_last_name"] == v["insured_first_name"]
    y = PAYER_TEXT_LIMITS
    c = PRACTICE_CLAIM_TEXT_LIMITS
    assert c["submitter_id"] == c["receiver_id"] and c["submitter_name"] == c["receiver_name"]
    for row in (
        f"| patient `primary_member_id`, `secondary_member_id` | {p['member_id']} characters |",
        f"| patient `insured_last_name`, `insured_first_name` | {v['insured_last_name']} "
        "characters |",
        f"| payer `payer_id` | {PAYER_ID_LIMIT} characters: `a-z`, `0-9`, `-` |",
        f"| payer `name` / `edi_payer_id` / `notes` | {y['name']} / {y['edi_payer_id']} / "
        f"{y['notes']:,} characters (notes may hold line breaks) |",
        f"| patient `mrn`, `phone`, `member_id` | {p['mrn']} characters |",
        f"| patient `last_name`, `first_name`, `city`, `payer` | {p['last_name']} characters |",
        f"| patient `address` | {p['address']} characters |",
        f"| patient `zip` | {p['zip']} characters",
        f"| patient `conditions` | {CONDITIONS_LIMIT} codes |",
        f"| staff `staff_id`, `credentials` | {s['staff_id']} characters |",
        f"| staff `name` | {s['name']} characters |",
        f"| practice name / address / phone | {pr['name']} / {pr['address']} / {pr['phone']} "
        "characters |",
        f"| practice street / city / ZIP | {c['street']} / {c['city']} / {c['zip']} characters |",
        f"| practice submitter and receiver id / name; ISA id | {c['submitter_id']} / "
        f"{c['submitter_name']}; {c['isa_id']} characters |",
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


def code_spans(text: str) -> list[str]:
    """Inline code and the lines of code blocks, whitespace made single (spans wrap lines)."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    spans = re.findall(r"`([^`]+)`", prose)
    return [" ".join(item.split()) for item in [*lines, *spans] if item.strip()]


def test_the_readme_and_docs_name_only_files_the_repository_has() -> None:
    missing = []
    for document in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):  # links and images
            if "://" not in target and not (document.parent / target.split("#")[0]).exists():
                missing.append(f"{document.name}: ({target})")
        for span in code_spans(text):
            for token in span.split():
                path = token.strip("\"'(),;:").partition("::")[0]  # a test's id names its file
                placeholder = any(mark in path for mark in ("*", "<", "…", "YYYY", "NNNN"))
                if placeholder or path in MADE_BY_RUNS or not path.startswith(REPO_FOLDERS):
                    continue
                if not (ROOT / path).exists():
                    missing.append(f"{document.name}: `{path}`")
    assert missing == []


def test_the_readmes_commands_run_as_written_after_the_two_set_up_commands() -> None:
    from ccmdesk.cli import COMMANDS

    bare, unknown = [], []
    for span in code_spans((ROOT / "README.md").read_text(encoding="utf-8")):
        words = span.split()
        if words[0] == "ccmdesk":  # not on PATH after scripts/run-app.sh; .venv/bin/ccmdesk is
            bare.append(span)
        elif words[0] == ".venv/bin/ccmdesk" and len(words) > 1:
            first = words[1]
            if not (first.startswith(("-", "[")) or first in COMMANDS):
                unknown.append(span)
    assert bare == []
    assert unknown == []


def test_every_reason_code_is_in_the_billing_rules_with_its_kind() -> None:
    from ccmdesk.rules.catalog import REASONS, Kind

    text = (DOCS / "billing-rules.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")
    }
    missing = []
    for code, reason in REASONS.items():
        row = rows.get(f"`{code}`")
        # Blocks and warnings are listed with their kind ("Blocks", "Warnings"); claim edits in
        # the "Claim edits" table, which lists claim edits only.
        if row is None or (
            reason.kind is not Kind.CLAIM_EDIT and f"| `{code}` | {reason.kind.value} |" not in text
        ):
            missing.append(code)
    assert missing == []


def test_the_sections_of_the_billing_rules_the_code_names_are_there() -> None:
    headings = set(
        re.findall(r"^## (.+)$", (DOCS / "billing-rules.md").read_text(encoding="utf-8"), re.M)
    )
    files = [*sorted((ROOT / "ccmdesk").rglob("*.py")), *sorted((ROOT / "tests").rglob("*.py"))]
    named, wrong = 0, []
    for path in [*files, *sorted(DOCS.glob("*.md"))]:
        # Comments and docstrings wrap: join the lines, dropping indents and comment marks.
        text = re.sub(r"\s*\n\s*#?\s*", " ", path.read_text(encoding="utf-8"))
        for names in re.findall(r'billing-rules\.md,? ((?:"[^"]+"(?:,? and |, )?)+)', text):
            for name in re.findall(r'"([^"]+)"', names):
                named += 1
                if name not in headings:
                    wrong.append(f"{path.relative_to(ROOT)}: {name}")
    assert named > 20
    assert wrong == []
