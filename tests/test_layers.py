"""Layers point down only: nothing below ccmdesk.ui imports Qt, and the UI holds no Session."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ccmdesk"
BELOW_UI = ("models", "rules", "services", "reports", "migrations")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_below_the_ui_imports_pyside6() -> None:
    files = [PACKAGE / "db.py", PACKAGE / "config.py"]
    for folder in BELOW_UI:
        files.extend((PACKAGE / folder).rglob("*.py"))
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imported_modules(path) if "PySide" in m)
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(files) > 15  # the walk really found the package


def test_importing_the_lower_layers_loads_no_qt() -> None:
    code = (
        "import sys, ccmdesk.db, ccmdesk.config, ccmdesk.services, ccmdesk.services.demo, "
        "ccmdesk.rules.validation, ccmdesk.reports, ccmdesk.models\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_ui_never_touches_the_database_directly() -> None:
    for path in (PACKAGE / "ui").rglob("*.py"):
        modules = imported_modules(path)
        bad = sorted(
            m for m in modules if m.startswith("sqlalchemy") or m in ("ccmdesk.db",)
            or (m.startswith("ccmdesk.models") and m != "ccmdesk.models.staff")
        )  # fmt: skip
        assert bad == [], f"{path.name} imports {bad}"
