"""``autograder build``: an assignment's two zips, written only once its suites are proven right.

1. ``student_template/NAME/`` is regenerated from the solution markers;
2. ``verification.verify`` grades the reference, the template, every mutant and every
   alternative; if any case does not score what it must, the build stops and writes nothing;
3. the suites are collected for their points (public and hidden, for the handout);
4. the handout (``autograder.authoring.handout``) and the autograder (``autograder.integrations.gradescope``) are
   composed, and a handout holding a line of the solution or of the hidden tests is refused;
5. ``OUT/NAME/student.zip`` and ``OUT/NAME/autograder.zip`` are written, deterministically
   (``autograder.authoring.archive``).

Nothing here knows a particular assignment: the files come from ``assignment.toml`` and the
folder layout (see ``autograder.suite.assignment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import handout, verification
from autograder.authoring.archive import Archive
from autograder.grading import pipeline, stubs
from autograder.integrations import gradescope
from autograder.suite.assignment import Assignment

HANDOUT_ZIP = "student.zip"
AUTOGRADER_ZIP = "autograder.zip"


class BuildError(Exception):
    """The assignment cannot be shipped; the message says why. ``outcomes`` holds the
    verification's results when it got that far."""

    def __init__(self, message: str, outcomes: list[verification.Outcome] | None = None) -> None:
        super().__init__(message)
        self.outcomes = outcomes or []


@dataclass(frozen=True)
class Archives:
    """The two zips of an assignment, not yet written."""

    student: Archive
    grader: Archive
    points: handout.SuitePoints


@dataclass(frozen=True)
class Built:
    """What a build wrote, and the verification that allowed it."""

    student_zip: Path
    autograder_zip: Path
    points: handout.SuitePoints
    outcomes: list[verification.Outcome]


def archives(assignment: Assignment) -> Archives:
    """Compose both zips from the assignment as it is (the template must be up to date). Raises
    ``BuildError`` when the template is stale, the suites cannot be collected, the engine's
    source is missing, or the handout would contain a secret line."""
    stale = stubs.template_differences(assignment.solution, assignment.template)
    if stale:
        raise BuildError("the student template is not up to date (run: autograder template):\n" + "\n".join(stale))
    try:
        points = handout.SuitePoints.of(pipeline.collect_manifest(assignment))
    except pipeline.CollectionError as err:
        raise BuildError(f"cannot collect the tests of {assignment.name}:\n{err}") from None
    student = handout.handout_archive(assignment, points)
    found = handout.leaks(student, handout.secret_lines(assignment))
    if found:
        shown = "\n".join(found[: handout.MAX_LEAKS_SHOWN])
        more = len(found) - handout.MAX_LEAKS_SHOWN
        raise BuildError(
            f"the handout would give away {len(found)} line(s) of the solution or of the hidden tests:\n{shown}"
            + (f"\n... and {more} more" if more > 0 else "")
        )
    try:
        grader = gradescope.autograder_archive(assignment)
    except OSError as err:
        raise BuildError(str(err)) from None
    return Archives(student=student, grader=grader, points=points)


def build(assignment: Assignment, out_dir: Path, *, seed: int = 0, jobs: int = 2, progress=None) -> Built:
    """Regenerate the template, verify the suites (``seed``, ``jobs`` and ``progress`` go to
    ``verification.verify``), then write ``out_dir/NAME/student.zip`` and
    ``out_dir/NAME/autograder.zip``. Raises ``BuildError``, having written no zip."""
    try:
        stubs.generate_template(assignment.solution, assignment.template)
    except stubs.MarkerError as err:
        raise BuildError(f"cannot generate the student template: {err}") from None
    outcomes = verification.verify(assignment, seed=seed, jobs=jobs, progress=progress)
    failures = verification.failure_reasons(outcomes)
    if failures:
        raise BuildError("verification failed, so no zip was written:\n" + "\n".join(failures), outcomes)
    composed = archives(assignment)
    target = out_dir / assignment.name
    target.mkdir(parents=True, exist_ok=True)
    composed.student.write(target / HANDOUT_ZIP)
    composed.grader.write(target / AUTOGRADER_ZIP)
    return Built(
        student_zip=target / HANDOUT_ZIP,
        autograder_zip=target / AUTOGRADER_ZIP,
        points=composed.points,
        outcomes=outcomes,
    )
