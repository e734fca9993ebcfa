"""Where the time of one grade goes: the phases of ``autograder grade`` for the reference solution
and for the blank template, side by side.

Each round grades both (in turn, order alternating) with ``pipeline.grade`` in this process (so
the grading process's own import is not counted there), reads the timings the grading process
and the test runner record (``Grade.phases``, ``protocol.TIMINGS``), and also times, as whole
processes, the ``autograder grade`` command, the CLI's import and the floor: a Python process
that imports numpy and pytest. Prints the medians as a Markdown table.

Run from the repository root::

    .venv/bin/python benchmarks/grade_profile.py [--assignment backprop] [--rounds 7] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grading import pipeline
from autograder.suite import assignment as assignments

ROOT = Path(__file__).resolve().parent.parent


def wall(command: list[str]) -> float:
    """Seconds of one run of ``command`` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def profile_once(task: assignments.Assignment, folder: Path, results: Path, seed: int) -> dict[str, float]:
    """Seconds of every phase of one in-process grade of ``folder``, with the worker's counts,
    the tests' own time and the command's wall time."""
    grade = pipeline.grade(task, folder, results, seed=seed)
    if grade.problems:
        sys.exit(f"grading {folder} reported a problem: {grade.problems[0]}")
    phases, t = grade.phases(), grade.timings
    row = {}
    for name, seconds in phases.items():
        row[name] = seconds
        if name == "collection of the suites":
            row["  meanwhile: worker start, student modules imported"] = t["preloaded"] - t["spawned"]
        if name == "tests":
            row["  of which in the worker (student code, round trips)"] = t["seconds_in_requests"]
            row["  of which in the runner (pytest, fixtures, checks)"] = seconds - t["seconds_in_requests"]
            row["  requests to the worker (round trips)"] = t["requests"]
    row["total in the grading process"] = t["written"] - t["started"]
    command = [sys.executable, "-m", "autograder", "grade", str(folder), "--assignment", task.name]
    row["`autograder grade` command, wall"] = wall([*command, "--results", str(results), "--seed", str(seed)])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    task = assignments.load(options.assignment, ROOT)
    folders = {"reference": task.solution, "template": ROOT / "student_template" / task.name}
    rows: dict[str, dict[str, list[float]]] = {name: {} for name in folders}
    floors: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="autograder-profile-") as tmp:
        results = Path(tmp) / "results.json"
        pipeline.grade(task, task.solution, results, seed=options.seed)  # warm-up
        for number in range(options.rounds):
            order = list(folders) if number % 2 == 0 else list(reversed(folders))
            for name in order:
                for phase, seconds in profile_once(task, folders[name], results, options.seed).items():
                    rows[name].setdefault(phase, []).append(seconds)
            for label, code in (
                ("Python with numpy and pytest imported (the floor)", "import numpy, pytest"),
                ("the CLI's import (`import autograder.cli`)", "import autograder.cli"),
            ):
                floors.setdefault(label, []).append(wall([sys.executable, "-c", code]))
    print(
        f"{task.name}, {options.rounds} interleaved rounds, seed {options.seed}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; medians in seconds"
    )
    print("\n| phase | reference | template |\n|---|---:|---:|")
    for phase in rows["reference"]:
        values = [statistics.median(rows[name][phase]) for name in folders]
        digits = 0 if "requests" in phase else 3
        print(f"| {phase} | " + " | ".join(f"{value:.{digits}f}" for value in values) + " |")
    for label, values in floors.items():
        print(f"| {label} | {statistics.median(values):.3f} | |")


if __name__ == "__main__":
    main()
