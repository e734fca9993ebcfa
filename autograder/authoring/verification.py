"""Proof that an assignment's suites are right: the reference earns full marks, the blank template
earns 0 without a grader problem, every mutant of the bug corpus loses points, and every
alternative correct implementation earns full marks; and a measure of the feedback a mutant gets:
whether its failed tests name a likely cause, fail in a way that explains itself (a wrong dtype or
shape, an exception, ...), or show numbers only."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import variants
from autograder.grading import pipeline
from autograder.grading.prestarted_runner import PerThread, PreStartedRunner
from autograder.grading.results_model import TestResult
from autograder.suite.assignment import Assignment
from autograder.suite.errors import WRONG_VALUES

EXPECTATIONS = {
    "reference": "full marks",
    "template": "zero",
    "mutant": "loses points",
    "alternative": "full marks",
}
DIAGNOSED = "likely cause"
EXPLICIT = "explains itself"
NUMBERS_ONLY = "numbers only"
FEEDBACK_KINDS = (DIAGNOSED, EXPLICIT, NUMBERS_ONLY)


@dataclass(frozen=True)
class Feedback:
    """What the failed tests of a graded case tell the student, from their findings (as data).

    kind: ``DIAGNOSED`` (some failure names a likely cause), else ``EXPLICIT`` (some failure is of
    a kind that explains itself: type, shape, dtype, not finite, an exception, ...), else
    ``NUMBERS_ONLY`` (wrong values, expected vs got). detail: the diagnosis kinds, or the failure
    kinds, in order of appearance (``"factor"``, ``"dtype, exception"``).
    """

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


def feedback_of(tests: tuple[TestResult, ...]) -> Feedback | None:
    """The feedback of the failed tests of one results.json; None when no test failed with a
    finding (nothing failed, or only without a verdict)."""
    findings = [finding for test in tests if not test.passed for finding in test.findings]
    if not findings:
        return None
    diagnosed = [finding.diagnosis_kind for finding in findings if finding.diagnosis_kind is not None]
    if diagnosed:
        return Feedback(DIAGNOSED, ", ".join(dict.fromkeys(diagnosed)))
    explicit = [finding.kind for finding in findings if finding.kind != WRONG_VALUES]
    if explicit:
        return Feedback(EXPLICIT, ", ".join(dict.fromkeys(explicit)))
    return Feedback(NUMBERS_ONLY)


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
    feedback: Feedback | None = None
    """What its failed tests tell the student (see ``feedback_of``)."""

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


def run_case(assignment: Assignment, case: Case, seed: int, runner: PreStartedRunner | None = None) -> Outcome:
    """Grade one case (in a fork of ``runner`` when given). A mutant stops at its first failed
    test (that it loses points is what counts); when that test names no likely cause, the mutant
    is graded again in full, so that its feedback is what a student sees from all failed tests."""
    with tempfile.TemporaryDirectory(prefix="autograder-verify-") as tmp:
        folder = Path(tmp) / "submission"
        if case.kind == "reference":
            folder = assignment.solution
        elif case.kind == "template":
            folder = assignment.template
        else:
            variants.materialise(assignment.solution, case.variant, folder)
        outcome = _graded(
            assignment, case, folder, Path(tmp), seed, runner, stop_at_first_failure=case.kind == "mutant"
        )
        if case.kind == "mutant" and outcome.ok and (outcome.feedback is None or outcome.feedback.kind != DIAGNOSED):
            outcome = _graded(assignment, case, folder, Path(tmp), seed, runner, stop_at_first_failure=False)
    return outcome


def _graded(
    assignment: Assignment,
    case: Case,
    folder: Path,
    tmp: Path,
    seed: int,
    runner: PreStartedRunner | None,
    *,
    stop_at_first_failure: bool,
) -> Outcome:
    grade = pipeline.grade(
        assignment, folder, tmp / "results.json", seed=seed, stop_at_first_failure=stop_at_first_failure, runner=runner
    )
    return Outcome(
        case=case,
        score=grade.results.score,
        max_score=grade.results.max_score,
        problems=tuple(grade.problems),
        feedback=feedback_of(grade.results.tests),
    )


def verify(assignment: Assignment, *, seed: int = 0, jobs: int = 2, progress=None) -> list[Outcome]:
    """Grade every case (``jobs`` at a time, each thread in forks of its own pre-started test
    runner); ``progress(outcome)`` is called as each finishes."""
    todo = cases(assignment)
    runners = PerThread(assignment)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(lambda case: run_case(assignment, case, seed, runners.mine()), case) for case in todo
            ]
            outcomes = []
            for future in futures:
                outcomes.append(future.result())
                if progress:
                    progress(outcomes[-1])
    finally:
        runners.close()
    return outcomes


def mutation_score(outcomes: list[Outcome]) -> tuple[int, int]:
    """(mutants that lost points, mutants)."""
    mutants = [o for o in outcomes if o.case.kind == "mutant"]
    return sum(o.ok for o in mutants), len(mutants)


def feedback_shares(outcomes: list[Outcome]) -> dict[str, list[str]]:
    """The ids of the mutants that lost points by the feedback they get, for each of
    ``FEEDBACK_KINDS`` (one whose failed tests carry no finding counts as numbers only)."""
    shares: dict[str, list[str]] = {kind: [] for kind in FEEDBACK_KINDS}
    for outcome in outcomes:
        if outcome.case.kind == "mutant" and outcome.ok:
            shares[outcome.feedback.kind if outcome.feedback else NUMBERS_ONLY].append(outcome.case.id)
    return shares


def failure_reasons(outcomes: list[Outcome]) -> list[str]:
    """One line per case that did not score what it must, e.g.
    ``layers.no_bias: expected "loses points", scored 80/80``."""
    reasons = []
    for outcome in outcomes:
        if not outcome.ok:
            detail = "; ".join(outcome.problems) or f"scored {outcome.score:g}/{outcome.max_score:g}"
            reasons.append(f'{outcome.case.id}: expected "{EXPECTATIONS[outcome.case.kind]}", {detail}')
    return reasons
