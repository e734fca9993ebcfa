"""The reference solution earns full marks whatever the seed of the random test inputs.

Grades the reference with many seeds (``--seeds``, default 200), ``--jobs`` at a time, and lists
every seed with which it lost a point, with the failed tests. Exit status 1 if there is one.

Run from the repository root::

    .venv/bin/python benchmarks/seed_sweep.py [--assignment backprop] [--seeds 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.grading import pipeline
from autograder.suite import assignment


def lost_points(chosen: assignment.Assignment, seed: int) -> list[str]:
    """The names of the tests the reference fails with ``seed``, and any grader problem."""
    with tempfile.TemporaryDirectory() as tmp:
        grade = pipeline.grade(chosen, chosen.solution, Path(tmp) / "results.json", seed=seed)
    return grade.problems + [t.name for t in grade.results.tests if t.status != "passed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args()
    chosen = assignment.load(options.assignment)
    seeds = range(options.first, options.first + options.seeds)
    start = time.perf_counter()
    with ThreadPoolExecutor(options.jobs) as pool:
        failures = {seed: lost for seed, lost in zip(seeds, pool.map(lambda s: lost_points(chosen, s), seeds)) if lost}
    print(
        f"{len(seeds)} seeds ({seeds.start}..{seeds.stop - 1}) in {time.perf_counter() - start:.0f} s: "
        f"the reference lost points with {len(failures)}"
    )
    for seed, lost in failures.items():
        print(f"  seed {seed}: {'; '.join(lost)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
