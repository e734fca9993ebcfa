"""The pytest plugin in local mode (students' public tests) and its marker rules."""

import textwrap

import pytest

from autograder.suite.plugin import assertion_message

STUDENT = """
def add(a, b):
    return a + b

def mul(a, b):
    return a + b  # wrong
"""

SUITE = """
import pytest

@pytest.mark.points(2)
def test_add(student):
    assert student.calc.add(2, 3) == 5

@pytest.mark.points(3)
def test_mul(student):
    assert student.calc.mul(2, 3) == 6, "mul(2, 3) should be 6"

@pytest.mark.points(4)
@pytest.mark.partial_credit
def test_partial(student, credit):
    credit.set(0.25)
    assert False, "only a quarter right"
"""


@pytest.fixture
def handout(pytester):
    pytester.makefile(
        ".ini",
        pytest=textwrap.dedent(
            """
            [pytest]
            autograder_modules = calc
            autograder_hidden_points = 91
            """
        ),
    )
    pytester.makepyfile(calc=STUDENT, test_suite=SUITE)
    return pytester


def test_local_mode_runs_in_process_and_prints_the_points(handout):
    result = handout.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*public tests: 3/9 points; hidden tests worth 91 more run on Gradescope*"])


def test_reference_is_refused_in_local_mode(handout):
    handout.makepyfile(test_ref="def test_ref(reference):\n    pass\n")
    result = handout.runpytest_subprocess("test_ref.py")
    result.stdout.fnmatch_lines(["*reference solution is only available when grading*"])


@pytest.mark.parametrize(
    "marks, message",
    [
        ("@pytest.mark.points('many')", "points needs a number"),
        ("@pytest.mark.points(-1)", "points needs a number"),
        ("@pytest.mark.points(1)\n@pytest.mark.visibility('public')", "visibility must be one of"),
    ],
)
def test_malformed_markers_are_usage_errors(pytester, marks, message):
    pytester.makepyfile(f"import pytest\n{marks}\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    assert message in result.stdout.str() + result.stderr.str()


def test_credit_needs_the_partial_credit_marker(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.points(1)\ndef test_x(credit):\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    assert "without @pytest.mark.partial_credit" in result.stdout.str() + result.stderr.str()


def test_unknown_markers_are_errors_under_strict_markers(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.pointz(1)\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--strict-markers")
    assert result.ret != 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mul(2, 3) should be 6\nassert 5 == 6\n +  where 5 = <proxy>", "mul(2, 3) should be 6"),
        ("assert 5 == 6\n +  where 5 = <proxy object at 0x1>", "assert 5 == 6"),
        ("plain message", "plain message"),
        ("", "a check failed"),
    ],
)
def test_assertion_messages_drop_pytest_introspection(text, expected):
    assert assertion_message(text) == expected


FAILING_STUDENT = """
def helper(x):
    return x["missing"]

def broken(x):
    return helper(x)
"""

FAILING_SUITE = """
import pytest
from autograder.suite.checks import assert_scalar

@pytest.mark.points(1)
def test_student_raises(student):
    student.calc.broken({})

@pytest.mark.points(1)
def test_check_fails(student):
    assert_scalar(student.calc.add(1.0, 1.0), 3.0, what="add(1, 1)")
"""


@pytest.mark.parametrize(
    "test, shown",
    [
        (
            "test_student_raises",
            [
                "*def broken(x):*",
                "*return helper(x)*",
                "calc.py:11*",
                "*def helper(x):*",
                "*KeyError: 'missing'*",
                "*student.calc.broken({})*",
                "*broken raised KeyError*",
            ],
        ),
        ("test_check_fails", ["*assert_scalar(student.calc.add(1.0, 1.0), 3.0*", "*CheckFailure*add(1, 1)*"]),
    ],
)
def test_local_failures_show_the_students_lines_and_no_engine_frame(handout, test, shown):
    handout.makepyfile(calc=STUDENT + FAILING_STUDENT, test_failing=FAILING_SUITE)
    result = handout.runpytest_subprocess(f"test_failing.py::{test}", "--tb=long")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(shown)
    engine_frames = [line for line in result.outlines if "autograder/" in line or "autograder\\" in line]
    assert engine_frames == []


def test_a_grader_error_run_locally_keeps_the_engine_frames(handout):
    """An engine bug (not the student's fault) is reported with its frames, for the instructor."""
    handout.makepyfile(
        test_engine="import pytest\n\n@pytest.mark.points(1)\ndef test_engine(student):\n"
        "    student.calc.add.map([1])\n"
    )
    result = handout.runpytest_subprocess("test_engine.py", "--tb=long")
    result.assert_outcomes(failed=1)
    assert any("autograder/suite/proxy.py" in line for line in result.outlines)
