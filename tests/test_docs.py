"""Documents that restate the code say what the code does."""

from __future__ import annotations

from pathlib import Path

from ccmdesk.services.context import permissions_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_permission_table_in_the_docs_is_the_codes() -> None:
    text = (DOCS / "permissions.md").read_text(encoding="utf-8")
    assert permissions_markdown() in text
