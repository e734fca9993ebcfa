"""What each confinement level costs per worker: the wall time from starting a worker process to
the answer of its first call, for every level that works on this machine, interleaved.

Each round starts one worker per level in turn (in random order), so that a drifting machine
speed affects every level alike; the report gives the median over the rounds, the ratio to the
unconfined worker, and the machine's load average.

Run from the repository root (as root, every level; otherwise ``none`` and ``bubblewrap``)::

    .venv/bin/python benchmarks/confinement_cost.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from autograder.sandbox import isolation
from autograder.sandbox.isolation import Confinement
from autograder.sandbox.uids import UidLease, prepare_scratch
from autograder.sandbox.worker_process import SandboxConfig, Worker
from autograder.suite.assignment import Limits
from autograder.suite.errors import SandboxError

STUDENT = "def ping(x):\n    return x + 1\n"


def usable_levels() -> list[Confinement]:
    levels = [Confinement.NONE]
    if isolation.bubblewrap() is not None:
        levels.append(Confinement.BUBBLEWRAP)
    if os.geteuid() == 0:
        levels.append(Confinement.PERMISSIONS)
        if isolation.works(Confinement.NAMESPACES):
            levels.append(Confinement.NAMESPACES)
    return levels


def one_start(level: Confinement) -> float:
    """Seconds from starting a worker under ``level`` to the answer of its first call."""
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-bench-")))
        (scratch / "student.py").write_text(STUDENT)
        uid = stack.enter_context(UidLease()) if level.needs_uid else None
        if uid is not None:
            prepare_scratch(scratch, uid)
        worker = stack.enter_context(
            Worker(SandboxConfig(scratch=scratch, limits=Limits(), uid=uid, confinement=level))
        )
        start = time.perf_counter()
        assert worker.call("student", "ping", (1,)).value == 2
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    options = parser.parse_args()
    levels, refused = [], {}
    for level in usable_levels():  # each tried once, which also warms the file cache
        try:
            one_start(level)
            levels.append(level)
        except SandboxError as err:  # e.g. permissions where the interpreter is in a closed folder
            refused[level] = str(err).splitlines()[0]
    seconds: dict[Confinement, list[float]] = {level: [] for level in levels}
    for _ in range(options.rounds):
        for level in random.sample(levels, len(levels)):
            seconds[level].append(one_start(level))
    base = statistics.median(seconds[Confinement.NONE])
    print(
        f"worker start to first answer, median of {options.rounds} interleaved rounds "
        f"(load average {os.getloadavg()[0]:.2f}, {'root' if os.geteuid() == 0 else 'not root'}):"
    )
    for level in levels:
        median = statistics.median(seconds[level])
        print(f"  {level.value:12} {median * 1000:7.1f} ms   x{median / base:.2f}   +{(median - base) * 1000:5.1f} ms")
    for level, reason in refused.items():
        print(f"  {level.value:12} cannot run here: {reason}")


if __name__ == "__main__":
    main()
