"""Public tests of gradcheck.py: the relative error by hand, and the numerical gradient of the
provided function data.ripple_bowl, whose gradient is known (data.ripple_bowl_grad)."""

import numpy as np
import pytest
from suite_support import Cases, call_unchanged, forward_differences, not_round_tripping, relative_error_mistakes

from autograder.suite.checks import assert_array, assert_scalar
from autograder.suite.errors import CheckFailure


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_relative_error_by_hand(student, credit):
    """relative_error: hand-computed values, with the 1e-8 floor where both entries are (nearly) 0"""
    examples = [
        ("different entries", np.array([1.0, 0.0, 2.0]), np.array([1.5, 0.0, 2.0]), 0.2),
        ("tiny entries", np.array([[1e-9, 0.0], [3.0, 3.0]]), np.array([[0.0, 0.0], [3.0, 3.0]]), 0.1),
        ("equal arrays", np.array([0.0, -1.0]), np.array([0.0, -1.0]), 0.0),
    ]
    cases = Cases(credit, len(examples))
    for label, a, b, expected in examples:
        got = student.gradcheck.relative_error(a.copy(), b.copy())
        with cases.case(label):
            assert_scalar(
                got,
                expected,
                what="relative_error(a, b)",
                show_inputs={"a": a, "b": b},
                candidates=relative_error_mistakes(a, b),
            )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_numerical_gradient_of_a_known_function(student, provided, rng, credit):
    """numerical_gradient: the gradient of data.ripple_bowl, and x unchanged afterwards"""
    x = not_round_tripping(rng, (2, 3), h=1e-5)
    cases = Cases(credit, 2)
    with cases.case("gradient"):
        got = student.gradcheck.numerical_gradient(student.data.ripple_bowl, x.copy())
        assert_array(
            got,
            provided.data.ripple_bowl_grad(x),
            rtol=1e-7,
            atol=1e-8,
            what="numerical_gradient(data.ripple_bowl, x)",
            show_inputs={"x": x},
            candidates=forward_differences(provided.data.ripple_bowl, x, 1e-5),
        )
    with cases.case("x unchanged"):
        call_unchanged(student.gradcheck.numerical_gradient, {"f": student.data.ripple_bowl, "x": x})
    cases.finish()


@pytest.mark.points(1.0)
def test_gradient_check_passes_a_right_gradient(student, rng):
    """gradient_check: data.ripple_bowl with its right gradient gives a relative error below 1e-7"""
    x = rng.uniform(-2.0, 2.0, size=(3, 2))
    error = student.gradcheck.gradient_check(student.data.ripple_bowl, student.data.ripple_bowl_grad, x)
    if type(error) not in (float, np.float64) or not 0.0 <= error < 1e-7:
        raise CheckFailure(
            "gradient_check(data.ripple_bowl, data.ripple_bowl_grad, x) must return a float below 1e-7 (the "
            f"gradient is right); it returned {error!r}."
        )
