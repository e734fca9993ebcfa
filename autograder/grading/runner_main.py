"""The test runner's entry point: ``python -I -m autograder.grading.runner_main PYTEST-ARGUMENTS``
runs pytest with those arguments, the run's sandboxed worker started first.

Started before pytest is even imported, the worker loads Python, numpy and the student's modules
while pytest loads here and collects the suites, instead of after pytest has loaded; the run's
``GradingRun`` takes the worker started here (``take_started``). Runs that start no worker
(``--collect-only``, a pre-started runner's ``--autograder-serve``) start none here either.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.sandbox.isolation import Confinement
from autograder.sandbox.worker_process import SandboxConfig, Worker
from autograder.suite import assignment as assignments
from autograder.suite import protocol
from autograder.suite.errors import SandboxError

NO_WORKER_OPTIONS = ("--collect-only", "--autograder-serve")

_started: dict[Path, tuple[Worker, str | None]] = {}
"""The worker started for a run folder, and why it could not start (or None)."""


def sandbox_worker(plan: protocol.RunPlan, task: assignments.Assignment) -> Worker:
    """The worker of ``plan``'s run, not started."""
    return Worker(
        SandboxConfig(
            scratch=Path(plan.scratch),
            limits=task.limits,
            uid=plan.uid,
            hidden_paths=tuple(Path(p) for p in plan.hidden_paths),
            concealed_paths=tuple(Path(p) for p in plan.concealed_paths),
            confinement=Confinement(plan.confinement),
            preload=tuple(m for m in plan.modules if m not in plan.missing),
        )
    )


def start_worker(plan: protocol.RunPlan, task: assignments.Assignment) -> tuple[Worker, str | None]:
    """The worker of ``plan``'s run, started (without waiting for it), and the problem that kept
    it from starting, or None."""
    worker = sandbox_worker(plan, task)
    try:
        worker.start()
    except SandboxError as err:
        return worker, str(err)
    return worker, None


def take_started(run_dir: Path) -> tuple[Worker, str | None] | None:
    """The worker ``main`` started for ``run_dir`` (once), or None."""
    return _started.pop(run_dir, None)


def main(argv: list[str]) -> int:
    if "--autograder-run" in argv[:-1] and not any(option in argv for option in NO_WORKER_OPTIONS):
        run_dir = Path(argv[argv.index("--autograder-run") + 1])
        plan = protocol.RunPlan.read(run_dir)
        _started[run_dir] = start_worker(plan, assignments.load(plan.assignment, Path(plan.project)))
    import pytest  # after the worker's start, which does not wait for it

    return pytest.main(argv)


if __name__ == "__main__":
    from autograder.grading.runner_main import main as imported_main  # its globals, not __main__'s

    sys.exit(imported_main(sys.argv[1:]))
