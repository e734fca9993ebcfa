"""Public tests of activations.py: values from the contract's formulas, the value at each kink, and
every derivative against central differences of your own forward function."""

import numpy as np
import pytest
from suite_support import (
    CONTRACT,
    DERIVATIVES,
    FORMULAS,
    FUNCTIONS,
    Cases,
    activation_input,
    activation_of,
    array_result,
    assert_activation_result,
    check_derivative,
    known_mistakes,
    known_values,
    named_cases,
    parts,
    values_output,
    wrong_branch_at_kink,
)

from autograder.suite.checks import assert_array

SHAPE = (2, 3)


@pytest.mark.partial_credit
@pytest.mark.parametrize("function", named_cases("values from the formula", FUNCTIONS, 0.25))
def test_values_from_the_formula(student, rng, credit, function):
    activation = activation_of(function)
    settings = activation.settings(rng, SHAPE[-1])
    cases = Cases(credit, len(settings))
    for label, params in settings:
        x = activation_input(rng, SHAPE, activation, params)
        expected = FORMULAS[function](x, **params)
        got = getattr(student.activations, function)(x.copy(), **params)
        with cases.case(label):
            assert_activation_result(got, expected, function, x, params, CONTRACT, show_inputs={"x": x, **params})
    cases.finish()


KINKS = {
    "threshold": "theta",
    "relu_grad": None,
    "leaky_relu_grad": "slope",
    "prelu_grad": "alpha",
    "elu_grad": "alpha",
}
"""Functions whose value at the kink is a convention, with their parameter."""


@pytest.mark.parametrize("function", named_cases("value at the kink (the x <= 0 branch)", KINKS, 0.25))
def test_value_at_the_kink(student, rng, function):
    parameter = KINKS[function]
    params = {parameter: float(rng.uniform(0.2, 0.8))} if parameter else {}
    kink = params.get("theta", 0.0)
    x = np.array([kink - 1.0, kink, kink + 1.0])
    expected = FORMULAS[function](x, **params)
    wrong_branch = (expected[0] if function == "prelu_grad" else expected).copy()
    wrong_branch[1] = 1.0  # the value of the x > kink branch
    cause = wrong_branch_at_kink(wrong_branch, kink=kink)
    got = getattr(student.activations, function)(x.copy(), **params)
    if function == "prelu_grad":
        dfdx, dfdalpha = parts(got, ("dfdx", "dfdalpha"), function)
        shown = {"x": x, **params}
        assert_array(dfdx, expected[0], what="dfdx returned by prelu_grad", show_inputs=shown, candidates=cause)
        assert_array(dfdalpha, expected[1], what="dfdalpha returned by prelu_grad", show_inputs=shown)
    else:
        assert_array(got, expected, what=f"{function}(x)", show_inputs={"x": x, **params}, candidates=cause)


@pytest.mark.partial_credit
@pytest.mark.parametrize("name", named_cases("agrees with central differences of your own forward", DERIVATIVES, 0.5))
def test_derivative_agrees_with_your_forward(student, rng, credit, name):
    activation = activation_of(name)
    shape = (3, 4)
    params = activation.params(rng, shape[-1])
    x = activation_input(rng, shape, activation, params)
    forward = getattr(student.activations, activation.name)
    derivative = getattr(student.activations, name)(x.copy(), **params)
    cases = Cases(credit, activation.derivative_results)
    check_derivative(
        cases,
        values_output(forward, shape),
        activation,
        x,
        params,
        derivative,
        compared_with=f"your own {activation.name}",
        rng=rng,
        candidates=known_mistakes(name, x, params, CONTRACT),
        known=known_values(name, x, params, CONTRACT),
    )
    cases.finish()


@pytest.mark.points(0.25)
def test_tanh_is_a_scaled_sigmoid(student, rng):
    """tanh: the identity tanh(x) = 2σ(2x) − 1 with your sigmoid"""
    x = rng.uniform(-3.0, 3.0, size=SHAPE)
    from_sigmoid = 2.0 * array_result(student.activations.sigmoid, 2.0 * x, shape=SHAPE) - 1.0
    assert_array(
        student.activations.tanh(x.copy()),
        from_sigmoid,
        what="tanh(x)",
        rtol=1e-6,
        atol=1e-9,
        show_inputs={"x": x, "2·sigmoid(2x) − 1": from_sigmoid},
    )
