"""The test runner's grading side: a pytest plugin that ``autograder grade`` loads (``-p
autograder.grading.test_runner``) next to the suites' plugin (``autograder.suite.plugin``).

With ``--autograder-run DIR`` it reads the plan the grading process wrote (``DIR/plan.json``),
starts the sandboxed worker holding the student's modules, and gives the suites' fixtures a
``RemoteStudent`` that sends every call there; the suites' plugin then writes the manifest and
the verdicts to ``DIR`` (see ``autograder.suite.protocol``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from autograder.sandbox.isolation import Confinement
from autograder.sandbox.worker_process import SandboxConfig, Worker
from autograder.suite import assignment as assignments
from autograder.suite import protocol
from autograder.suite.errors import SandboxError, StudentError
from autograder.suite.plugin import RUN_KEY
from autograder.suite.proxy import CallResult, Student


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder")
    group.addoption(
        "--autograder-run",
        metavar="DIR",
        help="grade: read the plan from DIR/plan.json, write the manifest and verdicts to DIR",
    )
    group.addoption(
        "--autograder-check-setup",
        action="store_true",
        help="with --autograder-run: start the worker, then stop before any test (a setup problem is written to DIR)",
    )


def pytest_configure(config: pytest.Config) -> None:
    run_dir = config.getoption("--autograder-run", default=None)
    run = GradingRun(Path(run_dir), start_worker=not config.option.collectonly) if run_dir else None
    config.stash[RUN_KEY] = run
    if run is not None:
        config.pluginmanager.register(run, "autograder-grading-run")  # its hooks: collection errors


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        run.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
    """A failed phase of a test reported with the exception's one line, not pytest's formatted
    traceback (20 ms per failed test, and never shown: the verdicts carry their own messages);
    a skip, and a test whose phase passed, are left to pytest."""
    excinfo = call.excinfo
    if excinfo is None or isinstance(excinfo.value, pytest.skip.Exception) or call.when == "collect":
        return None
    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        excinfo.exconly()[-2000:],
        call.when,
        duration=call.duration,
        start=call.start,
        stop=call.stop,
        user_properties=item.user_properties,
    )


class RemoteStudent(Student):
    """Calls go to ``worker``. ``missing`` maps the modules that were not submitted to the
    message a call into them raises (``"activations.py was not submitted"``)."""

    def __init__(self, worker: Worker, modules: Iterable[str], missing: Mapping[str, str] = {}) -> None:
        super().__init__(dict.fromkeys([*modules, *missing]))
        self.worker = worker
        self.missing = dict(missing)

    def _call(self, module: str, function: str, args: tuple, kwargs: dict, return_args: bool) -> CallResult:
        self._require_submitted(module)
        return self.worker.call(module, function, args, kwargs, return_args=return_args)

    def _call_many(self, module: str, function: str, calls: list[tuple[tuple, dict]]) -> list[CallResult]:
        self._require_submitted(module)
        return self.worker.call_many(module, function, calls)

    def _require_submitted(self, module: str) -> None:
        if module in self.missing:
            raise StudentError(self.missing[module], kind="missing")

    def take_output(self) -> str:
        return self.worker.take_output()

    def close(self) -> None:
        """Closes the worker (kills its processes)."""
        self.worker.close()


class GradingRun:
    """The state of a grading run inside the test-runner process."""

    def __init__(self, run_dir: Path, start_worker: bool = True) -> None:
        self.timings: dict[str, float] = {"configured": time.monotonic()}
        """``time.monotonic()`` at the end of each phase of the run (``configured``: Python, pytest
        and the plugins loaded; ``collected``; ``worker_ready``: the worker started, the student's
        modules imported; ``tests_done``), and the worker's own timings; written at the end."""
        self.dir = run_dir
        self.plan = protocol.RunPlan.read(run_dir)
        self.assignment = assignments.load(self.plan.assignment, Path(self.plan.project))
        self.setup_problem: str | None = None
        """Why no worker can start (a grader problem, said once), or None."""
        confinement = Confinement(self.plan.confinement)
        print(f"autograder: student code runs with confinement {confinement.describe()}", flush=True)
        self.worker = Worker(
            SandboxConfig(
                scratch=Path(self.plan.scratch),
                limits=self.assignment.limits,
                uid=self.plan.uid,
                hidden_paths=tuple(Path(p) for p in self.plan.hidden_paths),
                concealed_paths=tuple(Path(p) for p in self.plan.concealed_paths),
                confinement=confinement,
                preload=tuple(m for m in self.plan.modules if m not in self.plan.missing),
            )
        )
        if start_worker:
            try:
                self.worker.start()  # the worker starts and imports the student's modules during collection
            except SandboxError as err:
                self.setup_problem = str(err)
        self.student = RemoteStudent(self.worker, self.plan.modules, self.plan.missing)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A worker that cannot start stops the run here, before any test, with the problem in
        ``protocol.SETUP_PROBLEM``; with ``--autograder-check-setup`` the run stops here anyway."""
        self.timings["collected"] = time.monotonic()
        if session.config.option.collectonly:
            return
        if self.setup_problem is None:
            try:
                self.worker.wait_until_ready()
            except SandboxError as err:
                self.setup_problem = str(err)
        self.timings["worker_ready"] = time.monotonic()
        if self.setup_problem is not None:
            (self.dir / protocol.SETUP_PROBLEM).write_text(self.setup_problem)
            pytest.exit(self.setup_problem, returncode=pytest.ExitCode.INTERRUPTED)
        if session.config.getoption("--autograder-check-setup"):
            pytest.exit("the worker started", returncode=pytest.ExitCode.OK)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite file that cannot be collected is a grader problem; the grading process says so."""
        if report.failed:
            protocol.append_line(
                self.dir / protocol.COLLECTION_ERRORS,
                {"nodeid": report.nodeid, "message": str(report.longrepr)[-2000:]},
            )

    def pytest_sessionfinish(self) -> None:
        self.timings["tests_done"] = time.monotonic()

    def close(self) -> None:
        self.worker.close()
        protocol.write_timings(self.dir, {**self.timings, **self.worker.timings})
