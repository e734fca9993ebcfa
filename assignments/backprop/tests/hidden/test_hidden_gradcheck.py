"""Hidden tests of gradcheck.py: values against the reference (with the provided function
data.ripple_bowl and other steps h), x bitwise unchanged, repeatable results."""

import numpy as np
import pytest
from suite_support import (
    Again,
    Cases,
    call_unchanged,
    forward_differences,
    named_cases,
    not_round_tripping,
    pure_and_repeatable,
    relative_error_mistakes,
)

from autograder.suite.checks import assert_array, assert_scalar

STEPS = {"default h": {}, "h = 1e-3": {"h": 1e-3}, "h = 1e-2": {"h": 1e-2}}
SHAPES = [(5,), (2, 3), (2, 2, 2)]


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_relative_error_values(student, reference, rng, credit):
    """relative_error: values vs reference (random arrays, zeros and tiny entries)"""
    cases = Cases(credit, len(SHAPES))
    for shape in SHAPES:
        a = rng.normal(size=shape)
        b = a + rng.normal(scale=1e-3, size=shape)
        a.flat[0], b.flat[0] = 0.0, 0.0
        a.flat[1], b.flat[1] = rng.uniform(1e-10, 1e-9), 0.0
        expected = reference.gradcheck.relative_error(a, b)
        got = student.gradcheck.relative_error(a, b)
        with cases.case(f"shape {shape}"):
            assert_scalar(got, expected, what="relative_error(a, b)", candidates=relative_error_mistakes(a, b))
    cases.finish()


IGNORES_H = "the step h argument is ignored (the default h = 1e-5 is used)"


def numerical_gradient_mistakes(reference, provided, x, options):
    """Known wrong numerical gradients of data.ripple_bowl at x."""
    f = provided.data.ripple_bowl
    return {
        **forward_differences(f, x, options.get("h", 1e-5)),
        IGNORES_H: reference.gradcheck.numerical_gradient(f, x.copy()),
    }


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_numerical_gradient_values(student, reference, provided, rng, credit):
    """numerical_gradient: values vs reference, for several shapes and steps h"""
    settings = [(shape, label, options) for shape, (label, options) in zip(SHAPES, STEPS.items())]
    cases = Cases(credit, len(settings))
    for shape, label, options in settings:
        x = rng.uniform(-2.0, 2.0, size=shape)
        expected = reference.gradcheck.numerical_gradient(provided.data.ripple_bowl, x.copy(), **options)
        got = student.gradcheck.numerical_gradient(student.data.ripple_bowl, x, **options)
        with cases.case(f"shape {shape}, {label}"):
            assert_array(
                got,
                expected,
                rtol=1e-9,
                atol=1e-12,
                what=f"numerical_gradient(data.ripple_bowl, x, {label})",
                candidates=numerical_gradient_mistakes(reference, provided, x, options),
            )
    cases.finish()


@pytest.mark.points(1.5)
def test_numerical_gradient_restores_x(student, rng):
    """numerical_gradient: x holds bitwise its original values afterwards"""
    x = not_round_tripping(rng, (3, 4), h=1e-5)
    call_unchanged(student.gradcheck.numerical_gradient, {"f": student.data.ripple_bowl, "x": x})


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_gradient_check_values(student, reference, provided, rng, credit):
    """gradient_check: values vs reference with larger steps h (whose error is visible)"""
    settings = [(shape, label, options) for shape, (label, options) in zip(SHAPES[1:], list(STEPS.items())[1:])]
    cases = Cases(credit, len(settings))
    for shape, label, options in settings:
        x = rng.uniform(-2.0, 2.0, size=shape)
        expected = reference.gradcheck.gradient_check(
            provided.data.ripple_bowl, provided.data.ripple_bowl_grad, x.copy(), **options
        )
        got = student.gradcheck.gradient_check(student.data.ripple_bowl, student.data.ripple_bowl_grad, x, **options)
        default_step = reference.gradcheck.gradient_check(
            provided.data.ripple_bowl, provided.data.ripple_bowl_grad, x.copy()
        )
        with cases.case(f"shape {shape}, {label}"):
            assert_scalar(
                got,
                expected,
                rtol=1e-5,
                atol=1e-12,
                candidates={IGNORES_H: default_step},
                what=f"gradient_check(data.ripple_bowl, data.ripple_bowl_grad, x, {label})",
            )
    cases.finish()


GRADCHECK_FUNCTIONS = ["relative_error", "numerical_gradient", "gradient_check"]


@pytest.mark.partial_credit
@pytest.mark.parametrize(
    "function", named_cases("arguments unchanged, results repeatable, nothing remembered", GRADCHECK_FUNCTIONS, 0.5)
)
def test_pure_and_repeatable(student, reference, provided, rng, credit, function):
    def arguments(data, x):
        """The arguments at x, with the functions of ``data`` (the worker's or this process's)."""
        return {
            "relative_error": {"a": x, "b": x + 1e-3 * np.cos(x)},
            "numerical_gradient": {"f": data.ripple_bowl, "x": x},
            "gradient_check": {"f": data.ripple_bowl, "grad_f": data.ripple_bowl_grad, "x": x},
        }[function]

    x, other = (not_round_tripping(rng, (2, 3), h=1e-5) for _ in range(2))
    expected = getattr(reference.gradcheck, function)(*arguments(provided.data, other.copy()).values())
    cases = Cases(credit, 3)
    pure_and_repeatable(
        cases,
        getattr(student.gradcheck, function),
        arguments(student.data, x),
        Again(arguments(student.data, other), expected),
    )
    cases.finish()
