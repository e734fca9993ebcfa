"""Running one test of the assignment's pytest suites inside otter-grader's kernel.

otter-grader executes the submission (one script) in a Jupyter kernel, then calls each test case
of its test files with the script's globals. The generated test files (``otter_grader``) call
``run_suite_test`` with a test's node id, which imports the suite module and calls the test
function with what pytest's fixtures would give it:

- ``student``: a ``LocalStudent`` (as in a local pytest run) whose modules are all the kernel's
  globals (the script holds the student's modules concatenated), except the provided modules,
  imported from ``provided/``;
- ``reference``: the reference solution, from ``reference/``;
- ``provided``, ``seed`` (``SEED``, as a local pytest run), ``rng`` (seeded from the seed and
  the node id, as the plugin's fixture), ``credit`` (a ``Credit``; otter test cases pass or fail,
  so partial credit is lost) and ``leaderboard`` (a ``LeaderboardValue``; otter has no leaderboard,
  so the value is dropped).

This file travels inside otter's ``autograder.zip`` in a folder holding ``suites/`` (the tests
folder), ``reference/``, ``provided/``, ``parametrize.py``, ``reference_import.py`` and
``assignment.json`` (the student's and the provided module names); the test files put that
folder on ``sys.path``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from parametrize import parameter_values
from reference_import import import_apart

from autograder.suite.plugin import Credit, LeaderboardValue
from autograder.suite.proxy import LocalStudent
from autograder.suite.runtime import StudentRuntime

HERE = Path(__file__).resolve().parent
SUITES = HERE / "suites"
SEED = 0
"""The seed of a local pytest run of the suites (the in-process runner's), also given to
``autograder grade --seed``, so every grader draws the same inputs."""


class GlobalsRuntime(StudentRuntime):
    """A ``StudentRuntime`` whose student modules are one namespace (the kernel's globals);
    provided modules are imported from their folder as usual."""

    def __init__(self, namespace: dict, folder: Path, provided: tuple[str, ...]) -> None:
        super().__init__(folder, let_through=(KeyboardInterrupt,))
        self.namespace = SimpleNamespace(**namespace)
        self.provided = provided

    def module(self, name: str):
        return super().module(name) if name in self.provided else self.namespace


class GlobalsStudent(LocalStudent):
    """The ``student`` fixture over the kernel's globals."""

    def __init__(self, namespace: dict, folder: Path, modules: tuple[str, ...], provided: tuple[str, ...]) -> None:
        super().__init__(folder, (*modules, *provided))
        self.runtime = GlobalsRuntime(namespace, folder, provided)


@functools.cache
def assignment() -> dict:
    """``{"modules": [...], "provided": [...]}``: the module names of the assignment."""
    return json.loads((HERE / "assignment.json").read_text())


@functools.cache
def suite_module(file: str):
    """The suite module of ``file`` (relative to the tests folder), imported once."""
    if str(SUITES) not in sys.path:
        sys.path.insert(0, str(SUITES))
    path = SUITES / file
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def reference() -> SimpleNamespace:
    return import_apart(HERE / "reference")


@functools.cache
def provided() -> SimpleNamespace:
    return import_apart(HERE / "provided")


STUDENTS: dict[int, GlobalsStudent] = {}
"""The student of each globals dictionary, by its id (otter passes the kernel's one dictionary,
alive for the whole run, to every test case)."""


def student(namespace: dict) -> GlobalsStudent:
    if id(namespace) not in STUDENTS:
        names = assignment()
        STUDENTS[id(namespace)] = GlobalsStudent(
            namespace, HERE / "provided", tuple(names["modules"]), tuple(names["provided"])
        )
    return STUDENTS[id(namespace)]


FIXTURES = {
    "student": lambda namespace, nodeid: student(namespace),
    "reference": lambda namespace, nodeid: reference(),
    "provided": lambda namespace, nodeid: provided(),
    "seed": lambda namespace, nodeid: SEED,
    "rng": lambda namespace, nodeid: np.random.default_rng([SEED, zlib.crc32(nodeid.encode())]),
    "credit": lambda namespace, nodeid: Credit(),
    "leaderboard": lambda namespace, nodeid: LeaderboardValue(),
}
"""What the fixture of each name gives the test ``nodeid`` run in the kernel whose globals are
``namespace``."""


def run_suite_test(namespace: dict, nodeid: str, file: str, function: str, indices: dict, fixtures: list) -> None:
    """Call the suite test ``nodeid``; it passes when this returns. pytest's own outcomes (skip,
    fail, xfail), which otter would not catch, become an AssertionError."""
    test = getattr(suite_module(file), function)
    arguments = {name: FIXTURES[name](namespace, nodeid) for name in fixtures}
    arguments.update(parameter_values(test, indices))
    try:
        test(**arguments)
    except (pytest.skip.Exception, pytest.fail.Exception, pytest.xfail.Exception) as outcome:
        raise AssertionError(str(outcome)) from None
