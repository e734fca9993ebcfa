"""Hidden tests of activations.py: values against the reference in several shapes, with default and
other parameters; derivatives against central differences of the exact forward; stability at
extreme inputs; inputs left unchanged and results repeatable."""

import numpy as np
import pytest
from scipy import special

from autograder.checks import assert_array, check_gradient
from suite_support import (
    ACTIVATIONS,
    EXTREME_POINTS,
    Cases,
    activation_input,
    assert_no_warnings,
    assert_repeatable,
    call_unchanged,
    lead,
    named_cases,
    parts,
    prelu_slopes,
)

SHAPES = {"1-d": (7,), "2-d": (5, 4), "3-d": (2, 3, 4)}
FUNCTIONS = [name for a in ACTIVATIONS.values() for name in (a.name, a.grad)]
DERIVATIVES = [a.grad for a in ACTIVATIONS.values()]
STABLE = [name for a in ACTIVATIONS.values() if a.stable for name in (a.name, a.grad)]


def activation_of(function):
    return ACTIVATIONS[function.removesuffix("_grad")]


def parameter_settings(activation, rng, features):
    """(label, keyword arguments): the defaults and a value away from them; for PReLU a scalar
    slope and one slope per feature."""
    if activation.name == "prelu":
        return [("scalar alpha", {"alpha": float(rng.uniform(0.05, 0.95))}),
                ("one alpha per feature", {"alpha": prelu_slopes(rng, features)})]  # fmt: skip
    settings = [("default parameters", {})]
    if activation.parameter:
        settings.append((f"{activation.parameter} != default", activation.params(rng)))
    return settings


def tanh_approximate_gelu(x):
    inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def tanh_approximate_gelu_grad(x):
    inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    slope = np.sqrt(2.0 / np.pi) * (1.0 + 3 * 0.044715 * x**2)
    return 0.5 * (1.0 + np.tanh(inner)) + 0.5 * x * (1.0 - np.tanh(inner) ** 2) * slope


def known_mistakes(function, x, params, ref):
    """Explanation -> the wrong value that mistake gives, for ``function`` at ``x``."""
    sigma = ref.sigmoid
    mistakes = {
        "sigmoid_grad": lambda: {
            "the derivative is evaluated at the output σ(x) instead of the input x": ref.sigmoid_grad(sigma(x)),
            "the formula s·(1 − s), meant for the output s = σ(x), is applied to the input x": x * (1.0 - x),
        },
        "tanh_grad": lambda: {
            "the derivative is evaluated at the output tanh(x) instead of the input x": ref.tanh_grad(ref.tanh(x)),
            "the formula 1 − t², meant for the output t = tanh(x), is applied to the input x": 1.0 - x**2,
        },
        "threshold": lambda: {"theta is ignored (x is compared with 0)": ref.threshold(x)},
        "leaky_relu": lambda: {"the slope argument is ignored (the default 0.01 is used)": ref.leaky_relu(x)},
        "leaky_relu_grad": lambda: {
            "the slope argument is ignored (the default 0.01 is used)": ref.leaky_relu_grad(x)
        },
        "prelu": lambda: {
            "the branches are swapped (alpha·x where x > 0, x elsewhere)": np.where(x > 0, params["alpha"] * x, x)
        },
        "elu": lambda: {"alpha is ignored (the default 1 is used)": ref.elu(x)},
        "elu_grad": lambda: {"alpha is ignored (the default 1 is used)": ref.elu_grad(x)},
        "swish": lambda: {"beta is ignored (the default 1 is used)": ref.swish(x)},
        "swish_grad": lambda: {
            "beta is ignored (the default 1 is used)": ref.swish_grad(x),
            "the chain-rule factor beta of σ(beta·x) is missing: σ(βx) + x·σ(βx)(1 − σ(βx))":
                sigma(params.get("beta", 1.0) * x) * (1.0 + x * sigma(-params.get("beta", 1.0) * x)),
        },
        "gelu": lambda: {
            "the tanh approximation of GELU is used; the contract asks for the exact x·Φ(x) through erf":
                tanh_approximate_gelu(x),
            "Φ(x) is computed as (1 + erf(x))/2 instead of (1 + erf(x/√2))/2": 0.5 * x * (1.0 + special.erf(x)),
        },
        "gelu_grad": lambda: {
            "the x·φ(x) term of the product rule is missing (only Φ(x) is returned)": ref.gelu(x) / x,
            "the derivative of the tanh approximation of GELU is used, not of the exact x·Φ(x)":
                tanh_approximate_gelu_grad(x),
        },
    }  # fmt: skip
    return mistakes.get(function, dict)()


def prelu_grad_mistakes(x, alpha):
    """Known mistakes of prelu_grad, for each of its two results."""
    return (
        {"dfdx uses 1 and alpha on the wrong sides of 0": np.where(x > 0, alpha * np.ones_like(x), 1.0)},
        {"the branches of dfdalpha are swapped (x where x > 0, 0 elsewhere)": np.where(x > 0, x, 0.0)},
    )


@pytest.mark.partial_credit
@pytest.mark.parametrize("function", named_cases("values vs reference", FUNCTIONS, 0.5))
def test_values_vs_reference(student, reference, rng, credit, function):
    activation = activation_of(function)
    settings = [(f"{shape_label}, {label}", shape, params)
                for shape_label, shape in SHAPES.items()
                for label, params in parameter_settings(activation, rng, shape[-1])]  # fmt: skip
    cases = Cases(credit, len(settings))
    for label, shape, params in settings:
        x = activation_input(rng, shape, activation, params)
        expected = getattr(reference.activations, function)(x, **params)
        got = getattr(student.activations, function)(x, **params)
        with cases.case(label):
            if function == "prelu_grad":
                got = parts(got, ("dfdx", "dfdalpha"), function)
                for name, got_part, expected_part, mistakes in zip(
                    ("dfdx", "dfdalpha"), got, expected, prelu_grad_mistakes(x, params["alpha"])
                ):
                    assert_array(got_part, expected_part, what=f"{name} returned by prelu_grad", candidates=mistakes)
            else:
                assert_array(got, expected, what=f"{function}(x)",
                             candidates=known_mistakes(function, x, params, reference.activations))  # fmt: skip
    cases.finish()


@pytest.mark.partial_credit
@pytest.mark.parametrize("name", named_cases("derivative of the exact forward (central differences)", DERIVATIVES, 0.5))
def test_derivative_of_the_exact_forward(student, reference, rng, credit, name):
    activation = activation_of(name)
    shape = (4, 5)
    params = {"alpha": prelu_slopes(rng, shape[-1])} if activation.name == "prelu" else activation.params(rng)
    x = activation_input(rng, shape, activation, params)
    exact = getattr(reference.activations, activation.name)
    derivative = getattr(student.activations, name)(x, **params)
    if activation.name == "prelu":
        dfdx, dfdalpha = parts(derivative, ("dfdx", "dfdalpha"), name)
        mistakes = prelu_grad_mistakes(x, params["alpha"])
        # With one slope per entry, the derivative along a slope is the elementwise ∂f/∂alpha.
        checks = [("dfdx", dfdx, "x", mistakes[0]), ("dfdalpha", dfdalpha, "alpha", mistakes[1])]
        params = {"alpha": np.broadcast_to(params["alpha"], shape).copy()}
    else:
        checks = [(name, derivative, "x", known_mistakes(name, x, params, reference.activations))]
    cases = Cases(credit, len(checks))
    for label, analytic, wrt, mistakes in checks:
        with cases.case(label), lead(f"Compared with central differences of the exact {activation.name}:"):
            check_gradient(
                lambda **inputs: exact(inputs.pop("x"), **inputs), analytic, {"x": x, **params},
                np.ones(shape), wrt, what=f"{label} returned by {name}", rng=rng,
                kinks=activation.kinks(params) if wrt == "x" else (), candidates=mistakes,
            )  # fmt: skip
    cases.finish()


@pytest.mark.parametrize("function", named_cases("finite, accurate, no warnings for |x| up to 1e4", STABLE, 0.4))
def test_stable_at_extreme_inputs(student, reference, rng, function):
    activation = activation_of(function)
    params = activation.params(rng)
    x = rng.permutation(EXTREME_POINTS).reshape(2, -1)
    result = getattr(student.activations, function).call(x, **params)
    assert_no_warnings(result, function, "inputs of magnitude up to 1e4")
    expected = getattr(reference.activations, function)(x, **params)
    assert_array(result.value, expected, what=f"{function}(x) for |x| up to 1e4")


@pytest.mark.partial_credit
@pytest.mark.parametrize("name", named_cases("inputs unchanged, results repeatable", ACTIVATIONS, 0.25))
def test_pure_and_repeatable(student, rng, credit, name):
    activation = ACTIVATIONS[name]
    x = activation_input(rng, (3, 4), activation, {})
    params = {"alpha": prelu_slopes(rng, 4)} if name == "prelu" else activation.params(rng)
    functions = [getattr(student.activations, f) for f in (activation.name, activation.grad)]
    cases = Cases(credit, 2 * len(functions))
    for function in functions:
        with cases.case(f"{activation.name}: x unchanged"):
            call_unchanged(function, {"x": x}, **params)
        with cases.case(f"{activation.name}: repeatable"):
            assert_repeatable(function, {"x": x}, **params)
    cases.finish()
