"""otter-grader interoperability: our results in the shapes otter-grader 7 writes, built with
otter's own classes, for courses whose tooling already reads otter's files.

- ``gradescope_dict``: the ``results.json`` of otter's Gradescope autograder
  (``GradingResults.to_gradescope_dict``): a "Public Tests" summary first, then one entry per
  question holding otter's plain-text summary of its test cases.
- ``final_grades_csv`` (``write_final_grades`` for a batch): the ``final_grades.csv`` of ``otter grade``
  (``otter.grade.utils.merge_scores_to_df``): columns ``file``, one per question (sorted),
  ``total_points_earned``, ``percent_correct``, ``grading_status``; the first row, ``file`` =
  ``points-per-question``, holds the points possible.

The mapping: a *question* is a test file of the suite (each test's ``extra_data.file``, the
gradebook's part), named by its path without ``.py`` (``public/test_public_layers``). Each of its
tests is an otter test case worth the test's points, hidden unless the test is ``visible``, passed
when the test passed. otter's test cases pass or fail, so a question's score is set to the sum of
its tests' scores, which keeps partial credit. A results file of a run that could not grade, and a
submission that could not be read, become otter's "catastrophic failure" (score 0, the reason
as the grading status).

otter-grader is the optional extra ``otter`` (pinned to the version whose classes this module
was written against); without it every function raises ``OtterUnavailable``, whose one-line
message says how to install it.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from autograder.classroom import gradebook
from autograder.grading.atomic import write_atomically, write_json
from autograder.grading.results_model import Results, TestResult
from autograder.suite.assignment import Assignment

OTTER_VERSION = "7.0.0"
INSTALL_HINT = "pip install 'autograder[otter]' (in a checkout: pip install -e '.[otter]')"
FINAL_GRADES = "final_grades.csv"
PASSED = "✅ Test case passed"
FAILED = "❌ Test case failed"
FENCE = re.compile(r"^\s*`{3,}")


class OtterUnavailable(RuntimeError):
    """otter-grader (the right version) is not installed; the message says how to install it."""


def otter() -> SimpleNamespace:
    """otter-grader's classes used here; ``OtterUnavailable`` when it is absent or another version."""
    try:
        import otter as package
        from otter.grade import utils as grade_utils
        from otter.run import AutograderConfig
        from otter.test_files import GradingResults, TestCase, TestCaseResult
        from otter.test_files.ottr_test import OttrTestFile
    except ImportError as err:
        raise OtterUnavailable(
            f"the otter format needs otter-grader {OTTER_VERSION} ({err}); install it: {INSTALL_HINT}"
        ) from None
    if package.__version__ != OTTER_VERSION:
        raise OtterUnavailable(
            f"the otter format needs otter-grader {OTTER_VERSION}, not {package.__version__}; "
            f"install it: {INSTALL_HINT}"
        )
    return SimpleNamespace(
        AutograderConfig=AutograderConfig,
        GradingResults=GradingResults,
        OttrTestFile=OttrTestFile,
        TestCase=TestCase,
        TestCaseResult=TestCaseResult,
        grade_utils=grade_utils,
    )


def autograder_config(assignment: Assignment) -> dict:
    """otter's ``otter_config.json`` settings matching the assignment: hidden tests are shown once
    published unless the assignment keeps them ``hidden``."""
    return {"show_hidden": assignment.hidden_visibility != "hidden"}


def question_of(test: TestResult) -> str:
    """The question a test belongs to: its test file, without ``.py``."""
    return test.file.removesuffix(".py")


def plain_message(test: TestResult) -> str:
    """What otter shows for one test case: its verdict line, then our message without Markdown."""
    if test.passed:
        return PASSED
    lines = [line for line in test.output.splitlines() if not FENCE.match(line)]
    message = "\n".join(lines).strip().removeprefix("**Failed.**").strip()
    partial = f" ({test.score:g} of {test.max_score:g} points)" if test.score > 0 else ""
    return f"{FAILED}{partial}\n{message}"


def grading_results(results: Results):
    """otter's ``GradingResults`` for our results."""
    classes = otter()
    if results.grader_failure is not None:
        return classes.GradingResults.without_results(RuntimeError(results.grader_failure))
    questions: dict[str, list[TestResult]] = {}
    for test in results.tests:
        questions.setdefault(question_of(test), []).append(test)
    files = []
    for question, tests in questions.items():
        outcomes = []
        for test in tests:
            case = classes.TestCase(
                name=f"{test.number} {test.name}",
                body=None,
                hidden=test.visibility != "visible",
                points=test.max_score,
                success_message=None,
                failure_message=None,
            )
            outcomes.append(classes.TestCaseResult(test_case=case, message=plain_message(test), passed=test.passed))
        cases = [outcome.test_case for outcome in outcomes]
        test_file = classes.OttrTestFile(question, tests[0].file, cases, all_or_nothing=False)
        test_file.test_case_results = outcomes
        test_file.update_score(round(sum(test.score for test in tests), 5))
        files.append(test_file)
    graded = classes.GradingResults(files)
    graded.set_output(results.output)
    return graded


def gradescope_dict(results: Results, config: dict | None = None) -> dict:
    """Our results as otter's Gradescope autograder writes them, under the otter settings
    ``config`` (keys of ``otter_config.json``). The top-level ``score`` is always present."""
    graded = grading_results(results)
    converted = graded.to_gradescope_dict(otter().AutograderConfig(config or {}))
    converted.setdefault("score", round(graded.total, 5))
    return converted


def write_gradescope(path: Path, results: Results, config: dict | None = None) -> None:
    """Write ``gradescope_dict(results, config)`` to ``path`` as our results are written."""
    write_json(path, gradescope_dict(results, config))


def final_grades_csv(entries: list[tuple[str, Results | str]]) -> str:
    """``final_grades.csv`` as ``otter grade`` writes it, one row per ``(file, outcome)``: the
    outcome is our results, or the one-line reason the submission could not be read."""
    classes = otter()
    utils = classes.grade_utils
    if not entries:
        fixed = (
            utils.SCORES_DICT_FILE_KEY,
            utils.SCORES_DICT_TOTAL_POINTS_KEY,
            utils.SCORES_DICT_PERCENT_CORRECT_KEY,
            utils.SCORES_DICT_GRADING_STATUS_KEY,
        )
        return ",".join(fixed) + "\n"
    scores = []
    for file, outcome in entries:
        if isinstance(outcome, Results):
            graded = grading_results(outcome)
        else:
            graded = classes.GradingResults.without_results(RuntimeError(outcome))
        graded.file = file
        scores.append(graded)
    return utils.merge_scores_to_df(scores).to_csv(index=False)


def write_final_grades(out: Path, summary: dict) -> Path:
    """Write ``final_grades.csv`` into the output folder ``out`` of ``autograder batch`` from its
    ``summary`` (see ``autograder.classroom.gradebook``): one row per submission, ``file`` being its id."""
    entries = [
        (s["id"], gradebook.read_results(out, s["id"]) if s["results"] else s["reason"]) for s in summary["submissions"]
    ]
    path = out / FINAL_GRADES
    write_atomically(path, final_grades_csv(entries))
    return path
