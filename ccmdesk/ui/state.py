"""What the GUI remembers on this workstation between runs: last user, last import folder."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "gui-state.json"


class GuiState:
    """A small JSON file in the data folder; a missing or damaged file just means no memory."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._values: dict[str, str] = {}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable %s: %s", path, exc)
            else:
                if isinstance(loaded, dict):
                    self._values = {k: v for k, v in loaded.items() if isinstance(v, str)}

    @classmethod
    def in_folder(cls, data_dir: Path) -> GuiState:
        return cls(data_dir / STATE_FILE)

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        if self._values.get(key) == value:
            return
        self._values[key] = value
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._values, indent=2), encoding="utf-8")
            os.replace(temporary, self._path)
        except OSError as exc:  # remembering is a convenience, never a reason to stop
            log.warning("cannot write %s: %s", self._path, exc)
