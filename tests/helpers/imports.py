"""Import files written for a test, and the problems an import refuses them with."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccmdesk.services import ImportFailed, Services
from tests.helpers.common import CLI


def files(tmp_path: Path, **contents: str) -> list[Path]:
    """Each `name=text` written to `name.csv` in the folder, as they would come from a PM system."""
    paths = []
    for name, text in contents.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def failing(services: Services, paths: list[Path]) -> list[str]:
    """The problems reported, with the test's temporary folder left out of each path."""
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, paths)
    folder = f"{paths[0].parent}/"
    return [problem.replace(folder, "") for problem in caught.value.problems]
