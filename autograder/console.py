"""Printing grading results in a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.grading.results_model import Results

STATUS_STYLE = {"passed": "green", "failed": "red"}


def first_line(output: str) -> str:
    """The first informative line of a test's Markdown output, without Markdown fences or stars."""
    for line in output.splitlines():
        text = line.strip().strip("*").strip()
        if text and not text.startswith("```") and text not in ("Failed.", "Passed."):
            return text
    return "passed" if output.startswith("Passed") else ""


def results_table(results: Results, title: str) -> Table:
    """One row per test: number, name, points, and the first line of its message. Every cell and
    the title are plain text: a student's exception message or a path may hold square brackets,
    which must be shown as they are, never read as markup."""
    table = Table(title=Text(title), title_justify="left", show_lines=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("test")
    table.add_column("points", justify="right")
    table.add_column("message", overflow="fold", max_width=70)
    for test in results.tests:
        points = Text(f"{test.score:g}/{test.max_score:g}", style=STATUS_STYLE.get(test.status, ""))
        message = "" if test.passed else first_line(test.output)
        table.add_row(Text(test.number), Text(test.name), points, Text(message))
    return table


def print_results(results: Results, title: str, console: Console | None = None) -> None:
    console = console or Console()
    console.print(results_table(results, title))
    console.print(
        Text(f"score {results.score:g} / {results.max_score:g}", style="bold"),
        f"({results.execution_time:.2f} s)",
        sep="  ",
    )


def verification_table(outcomes, title: str) -> Table:
    """One row per verified case: what it is, what it must score, what it scored, and for a
    case that lost points the feedback its failed tests give."""
    from autograder.authoring.verification import EXPECTATIONS  # imported here: printing a grade needs none of it

    table = Table(title=title, title_justify="left")
    table.add_column("case")
    table.add_column("description", overflow="fold", max_width=50)
    table.add_column("expected")
    table.add_column("score", justify="right")
    table.add_column("", justify="center")
    table.add_column("feedback", overflow="fold", max_width=30)
    for outcome in outcomes:
        mark = "[green]ok[/]" if outcome.ok else "[red]FAIL[/]"
        table.add_row(
            outcome.case.id,
            outcome.case.description,
            EXPECTATIONS[outcome.case.kind],
            f"{outcome.score:g}/{outcome.max_score:g}",
            mark,
            Text(str(outcome.feedback or "")),
        )
    return table


BATCH_STATUS_STYLE = {"graded": "green", "unusable": "yellow", "grader-error": "red"}


def print_batch_summary(summary: dict, out_dir: str, console: Console | None = None) -> None:
    """What a batch did: counts by status, the score spread, and every submission that was not
    graded, with its reason."""
    console = console or Console()
    counts = summary["counts"]
    statuses = ", ".join(
        f"[{style}]{counts[status]} {status}[/]" for status, style in BATCH_STATUS_STYLE.items() if counts[status]
    )
    console.print(f"{counts['submissions']} submissions: {statuses} ({counts['skipped']} up to date, not regraded)")
    if summary["score"]:
        spread = summary["score"]
        console.print(
            f"score out of {summary['max_score']:g}: mean {spread['mean']:g}, median {spread['median']:g}, "
            f"min {spread['min']:g}, max {spread['max']:g}",
            highlight=False,
        )
    problems = [s for s in summary["submissions"] if s["status"] != "graded"]
    if problems:
        table = Table(title="not graded", title_justify="left")
        table.add_column("submission")
        table.add_column("status")
        table.add_column("reason", overflow="fold", max_width=80)
        for row in problems:
            style = BATCH_STATUS_STYLE[row["status"]]
            table.add_row(Text(row["id"]), Text(row["status"], style=style), Text(row["reason"]))  # shown as is
        console.print(table)
    console.print(f"gradebook, summary and results written to {out_dir}", highlight=False)


def print_verification(outcomes, title: str, console: Console | None = None) -> None:
    """The verification table of ``outcomes`` and the mutation score."""
    from autograder.authoring.verification import DIAGNOSED, EXPLICIT, NUMBERS_ONLY, feedback_shares, mutation_score

    console = console or Console()
    console.print(verification_table(outcomes, title))
    killed, mutants = mutation_score(outcomes)
    console.print(f"mutation score: {killed}/{mutants} mutants lose points", highlight=False)
    if killed:
        shares = feedback_shares(outcomes)
        console.print(
            f"feedback: {len(shares[DIAGNOSED])}/{killed} mutants that lose points get a likely cause, "
            f"{len(shares[EXPLICIT])} a failure that explains itself, {len(shares[NUMBERS_ONLY])} numbers only"
            + (f" ({', '.join(shares[NUMBERS_ONLY])})" if shares[NUMBERS_ONLY] else ""),
            highlight=False,
        )
