"""What the diagnoses cost: ``autograder grade`` of this checkout against a baseline revision.

A diagnosis (``autograder/suite/checks/diagnosis.py``) is sought only when a check fails, and a
suite's candidates are callables evaluated only then; so the reference, where no check fails,
must grade as fast as at a revision without them, and only failing submissions pay. This script
checks out ``--baseline`` (by default the last revision before the diagnoses) into a temporary
git worktree, gives it an interpreter that imports the baseline's ``autograder`` with this
environment's numpy and pytest, and grades, interleaved and each in a new process as a user
would, the reference and a submission whose tests fail with wrong values, at both revisions (the same files for both).

Run from the repository root::

    .venv/bin/python benchmarks/diagnosis_cost.py [--baseline 27e6b32] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from autograder.authoring import variants
from autograder.suite import assignment

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "backprop"
FAILING = "activations.missing_square"
"""A mutant whose wrong values the checks diagnose (in the assignment's ``mutants/``)."""


def baseline_checkout(revision: str, folder: Path) -> tuple[Path, Path]:
    """The baseline's worktree and an interpreter that imports its ``autograder`` first and this
    environment's packages after it (the editable install of this checkout is not seen: ``.pth``
    files of a folder named in a ``.pth`` file are not processed)."""
    tree = folder / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), revision], cwd=ROOT, check=True)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "baseline.pth").write_text(f"{tree}\n{sysconfig.get_paths()['purelib']}\n")
    imported = subprocess.run(
        [str(python), "-c", "import autograder; print(autograder.__file__)"], cwd=tree, capture_output=True, text=True
    ).stdout
    if not imported.startswith(str(tree)):
        sys.exit(f"the baseline interpreter imports autograder from {imported.strip() or 'nowhere'}, not {tree}")
    return tree, python


def mutant_folder(folder: Path) -> Path:
    """The failing submission (the reference with the ``FAILING`` mutation), graded by both revisions."""
    backprop = assignment.load(ASSIGNMENT, ROOT)
    variant = {variant.id: variant for variant in variants.discover(backprop.folder / "mutants")}[FAILING]
    variants.materialise(backprop.solution, variant, folder)
    return folder


def grade_seconds(python: Path, tree: Path, submission: Path, results: Path) -> float:
    """Wall time of one ``autograder grade`` with that interpreter and checkout."""
    command = [str(python), "-m", "autograder", "grade", str(submission), "--assignment", ASSIGNMENT]
    start = time.perf_counter()
    subprocess.run([*command, "--results", str(results), "--seed", "0"], cwd=tree, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="27e6b32", help="a revision before the diagnoses")
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tree, baseline_python = baseline_checkout(options.baseline, folder)
        try:
            checkouts = {"baseline": (baseline_python, tree), "this checkout": (Path(sys.executable), ROOT)}
            submissions = {"reference": ROOT / "solutions" / ASSIGNMENT, FAILING: mutant_folder(folder / "mutant")}
            times = {(name, kind): [] for name in checkouts for kind in ("reference", FAILING)}
            for run in range(options.runs + 1):
                for (name, kind), values in times.items():
                    python, tree_of = checkouts[name]
                    seconds = grade_seconds(python, tree_of, submissions[kind], folder / "results.json")
                    if run:  # the first round warms the caches
                        values.append(seconds)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    print(
        f"autograder grade, {options.runs} interleaved runs each, baseline {options.baseline}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    print("| submission | baseline (median s) | this checkout (median s) | ratio |\n|---|---|---|---|")
    for kind in ("reference", FAILING):
        before, after = (statistics.median(times[name, kind]) for name in checkouts)
        print(f"| {kind} | {before:.2f} | {after:.2f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
