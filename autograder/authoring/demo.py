"""The samples ``autograder demo`` grades after building an assignment: the reference solution,
the blank student template, and a buggy submission made from a mutant of the assignment's bug
corpus (see ``autograder.authoring.variants``): the one ``[demo] buggy_sample`` of ``assignment.toml`` names,
else the first."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from autograder import console
from autograder.authoring import variants, verification
from autograder.grading import pipeline
from autograder.grading.prestarted_runner import PreStartedRunner
from autograder.suite.assignment import Assignment

SEED = 0


def verification_summary(outcomes: list[verification.Outcome]) -> str:
    """One line: how many cases of each kind scored what they must."""
    parts = []
    for kind, expectation in verification.EXPECTATIONS.items():
        cases = [o for o in outcomes if o.case.kind == kind]
        if cases:
            parts.append(f"{kind} {sum(o.ok for o in cases)}/{len(cases)} {expectation}")
    return ", ".join(parts)


def sample_submissions(assignment: Assignment, scratch: Path) -> list[tuple[str, Path]]:
    """(title, folder) of each sample; the buggy one is written under ``scratch``."""
    samples = [("the reference solution", assignment.solution), ("the blank student template", assignment.template)]
    mutants = [case for case in verification.cases(assignment) if case.kind == "mutant"]
    mutant = next((case for case in mutants if case.id == assignment.demo_mutant), mutants[0] if mutants else None)
    if mutant is not None:
        folder = scratch / "buggy"
        variants.materialise(assignment.solution, mutant.variant, folder)
        samples.append((f"a buggy submission ({mutant.id}): {mutant.description}", folder))
    return samples


def show_samples(assignment: Assignment, out: Console) -> list[pipeline.Grade]:
    """Grade each sample as Gradescope would (each in a fork of one pre-started test runner) and
    print its score table."""
    grades = []
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as tmp, PreStartedRunner(assignment) as runner:
        for title, folder in sample_submissions(assignment, Path(tmp)):
            with out.status(f"grading {title}"):
                grade = pipeline.grade(assignment, folder, Path(tmp) / "results.json", seed=SEED, runner=runner)
            console.print_results(grade.results, f"{assignment.name}: {title}", out)
            grades.append(grade)
    return grades
