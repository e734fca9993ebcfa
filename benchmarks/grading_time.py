"""Wall time of ``autograder grade`` on the reference solution of an assignment.

Runs the command as a user would (a new process each time, results written, table printed) and
reports the median, minimum and maximum over several runs, with the machine's load average, so
that figures taken on a busy machine can be told apart.

Run from the repository root::

    .venv/bin/python benchmarks/grading_time.py [--assignment backprop] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def grade_once(assignment: str, results: Path, seed: int) -> tuple[float, dict]:
    """Seconds of one ``autograder grade`` of the reference, and the results it wrote."""
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(ROOT / "solutions" / assignment),
        "--assignment",
        assignment,
        "--results",
        str(results),
        "--seed",
        str(seed),
    ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start, json.loads(results.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    walls, inside = [], []
    with tempfile.TemporaryDirectory() as tmp:
        grade_once(options.assignment, Path(tmp) / "warm-up.json", 0)
        for run in range(options.runs):
            wall, results = grade_once(options.assignment, Path(tmp) / "results.json", run)
            if results["score"] != sum(t["max_score"] for t in results["tests"]):
                sys.exit(f"the reference lost points with seed {run}")
            walls.append(wall)
            inside.append(results["execution_time"])
    print(
        f"autograder grade solutions/{options.assignment} ({len(results['tests'])} tests), "
        f"{options.runs} runs, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    print("| measure | median | min | max |\n|---|---|---|---|")
    for name, values in (("command wall time (s)", walls), ("grading time in results.json (s)", inside)):
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
