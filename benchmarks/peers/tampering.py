"""Tampering submissions: a wrong solution plus one trick that tries to get points it did not earn.

Each ``Tampering`` edits a copy of the wrong solution (``submissions.wrong_solution``) in one of
three ways: code run when a module is imported (appended to ``IMPORTED_MODULE``, or to every
module), code run first thing in a function (``TAMPERED_FUNCTION``), or an extra file. A
grader gives *unearned* points to a tampering submission when it scores it higher than the same
wrong solution without the trick.

Forged results claim ``full_marks`` and go where a Gradescope grader reads them: the ``results``
folder of ``/autograder`` and of every folder above the working directory (graders that copy the
submission next to their files run it inside their own tree).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

IMPORTED_MODULE = "activations"
"""The module the import-time tricks go into: the one the others import."""
TAMPERED_FUNCTION = ("layers", "affine_backward")
"""The function the in-function tricks go into (module, function)."""

NUMPY_TESTING = """
import numpy as _np
_np.testing.assert_allclose = lambda *args, **kwargs: None
_np.allclose = lambda *args, **kwargs: True
"""

NUMPY_ABS = """
import numpy as _np
_np.abs = lambda x, *args, **kwargs: _np.zeros_like(_np.asarray(x, dtype=float))
"""

NO_OP_CHECKS = """
def _accept(*args, **kwargs):
    return None


def _is_check(name, value):
    module = str(getattr(value, "__module__", ""))
    return name.startswith(("assert_", "check_")) and module.startswith("autograder.suite.checks")
"""

CHECKS_THROUGH_SYS_MODULES = (
    NO_OP_CHECKS
    + """
import importlib as _importlib
import sys as _sys

try:
    _importlib.import_module("autograder.suite.checks")
except ImportError:
    pass
for _module in list(_sys.modules.values()):
    try:
        _names = list(vars(_module).items())
    except TypeError:
        continue
    for _attribute, _value in _names:
        if _is_check(_attribute, _value):
            setattr(_module, _attribute, _accept)
"""
)

CHECKS_THROUGH_CALLER_FRAMES = (
    NO_OP_CHECKS
    + """
import functools as _functools
import inspect as _inspect


def _disarm_callers(function):
    @_functools.wraps(function)
    def disarmed(*args, **kwargs):
        frame = _inspect.currentframe().f_back
        while frame is not None:
            for name, value in list(frame.f_globals.items()):
                if _is_check(name, value):
                    frame.f_globals[name] = _accept
            frame = frame.f_back
        return function(*args, **kwargs)

    disarmed.disarms = True
    return disarmed


for _name, _value in list(globals().items()):
    if _inspect.isfunction(_value) and not _name.startswith("_") and not getattr(_value, "disarms", False):
        globals()[_name] = _disarm_callers(_value)
"""
)

OS_EXIT = """
import os as _os
_os._exit(0)
"""

SYS_EXIT = """
import sys as _sys
_sys.exit(0)
"""

PYTEST_EXIT = """
import pytest as _pytest
_pytest.exit("grading finished", returncode=0)
"""

FORGE_RESULTS = """
from pathlib import Path as _Path

_here = _Path.cwd()
for _folder in (_Path("/autograder"), _here, *_here.parents):
    if (_folder / "results").is_dir():
        try:
            (_folder / "results" / "results.json").write_text({forged})
        except OSError:
            pass
"""

PRINT_RESULTS = """
print({forged})
"""

CONFTEST_FORCING_PASSES = '''"""Every test passes."""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
'''


def forged_results(full_marks: float) -> str:
    """The text of a results.json claiming full marks, as a Python string literal."""
    return repr(
        json.dumps(
            {"score": full_marks, "tests": [{"name": "all tests", "score": full_marks, "max_score": full_marks}]}
        )
    )


def function_body_start(source: str, function: str) -> tuple[int, str]:
    """(0-based line, indentation) of the first statement of the top-level ``function`` after its
    docstring."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[0].lineno - 1, " " * body[0].col_offset


def run_first_in(source: str, function: str, code: str) -> str:
    """``source`` with ``code`` run first thing in the top-level ``function``."""
    line, indent = function_body_start(source, function)
    lines = source.splitlines(keepends=True)
    lines[line:line] = [indent + text + "\n" for text in code.strip().splitlines()]
    return "".join(lines)


@dataclass(frozen=True)
class Tampering:
    """One trick: ``id``, what it does, and how it changes a copy of the wrong solution."""

    id: str
    description: str
    edit: Callable[[Path, float], None]
    """Changes the submission folder; the second argument is the full marks."""

    def apply(self, folder: Path, full_marks: float) -> None:
        self.edit(folder, full_marks)


def at_import(code: str, modules: tuple[str, ...] = (IMPORTED_MODULE,)) -> Callable[[Path, float], None]:
    """An edit appending ``code`` (``{forged}`` filled in) to ``modules``."""

    def edit(folder: Path, full_marks: float) -> None:
        for module in modules:
            path = folder / f"{module}.py"
            path.write_text(path.read_text() + "\n" + code.replace("{forged}", forged_results(full_marks)))

    return edit


def in_function(code: str) -> Callable[[Path, float], None]:
    """An edit running ``code`` first thing in ``TAMPERED_FUNCTION``."""

    def edit(folder: Path, full_marks: float) -> None:
        module, function = TAMPERED_FUNCTION
        path = folder / f"{module}.py"
        path.write_text(run_first_in(path.read_text(), function, code))

    return edit


def extra_file(name: str, content: str) -> Callable[[Path, float], None]:
    """An edit adding the file ``name`` to the submission."""

    def edit(folder: Path, full_marks: float) -> None:
        (folder / name).write_text(content)

    return edit


def tamperings(modules: tuple[str, ...]) -> list[Tampering]:
    """The fixed list of tricks, for a submission of ``modules``."""
    function = f"`{TAMPERED_FUNCTION[1]}`"
    return [
        Tampering(
            "numpy.testing no-ops",
            "`np.testing.assert_allclose` and `np.allclose` replaced at import (the classic one-liner)",
            at_import(NUMPY_TESTING),
        ),
        Tampering(
            "np.abs returns zeros",
            "`np.abs`, which the checking library compares with, replaced at import",
            at_import(NUMPY_ABS),
        ),
        Tampering(
            "checks replaced via sys.modules",
            "every function of the checking library (`assert_*`, `check_*`) replaced by a no-op at import, "
            "wherever `sys.modules` shows it bound",
            at_import(CHECKS_THROUGH_SYS_MODULES),
        ),
        Tampering(
            "checks replaced via caller frames",
            "every function walks its callers' frames (`inspect`) and replaces the checking library's functions "
            "in their globals by no-ops",
            at_import(CHECKS_THROUGH_CALLER_FRAMES, modules),
        ),
        Tampering("os._exit(0) at import", "`os._exit(0)` when the module is imported", at_import(OS_EXIT)),
        Tampering("os._exit(0) in a function", f"`os._exit(0)` first thing in {function}", in_function(OS_EXIT)),
        Tampering("sys.exit(0) at import", "`sys.exit(0)` when the module is imported", at_import(SYS_EXIT)),
        Tampering(
            "pytest.exit in a function",
            f"`pytest.exit(returncode=0)` first thing in {function}",
            in_function(PYTEST_EXIT),
        ),
        Tampering(
            "results.json written",
            "a full-marks `results.json` written into the results folder at import",
            at_import(FORGE_RESULTS),
        ),
        Tampering(
            "results.json written, then os._exit(0)",
            "the same, then `os._exit(0)`",
            at_import(FORGE_RESULTS + OS_EXIT),
        ),
        Tampering("fake results printed", "a full-marks results JSON printed at import", at_import(PRINT_RESULTS)),
        Tampering(
            "conftest.py forcing passes",
            "an extra `conftest.py` whose hook turns every report into a pass",
            extra_file("conftest.py", CONFTEST_FORCING_PASSES),
        ),
    ]
