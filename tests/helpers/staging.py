"""Export folders as an export cut off at some point leaves them, for the staging tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ccmdesk.services.staging import FILES, MANIFEST, OWNER, PREFIX

NEW = {"superbills/2026-03-A1.pdf": b"new A1", "claims.csv": b"new claims", "handoff.pdf": b"new"}
OLD = {"superbills/2026-03-A1.pdf": b"old A1", "claims.csv": b"old claims", "handoff.pdf": b"old"}


def put(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def cut_off(
    folder: Path,
    files: dict[str, bytes],
    committed: bool,
    moved: int = 0,
    held: tuple[str, ...] = (),
) -> Path:
    """A staging folder as an export killed at that point leaves it: its files staged, the
    manifest written or not (naming the `held` ones), the first `moved` of them already in
    place; no owner holds it."""
    path = folder / f"{PREFIX}dead1234"
    path.mkdir(mode=0o700, parents=True)
    (path / OWNER).write_text("4242 elsewhere 2026-04-01T09:00:00+00:00\n")
    put(path / FILES, files)
    if committed:
        manifest = {"what": "export of March", "files": [*files], "held": [*held]}
        (path / MANIFEST).write_text(json.dumps(manifest))
    for name in [*files][:moved]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(path / FILES / name, folder / name)
    return path
