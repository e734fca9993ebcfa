"""``autograder verify``: the bundled assignment's suites are proven right, and a suite that
misses a bug is reported."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring import verification
from autograder.grading import results_model, stubs
from autograder.suite import assignment

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"


def verify(*args: str, project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_PROJECT": str(project)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", "verify", *args], env=env, capture_output=True, text=True, timeout=1200
    )


def test_backprop_suites_kill_every_mutant_and_pass_every_alternative():
    cases = verification.cases(assignment.load("backprop", ROOT))
    mutants = sum(c.kind == "mutant" for c in cases)
    alternatives = sum(c.kind == "alternative" for c in cases)
    assert mutants >= 60 and alternatives >= 10
    done = verify("backprop", "--seed", "11", project=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert f"mutation score: {mutants}/{mutants} mutants lose points" in done.stdout
    assert "FAIL" not in done.stdout


@pytest.fixture
def project(tmp_path):
    """A copy of the fixture project with its template and a small bug corpus."""
    copy = tmp_path / "project"
    shutil.copytree(FIXTURE, copy)
    arith = assignment.load("arith", copy)
    stubs.generate_template(arith.solution, arith.template)
    folder = arith.folder / "mutants"
    folder.mkdir()
    (folder / "arith.py").write_text(
        'def add__minus(a, b):\n    """add subtracts."""\n    return a - b\n\n\n'
        'def add__commuted(a, b):\n    """add with its operands swapped: not a bug."""\n    return b + a\n'
    )
    return copy


def test_a_surviving_mutant_fails_verification_and_is_named(project):
    done = verify("arith", project=project)
    assert done.returncode == 1
    assert "mutation score: 1/2 mutants lose points" in done.stdout
    assert 'arith.commuted: expected "loses points", scored 14/14' in done.stderr


def test_a_reference_that_loses_points_fails_verification(project):
    solution = project / "solutions" / "arith" / "arith.py"
    solution.write_text(solution.read_text().replace("return a + b", "return a + b + 1"))
    done = verify("arith", project=project)
    assert done.returncode == 1
    assert 'reference: expected "full marks"' in done.stderr


def ended(status: str, *findings: dict) -> results_model.TestResult:
    """A test of results.json that ended with ``status`` and the findings ``findings`` (as data)."""
    return results_model.TestResult(
        name="t",
        number="1.1",
        score=0.0,
        max_score=1.0,
        status=status,
        output="",
        output_format="md",
        visibility="visible",
        extra_data=results_model.TestData("t.py", tuple(results_model.TestFinding(**f) for f in findings)),
    )


def failed_test(*findings: dict) -> results_model.TestResult:
    return ended("failed", *findings)


FACTOR = {"kind": "values", "diagnosis": {"kind": "factor", "text": "t", "label": "l", "evidence": {"factor": 2.0}}}


@pytest.mark.parametrize(
    ("tests", "feedback"),
    [
        ([failed_test({"kind": "values"}), failed_test({"kind": "dtype"}, FACTOR)], "likely cause (factor)"),
        (
            [failed_test({"kind": "values"}), failed_test({"kind": "exception"}, {"kind": "dtype"})],
            "explains itself (exception, dtype)",
        ),
        ([failed_test({"kind": "values"}), ended("passed", FACTOR)], "numbers only"),
    ],
)
def test_the_feedback_of_a_case_comes_from_the_findings_of_its_failed_tests(tests, feedback):
    assert str(verification.feedback_of(tests)) == feedback


def test_a_case_without_findings_has_no_feedback():
    assert verification.feedback_of((failed_test(),)) is None


def test_the_verify_table_gives_each_mutant_its_feedback(project):
    done = verify("arith", project=project)
    # add__minus stops verification at a failure with numbers only, and is then graded in full, where a later
    # test fails in a way that explains itself: the feedback is that of all its failed tests. The surviving
    # mutant is not counted: it fails nothing.
    line = "feedback: 0/1 mutants that lose points get a likely cause, 1 a failure that explains itself, 0 numbers only"
    assert line in " ".join(done.stdout.split())
