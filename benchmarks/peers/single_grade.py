"""One grade, side by side in one interleaved run: ``autograder grade`` (sandboxed) against the
same suites run in-process, and against ``otter run`` on one tiny question.

- ``autograder grade``: the command, a whole process, on the reference and on the blank template;
- in-process: the peers' in-process grader (``benchmarks/peers/inprocess_grader.py``): pytest
  with the suites in local mode (``LocalStudent`` imports the student's modules into the test
  process) and the reference in that process, the same tests, seed and checks, with the pytest
  options our runner uses (``LEAN_OPTIONS``: plain asserts, no tracebacks, no summary, only the
  plugins a suite needs), so that it is the floor of running the suites, not pytest's defaults;
- ``otter run`` (otter-grader 7, the ``otter`` extra) of a one-line script against one question
  with one test case (``x == 1``): the least otter can grade.

Every run is a new process, timed from start to end; each round runs the five in a rotated order.
Prints the medians and the ratios the targets are about.

Run from the repository root::

    .venv/bin/python benchmarks/peers/single_grade.py [--assignment backprop] [--rounds 7]
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

import graders
import inprocess_grader

from autograder.grading.runner_command import UNUSED_PYTEST_PLUGINS
from autograder.suite import assignment as assignments

ROOT = Path(__file__).resolve().parents[2]

TINY_QUESTION = """OK_FORMAT = False

from otter.test_files import test_case

name = "q1"
points = 1


@test_case(points=1)
def test_q1(env):
    assert env["x"] == 1
"""


LEAN_OPTIONS = " ".join(
    ["--assert=plain", "--tb=no", "-rN", "--capture=no", *(f"-p no:{name}" for name in UNUSED_PYTEST_PLUGINS)]
)
"""The pytest options of our test runner, given to the in-process run through ``PYTEST_ADDOPTS``."""


def tiny_otter_zip(folder: Path) -> Path:
    """``otter generate`` of one question with one test case; the autograder zip."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "q1.py").write_text(TINY_QUESTION)
    command = [sys.executable, "-m", "otter", "generate", "--no-config", "--no-requirements", "--no-environment"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True)
    return folder / "autograder.zip"


def timed(command: list[str], results: Path, environment: dict[str, str]) -> tuple[float, float]:
    """Seconds of one run of ``command`` and the score in the ``results.json`` it wrote."""
    results.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=False, capture_output=True)
    seconds = time.perf_counter() - started
    return seconds, graders.gradescope_score(results.parent.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    task = assignments.load(options.assignment, ROOT)
    template = ROOT / "student_template" / task.name
    with tempfile.TemporaryDirectory(prefix="autograder-single-") as tmp:
        work = Path(tmp)
        ours, in_process = graders.ours(task), graders.in_process(inprocess_grader.build(task, work / "in-process"))
        otter_zip = tiny_otter_zip(work / "otter")
        runs: dict[str, Path] = {}

        def lay_out(label: str, grader: graders.Grader, submission: Path) -> None:
            grader.lay_out(submission, work / label)
            runs[label] = work / label

        lay_out("autograder grade, reference", ours, task.solution)
        lay_out("in-process, reference", in_process, task.solution)
        lay_out("autograder grade, template", ours, template)
        lay_out("in-process, template", in_process, template)
        tiny = work / "otter tiny"
        (tiny / "submission").mkdir(parents=True)
        (tiny / "results").mkdir()
        (tiny / "submission" / "tiny.py").write_text("x = 1\n")
        otter = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(otter_zip), "-o", str(tiny / "results")]
        commands = {
            label: (in_process if label.startswith("in-process") else ours).command(root)
            for label, root in runs.items()
        }
        commands["otter run, one tiny question"] = [*otter, str(tiny / "submission" / "tiny.py")]
        runs["otter run, one tiny question"] = tiny
        seconds: dict[str, list[float]] = {label: [] for label in commands}
        scores: dict[str, set] = {label: set() for label in commands}
        labels = list(commands)
        for number in range(options.rounds + 1):  # the first round warms the caches and is not counted
            for label in labels[number % len(labels) :] + labels[: number % len(labels)]:
                lean = {**os.environ, "PYTEST_ADDOPTS": LEAN_OPTIONS} if label.startswith("in-process") else None
                wall, score = timed(commands[label], runs[label] / "results" / "results.json", lean)
                if number:
                    seconds[label].append(wall)
                    scores[label].add(score)
    median = {label: statistics.median(values) for label, values in seconds.items()}
    print(
        f"{task.name}, {options.rounds} interleaved rounds; {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("\n| run | median s | min s | max s | scores |\n|---|---:|---:|---:|---|")
    for label, values in seconds.items():
        shown = ", ".join(f"{score:g}" if score is not None else "none" for score in sorted(scores[label], key=str))
        print(f"| {label} | {median[label]:.2f} | {min(values):.2f} | {max(values):.2f} | {shown} |")
    ratios = {
        "autograder grade / in-process, reference": ("autograder grade, reference", "in-process, reference"),
        "autograder grade / in-process, template": ("autograder grade, template", "in-process, template"),
        "autograder grade of the reference / otter run, tiny": (
            "autograder grade, reference",
            "otter run, one tiny question",
        ),
    }
    print("\n| ratio of medians | value |\n|---|---:|")
    for name, (top, bottom) in ratios.items():
        print(f"| {name} | {median[top] / median[bottom]:.2f} |")


if __name__ == "__main__":
    main()
