"""The ``autograder`` command line.

Exit codes: 0 when the command did its job (for ``grade``: whatever the score), 1 when the grader
itself had a problem (results are still written), 2 for unusable input, with a one-line reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from autograder import __version__, assignment, console, grading, stubs, verification
from autograder.intake import IntakeError

USAGE_ERROR = 2
GRADER_ERROR = 1


def fail(message: str, code: int = USAGE_ERROR) -> None:
    click.echo(f"autograder: {message}", err=True)
    sys.exit(code)


def load_assignment(name: str | None) -> assignment.Assignment:
    try:
        return assignment.load(name)
    except assignment.AssignmentError as err:
        fail(str(err))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def cli() -> None:
    """Grade neural-network assignments safely, locally and on Gradescope."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--assignment", "name", help="Assignment to grade against (default: the only one).")
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("results.json"),
    show_default=True,
    help="Where to write Gradescope's results.json.",
)
@click.option("--seed", type=int, help="Seed of the random test inputs (default: derived from the files).")
def grade(path: Path, name: str | None, results_path: Path, seed: int | None) -> None:
    """Grade one submission: PATH is a folder, a zip, or one of the assignment's files."""
    chosen = load_assignment(name)
    try:
        outcome = grading.grade(chosen, path, results_path, seed=seed)
    except IntakeError as err:
        fail(str(err))
    out = Console()
    if outcome.submission.ignored:
        out.print(f"[dim]ignored: {'; '.join(outcome.submission.ignored)}[/]", highlight=False)
    for message in outcome.submission.syntax_errors.values():
        out.print(f"[red]{message}[/]", highlight=False)
    console.print_results(outcome.results, f"{chosen.name}: {path}", out)
    out.print(f"seed {outcome.seed}; results written to {results_path}", highlight=False)
    if outcome.problems:
        for problem in outcome.problems:
            click.echo(f"autograder: grader problem: {problem}", err=True)
        sys.exit(GRADER_ERROR)


@cli.command()
@click.argument("name", required=False)
def template(name: str | None) -> None:
    """Regenerate student_template/NAME from the solution markers of solutions/NAME."""
    chosen = load_assignment(name)
    try:
        written = stubs.generate_template(chosen.solution, chosen.template)
    except stubs.MarkerError as err:
        fail(str(err))
    click.echo(f"wrote {len(written)} files to {chosen.template}")


@cli.command()
@click.argument("name", required=False)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random test inputs.")
@click.option("--jobs", type=int, default=2, show_default=True, help="Submissions graded at once.")
def verify(name: str | None, seed: int, jobs: int) -> None:
    """Prove the suites right: reference full marks, template 0, every mutant loses points,
    every alternative full marks."""
    chosen = load_assignment(name)
    out = Console()
    with out.status("grading the reference, the template, the mutants and the alternatives"):
        outcomes = verification.verify(chosen, seed=seed, jobs=jobs)
    out.print(console.verification_table(outcomes, f"verify {chosen.name} (seed {seed})"))
    killed, mutants = verification.mutation_score(outcomes)
    failures = [o for o in outcomes if not o.ok]
    out.print(f"mutation score: {killed}/{mutants} mutants lose points", highlight=False)
    for outcome in failures:
        detail = "; ".join(outcome.problems) or f"scored {outcome.score:g}/{outcome.max_score:g}"
        click.echo(f"autograder: {outcome.case.id} should get {verification.EXPECTATIONS[outcome.case.kind]}: {detail}", err=True)
    if failures:
        sys.exit(GRADER_ERROR)


def main() -> None:
    cli()
