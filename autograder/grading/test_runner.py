"""The test runner's grading side: a pytest plugin that ``autograder grade`` loads (``-p
autograder.grading.test_runner``) next to the suites' plugin (``autograder.suite.plugin``).

With ``--autograder-run DIR`` it reads the plan the grading process wrote (``DIR/plan.json``),
starts the sandboxed worker holding the student's modules, and gives the suites' fixtures a
``RemoteStudent`` that sends every call there; the suites' plugin then writes the manifest and
the verdicts to ``DIR`` (see ``autograder.suite.protocol``).

With ``--autograder-serve FD`` as well, the runner is pre-started for many submissions (see
``autograder.grading.prestarted_runner``): it collects the suites and imports the reference
solution and the provided modules once, runs no test itself, and then, for each run folder named
by a line on its standard input, forks a fresh process that grades that run exactly as a runner of
its own would (its own worker, plan, manifest and verdicts) and writes ``started PID`` and then
``ended CODE`` (the child's exit code, as pytest's) as lines to file descriptor ``FD``. The
forked process inherits only what the runner had before any test ran, so nothing of one
submission's run reaches the next. What a forked run imported of the Python installation (the
standard library's and site-packages' modules a test imports lazily, e.g. ``numpy.random``), the
runner imports before its next fork, so that later runs do not import it again.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import shutil
import sys
import sysconfig
import time
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from autograder.grading import runner_main
from autograder.sandbox.isolation import Confinement
from autograder.sandbox.worker_process import Worker
from autograder.suite import assignment as assignments
from autograder.suite import protocol
from autograder.suite.errors import SandboxError, StudentError
from autograder.suite.plugin import RUN_KEY, call_timeout_of, provided_modules, reference_modules
from autograder.suite.proxy import CallResult, Student


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder")
    group.addoption(
        "--autograder-run",
        metavar="DIR",
        help="grade: read the plan from DIR/plan.json, write the manifest and verdicts to DIR",
    )
    group.addoption(
        "--autograder-serve",
        metavar="FD",
        type=int,
        help="with --autograder-run: collect once, then grade the run folder of each line of stdin in a fork "
        "(replies on FD)",
    )
    group.addoption(
        "--autograder-check-setup",
        action="store_true",
        help="with --autograder-run: start the worker, then stop before any test (a setup problem is written to DIR)",
    )


def pytest_configure(config: pytest.Config) -> None:
    run_dir = config.getoption("--autograder-run", default=None)
    serving = config.getoption("--autograder-serve", default=None) is not None
    run = GradingRun(Path(run_dir), start_worker=not (config.option.collectonly or serving)) if run_dir else None
    config.stash[RUN_KEY] = run
    if run is not None:
        run.configure(config)
        config.pluginmanager.register(run, "autograder-grading-run")  # its hooks: collection errors


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """A pre-started runner serves run folders instead of running the tests itself."""
    reply_fd = session.config.getoption("--autograder-serve", default=None)
    run = session.config.stash.get(RUN_KEY, None)
    if reply_fd is None or run is None or run.forked:
        return None
    reference_modules(run.assignment)  # imported once, before any fork
    provided_modules(run.assignment)
    for line in sys.stdin:
        gc.freeze()  # what the runner holds now is never collected in a child: no scan, no copy on write
        run_dir = Path(line.rstrip("\n"))
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child, which never returns
            grade_forked(session, run_dir, reply_fd)
        os.write(reply_fd, f"started {child}\n".encode())
        _, status = os.waitpid(child, 0)
        os.write(reply_fd, f"ended {os.waitstatus_to_exitcode(status)}\n".encode())
        import_installed(run_dir / IMPORTED_MODULES)
    return True


IMPORTED_MODULES = "imported-modules.json"
"""Written into the run folder by a forked run: the modules of the Python installation it imported."""


def installed_modules_since(before: set[str]) -> list[str]:
    """The modules imported since ``before`` (names of ``sys.modules``) that are files of the
    Python installation (standard library, site-packages), not of the project or a run."""
    paths = sysconfig.get_paths()
    prefixes = tuple(
        {str(Path(paths[key]).resolve()) + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    )
    return sorted(
        name
        for name in set(sys.modules) - before
        if str(Path(getattr(sys.modules[name], "__file__", None) or os.sep).resolve()).startswith(prefixes)
    )


def import_installed(record: Path) -> None:
    """Import the modules a forked run recorded in ``record`` (see ``installed_modules_since``),
    each one that imports; nothing when there is no record."""
    try:
        names = json.loads(record.read_text())
    except (OSError, ValueError):
        return
    for name in names:
        try:
            importlib.import_module(name)
        except (Exception, SystemExit):  # e.g. a module that only imports as part of another's import
            continue


def grade_forked(session: pytest.Session, run_dir: Path, reply_fd: int) -> None:
    """In a process forked from a pre-started runner: grade the run of ``run_dir`` (its own
    session, standard streams on ``run_dir/runner.log``, the manifest and collection errors of the
    runner's collection) and exit with pytest's code for it."""
    code = pytest.ExitCode.INTERNAL_ERROR
    try:
        os.setsid()
        os.chdir(run_dir)
        log = os.open(run_dir / "runner.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((devnull, 0), (log, 1), (log, 2)):
            os.dup2(source, target)
        for fd in (devnull, log, reply_fd):
            os.close(fd)
        config = session.config
        collecting = config.stash[RUN_KEY]
        for name in (protocol.MANIFEST, protocol.COLLECTION_ERRORS):
            if (collecting.dir / name).exists():
                shutil.copyfile(collecting.dir / name, run_dir / name)
        config.pluginmanager.unregister(collecting)
        run = GradingRun(run_dir, forked=True)
        run.configure(config)
        config.stash[RUN_KEY] = run
        config.pluginmanager.register(run, "autograder-grading-run")
        inherited = set(sys.modules)
        try:
            code = run.run_tests(session)
        finally:
            run.close()
            with contextlib.suppress(OSError):  # only later runs' speed depends on it
                (run_dir / IMPORTED_MODULES).write_text(json.dumps(installed_modules_since(inherited)))
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)


EXIT_STATUS_KEY = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[EXIT_STATUS_KEY] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the run (the worker killed, the timings written) and, once the session has run its
    tests (passed or failed), end the process at once: everything the grading process reads is
    written, and tearing down an interpreter with numpy and pytest loaded would only cost time.
    Any other end (a usage error, an interrupt) goes on as usual, so pytest can report it."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    run.close()
    status = config.stash.get(EXIT_STATUS_KEY, None)
    if status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(status)


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
        self.call_timeout: float | None = None
        """Seconds each call may take, or None for the assignment's ``call_timeout_seconds``."""

    def _call(self, module: str, function: str, args: tuple, kwargs: dict, return_args: bool) -> CallResult:
        self._require_submitted(module)
        return self.worker.call(module, function, args, kwargs, timeout=self.call_timeout, return_args=return_args)

    def _call_many(self, module: str, function: str, calls: list[tuple[tuple, dict]]) -> list[CallResult]:
        self._require_submitted(module)
        return self.worker.call_many(module, function, calls, timeout=self.call_timeout)

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

    def __init__(self, run_dir: Path, start_worker: bool = True, forked: bool = False) -> None:
        self.forked = forked
        """Whether this run is in a process forked from a pre-started runner, which collected the
        suites before the run began."""
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
        if start_worker:  # started by the runner's entry point before pytest loaded, else now (it
            # imports the student's modules during collection)
            self.worker, self.setup_problem = runner_main.take_started(run_dir) or runner_main.start_worker(
                self.plan, self.assignment
            )
        else:
            self.worker = runner_main.sandbox_worker(self.plan, self.assignment)
        self.student = RemoteStudent(self.worker, self.plan.modules, self.plan.missing)
        if forked:
            self.timings["collected"] = self.timings["configured"]

    def configure(self, config: pytest.Config) -> None:
        """The pytest options the plan sets: ``--maxfail=1`` for a run that stops at its first
        failure (a forked run's config is the pre-started runner's, so it is set either way)."""
        config.option.maxfail = 1 if self.plan.stop_at_first_failure else 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A worker that cannot start stops the run here, before any test, with the problem in
        ``protocol.SETUP_PROBLEM``; with ``--autograder-check-setup`` the run stops here anyway."""
        self.timings["collected"] = time.monotonic()
        if session.config.option.collectonly or session.config.getoption("--autograder-serve") is not None:
            return
        if not self.worker_ready():
            pytest.exit(self.setup_problem, returncode=pytest.ExitCode.INTERRUPTED)
        if session.config.getoption("--autograder-check-setup"):
            pytest.exit("the worker started", returncode=pytest.ExitCode.OK)

    def worker_ready(self) -> bool:
        """Wait until the worker is ready; False, with the problem in ``setup_problem`` and in
        ``protocol.SETUP_PROBLEM``, when it cannot start."""
        if self.setup_problem is None:
            try:
                self.worker.wait_until_ready()
            except SandboxError as err:
                self.setup_problem = str(err)
        self.timings["worker_ready"] = time.monotonic()
        if self.setup_problem is not None:
            (self.dir / protocol.SETUP_PROBLEM).write_text(self.setup_problem)
            return False
        return True

    def run_tests(self, session: pytest.Session) -> pytest.ExitCode:
        """In a forked runner: run every collected test against this run's worker; pytest's exit
        code for the run."""
        if not self.worker_ready():
            return pytest.ExitCode.INTERRUPTED
        session.testsfailed = 0
        try:
            session.config.hook.pytest_runtestloop(session=session)
        except session.Failed:  # the run stops at its first failure (``configure``)
            pass
        self.pytest_sessionfinish()
        return pytest.ExitCode.TESTS_FAILED if session.testsfailed else pytest.ExitCode.OK

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item):
        """Calls of the test (its fixtures included) get the time its ``call_timeout`` marker allows."""
        self.student.call_timeout = call_timeout_of(item)
        try:
            yield
        finally:
            self.student.call_timeout = None

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
