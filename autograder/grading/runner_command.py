"""How the grading process starts a test runner: its command line and its environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from autograder.suite.assignment import Assignment

RUNNER_CONFIG = Path(__file__).parent / "test_runner.ini"
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider",
    "debugging",
    "doctest",
    "faulthandler",
    "junitxml",
    "legacypath",
    "logging",
    "pastebin",
    "setuponly",
    "setupplan",
    "stepwise",
    "subtests",
    "threadexception",
    "unraisableexception",
    "unittest",
)
"""pytest's default plugins the runner leaves out: suites need collection, fixtures, markers,
skipping, ``tmp_path``, ``monkeypatch`` and warnings, not these. No student code runs in the
runner, so there is nothing for the exception hooks to report; loading the plugins only costs
start-up time (and ``unraisableexception`` forces two full garbage collections at exit)."""


def runner_environment(run_dir: Path) -> dict[str, str]:
    """A clean environment for the test runner: nothing of the caller's pytest settings."""
    keep = ("PATH", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=str(run_dir),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def suite_options(tests: Path) -> list[str]:
    """pytest's arguments that pin a run to the suites in the folder ``tests``: the runner's own
    configuration, that folder as the root (no ``conftest.py`` above it is read) and on the import
    path."""
    return [
        str(tests),
        "-c",
        str(RUNNER_CONFIG),
        "--rootdir",
        str(tests),
        "--confcutdir",
        str(tests),
        "-o",
        f"pythonpath={tests}",
    ]


def runner_command(assignment: Assignment, run_dir: Path, *options: str) -> list[str]:
    """The test runner's command line for the run prepared in ``run_dir`` (``options`` are
    further pytest options)."""
    tests = assignment.tests
    # --assert=plain, --tb=no and -rN: students never see pytest's introspection, tracebacks or
    # summary of failures (the verdicts carry their own messages), and rewriting the suites on every
    # run (no bytecode cache is written) or listing every failed test would only cost time; nor
    # is there output to capture per test (what student code prints is captured by the worker). A
    # suite file that cannot be collected is the grader's problem: the other files are still graded.
    return [
        sys.executable,
        "-I",
        "-m",
        "autograder.grading.runner_main",
        *suite_options(tests),
        *(part for name in UNUSED_PYTEST_PLUGINS for part in ("-p", f"no:{name}")),
        "-p",
        "autograder.suite.plugin",
        "-p",
        "autograder.grading.test_runner",
        "--autograder-run",
        str(run_dir),
        "--strict-markers",
        "--assert=plain",
        "--capture=no",
        "-q",
        "--no-header",
        "--tb=no",
        "-rN",
        "--continue-on-collection-errors",
        *options,
    ]
