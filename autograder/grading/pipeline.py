"""Grading one submission: intake, the sandboxed test run, the score, ``results.json``.

The grading process (this module) never runs student code and never imports the suites. It
starts a test-runner process (pytest with a pinned configuration and the engine's plugin only)
that loads the suites and the reference solution and calls student functions through a proxy
into a sandboxed worker. When the runner is done, or was stopped at the time limit, every process
of the sandbox is killed, and only then is ``results.json`` written, from the manifest of
collected tests and the verdicts the runner recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import intake, results
from autograder.grading.intake import Submission
from autograder.grading.prestarted_runner import PreStartedRunner, RunnerGone
from autograder.grading.results_model import Results
from autograder.grading.runner_command import runner_command, runner_environment
from autograder.sandbox import isolation
from autograder.sandbox.uids import UidLease, kill_all, prepare_scratch
from autograder.suite import protocol
from autograder.suite.assignment import Assignment
from autograder.suite.errors import SandboxError

MAX_IGNORED_SHOWN = 20


PHASES = (
    ("intake", "started", "intake_done"),
    ("sandbox set-up (scratch, uid, plan)", "intake_done", "runner_started"),
    ("runner start-up (Python, pytest, plugins)", "runner_started", "configured"),
    ("collection of the suites", "configured", "collected"),
    ("waiting for the worker", "collected", "worker_ready"),
    ("tests", "worker_ready", "tests_done"),
    ("runner exit", "tests_done", "runner_ended"),
    ("sandbox kill, verdicts read", "runner_ended", "verdicts_read"),
    ("results.json", "verdicts_read", "written"),
)
"""The phases of one grade, each ``(name, start event, end event)``: events of ``Grade.timings``."""


@dataclass
class SandboxRun:
    """What a test runner left: its problem (or None), the manifest, the verdicts, the collection
    errors and the timings of the grading process and the runner (``time.monotonic()`` by event)."""

    problem: str | None
    manifest: list[protocol.ManifestEntry] | None
    verdicts: dict[str, protocol.Verdict]
    collection_errors: list[dict]
    timings: dict[str, float]


@dataclass
class Grade:
    """What grading one submission produced."""

    results: Results
    submission: Submission
    seed: int
    problems: list[str]
    """Grader-side problems (collection errors, a crashed runner, grader errors in tests); empty
    when the grading itself went right, whatever the score."""
    confinement: str = ""
    """How student code was confined (``isolation.Confinement.describe``), for the grader's log."""
    timings: dict[str, float] = field(default_factory=dict)
    """``time.monotonic()`` of each event of ``PHASES`` that happened, and the worker's counts."""

    def phases(self) -> dict[str, float]:
        """Seconds of each phase of ``PHASES`` whose events both happened."""
        t = self.timings
        return {name: t[end] - t[start] for name, start, end in PHASES if start in t and end in t}


def default_seed(submission: Submission) -> int:
    """A seed derived from the submitted files, so regrading the same files repeats the inputs."""
    digest = submission.digest_files(hashlib.sha256())
    return int.from_bytes(digest.digest()[:4], "big") % 1_000_000


def run_suite(
    assignment: Assignment, run_dir: Path, *options: str, runner: PreStartedRunner | None = None
) -> str | None:
    """Run the assignment's suites in a test-runner process (``options`` are further pytest
    options; without any, a fork of ``runner`` when given); a grader-side problem, or None."""
    timeout = assignment.limits.suite_timeout_seconds
    if runner is not None and not options:
        try:
            code = runner.run(run_dir, timeout)
        except RunnerGone as err:
            return str(err)
    else:
        code = run_runner_process(runner_command(assignment, run_dir, *options), run_dir, timeout)
    if code is None:
        return f"the grading run took longer than its limit of {timeout} s and was stopped"
    if (run_dir / protocol.SETUP_PROBLEM).exists():
        return (run_dir / protocol.SETUP_PROBLEM).read_text()
    if code in (0, 1):
        return None
    tail = (run_dir / "runner.log").read_text(errors="replace")[-1500:]
    return f"the test runner ended with exit code {code}:\n{tail}"


def run_runner_process(command: list[str], run_dir: Path, timeout: float) -> int | None:
    """Run a test runner of its own; its exit code, or None when it took longer than ``timeout``
    seconds and was killed."""
    with (run_dir / "runner.log").open("wb") as log:
        runner = subprocess.Popen(
            command,
            cwd=run_dir,
            env=runner_environment(run_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not ended_within(runner, timeout):
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
            return None
        return runner.wait()


def ended_within(process: subprocess.Popen, seconds: float) -> bool:
    """Whether ``process`` ends within ``seconds``, noticed as soon as it does (through a pidfd;
    ``Popen.wait`` with a timeout polls, with sleeps of up to 50 ms)."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd (not Linux, or an old kernel)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        return bool(select.select([pidfd], [], [], seconds)[0])
    finally:
        os.close(pidfd)


class CollectionError(Exception):
    """The suites cannot be collected; the message holds pytest's report."""


def collect_manifest(assignment: Assignment) -> list[protocol.ManifestEntry]:
    """Every test of the assignment's suites with its points and visibility, collected without
    running any test (so no student code at all). Raises ``CollectionError``."""
    with tempfile.TemporaryDirectory(prefix="autograder-collect-") as tmp:
        run_dir = Path(tmp)
        protocol.RunPlan(
            project=str(assignment.root), assignment=assignment.name, scratch=str(run_dir), seed=0, modules=[]
        ).write(run_dir)
        problem = run_suite(assignment, run_dir, "--collect-only")
        manifest = protocol.read_manifest(run_dir)
        errors = protocol.read_lines(run_dir / protocol.COLLECTION_ERRORS)
    problems = [problem] if problem else []
    problems += [f"could not collect {e['nodeid']}: {e['message']}" for e in errors]
    if problems or manifest is None:
        raise CollectionError("\n".join(problems) or "the test runner collected no tests")
    return manifest


def submission_summary(submission: Submission, seed: int) -> list[str]:
    """Markdown lines for the top of the results page."""
    lines = [f"Random test inputs were drawn with seed {seed}."]
    if submission.files:
        lines.append("Graded files: " + ", ".join(f"`{name}`" for name in sorted(submission.files)) + ".")
    lines.extend(submission.notes)
    for name in submission.missing:
        lines.append(f"**`{name}` was not submitted**: the tests that need it score 0.")
    for message in submission.syntax_errors.values():
        lines.append(f"**Your file does not compile**: `{message}`")
    if submission.ignored:
        shown = submission.ignored[:MAX_IGNORED_SHOWN]
        more = len(submission.ignored) - len(shown)
        lines.append("Ignored: " + "; ".join(f"`{note}`" for note in shown) + (f"; and {more} more." if more else "."))
    return lines


def stage_scratch(folder: Path, submission: Submission, assignment: Assignment) -> None:
    """Put the submitted files and the assignment's provided files into the worker's folder."""
    for name, content in submission.files.items():
        (folder / name).write_bytes(content)
    for name in assignment.provided:
        (folder / name).write_bytes((assignment.folder / name).read_bytes())


def sandbox_uid(confinement: isolation.Confinement):
    """A dedicated unprivileged uid when running as root, else no uid change."""
    return UidLease() if confinement.needs_uid else contextlib.nullcontext(None)


def run_in_sandbox(
    assignment: Assignment,
    submission: Submission,
    seed: int,
    results_path: Path,
    hidden_paths: tuple[Path, ...],
    runner_options: tuple[str, ...] = (),
    runner: PreStartedRunner | None = None,
    stop_at_first_failure: bool = False,
) -> SandboxRun:
    """Stage the submission, run the suites against it (in a fork of ``runner`` when given),
    kill every sandboxed process. Raises ``SandboxError`` when the sandbox cannot be set up at all."""
    confinement = isolation.available()
    with contextlib.ExitStack() as stack:
        run_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-run-")))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-scratch-")))
        uid = stack.enter_context(sandbox_uid(confinement))
        stage_scratch(scratch, submission, assignment)
        if uid is not None:
            prepare_scratch(scratch, uid)
        secrets = [assignment.folder, assignment.solution, run_dir, *hidden_paths]
        if results_path.exists():
            secrets.append(results_path)
        hides = uid is not None or confinement is isolation.Confinement.BUBBLEWRAP
        protocol.RunPlan(
            project=str(assignment.root),
            assignment=assignment.name,
            scratch=str(scratch),
            seed=seed,
            modules=[*assignment.modules, *assignment.provided_modules],
            missing={name[:-3]: f"{name} was not submitted" for name in submission.missing if name.endswith(".py")},
            uid=uid,
            hidden_paths=[str(p.resolve()) for p in secrets] if hides else [],
            concealed_paths=[str(assignment.root.resolve())],
            confinement=confinement.value,
            stop_at_first_failure=stop_at_first_failure,
        ).write(run_dir)
        runner_started = time.monotonic()
        problem = run_suite(assignment, run_dir, *runner_options, runner=runner)
        runner_ended = time.monotonic()
        if uid is not None:
            kill_all(uid)
        run = SandboxRun(
            problem,
            protocol.read_manifest(run_dir),
            protocol.read_verdicts(run_dir),
            protocol.read_lines(run_dir / protocol.COLLECTION_ERRORS),
            protocol.read_timings(run_dir),
        )
    run.timings.update(runner_started=runner_started, runner_ended=runner_ended, verdicts_read=time.monotonic())
    return run


def check_setup(assignment: Assignment) -> isolation.Confinement:
    """Start a test runner and a worker as grading does (on a submission without files), and stop
    before any test: done once before grading many submissions, so that a setup that cannot work
    is said once. Returns the confinement that applies; raises ``SandboxError`` with one line that
    names the fix."""
    blank = Submission(missing=list(assignment.files))
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        run = run_in_sandbox(assignment, blank, 0, Path(tmp) / "results.json", (), ("--autograder-check-setup",))
    problem, collection_errors = run.problem, run.collection_errors
    if problem is None and collection_errors:
        problem = f"could not collect {collection_errors[0]['nodeid']}: {collection_errors[0]['message']}"
    if problem is not None:
        raise SandboxError(one_line(problem))
    return isolation.available()


def one_line(problem: str) -> str:
    """A grader problem in one line: its first, and when that only announces a log (ends with a
    colon), the log's last line too."""
    lines = [line.strip() for line in problem.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown problem"
    return f"{lines[0]} {lines[-1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def grade(
    assignment: Assignment,
    path: Path,
    results_path: Path,
    *,
    seed: int | None = None,
    hidden_paths: tuple[Path, ...] = (),
    stop_at_first_failure: bool = False,
    runner: PreStartedRunner | None = None,
) -> Grade:
    """Grade the submission at ``path`` and write ``results_path``.

    ``hidden_paths`` are further paths the student's code must not read (on Gradescope: the
    autograder source, the submission metadata and the results folder).
    ``stop_at_first_failure`` ends the run at the first failed test, leaving the rest without a
    verdict (scored 0): enough to prove that a known-buggy submission loses points, much faster.
    ``runner``: a pre-started test runner to fork the run from (many submissions of one
    assignment), instead of starting one.
    Raises ``intake.IntakeError`` for a submission that cannot be used at all.
    """
    started = time.perf_counter()
    timings = {"started": time.monotonic()}
    submission = intake.collect(path, assignment)
    timings["intake_done"] = time.monotonic()
    seed = default_seed(submission) if seed is None else seed
    try:
        run = run_in_sandbox(
            assignment,
            submission,
            seed,
            results_path,
            hidden_paths,
            runner=runner,
            stop_at_first_failure=stop_at_first_failure,
        )
    except SandboxError as err:  # the setup's fault, said in one line; results.json all the same
        run = SandboxRun(str(err), None, {}, [], {})
    except Exception as err:  # a grader-side failure must still leave a valid results.json
        run = SandboxRun(f"{type(err).__name__}: {err}", None, {}, [], {})
    problem, manifest, verdicts, collection_errors = run.problem, run.manifest, run.verdicts, run.collection_errors
    timings.update(run.timings)
    problems = [f"could not collect {e['nodeid']}: {e['message']}" for e in collection_errors]
    problems += [f"grader error in {v.nodeid}: {v.message}" for v in verdicts.values() if v.grader_error]
    elapsed = time.perf_counter() - started
    try:
        confinement = isolation.available().describe()
    except SandboxError:
        confinement = "none: the confinement could not be set up"
    if manifest is None:
        problem = problem or "the test runner collected no tests"
    if problem:
        problems.insert(0, problem)
    headline = problem.splitlines()[0] if problem else "no verdict was recorded"
    if manifest is None:
        report = results.grader_failure(headline, execution_time=elapsed, assignment=assignment.name, seed=seed)
    else:
        report = results.build(
            manifest,
            verdicts,
            summary=submission_summary(submission, seed),
            missing_reason=f"The grader stopped before this test finished: {headline}.",
            execution_time=elapsed,
            assignment=assignment.name,
            seed=seed,
        )
    report.write(results_path)
    timings["written"] = time.monotonic()
    return Grade(
        results=report, submission=submission, seed=seed, problems=problems, confinement=confinement, timings=timings
    )
