"""Cost of calling student code through the sandboxed worker.

Measures, as medians over many repetitions:

- start-up: the first call of a fresh ``Worker`` (process start, numpy import, importing the
  student module, one call);
- the round trip of one call of ``identity(x)`` through ``RemoteStudent``, for a tiny array and
  for a 512 x 1024 float64 array (4 MiB each way);
- the cost per call of 100 calls of ``identity(x)`` (tiny array) made with one ``map``, as
  gradient checks evaluate student code;
- the same calls through ``LocalStudent`` (in process) and as plain Python calls, for comparison.

Run from the repository root: ``.venv/bin/python benchmarks/proxy_roundtrip.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograder.grading.test_runner import RemoteStudent
from autograder.sandbox.worker_process import SandboxConfig, Worker
from autograder.suite.assignment import Limits
from autograder.suite.proxy import LocalStudent

SOURCE = "def identity(x):\n    return x\n"
MAP_CALLS = 100


def median_seconds(function: Callable[[Any], object], argument: Any, repeat: int) -> float:
    """The median wall-clock time of ``function(argument)`` over ``repeat`` runs, after one
    warm-up run."""
    function(argument)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_call(folder: Path) -> None:
    """Start a worker, make one call, stop it."""
    with Worker(SandboxConfig(folder, Limits())) as worker:
        worker.call("bench", "identity", (0,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2000, help="calls per tiny-array measurement")
    args = parser.parse_args()
    large = np.random.default_rng(0).standard_normal((512, 1024))
    arrays = {
        "identity(tiny array (3,))": (np.zeros(3), args.repeat),
        "identity(512x1024 float64)": (large, max(args.repeat // 20, 20)),
    }
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bench.py").write_text(SOURCE)
        startup = median_seconds(first_call, folder, max(args.repeat // 200, 5))
        rows = [("worker start-up + first call", "remote", startup)]
        with (
            RemoteStudent(Worker(SandboxConfig(folder, Limits())), ["bench"]) as remote,
            LocalStudent(folder, ["bench"]) as local,
        ):
            ways = {
                "remote": remote.bench.identity,
                "local": local.bench.identity,
                "plain call": local.runtime.module("bench").identity,
            }
            for label, (array, repeat) in arrays.items():
                rows += [(label, way, median_seconds(function, array, repeat)) for way, function in ways.items()]
            batch = [((np.zeros(3),), {})] * MAP_CALLS
            for way, student in (("remote", remote), ("local", local)):
                per_map = median_seconds(student.bench.identity.map, batch, max(args.repeat // MAP_CALLS, 20))
                rows.append((f"identity(tiny array (3,)) in a map of {MAP_CALLS}, per call", way, per_map / MAP_CALLS))
    width = max(len(label) for label, _, _ in rows)
    print(f"{'measurement':<{width}}  {'how':<10}  {'median':>12}")
    for label, way, seconds in rows:
        print(f"{label:<{width}}  {way:<10}  {seconds * 1e6:>9.1f} µs")


if __name__ == "__main__":
    main()
