"""No widget hides a Qt method under an attribute of its own (`self.pos`, `self.result`...)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

from PySide6.QtCore import QObject

import ccmdesk.ui


def ui_classes() -> list[type[QObject]]:
    found: dict[str, type[QObject]] = {}
    for info in pkgutil.walk_packages(ccmdesk.ui.__path__, "ccmdesk.ui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QObject) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def qt_methods(cls: type[QObject]) -> set[str]:
    """The callable names the Qt classes among `cls`'s bases define."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base.__module__.startswith(("PySide6", "Shiboken")):
            names.update(n for n, v in vars(base).items() if callable(v) and not n.startswith("_"))
    return names


def own_attributes(cls: type) -> set[str]:
    """Instance attributes its methods set on self, and its non-method class attributes."""
    names = {
        name
        for name, value in vars(cls).items()
        if not name.startswith("__") and not inspect.isfunction(value)
        and not isinstance(value, (property, staticmethod, classmethod))
    }  # fmt: skip
    for method in vars(cls).values():
        if not inspect.isfunction(method):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                targets = [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if (
                        isinstance(part, ast.Attribute)
                        and isinstance(part.value, ast.Name)
                        and part.value.id == "self"
                    ):
                        names.add(part.attr)
    return names


def test_no_ui_class_shadows_a_qt_method() -> None:
    classes = ui_classes()
    assert len(classes) > 40  # the walk really found the widgets
    shadowed = {
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in classes
        for name in own_attributes(cls) & qt_methods(cls)
        # A Signal is meant to be a class attribute; its name is checked all the same.
    }
    assert sorted(shadowed) == []
