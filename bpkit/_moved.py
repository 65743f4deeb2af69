"""Old import paths of modules that moved from bpkit to the course package ``bpcourse``.

bpkit is the library a reader reads; the course machinery (explorers, checkers, figures,
the bug gallery) moved to ``bpcourse``. ``import bpkit.plotting`` and
``from bpkit import bugs`` keep working: the first use of an old name imports the new
module (only then, so ``import bpkit`` still imports nothing but numpy) and warns once
with the new name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

#: Old module name -> new module name. Submodules of a moved package move with it.
MOVED = {
    f"bpkit.{name}": f"bpcourse.{name}"
    for name in (
        "bugs",
        "descent",
        "diagnostics",
        "exercises",
        "explorers",
        "graph",
        "plotting",
        "surfaces",
        "widgets",
    )
}


def new_name(old: str) -> str | None:
    """The module that ``old`` (e.g. ``"bpkit.exercises.loss"``) is now, or ``None``."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix) :]
    return None


def load(old: str) -> ModuleType:
    """Import the module that ``old`` names now, warning once with its new name."""
    new = new_name(old)
    if new is None:
        raise ModuleNotFoundError(f"No module named {old!r}", name=old)
    warnings.warn(
        f"{old} moved to {new} (the course package beside bpkit); import it from there",
        DeprecationWarning,
        stacklevel=3,
    )
    return importlib.import_module(new)


class _Alias(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: Any) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """The module is already executed under its new name."""


class MovedFinder(importlib.abc.MetaPathFinder):
    """Finds ``bpkit.<moved>`` as the ``bpcourse`` module of the same name."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if new_name(fullname) is None:
            return None
        module = load(fullname)
        return importlib.util.spec_from_loader(fullname, _Alias(module))


def install() -> None:
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder())  # before the path finder: one module, not a copy
