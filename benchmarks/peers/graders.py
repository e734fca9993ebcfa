"""The graders compared, behind one interface, and the score Gradescope would show.

Every grader works on the Gradescope layout of a root folder: ``ROOT/submission`` (what the
student submitted, in the form that grader takes), ``ROOT/results`` (where ``results.json``
ends up) and, for the peers, ``ROOT/source`` (the grader's own files).

- ``autograder (ours)``: ``autograder grade ROOT/submission --results ROOT/results/results.json
  --seed 0``;
- ``otter run``: otter-grader's local grading of the submission as one script (``otter_grader``);
- ``otter (Gradescope entry)``: the same autograder zip, run the way Gradescope runs it;
- ``in-process pytest``: the gradescope-utils style runner (``inprocess_grader``).

All of them make the same checks with the same inputs: the assignment's suites with seed
``otter_bridge.SEED``.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import inprocess_grader
import otter_bridge
import otter_grader

from autograder.suite.assignment import Assignment

RESULTS = Path("results") / "results.json"


@dataclass(frozen=True)
class Grader:
    """``lay_out(submission, root)`` writes the layout; ``command(root)`` grades it."""

    name: str
    lay_out: Callable[[Path, Path], None]
    command: Callable[[Path], list[str]]


def ours(assignment: Assignment) -> Grader:
    def lay_out(submission: Path, root: Path) -> None:
        shutil.copytree(submission, root / "submission", ignore=shutil.ignore_patterns("__pycache__"))
        (root / "results").mkdir()

    def command(root: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(root / "submission"),
            "--assignment",
            assignment.name,
            "--results",
            str(root / RESULTS),
            "--seed",
            str(otter_bridge.SEED),
        ]

    return Grader("autograder (ours)", lay_out, command)


def otter_run(assignment: Assignment, autograder_zip: Path) -> Grader:
    return Grader(
        "otter run",
        lambda submission, root: otter_grader.lay_out(assignment, submission, root),
        lambda root: otter_grader.run_command(assignment, autograder_zip, root),
    )


def otter_gradescope(assignment: Assignment, autograder_zip: Path) -> Grader:
    return Grader(
        "otter (Gradescope entry)",
        lambda submission, root: otter_grader.lay_out_gradescope(assignment, autograder_zip, submission, root),
        otter_grader.gradescope_command,
    )


def in_process(source: Path) -> Grader:
    return Grader(
        "in-process pytest",
        lambda submission, root: inprocess_grader.lay_out(source, submission, root),
        inprocess_grader.command,
    )


def build_all(assignment: Assignment, folder: Path) -> list[Grader]:
    """Ours, then the peers, their files built into ``folder``."""
    autograder_zip = otter_grader.build(assignment, folder / "otter")
    source = inprocess_grader.build(assignment, folder / "in-process")
    return [
        ours(assignment),
        otter_run(assignment, autograder_zip),
        otter_gradescope(assignment, autograder_zip),
        in_process(source),
    ]


def gradescope_score(root: Path) -> float | None:
    """The score Gradescope shows for ``ROOT/results/results.json``: its top-level ``score``, else
    the sum of its tests' scores; None when the file is missing or not valid JSON (Gradescope
    then reports that the autograder failed, with no score)."""
    try:
        results = json.loads((root / RESULTS).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(results.get("score"), (int, float)):
        return float(results["score"])
    return float(sum(test.get("score") or 0 for test in results.get("tests", [])))
