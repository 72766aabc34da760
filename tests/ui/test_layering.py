"""The GUI stays a thin layer: services only, never the ORM, a session or SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import ccmdesk.ui

UI_DIR = Path(ccmdesk.ui.__file__).parent
# Constants that live beside the ORM classes and are meant for display.
ALLOWED_FROM_MODELS = {"ccmdesk.models.staff": {"ROLE_LABELS"}}
FORBIDDEN = ("sqlalchemy", "alembic", "ccmdesk.db")


def imports(path: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_ui_modules_import_neither_the_orm_nor_the_database() -> None:
    problems: list[str] = []
    for path in sorted(UI_DIR.rglob("*.py")):
        for module, names in imports(path):
            if module.startswith(FORBIDDEN):
                problems.append(f"{path.name}: imports {module}")
            elif module.startswith("ccmdesk.models"):
                extra = names - ALLOWED_FROM_MODELS.get(module, set())
                if extra or not names:
                    problems.append(f"{path.name}: imports {sorted(extra) or module}")
    assert problems == []
    assert len(list(UI_DIR.rglob("*.py"))) > 10  # the check really looked at the package


def test_every_ui_module_starts_with_a_one_line_docstring() -> None:
    for path in sorted(UI_DIR.rglob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring and "\n" not in docstring, path.name
