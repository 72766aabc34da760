"""The tests share code only through tests.helpers: no module imports a test module or conftest."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def module_name(path: Path, root: Path) -> str:
    """The dotted name `path` imports as, `root` being the folder `tests`."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(tree: ast.AST, package: str) -> set[str]:
    """Every module `tree` imports, and for `from x import y` also x.y (y may be a module)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "import" in node.value
            and (code := parsed(node.value)) is not None
        ):
            found |= imports_in(code, package)  # code a test runs in a child process (python -c)
    return found


def parsed(text: str) -> ast.Module | None:
    """The text as Python, or None when it is prose (a docstring, a message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prose may hold what Python warns of (a backslash)
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError):
            return None


def forbidden(module: str) -> bool:
    """A test module or a conftest file: pytest's to load, nobody's to import."""
    parts = module.split(".")
    return parts[0] == "tests" and (parts[-1].startswith("test_") or parts[-1] == "conftest")


def offenders(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        if path.resolve() == Path(__file__).resolve():  # its examples of such imports are text
            continue
        name = module_name(path, root)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        bad = sorted(m for m in imports_in(ast.parse(path.read_text("utf-8")), package)
                     if forbidden(m))  # fmt: skip
        if bad:
            found[path.relative_to(root.parent).as_posix()] = bad
    return found


def test_no_test_code_imports_a_test_module_or_a_conftest() -> None:
    assert offenders(TESTS) == {}
    assert len(list(TESTS.rglob("test_*.py"))) > 50  # the walk really found the tests


def test_the_check_sees_every_way_of_importing_one(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "services").mkdir(parents=True)
    (tests / "services" / "test_one.py").write_text(
        "from tests.conftest import NOW\n"
        "from tests.services import test_two\n"
        "from .test_three import helper\n"
        "import tests.ui.conftest\n"
        "CHILD = 'from tests.services.test_four import x'\n"
        "from tests.helpers.common import CLI\n"  # allowed
    )
    assert offenders(tests) == {
        "tests/services/test_one.py": [
            "tests.conftest",
            "tests.services.test_four",
            "tests.services.test_three",
            "tests.services.test_two",
            "tests.ui.conftest",
        ]
    }
