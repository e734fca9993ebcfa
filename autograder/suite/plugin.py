"""The pytest plugin of the grading engine (registered through the ``pytest11`` entry point).

Suites mark each test with its points and visibility and use the fixtures below; the same suite
runs in two modes:

- **grading** (``--autograder-run DIR``, started by ``autograder grade``): student functions run in
  a sandboxed worker process behind a proxy, the reference solution is loaded in this trusted
  process, and every test's verdict is written to ``DIR`` for the grading process to score;
- **local** (a student running ``pytest`` in the handout): student modules are imported in-process
  and a points summary is printed at the end.

Fixtures: ``student`` (``student.activations.sigmoid(x)``), ``reference`` (the reference solution's
modules, grading mode only), ``provided`` (the assignment's provided modules, such as ``data``),
``seed`` and ``rng`` (a generator seeded from the run's seed and the test's id), ``credit``
(partial credit, for tests marked ``partial_credit``) and ``leaderboard`` (the value a test
measures for the Gradescope leaderboard entry that ``assignment.toml`` gives it).
"""

from __future__ import annotations

import importlib
import math
import sys
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.suite import assignment as assignments
from autograder.suite import protocol
from autograder.suite.errors import CheckFailure, StudentError

MARKERS = {
    "points(n)": "the test is worth n points",
    "visibility(v)": "Gradescope visibility: visible, hidden, after_due_date or after_published",
    "name(text)": "the test's display name",
    "call_timeout(seconds)": (
        "each call of a student function in the test may take up to this many seconds when graded, "
        "instead of the assignment's call_timeout_seconds (e.g. a test that trains a network)"
    ),
    "number(text)": "the test's Gradescope number, e.g. '1.2'",
    "partial_credit": "the test may earn part of its points (through the `credit` fixture)",
}
PUBLIC_FOLDER = "public"
"""Tests under a folder of this name are visible to students; the others are hidden tests."""

RUN_KEY = pytest.StashKey["GradingRun | None"]()
"""The grading run (``autograder.grading.test_runner.GradingRun``) when grading; absent in local runs."""
LOCAL_VERDICTS_KEY = pytest.StashKey[list]()
FAILURES_KEY = pytest.StashKey[list]()
START_KEY = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("autograder_student", "folder of the student's files for local runs (default: rootdir)")
    parser.addini("autograder_modules", "student and provided modules for local runs", type="args")
    parser.addini("autograder_provided", "provided modules for local runs", type="args")
    parser.addini("autograder_hidden_points", "points of the hidden tests, for the local summary")


def pytest_configure(config: pytest.Config) -> None:
    for signature, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{signature}: {meaning}")


# --------------------------------------------------------------------------- test metadata


def points_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None:
        return 0.0
    points = marker.args[0] if marker.args else None
    if not isinstance(points, (int, float)) or points < 0:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.points needs a number >= 0")
    return float(points)


def call_timeout_of(item: pytest.Item) -> float | None:
    """The seconds the test's ``call_timeout`` marker allows each call, or None without one."""
    marker = item.get_closest_marker("call_timeout")
    if marker is None:
        return None
    seconds = marker.args[0] if marker.args else None
    if not isinstance(seconds, (int, float)) or not seconds > 0:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.call_timeout needs a number of seconds > 0")
    return float(seconds)


def visibility_of(item: pytest.Item, hidden_default: str) -> str:
    marker = item.get_closest_marker("visibility")
    if marker is not None:
        value = marker.args[0] if marker.args else None
        if value not in assignments.VISIBILITIES:
            raise pytest.UsageError(f"{item.nodeid}: visibility must be one of {', '.join(assignments.VISIBILITIES)}")
        return value
    return "visible" if PUBLIC_FOLDER in item.path.parts else hidden_default


def display_name_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("name")
    if marker is not None and marker.args:
        return str(marker.args[0])
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    if doc and doc.strip():
        name = doc.strip().splitlines()[0].strip()
        params = getattr(getattr(item, "callspec", None), "id", None)
        return f"{name} [{params}]" if params else name
    return item.nodeid.split("::", 1)[-1]


def manifest_entries(items: list[pytest.Item], hidden_default: str) -> list[protocol.ManifestEntry]:
    """One entry per test, numbered ``<file>.<test>`` in collection order unless marked."""
    entries, files = [], {}
    for item in items:
        file_number = files.setdefault(item.path, len(files) + 1)
        index = sum(1 for e in entries if e.number.startswith(f"{file_number}.")) + 1
        marker = item.get_closest_marker("number")
        entries.append(
            protocol.ManifestEntry(
                nodeid=item.nodeid,
                name=display_name_of(item),
                number=str(marker.args[0]) if marker and marker.args else f"{file_number}.{index}",
                max_score=points_of(item),
                visibility=visibility_of(item, hidden_default),
                partial=item.get_closest_marker("partial_credit") is not None,
            )
        )
    return entries


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    items.sort(key=lambda item: PUBLIC_FOLDER not in item.path.parts)  # public tests first (stable)
    for item in items:
        points_of(item)  # reject malformed markers early, in both modes
        visibility_of(item, "hidden")
        call_timeout_of(item)
        if "credit" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("partial_credit"):
            raise pytest.UsageError(f"{item.nodeid} uses the credit fixture without @pytest.mark.partial_credit")
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        check_leaderboard_tests(items, run.assignment.leaderboard)
        protocol.write_manifest(run.dir, manifest_entries(items, run.assignment.hidden_visibility))


def check_leaderboard_tests(items: list[pytest.Item], entries) -> None:
    """Every leaderboard entry of the assignment names a collected test that uses the
    ``leaderboard`` fixture, and every test that uses it has an entry."""
    declared = {entry.test for entry in entries}
    collected = {item.nodeid for item in items}
    for test in sorted(declared - collected):
        raise pytest.UsageError(f"assignment.toml: the leaderboard test {test} is not in the suites")
    for item in items:
        if "leaderboard" in getattr(item, "fixturenames", ()) and item.nodeid not in declared:
            raise pytest.UsageError(
                f"{item.nodeid} uses the leaderboard fixture but no [[leaderboard]] entry of assignment.toml names it"
            )
    for test in sorted(declared):
        item = next(item for item in items if item.nodeid == test)
        if "leaderboard" not in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"the leaderboard test {test} does not use the leaderboard fixture")


# --------------------------------------------------------------------------- the two modes


def import_flat(folder: Path, names: list[str]) -> SimpleNamespace:
    """Import modules by flat name from ``folder`` (put first on ``sys.path``)."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return SimpleNamespace(**{name: importlib.import_module(name) for name in names})


def local_folder(config: pytest.Config) -> Path:
    configured = config.getini("autograder_student")
    return (config.rootpath / configured).resolve() if configured else config.rootpath


@pytest.fixture(scope="session")
def student(pytestconfig: pytest.Config):
    """The student's modules: ``student.layers.affine_forward(x, W, b)``."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    if run is not None:
        return run.student
    from autograder.suite.proxy import LocalStudent

    modules = pytestconfig.getini("autograder_modules")
    if not modules:
        raise pytest.UsageError("set autograder_modules in the pytest configuration to run the suites locally")
    return LocalStudent(local_folder(pytestconfig), modules)


@pytest.fixture(scope="session")
def reference(pytestconfig: pytest.Config) -> SimpleNamespace:
    """The reference solution's modules (grading mode only: it never ships to students)."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    if run is None:
        raise pytest.UsageError("the reference solution is only available when grading; public tests must not use it")
    return reference_modules(run.assignment)


def reference_modules(task: assignments.Assignment) -> SimpleNamespace:
    """The modules of ``task``'s reference solution, imported."""
    return import_flat(task.solution, sorted(p.stem for p in task.solution.glob("*.py")))


@pytest.fixture(scope="session")
def provided(pytestconfig: pytest.Config) -> SimpleNamespace:
    """The assignment's provided modules (``provided.data``), loaded in the test process."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    if run is not None:
        return provided_modules(run.assignment)
    return import_flat(local_folder(pytestconfig), pytestconfig.getini("autograder_provided"))


def provided_modules(task: assignments.Assignment) -> SimpleNamespace:
    """The provided modules of ``task`` (from its folder), imported."""
    return import_flat(task.folder, list(task.provided_modules))


@pytest.fixture(scope="session")
def seed(pytestconfig: pytest.Config) -> int:
    """The run's seed: printed in the results, so any run can be reproduced."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    return run.plan.seed if run is not None else 0


@pytest.fixture
def rng(seed: int, request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the run's seed and this test's id (independent of test order)."""
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])


class Credit:
    """Partial credit of one test: ``credit.set(fraction)`` with 0 <= fraction <= 1."""

    def __init__(self) -> None:
        self.fraction: float | None = None

    def set(self, fraction: float) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial credit must be within [0, 1], got {fraction}")
        self.fraction = float(fraction)


CREDIT_KEY = pytest.StashKey[Credit]()


@pytest.fixture
def credit(request: pytest.FixtureRequest) -> Credit:
    value = Credit()
    request.node.stash[CREDIT_KEY] = value
    return value


class LeaderboardValue:
    """The value one test measured for its leaderboard entry: ``leaderboard.set(value)``, with a
    finite number or a text. Recorded whether the test then passes or fails."""

    def __init__(self) -> None:
        self.value: float | str | None = None

    def set(self, value: float | str) -> None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (isinstance(value, str) or number and math.isfinite(value)):
            raise ValueError(f"a leaderboard value must be a finite number or a text, got {value!r}")
        self.value = value if isinstance(value, str) else float(value)


LEADERBOARD_KEY = pytest.StashKey[LeaderboardValue]()


@pytest.fixture
def leaderboard(request: pytest.FixtureRequest) -> LeaderboardValue:
    value = LeaderboardValue()
    request.node.stash[LEADERBOARD_KEY] = value
    return value


def leaderboard_entry(item: pytest.Item, assignment: assignments.Assignment) -> dict | None:
    """The Gradescope leaderboard entry ``{name, value, order}`` the test measured, if any."""
    measured = item.stash.get(LEADERBOARD_KEY, None)
    if measured is None or measured.value is None:
        return None
    entry = next(entry for entry in assignment.leaderboard if entry.test == item.nodeid)
    return {"name": entry.name, "value": measured.value, "order": entry.order}


# --------------------------------------------------------------------------- verdicts


def assertion_message(text: str) -> str:
    """The author's message of a plain ``assert``, without pytest's introspection of the
    expression (which names grader internals); the bare ``assert`` line when there is none."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("assert "):
            return "\n".join(lines[:index]).strip() or line
    return text.strip() or "a check failed"


def findings_of(error: BaseException) -> list[dict]:
    """What a failed phase found, as data (see ``records.Verdict.findings``)."""
    if isinstance(error, CheckFailure):
        return [finding.as_data() for finding in error.findings]
    if isinstance(error, StudentError):
        return [{"kind": error.kind}]
    return []


def describe_failure(excinfo: pytest.ExceptionInfo) -> tuple[str, bool]:
    """The student-facing message of a failed phase, and whether it is the grader's fault."""
    error = excinfo.value
    if isinstance(error, (StudentError, CheckFailure)):
        return str(error), False
    if isinstance(error, AssertionError):
        return assertion_message(str(error)), False
    if isinstance(error, pytest.skip.Exception):
        return f"skipped: {error.msg}", False
    return (
        f"The grader itself failed on this test ({type(error).__name__}: {error}). "
        "This is not your fault; please tell your instructor.",
        True,
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[START_KEY] = time.perf_counter()


ENGINE_FOLDER = Path(__file__).resolve().parents[1]
"""The engine's package (``autograder/``): its frames are not the student's business."""


def without_engine_frames(error: BaseException) -> None:
    """Unlink the engine's frames from the tracebacks of ``error`` and of the exceptions it was
    raised from, so that a failure shows the test's lines and the student's, then the message."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        entries, tb = [], error.__traceback__
        while tb is not None:
            if not Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(ENGINE_FOLDER):
                entries.append(tb)
            tb = tb.tb_next
        for entry, after in zip(entries, [*entries[1:], None]):
            entry.tb_next = after
        error.__traceback__ = entries[0] if entries else None
        error = error.__cause__ or error.__context__


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A failure of the student's making in a local test of student code (one that uses the
    ``student`` fixture) shows no engine frame (``describe_failure`` says whose fault a failure
    is); a grader error keeps them, for its report."""
    outcome = yield
    local = item.config.stash.get(RUN_KEY, None) is None and "student" in getattr(item, "fixturenames", ())
    if outcome.excinfo is None or not local:
        return
    excinfo = pytest.ExceptionInfo.from_exc_info(outcome.excinfo)
    if not describe_failure(excinfo)[1]:
        without_engine_frames(excinfo.value)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    failures = item.stash.setdefault(FAILURES_KEY, [])
    if report.failed or report.skipped:
        message, grader_error = describe_failure(call.excinfo) if call.excinfo else (report.longreprtext, False)
        failures.append((message, grader_error, findings_of(call.excinfo.value) if call.excinfo else []))
    if call.when == "teardown":
        finish_test(item, failures)


def finish_test(item: pytest.Item, failures: list[tuple[str, bool, list[dict]]]) -> None:
    """Turn the phases of one test into its verdict: written to the run folder when grading,
    kept for the points summary when run locally."""
    credit = item.stash.get(CREDIT_KEY, None)
    passed = not failures
    run = item.config.stash.get(RUN_KEY, None)
    verdict = protocol.Verdict(
        nodeid=item.nodeid,
        status="passed" if passed else "failed",
        fraction=1.0 if passed else (credit.fraction or 0.0) if credit else 0.0,
        message="\n\n".join(dict.fromkeys(m for m, _, _ in failures)),
        output=run.worker.take_output() if run is not None else "",
        seconds=round(time.perf_counter() - item.stash.get(START_KEY, time.perf_counter()), 4),
        grader_error=any(g for _, g, _ in failures),
        leaderboard=leaderboard_entry(item, run.assignment) if run is not None else None,
        findings=[finding for _, _, found in failures for finding in found],
    )
    if run is not None:
        protocol.append_line(run.dir / protocol.VERDICTS, vars(verdict))  # its fields: JSON already
    else:
        item.config.stash.setdefault(LOCAL_VERDICTS_KEY, []).append((points_of(item), verdict))


# --------------------------------------------------------------------------- local summary


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    graded = [(points, v) for points, v in config.stash.get(LOCAL_VERDICTS_KEY, []) if points]
    if not graded:
        return
    earned = sum(points * v.fraction for points, v in graded)
    possible = sum(points for points, _ in graded)
    hidden = config.getini("autograder_hidden_points")
    more = f"; hidden tests worth {hidden} more run on Gradescope" if hidden else ""
    terminalreporter.write_line(f"public tests: {earned:g}/{possible:g} points{more}", bold=True)
