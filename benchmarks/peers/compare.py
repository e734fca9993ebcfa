"""Side-by-side: ``autograder grade`` against the tools instructors use today, on the same checks.

Builds the peers from the project's own files (``graders.build_all``): otter-grader 7 test
files and ``autograder.zip`` generated from the assignment's suites, and a gradescope-utils style
in-process pytest runner over the same suites. Then, on one machine:

1. **Speed**: the reference, the student template and a few mutants of the bug corpus, graded
   by every grader, interleaved (each round visits the submissions in turn and, for each, the
   graders in a rotated order), ``--rounds`` times. Per grader and submission: the score, the
   wall time (median, min, max), the peak memory (largest process, and whole process tree), and
   the ratio of the median time to ours.
2. **Security**: a wrong solution, then the same wrong solution with each trick of
   ``tampering``, graded once by every grader; a grader gives *unearned* points when it scores
   a tampering submission higher than the plain wrong solution.

Writes both tables as Markdown (with the date, machine, versions and load) to ``--output`` and
prints them.

Run from the repository root (``--install`` first installs ``benchmarks/peers/requirements.txt``
with pip into this Python):
``.venv/bin/python benchmarks/peers/compare.py [--install] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import graders
import installation
import submissions
import suite_items
import tampering

from autograder.suite import assignment as assignments
from autograder.suite.assignment import Assignment

HERE = Path(__file__).resolve().parent
TIMED_MUTANTS = ("layers.dW_transposed", "network.missing_one_hot", "optim.steps_from_initial_params")
TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Submission:
    label: str
    folder: Path
    description: str = ""


def machine() -> list[str]:
    """Markdown lines describing the machine, the versions and the load."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("numpy", "pytest", "otter-grader", "ipykernel")
    )
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=HERE, capture_output=True, text=True, check=False
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        f"- date: {now:%Y-%m-%d %H:%M} UTC; commit {commit.stdout.strip() or 'unknown'}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
    ]


def load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def speed_submissions(task: Assignment, folder: Path) -> list[Submission]:
    chosen = [
        Submission("reference", submissions.reference(task, folder / "reference")),
        Submission("template", submissions.template(task, folder / "template")),
    ]
    for variant_id in TIMED_MUTANTS:
        chosen.append(Submission(variant_id, submissions.mutant(task, variant_id, folder / variant_id)))
    return chosen


def security_submissions(task: Assignment, folder: Path, full_marks: float) -> list[Submission]:
    wrong = submissions.wrong_solution(task, folder / "wrong-solution")
    chosen = [
        Submission(
            "wrong solution",
            wrong,
            "the wrong solution itself (" + ", ".join(f"`{v}`" for v in submissions.WRONG_SOLUTION_MUTANTS) + ")",
        )
    ]
    for number, trick in enumerate(tampering.tamperings(task.modules), start=1):
        target = folder / f"tampering-{number:02d}"
        shutil.copytree(wrong, target)
        trick.apply(target, full_marks)
        chosen.append(Submission(trick.id, target, trick.description))
    return chosen


def grade(grader, submission: Submission, work: Path, project: Path):
    """One measured grading run on a fresh root folder; (run, score)."""
    import measure  # needs psutil, one of the peers' requirements, which main() checks first

    root = Path(tempfile.mkdtemp(prefix="peer-run-", dir=work))
    try:
        grader.lay_out(submission.folder, root)
        run = measure.run_measured(grader.command(root), project, root / "output.log", TIMEOUT_SECONDS)
        return run, graders.gradescope_score(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def points(score: float | None) -> str:
    return "no results" if score is None else f"{score:.2f}"


def speed(graders_list, chosen: list[Submission], rounds: int, work: Path, project: Path) -> list[str]:
    """Grade every submission with every grader ``rounds`` times; the Markdown table."""
    runs: dict[tuple[str, str], list] = {}
    for number in range(rounds):
        order = graders_list[number % len(graders_list) :] + graders_list[: number % len(graders_list)]
        for submission in chosen:
            for grader in order:
                run, score = grade(grader, submission, work, project)
                runs.setdefault((submission.label, grader.name), []).append((run, score))
                print(
                    f"  round {number + 1}: {submission.label:<34} {grader.name:<26} {run.seconds:6.2f} s  "
                    f"score {points(score)}",
                    flush=True,
                )
    ours = graders_list[0].name
    lines = [
        (
            "| submission | grader | score | median s | min s | max s | × ours (median) "
            "| peak RSS, largest process MB | peak RSS, process tree MB |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    totals: dict[str, list[float]] = {}
    for submission in chosen:
        base = statistics.median(run.seconds for run, _ in runs[(submission.label, ours)])
        for grader in graders_list:
            measured = runs[(submission.label, grader.name)]
            seconds = [run.seconds for run, _ in measured]
            scores = sorted({points(score) for _, score in measured})
            totals.setdefault(grader.name, []).extend(seconds)
            lines.append(
                f"| {submission.label} | {grader.name} | {' / '.join(scores)} | {statistics.median(seconds):.2f} "
                f"| {min(seconds):.2f} | {max(seconds):.2f} | {statistics.median(seconds) / base:.2f} "
                f"| {max(run.largest_mb for run, _ in measured):.0f} | {max(run.tree_mb for run, _ in measured):.0f} |"
            )
    lines += ["", "| grader | runs | median s per submission | × ours |", "|---|---:|---:|---:|"]
    base = statistics.median(totals[ours])
    for grader in graders_list:
        median = statistics.median(totals[grader.name])
        lines.append(f"| {grader.name} | {len(totals[grader.name])} | {median:.2f} | {median / base:.2f} |")
    return lines


def security(graders_list, chosen: list[Submission], work: Path, project: Path) -> tuple[list[str], dict[str, int]]:
    """Grade the wrong solution and each tampering submission once with every grader; the
    Markdown table and, per grader, how many tampering submissions got unearned points."""
    scores = {}
    for submission in chosen:
        for grader in graders_list:
            run, score = grade(grader, submission, work, project)
            scores[(submission.label, grader.name)] = score
            print(
                f"  {submission.label:<40} {grader.name:<26} score {points(score):>10}  ({run.seconds:.1f} s)",
                flush=True,
            )
    baseline, *tricks = chosen
    header = " | ".join(grader.name for grader in graders_list)
    lines = [f"| tampering | what it does | {header} |", "|---" * (2 + len(graders_list)) + "|"]
    lines.append(
        f"| {baseline.label} | {baseline.description} | "
        + " | ".join(points(scores[(baseline.label, g.name)]) for g in graders_list)
        + " |"
    )
    unearned = dict.fromkeys((grader.name for grader in graders_list), 0)
    for trick in tricks:
        cells = []
        for grader in graders_list:
            score, plain = scores[(trick.label, grader.name)], scores[(baseline.label, grader.name)]
            if score is not None and score > (plain or 0.0) + 1e-9:
                unearned[grader.name] += 1
                cells.append(f"**{points(score)} unearned**")
            else:
                cells.append(points(score))
        lines.append(f"| {trick.label} | {trick.description} | {' | '.join(cells)} |")
    lines.append(
        "| **tampering submissions given unearned points** | | "
        + " | ".join(f"**{unearned[g.name]} of {len(tricks)}**" for g in graders_list)
        + " |"
    )
    return lines, unearned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop", help="assignment to compare on (default: backprop)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the speed comparison (default: 5)")
    parser.add_argument("--install", action="store_true", help="pip install the peers' requirements if missing")
    parser.add_argument("--output", type=Path, default=HERE / "results.md", help="Markdown file of the tables")
    arguments = parser.parse_args()
    installation.ensure(arguments.install)
    task = assignments.load(arguments.assignment)
    full_marks = sum(item.points for item in suite_items.collect(task))
    report = [f"# Side-by-side: `autograder grade` and the peers on `{task.name}`", "", *machine()]
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        work = Path(tmp)
        graders_list = graders.build_all(task, work / "graders")
        report.append(f"- load average (1/5/15 min) at the start: {load()}")
        print("\n".join(report), flush=True)
        print("speed:", flush=True)
        speed_lines = speed(graders_list, speed_submissions(task, work / "speed"), arguments.rounds, work, task.root)
        load_after_speed = load()
        print("security:", flush=True)
        security_lines, unearned = security(
            graders_list, security_submissions(task, work / "security", full_marks), work, task.root
        )
    ours = graders_list[0].name
    report += [
        f"- load average after the speed runs: {load_after_speed}; at the end: {load()}",
        "",
        f"## Speed ({arguments.rounds} rounds, interleaved; full suite, {full_marks:g} points, seed 0)",
        "",
        *speed_lines,
        "",
        "## Security: unearned points for tampering submissions",
        "",
        (
            "Each tampering submission is the wrong solution plus one trick; a score above the wrong "
            "solution's own (first row) is unearned. `no results`: no `results.json` (Gradescope shows "
            "an autograder failure and no score)."
        ),
        "",
        *security_lines,
        "",
        f"Ours gave unearned points to {unearned[ours]} tampering submission(s).",
    ]
    text = "\n".join(report) + "\n"
    arguments.output.write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
