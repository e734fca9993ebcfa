"""Gradescope's ``results.json``, built from the manifest and the verdicts of a grading run
(as ``results_model.Results``).

The score of every test comes from the manifest, fixed before any student code ran: a test
without a verdict (a crash of the runner, a time-out of the whole run, a collection error) scores
0 with an explanation. The file is written atomically, once, by the trusted grading process.
"""

from __future__ import annotations

import re

from autograder import __version__
from autograder.grading.results_model import LeaderboardEntry, Results, RunData, TestData, TestFinding, TestResult
from autograder.suite.protocol import ManifestEntry, Verdict

OUTPUT_FORMAT = "md"
MAX_MESSAGE_CHARS = 8_000
PRINTED_HEADING = "Your code printed:"  # introduces what the student's code printed during a test


def fenced(text: str, language: str = "text") -> str:
    """``text`` as a Markdown code block whose fence no line of ``text`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def test_output(verdict: Verdict | None, missing_reason: str) -> str:
    """The Markdown a student sees under one test."""
    if verdict is None:
        return f"**No result.** {missing_reason} This test scores 0."
    if verdict.status == "passed" and not verdict.output:
        return "Passed."
    parts = ["Passed." if verdict.status == "passed" else "**Failed.**"]
    if verdict.message:
        parts.append(fenced(clip(verdict.message, MAX_MESSAGE_CHARS)))
    if verdict.output:
        parts.append(f"{PRINTED_HEADING}\n\n" + fenced(verdict.output))
    return "\n\n".join(parts)


def build(
    manifest: list[ManifestEntry],
    verdicts: dict[str, Verdict],
    *,
    summary: list[str],
    missing_reason: str,
    execution_time: float,
    assignment: str | None = None,
    seed: int | None = None,
) -> Results:
    """The results of a run that graded.

    ``summary`` are Markdown lines for the top of the page (files graded, ignored files, seed, ...);
    ``missing_reason`` explains why a test of the manifest has no verdict. Each test's
    ``extra_data.file`` names its test file relative to the suite folder (``public/test_x.py``),
    which the gradebook of a batch uses to group tests into parts; ``extra_data.findings`` (failed
    tests only) what failed, as data: the verdict's findings, diagnoses included. The leaderboard
    entries the tests measured (``Verdict.leaderboard``) make Gradescope's top-level
    ``leaderboard``, in the order of the manifest.
    """
    tests = []
    for entry in manifest:
        verdict = verdicts.get(entry.nodeid)
        fraction = verdict.fraction if verdict else 0.0
        failed = verdict is not None and verdict.status != "passed"
        tests.append(
            TestResult(
                name=entry.name,
                number=entry.number,
                score=round(entry.max_score * fraction, 4),
                max_score=entry.max_score,
                status=verdict.status if verdict else "failed",
                output=test_output(verdict, missing_reason),
                output_format=OUTPUT_FORMAT,
                visibility=entry.visibility,
                extra_data=TestData(
                    file=entry.nodeid.split("::", 1)[0],
                    findings=tuple(TestFinding(**finding) for finding in verdict.findings) if failed else (),
                ),
            )
        )
    score = round(sum(t.score for t in tests), 4)
    total = sum(t.max_score for t in tests)
    grader_errors = sum(1 for v in verdicts.values() if v.grader_error)
    lines = [f"**Score: {score:g} / {total:g}**", *summary]
    if grader_errors:
        lines.append(
            f"The grader failed on {grader_errors} test(s) through no fault of yours; your instructor can see why."
        )
    measured = [verdicts.get(entry.nodeid) for entry in manifest]
    leaderboard = [LeaderboardEntry(**verdict.leaderboard) for verdict in measured if verdict and verdict.leaderboard]
    return Results(
        score=score,
        execution_time=round(execution_time, 3),
        output="\n\n".join(lines),
        output_format=OUTPUT_FORMAT,
        visibility="visible",
        stdout_visibility="hidden",
        extra_data=RunData(assignment=assignment, seed=seed, engine=__version__, grader_errors=grader_errors),
        tests=tuple(tests),
        leaderboard=tuple(leaderboard),
    )


def grader_failure(
    reason: str, *, execution_time: float, assignment: str | None = None, seed: int | None = None
) -> Results:
    """Valid results for a run that could not grade at all, saying so."""
    return Results(
        score=0.0,
        execution_time=round(execution_time, 3),
        output=(
            "**The autograder could not grade this submission** because of a problem on the "
            f"grader's side, not in your code: {reason}\n\nPlease tell your instructor."
        ),
        output_format=OUTPUT_FORMAT,
        visibility="visible",
        stdout_visibility="hidden",
        extra_data=RunData(assignment=assignment, seed=seed, engine=__version__, grader_failure=reason),
        tests=(),
    )
