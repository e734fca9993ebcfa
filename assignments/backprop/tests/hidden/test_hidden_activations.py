"""Hidden tests of activations.py: values against the reference in several shapes, with default and
other parameters; derivatives against central differences of the exact forward; stability at
extreme inputs (inputs unchanged there too); inputs left unchanged, results repeatable and nothing
remembered between calls."""

import pytest
from suite_support import (
    ACTIVATIONS,
    DERIVATIVES,
    EXTREME_POINTS,
    FUNCTIONS,
    STABLE,
    Again,
    Cases,
    Output,
    activation_input,
    activation_of,
    assert_activation_result,
    assert_no_warnings,
    call_unchanged,
    check_derivative,
    known_mistakes,
    known_values,
    named_cases,
    pure_and_repeatable,
)

from autograder.suite.checks import assert_array

SHAPES = {"1-d": (7,), "2-d": (5, 4), "3-d": (2, 3, 4)}


@pytest.mark.partial_credit
@pytest.mark.parametrize("function", named_cases("values vs reference", FUNCTIONS, 0.5))
def test_values_vs_reference(student, reference, rng, credit, function):
    activation = activation_of(function)
    settings = [
        (f"{shape_label} input, {label}", shape, params)
        for shape_label, shape in SHAPES.items()
        for label, params in activation.settings(rng, shape[-1])
    ]
    cases = Cases(credit, len(settings))
    for label, shape, params in settings:
        x = activation_input(rng, shape, activation, params)
        expected = getattr(reference.activations, function)(x, **params)
        got = getattr(student.activations, function)(x, **params)
        with cases.case(label):
            assert_activation_result(got, expected, function, x, params, reference.activations)
    cases.finish()


@pytest.mark.partial_credit
@pytest.mark.parametrize("name", named_cases("derivative of the exact forward (central differences)", DERIVATIVES, 0.5))
def test_derivative_of_the_exact_forward(student, reference, rng, credit, name):
    activation = activation_of(name)
    shape = (4, 5)
    params = activation.params(rng, shape[-1])
    x = activation_input(rng, shape, activation, params)
    derivative = getattr(student.activations, name)(x, **params)
    cases = Cases(credit, activation.derivative_results)
    check_derivative(
        cases,
        Output(getattr(reference.activations, activation.name)),
        activation,
        x,
        params,
        derivative,
        compared_with=f"the exact {activation.name}",
        rng=rng,
        candidates=known_mistakes(name, x, params, reference.activations),
        known=known_values(name, x, params, reference.activations),
    )
    cases.finish()


@pytest.mark.parametrize("function", named_cases("finite, accurate, no warnings for |x| up to 1e4", STABLE, 0.375))
def test_stable_at_extreme_inputs(student, reference, rng, function):
    x = rng.permutation(EXTREME_POINTS).reshape(2, -1)
    params = activation_of(function).params(rng, x.shape[-1])
    result = call_unchanged(getattr(student.activations, function), {"x": x}, **params)
    assert_no_warnings(result, function, "inputs of magnitude up to 1e4")
    expected = getattr(reference.activations, function)(x, **params)
    assert_array(result.value, expected, what=f"{function}(x) for |x| up to 1e4")


@pytest.mark.partial_credit
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            id=name,
            marks=[
                pytest.mark.points(0.25),
                pytest.mark.name(f"{name}, {name}_grad: inputs unchanged, results repeatable, nothing remembered"),
            ],
        )
        for name in ACTIVATIONS
    ],
)
def test_pure_and_repeatable(student, reference, rng, credit, name):
    activation = ACTIVATIONS[name]
    params = activation.params(rng, 4)
    x, other = (activation_input(rng, (3, 4), activation, params) for _ in range(2))
    cases = Cases(credit, 6)
    for function in (activation.name, activation.grad):
        again = Again({"x": other}, getattr(reference.activations, function)(other, **params), params)
        pure_and_repeatable(cases, getattr(student.activations, function), {"x": x}, again, **params)
    cases.finish()
