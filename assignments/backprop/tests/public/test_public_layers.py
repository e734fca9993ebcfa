"""Public tests of layers.py: hand-computed forward values, every backward against central
differences of your own forward (with a random upstream gradient), and the backward passes at the
kink z = 0."""

import numpy as np
import pytest
from suite_support import (
    CONTRACT,
    REGISTRY,
    Cases,
    activation_input,
    activation_layer_mistakes,
    affine_inputs,
    affine_mistakes,
    array_result,
    check_gradients,
    check_layer,
    describe_params,
    forward_output,
    layer_gradients,
    parts,
    prelu_inputs,
    prelu_slopes,
    wrong_branch_at_kink,
)

from autograder.suite.checks import assert_array, sampling


@pytest.mark.points(0.5)
def test_affine_forward_by_hand(student):
    """affine_forward: hand-computed values (out = x Wᵀ + b)"""
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    b = np.array([0.0, 1.0, -1.0, 10.0])
    expected = np.array([[1.0, 3.0, -1.0, 11.5], [3.0, 0.0, 6.0, 11.0], [0.0, 1.5, -1.5, 10.25]])
    out, _ = parts(student.layers.affine_forward(x.copy(), W.copy(), b.copy()), ("out", "cache"), "affine_forward")
    assert_array(out, expected, what="out returned by affine_forward", show_inputs={"x": x, "W": W, "b": b})


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_affine_backward_agrees_with_your_forward(student, rng, credit):
    """affine_backward: dx, dW, db agree with central differences of your affine_forward"""
    n, d, m = sampling.distinct_sizes(rng, 3, low=2, high=5)
    check_layer(
        credit,
        student.layers.affine_forward,
        student.layers.affine_backward,
        affine_inputs(rng, n, d, m),
        sampling.normal(rng, (n, m)),
        forward_output(student.layers.affine_forward, (n, m)),
        compared_with="your own affine_forward",
        rng=rng,
        candidates=affine_mistakes(m),
    )


@pytest.mark.points(0.5)
@pytest.mark.partial_credit
def test_activation_forward_uses_your_activations(student, rng, credit):
    """activation_forward: h equals your activation of that name, for every name of the registry"""
    cases = Cases(credit, len(REGISTRY))
    for activation in REGISTRY:
        params = activation.params(rng, 4)
        z = activation_input(rng, (3, 4), activation, params)
        with cases.case(activation.name):
            expected = array_result(getattr(student.activations, activation.name), z.copy(), shape=z.shape, **params)
            h, _ = parts(
                student.layers.activation_forward(z.copy(), activation.name, **params),
                ("h", "cache"),
                "activation_forward",
            )
            assert_array(
                h,
                expected,
                what=f"h returned by activation_forward for {activation.name!r} with {describe_params(params)}",
            )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_activation_backward_agrees_with_your_forward(student, rng, credit):
    """activation_backward: dz agrees with central differences of your activation_forward, for every name"""
    cases = Cases(credit, len(REGISTRY))
    for activation in REGISTRY:
        params = activation.params(rng, 4)
        inputs = {"z": activation_input(rng, (3, 4), activation, params)}
        upstream = sampling.normal(rng, (3, 4))
        grads = layer_gradients(
            student.layers.activation_forward,
            student.layers.activation_backward,
            inputs,
            upstream,
            activation.name,
            **params,
        )
        check_gradients(
            cases,
            forward_output(student.layers.activation_forward, upstream.shape, activation.name, **params),
            grads,
            inputs,
            upstream,
            function="activation_backward",
            rng=rng,
            kinks={"z": activation.kinks(params)},
            label=f"{activation.name}: ",
            compared_with=f"your own activation_forward for {activation.name!r} with {describe_params(params)}",
            candidates={"z": activation_layer_mistakes(CONTRACT, activation.name, inputs["z"], upstream, params)},
        )
    cases.finish()


@pytest.mark.points(0.25)
def test_prelu_forward_by_hand(student):
    """prelu_forward: hand-computed values with one slope per unit"""
    z = np.array([[1.0, -2.0, 3.0], [-1.0, 0.5, -4.0]])
    alpha = np.array([0.1, 0.25, 0.5])
    expected = np.array([[1.0, -0.5, 3.0], [-0.1, 0.5, -2.0]])
    h, _ = parts(student.layers.prelu_forward(z.copy(), alpha.copy()), ("h", "cache"), "prelu_forward")
    assert_array(h, expected, what="h returned by prelu_forward", show_inputs={"z": z, "alpha": alpha})


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_prelu_backward_agrees_with_your_forward(student, rng, credit):
    """prelu_backward: dz and dalpha agree with central differences of your prelu_forward"""
    n, m = sampling.distinct_sizes(rng, 2, low=2, high=5)
    check_layer(
        credit,
        student.layers.prelu_forward,
        student.layers.prelu_backward,
        prelu_inputs(rng, n, m),
        sampling.normal(rng, (n, m)),
        forward_output(student.layers.prelu_forward, (n, m)),
        compared_with="your own prelu_forward",
        rng=rng,
        kinks={"z": (0.0,)},
    )


BELOW_THE_KINK = {
    "relu": lambda z, **params: np.zeros_like(z),
    "leaky_relu": lambda z, slope: np.full_like(z, slope),
    "elu": lambda z, alpha: alpha * np.exp(z),
}
"""f'(z) on the z <= 0 side of the kinked activations of the registry."""


@pytest.mark.points(0.25)
@pytest.mark.partial_credit
def test_backward_at_the_kink(student, rng, credit):
    """activation_backward, prelu_backward: the z <= 0 branch at z = 0"""
    z = np.array([[-1.0, 0.0, 1.0], [0.0, 2.0, -0.5]])
    dh = rng.uniform(0.5, 2.0, size=z.shape)
    kinked = [a for a in REGISTRY if a.kinked]
    cases = Cases(credit, len(kinked) + 1)
    for activation in kinked:
        params = activation.params(rng, z.shape[-1])
        expected = dh * np.where(z > 0, 1.0, BELOW_THE_KINK[activation.name](z, **params))
        with cases.case(activation.name):
            dz = layer_gradients(
                student.layers.activation_forward,
                student.layers.activation_backward,
                {"z": z.copy()},
                dh.copy(),
                activation.name,
                **params,
            )["z"]
            assert_array(
                dz,
                expected,
                what=f"dz returned by activation_backward for {activation.name!r} with {describe_params(params)}",
                show_inputs={"z": z, "dh": dh},
                candidates=wrong_branch_at_kink(np.where(z == 0, dh, expected), "z"),
            )
    alpha = prelu_slopes(rng, z.shape[-1])
    with cases.case("prelu"):
        dz, _ = layer_gradients(
            student.layers.prelu_forward,
            student.layers.prelu_backward,
            {"z": z.copy(), "alpha": alpha.copy()},
            dh.copy(),
        ).values()
        expected = dh * np.where(z > 0, 1.0, alpha)
        assert_array(
            dz,
            expected,
            what="dz returned by prelu_backward",
            show_inputs={"z": z, "alpha": alpha, "dh": dh},
            candidates=wrong_branch_at_kink(np.where(z == 0, dh, expected), "z"),
        )
    cases.finish()
