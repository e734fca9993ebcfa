"""The ``autograder`` command line.

Exit codes: 0 when the command did its job (for ``grade``: whatever the score), 1 when the grader
itself had a problem (results are still written), 2 for unusable input, with a one-line reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from autograder import __version__, console
from autograder.grading import pipeline
from autograder.grading.intake import IntakeError
from autograder.sandbox import isolation
from autograder.suite import assignment
from autograder.suite.errors import SandboxError

# The commands other than grade import what they need when they run, so that grading one
# submission does not pay for loading the batch, report and build machinery.

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


def warn_if_unconfined(confinement: isolation.Confinement) -> None:
    if confinement is isolation.Confinement.NONE:
        click.echo(f"autograder: warning: {isolation.NOT_CONFINED}", err=True)


def check_setup(chosen: assignment.Assignment) -> None:
    """Before grading many submissions: stop with the setup problem, said once in one line, or
    warn once that student code is not confined."""
    try:
        confinement = pipeline.check_setup(chosen)
    except SandboxError as err:
        fail(f"cannot grade: {err}", GRADER_ERROR)
    warn_if_unconfined(confinement)


def require_otter() -> None:
    """Stop with a one-line message saying how to install otter-grader when it is missing."""
    from autograder.integrations import otter_format

    try:
        otter_format.otter()
    except otter_format.OtterUnavailable as err:
        fail(str(err))


assignment_option = click.option("--assignment", "name", help="Assignment to grade against (default: the only one).")
jobs_option = click.option("--jobs", type=int, default=2, show_default=True, help="Submissions graded at once.")
dist_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Folder for NAME/student.zip and NAME/autograder.zip.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def cli() -> None:
    """Grade neural-network assignments safely, locally and on Gradescope."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@assignment_option
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("results.json"),
    show_default=True,
    help="Where to write Gradescope's results.json.",
)
@click.option("--seed", type=int, help="Seed of the random test inputs (default: derived from the files).")
@click.option(
    "--format",
    "results_format",
    type=click.Choice(["gradescope", "otter"]),
    default="gradescope",
    show_default=True,
    help="Shape of results.json: ours, or that of otter-grader's Gradescope autograder (needs the otter extra).",
)
def grade(path: Path, name: str | None, results_path: Path, seed: int | None, results_format: str) -> None:
    """Grade one submission: PATH is a folder, a zip, a notebook, or one of the assignment's files."""
    chosen = load_assignment(name)
    if results_format == "otter":
        require_otter()
    try:
        warn_if_unconfined(isolation.available())
    except SandboxError:  # said by the grade itself, in results.json too
        pass
    try:
        outcome = pipeline.grade(chosen, path, results_path, seed=seed)
    except IntakeError as err:
        fail(str(err))
    if results_format == "otter":
        from autograder.integrations import otter_format

        config = otter_format.autograder_config(chosen)
        otter_format.write_gradescope(results_path, outcome.results, config)
    out = Console()
    for note in outcome.submission.notes:
        out.print(note, style="dim", markup=False, highlight=False)
    if outcome.submission.ignored:
        out.print(f"ignored: {'; '.join(outcome.submission.ignored)}", style="dim", markup=False, highlight=False)
    for message in outcome.submission.syntax_errors.values():
        out.print(message, style="red", markup=False, highlight=False)
    console.print_results(outcome.results, f"{chosen.name}: {path}", out)
    out.print(f"seed {outcome.seed}; results written to {results_path}", markup=False, highlight=False)
    if outcome.problems:
        for problem in outcome.problems:
            click.echo(f"autograder: grader problem: {problem}", err=True)
        sys.exit(GRADER_ERROR)


@cli.command()
@click.argument("name", required=False)
def template(name: str | None) -> None:
    """Regenerate student_template/NAME from the solution markers of solutions/NAME."""
    from autograder.grading import stubs

    chosen = load_assignment(name)
    try:
        written = stubs.generate_template(chosen.solution, chosen.template)
    except stubs.MarkerError as err:
        fail(str(err))
    click.echo(f"wrote {len(written)} files to {chosen.template}")


@cli.command()
@click.argument("name", required=False)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random test inputs.")
@jobs_option
def verify(name: str | None, seed: int, jobs: int) -> None:
    """Prove the suites right: reference full marks, template 0, every mutant loses points,
    every alternative full marks."""
    from autograder.authoring import verification

    chosen = load_assignment(name)
    check_setup(chosen)
    out = Console()
    with out.status("grading the reference, the template, the mutants and the alternatives"):
        outcomes = verification.verify(chosen, seed=seed, jobs=jobs)
    console.print_verification(outcomes, f"verify {chosen.name} (seed {seed})", out)
    failures = verification.failure_reasons(outcomes)
    for reason in failures:
        click.echo(f"autograder: {reason}", err=True)
    if failures:
        sys.exit(GRADER_ERROR)


@cli.command("batch")
@click.argument("path", type=click.Path(path_type=Path))
@assignment_option
@click.option("--jobs", type=click.IntRange(min=1), help="Submissions graded at once (default: every core).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("batch-out"),
    show_default=True,
    help="Folder for the gradebook, the summary and each submission's results.",
)
@click.option("--force", is_flag=True, help="Regrade submissions whose results are up to date.")
@click.option("--shard", "shard_text", default="1/1", show_default=True, help="Grade only slice I of N (I/N).")
@click.option(
    "--format",
    "results_format",
    type=click.Choice(["gradescope", "otter"]),
    default="gradescope",
    show_default=True,
    help="otter: also write otter grade's final_grades.csv into the output folder (needs the otter extra).",
)
def batch_command(
    path: Path, name: str | None, jobs: int | None, out_dir: Path, force: bool, shard_text: str, results_format: str
) -> None:
    """Grade a class: PATH is a folder with one sub-folder or zip per student, or a Gradescope
    "Export Submissions" zip or folder."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from autograder.classroom import batch, gradebook, report
    from autograder.classroom.roster import RosterError
    from autograder.integrations import otter_format

    chosen = load_assignment(name)
    if results_format == "otter":
        require_otter()
    try:
        shard = batch.Shard.parse(shard_text)
    except batch.ShardError as err:
        fail(str(err))
    check_setup(chosen)
    out = Console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=out,
    )
    task = bar.add_task(f"grading {chosen.name}", total=None)

    def started(total: int) -> None:  # shown once the submissions are found
        bar.update(task, total=total)
        bar.start()

    try:
        summary = batch.grade_class(
            chosen,
            path,
            out_dir,
            jobs=jobs,
            force=force,
            shard=shard,
            started=started,
            finished=lambda record, skipped: bar.advance(task),
        )
    except (RosterError, gradebook.GradebookError) as err:
        fail(str(err))
    finally:
        if bar.live.is_started:
            bar.stop()
    console.print_batch_summary(summary, str(out_dir), out)
    if summary["similarity"] is None:
        click.echo(f"autograder: no similarity: {batch.SIMILARITY_MISSING}", err=True)
    if results_format == "otter":
        out.print(f"otter grades written to {otter_format.write_final_grades(out_dir, summary)}", highlight=False)
    try:
        click.echo(f"report written to {report.write_report(out_dir)}")
    except report.ReportError as err:  # the gradebook is written all the same
        click.echo(f"autograder: no report: {err}", err=True)
    troubled = [s for s in summary["submissions"] if s["status"] == gradebook.GRADER_ERROR]
    for row in troubled:
        click.echo(f"autograder: grader problem with {row['id']}: {row['reason']}", err=True)
    if troubled:
        sys.exit(GRADER_ERROR)


@cli.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the merged gradebook, summary and results.",
)
@assignment_option
def merge_command(shards: tuple[Path, ...], out_dir: Path, name: str | None) -> None:
    """Combine the output folders of every shard of a batch (autograder batch --shard I/N) into one,
    and compare the whole class for similarity."""
    from autograder.classroom import batch, gradebook, merge

    try:
        chosen = load_assignment(name or gradebook.read_summary(shards[0])["assignment"])
        summary = merge.merge(list(shards), out_dir, chosen, batch.default_jobs())
    except gradebook.GradebookError as err:
        fail(str(err))
    console.print_batch_summary(summary, str(out_dir), Console())


@cli.command("report")
@click.argument("out_dir", metavar="DIR", type=click.Path(path_type=Path))
def report_command(out_dir: Path) -> None:
    """Write DIR/report.html (charts also in DIR/report/) for DIR, an output folder of autograder
    batch or merge: scores, pass rates, diagnosed mistakes, grading times, submissions not graded."""
    from autograder.classroom import gradebook, report

    try:
        page = report.write_report(out_dir)
    except (gradebook.GradebookError, report.ReportError) as err:
        fail(str(err))
    click.echo(f"report written to {page}")


@cli.command("similarity")
@click.argument("out_dir", metavar="DIR", type=click.Path(path_type=Path))
@assignment_option
@click.option("--jobs", type=click.IntRange(min=1), help="Processes that tokenise the code (default: every core).")
def similarity_command(out_dir: Path, name: str | None, jobs: int | None) -> None:
    """Compare the submissions of DIR, an output folder of autograder batch or merge, function by
    function: writes DIR/similarity.json, the similarity columns of DIR/gradebook.csv and the report."""
    from autograder.classroom import batch, gradebook, report

    try:
        from autograder.classroom import similarity
    except ImportError:
        fail(batch.SIMILARITY_MISSING)
    try:
        summary = gradebook.read_summary(out_dir)
        chosen = load_assignment(name or summary["assignment"])
        records = [gradebook.read_record(out_dir, row["id"]) for row in summary["submissions"]]
        if None in records:
            fail(f"{out_dir} lacks the record of a submission of its summary; grade it again with autograder batch")
        found = similarity.compare_output(out_dir, records, chosen, jobs or batch.default_jobs())
        gradebook.rewrite(out_dir)
    except gradebook.GradebookError as err:
        fail(str(err))
    click.echo(
        f"{found['flagged']} pair(s) at or above {found['settings']['threshold']:g} among {len(found['compared'])} "
        f"submissions compared ({len(found['skipped'])} skipped) in {found['seconds']:.1f} s; "
        f"written to {out_dir / gradebook.SIMILARITY}"
    )
    try:
        click.echo(f"report written to {report.write_report(out_dir)}")
    except report.ReportError as err:
        click.echo(f"autograder: no report: {err}", err=True)


def build_verified(chosen: assignment.Assignment, out_dir: Path, seed: int, jobs: int, out: Console):
    """``build.build`` with a progress line; on a ``BuildError``, the verification table, the
    failing cases on stderr, and exit 1."""
    from autograder.authoring import build, verification

    check_setup(chosen)
    total, done = len(verification.cases(chosen)), 0
    with out.status(f"verifying {chosen.name}") as status:

        def progress(outcome: verification.Outcome) -> None:
            nonlocal done
            done += 1
            status.update(f"verifying {chosen.name}: {done}/{total} cases graded")

        try:
            built = build.build(chosen, out_dir, seed=seed, jobs=jobs, progress=progress)
        except build.BuildError as err:
            status.stop()
            if err.outcomes:
                console.print_verification(err.outcomes, f"verify {chosen.name} (seed {seed})", out)
            fail(f"cannot build {chosen.name}: {err}", GRADER_ERROR)
    return built


@cli.command("build")
@click.argument("name", required=False)
@dist_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the verification's test inputs.")
@jobs_option
def build_command(name: str | None, out_dir: Path, seed: int, jobs: int) -> None:
    """Regenerate student_template/NAME, verify the suites, then write the students' handout
    (student.zip) and the Gradescope autograder (autograder.zip); no zip is written if a case fails."""
    chosen = load_assignment(name)
    out = Console()
    built = build_verified(chosen, out_dir, seed, jobs, out)
    console.print_verification(built.outcomes, f"verify {chosen.name} (seed {seed})", out)
    out.print(
        f"handout for students: {built.student_zip}\nGradescope autograder: {built.autograder_zip}", highlight=False
    )


@cli.command("demo")
@click.argument("name", required=False)
@dist_option
@jobs_option
def demo_command(name: str | None, out_dir: Path, jobs: int) -> None:
    """The whole story in one command: build the assignment (verification included), then grade
    the reference solution, the blank template and a buggy submission."""
    from autograder.authoring import demo

    chosen = load_assignment(name)
    out = Console()
    built = build_verified(chosen, out_dir, demo.SEED, jobs, out)
    out.print(f"built {chosen.name}; verified: {demo.verification_summary(built.outcomes)}", highlight=False)
    demo.show_samples(chosen, out)
    out.print(
        f"\nhandout for students: {built.student_zip}\nGradescope autograder: {built.autograder_zip} "
        "(upload it as a Gradescope programming assignment's autograder, base image Ubuntu 22.04)",
        highlight=False,
    )


def main() -> None:
    cli()
