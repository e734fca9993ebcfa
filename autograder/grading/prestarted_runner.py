"""A test runner started once and used for many submissions (``autograder batch``).

Starting a runner costs Python, pytest, numpy, the collection of the suites and the import of the
reference solution: more than the tests of a blank template take. A ``PreStartedRunner`` pays it
once: its runner process (``--autograder-serve``, see ``autograder.grading.test_runner``) collects
the suites and imports the reference, runs no test and no student code, and forks one fresh
process per run folder it is given. Each submission is thus graded in a process of its own, with
its own worker, that starts from the runner's state before any test ran: nothing of one
submission's grading reaches another's. Its exit code and its time limit are those of a runner of
its own (``pipeline.run_suite``).

One ``PreStartedRunner`` serves one run at a time; ``PerThread`` gives each thread of a pool its
own.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from autograder.grading.runner_command import runner_command, runner_environment
from autograder.suite import protocol
from autograder.suite.assignment import Assignment

START_SECONDS = 60.0
"""How long the runner may take to collect the suites and start a run before it is given up."""


class RunnerGone(Exception):
    """The pre-started runner ended or broke its protocol; the message holds the end of its log."""


class PreStartedRunner:
    """A runner process for ``assignment``'s suites, started on first use (see the module doc)."""

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self._dir: Path | None = None
        self._process: subprocess.Popen | None = None
        self._replies: int | None = None
        self._pending = b""

    def __enter__(self) -> PreStartedRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The runner process's id while it runs (its own session's), else None."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def run(self, run_dir: Path, timeout: float) -> int | None:
        """Grade the run prepared in ``run_dir`` in a fresh fork of the runner; its exit code, or
        None when it took longer than ``timeout`` seconds and was killed. Raises ``RunnerGone``
        when the runner cannot serve (it is started anew for the next run)."""
        try:
            self._ensure_started()
            self._process.stdin.write(f"{run_dir}\n".encode())
            self._process.stdin.flush()
            child = int(self._reply("started", START_SECONDS))
            try:
                return int(self._reply("ended", timeout))
            except TimeoutError:
                os.killpg(child, signal.SIGKILL)  # its own session; the runner has not reaped it yet
                self._reply("ended", START_SECONDS)
                return None
        except (OSError, ValueError, TimeoutError, RunnerGone) as err:
            tail = self._log_tail()
            self.close()
            raise RunnerGone(f"the pre-started test runner stopped ({err}):\n{tail}") from None

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self.close()
        self._dir = Path(tempfile.mkdtemp(prefix="autograder-runner-"))
        protocol.RunPlan(
            project=str(self.assignment.root),
            assignment=self.assignment.name,
            scratch=str(self._dir),
            seed=0,
            modules=[],
        ).write(self._dir)
        replies, reply_write = os.pipe()
        try:
            with (self._dir / "runner.log").open("wb") as log:
                self._process = subprocess.Popen(
                    runner_command(self.assignment, self._dir, "--autograder-serve", str(reply_write)),
                    cwd=self._dir,
                    env=runner_environment(self._dir),
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(reply_write,),
                    start_new_session=True,
                )
        finally:
            os.close(reply_write)
        self._replies, self._pending = replies, b""

    def _reply(self, word: str, timeout: float) -> str:
        """The value of the runner's next line, which must be ``word VALUE``; raises
        ``TimeoutError`` when none comes within ``timeout`` seconds, ``RunnerGone`` at its end."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                raise TimeoutError(f"no '{word}' within {timeout:g} s")
            data = os.read(self._replies, 4096)
            if not data:
                raise RunnerGone(f"the runner ended (exit code {self._process.wait()})")
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        said, _, value = line.decode(errors="replace").partition(" ")
        if said != word:
            raise RunnerGone(f"expected '{word}', got {line[:80]!r}")
        return value

    def _log_tail(self) -> str:
        try:
            return (self._dir / "runner.log").read_text(errors="replace")[-1500:]
        except (OSError, TypeError):
            return ""

    def close(self) -> None:
        """Stop the runner (its standard input closed, it ends; killed if it does not) and remove
        its folder; idempotent. It starts again on the next ``run``."""
        if self._process is not None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
            self._process = None
        if self._replies is not None:
            os.close(self._replies)
            self._replies = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class PerThread:
    """One ``PreStartedRunner`` for each thread that asks (``mine()``); ``close`` stops them all."""

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self._local = threading.local()
        self._all: list[PreStartedRunner] = []
        self._lock = threading.Lock()

    def mine(self) -> PreStartedRunner:
        runner = getattr(self._local, "runner", None)
        if runner is None:
            runner = self._local.runner = PreStartedRunner(self.assignment)
            with self._lock:
                self._all.append(runner)
        return runner

    def close(self) -> None:
        with self._lock:
            for runner in self._all:
                runner.close()
