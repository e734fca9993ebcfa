"""The in-process peer: pytest in the gradescope-utils style, as most courses grade Python today.

The grader's files (``source/``, what would be its ``autograder.zip``) are

- ``tests/``: the assignment's suites as they are (public, hidden, ``suite_support.py``), the
  provided files, a ``pytest.ini`` that runs them in local mode (the plugin's ``LocalStudent``
  imports the student's modules from this folder), and, as the hidden tests' ``conftest.py``,
  a ``reference`` fixture (``reference_fixture``) that keeps the reference in the test process;
- ``reference/``: the reference solution;
- ``json_results.py`` (a minimal JSONTestRunner) and ``reference_import.py``;
- ``run_autograder.py`` (``inprocess_run``): copies the submitted files next to the tests and
  runs pytest there.

The tests, their node ids (so their random inputs) and seed are those of ``autograder grade
--seed 0``; only where the student's code runs differs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import submissions

from autograder.suite.assignment import Assignment

HERE = Path(__file__).resolve().parent


def pytest_ini(assignment: Assignment) -> str:
    modules = [*assignment.modules, *assignment.provided_modules]
    return "\n".join(
        [
            "[pytest]",
            "python_files = test_*.py",
            "pythonpath = .",
            f"autograder_modules = {' '.join(modules)}",
            f"autograder_provided = {' '.join(assignment.provided_modules)}",
            "",
        ]
    )


def build(assignment: Assignment, folder: Path) -> Path:
    """Write the grader's files into ``folder/source`` and return that folder."""
    source = folder / "source"
    tests = source / "tests"
    shutil.copytree(assignment.tests, tests, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    for name in assignment.provided:
        shutil.copy(assignment.folder / name, tests / name)
    (tests / "pytest.ini").write_text(pytest_ini(assignment))
    shutil.copy(HERE / "reference_fixture.py", tests / "hidden" / "conftest.py")
    submissions.reference(assignment, source / "reference")
    for name in ("json_results.py", "reference_import.py"):
        shutil.copy(HERE / name, source / name)
    shutil.copy(HERE / "inprocess_run.py", source / "run_autograder.py")
    return source


def lay_out(source: Path, submission: Path, root: Path) -> None:
    """The Gradescope layout in ``root``: the grader's files, the submission as submitted, and
    an empty results folder."""
    shutil.copytree(source, root / "source")
    shutil.copytree(submission, root / "submission", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "results").mkdir()


def command(root: Path) -> list[str]:
    return [sys.executable, str(root / "source" / "run_autograder.py")]
