"""Proof that an assignment's suites are right: the reference earns full marks, the blank template
earns 0 without a grader problem, every mutant of the bug corpus loses points, and every
alternative correct implementation earns full marks."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import variants
from autograder.grading import pipeline
from autograder.suite.assignment import Assignment

EXPECTATIONS = {
    "reference": "full marks",
    "template": "zero",
    "mutant": "loses points",
    "alternative": "full marks",
}


@dataclass(frozen=True)
class Case:
    """One submission to grade and what it must score."""

    kind: str
    id: str
    description: str
    variant: variants.Variant | None = None


@dataclass(frozen=True)
class Outcome:
    case: Case
    score: float
    max_score: float
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        if self.problems:
            return False
        full = self.score >= self.max_score > 0
        return {
            "reference": full,
            "alternative": full,
            "template": self.score == 0 and self.max_score > 0,
            "mutant": self.score < self.max_score,
        }[self.case.kind]


def cases(assignment: Assignment) -> list[Case]:
    """Reference, template, then every mutant and alternative of the assignment."""
    found = [
        Case("reference", "reference", "the reference solution"),
        Case("template", "template", "the blank student template"),
    ]
    for kind, folder in (("mutant", "mutants"), ("alternative", "alternatives")):
        for variant in variants.discover(assignment.folder / folder):
            found.append(Case(kind, variant.id, variant.description, variant))
    return found


def run_case(assignment: Assignment, case: Case, seed: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="autograder-verify-") as tmp:
        folder = Path(tmp) / "submission"
        if case.kind == "reference":
            folder = assignment.solution
        elif case.kind == "template":
            folder = assignment.template
        else:
            variants.materialise(assignment.solution, case.variant, folder)
        grade = pipeline.grade(
            assignment, folder, Path(tmp) / "results.json", seed=seed, stop_at_first_failure=case.kind == "mutant"
        )
    tests = grade.results["tests"]
    return Outcome(
        case=case,
        score=grade.results["score"],
        max_score=sum(t["max_score"] for t in tests),
        problems=tuple(grade.problems),
    )


def verify(assignment: Assignment, *, seed: int = 0, jobs: int = 2, progress=None) -> list[Outcome]:
    """Grade every case (``jobs`` at a time); ``progress(outcome)`` is called as each finishes."""
    todo = cases(assignment)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_case, assignment, case, seed) for case in todo]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            if progress:
                progress(outcomes[-1])
    return outcomes


def mutation_score(outcomes: list[Outcome]) -> tuple[int, int]:
    """(mutants that lost points, mutants)."""
    mutants = [o for o in outcomes if o.case.kind == "mutant"]
    return sum(o.ok for o in mutants), len(mutants)


def failure_reasons(outcomes: list[Outcome]) -> list[str]:
    """One line per case that did not score what it must, e.g.
    ``layers.no_bias: expected "loses points", scored 80/80``."""
    reasons = []
    for outcome in outcomes:
        if not outcome.ok:
            detail = "; ".join(outcome.problems) or f"scored {outcome.score:g}/{outcome.max_score:g}"
            reasons.append(f'{outcome.case.id}: expected "{EXPECTATIONS[outcome.case.kind]}", {detail}')
    return reasons
