"""The bundled stylesheet and icons, read through importlib.resources."""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable

from PySide6.QtGui import QIcon, QPixmap

APP_ICON = "ccmdesk"


def _resource(*parts: str) -> Traversable:
    return files("ccmdesk.resources").joinpath(*parts)


def stylesheet() -> str:
    """The application stylesheet (empty if the file is missing, so a broken build still runs)."""
    resource = _resource("style.qss")
    return resource.read_text(encoding="utf-8") if resource.is_file() else ""


def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg."""
    resource = _resource("icons", f"{name}.svg")
    if not resource.is_file():
        # A missing icon leaves the navigation item plain, as a missing stylesheet leaves the
        # style plain, instead of Qt warning on every start (an editable install points at
        # another checkout's resources, say).
        return QIcon()
    if isinstance(resource, os.PathLike):
        # A real file lets Qt's SVG icon engine render sharply at every size.
        return QIcon(os.fspath(resource))
    # Inside a zip there is no path: rasterise once at a size large enough to scale down.
    pixmap = QPixmap()
    pixmap.loadFromData(resource.read_bytes(), "SVG")
    return QIcon(pixmap)
