"""The bundled icons: every page's navigation icon, and a missing one drawn plain, silently."""

from __future__ import annotations

from pathlib import Path

from ccmdesk.ui.pages.table import PAGES
from ccmdesk.ui.theme import icon


def test_a_missing_icon_is_a_plain_one_without_a_warning(qapp) -> None:
    # Qt would warn "Cannot open file" (a test failure here) for a path that does not exist.
    assert icon("no-such-page").isNull()


def test_every_page_has_its_icon_in_the_source_tree() -> None:
    icons = Path(__file__).resolve().parents[2] / "resources" / "icons"
    assert sorted(p.name for p in PAGES if not (icons / f"{p.name}.svg").is_file()) == []
