"""Importing a reference solution next to a student's modules of the same flat names.

The reference's modules import each other by flat name (``import layers``), as the student's do.
``import_apart`` imports them from their folder with no module of those names visible, keeps the
module objects (their cross-references are bound at import), then puts ``sys.modules`` back as it
was, so a later ``import layers`` still finds the student's file.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace


def import_apart(folder: Path) -> SimpleNamespace:
    """The modules of ``folder`` by name, imported without leaving them in ``sys.modules``."""
    names = sorted(path.stem for path in Path(folder).glob("*.py"))
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        return SimpleNamespace(**{name: importlib.import_module(name) for name in names})
    finally:
        sys.path.remove(str(folder))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
