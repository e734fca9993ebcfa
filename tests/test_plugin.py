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
