"""Hidden tests of layers.py: forward values against the reference, backward gradients against
central differences of the exact layers (with a random upstream gradient; one large layer along
random directions), inputs left unchanged (a cache may hold anything), results repeatable and
nothing remembered between calls, for every activation of the registry."""

from functools import partial

import numpy as np
import pytest
from suite_support import (
    EXTREME_POINTS,
    REGISTRY,
    Again,
    Cases,
    Output,
    activation_input,
    activation_layer_mistakes,
    affine_inputs,
    affine_mistakes,
    check_gradients,
    check_layer,
    describe_params,
    layer_gradients,
    named_cases,
    parts,
    prelu_inputs,
    pure_and_repeatable,
)

from autograder.suite.checks import assert_array, sampling


def exact_output(forward, *settings, **options):
    """The output of a reference layer forward."""
    return Output(forward, settings, options, lambda result: result[0])


def gradient_cases(layer, names):
    """One pytest param per gradient of a layer's backward, shown as "<layer>_backward: d<name> of the exact layer"."""
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.name(f"{layer}_backward: d{name} of the exact layer"), pytest.mark.points(0.75)],
        )
        for name in names
    ]


@pytest.mark.points(1.0)
def test_affine_forward_values(student, reference, rng):
    """affine_forward: values vs reference"""
    inputs = affine_inputs(rng, *sampling.distinct_sizes(rng, 3))
    expected, _ = reference.layers.affine_forward(*inputs.values())
    out, _ = parts(student.layers.affine_forward(*inputs.values()), ("out", "cache"), "affine_forward")
    assert_array(out, expected, what="out returned by affine_forward")


@pytest.mark.partial_credit
@pytest.mark.parametrize("wrt", gradient_cases("affine", ("x", "W", "b")))
def test_affine_backward_gradient(student, reference, rng, credit, wrt):
    n, d, m = sampling.distinct_sizes(rng, 3)
    check_layer(
        credit,
        student.layers.affine_forward,
        student.layers.affine_backward,
        affine_inputs(rng, n, d, m),
        sampling.normal(rng, (n, m)),
        exact_output(reference.layers.affine_forward),
        compared_with="the exact affine layer",
        rng=rng,
        wrt=(wrt,),
        candidates=affine_mistakes(m),
    )


@pytest.mark.points(0.5)
@pytest.mark.partial_credit
def test_affine_backward_large_layer(student, reference, rng, credit):
    """affine_backward: a large layer, along random directions"""
    n, d, m = 64, 48, 40
    check_layer(
        credit,
        student.layers.affine_forward,
        student.layers.affine_backward,
        affine_inputs(rng, n, d, m),
        sampling.normal(rng, (n, m)),
        exact_output(reference.layers.affine_forward),
        compared_with="the exact affine layer",
        rng=rng,
        full_threshold=0,
    )


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_activation_forward_values(student, reference, rng, credit):
    """activation_forward: values vs reference, for every name, with parameters"""
    cases = Cases(credit, len(REGISTRY))
    for activation in REGISTRY:
        params = activation.params(rng, 3)
        z = activation_input(rng, (4, 3), activation, params)
        expected, _ = reference.layers.activation_forward(z, activation.name, **params)
        with cases.case(activation.name):
            h, _ = parts(
                student.layers.activation_forward(z, activation.name, **params), ("h", "cache"), "activation_forward"
            )
            assert_array(
                h,
                expected,
                what=f"h returned by activation_forward for {activation.name!r} with {describe_params(params)}",
            )
    cases.finish()


@pytest.mark.points(1.75)
@pytest.mark.partial_credit
def test_activation_backward_gradient(student, reference, rng, credit):
    """activation_backward: dz of the exact layer, for every name, with parameters"""
    cases = Cases(credit, len(REGISTRY))
    for activation in REGISTRY:
        params = activation.params(rng, 3)
        inputs = {"z": activation_input(rng, (4, 3), activation, params)}
        upstream = sampling.normal(rng, (4, 3))
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
            exact_output(reference.layers.activation_forward, activation.name, **params),
            grads,
            inputs,
            upstream,
            function="activation_backward",
            rng=rng,
            kinks={"z": activation.kinks(params)},
            label=f"{activation.name}: ",
            compared_with=f"the exact {activation.name!r} layer with {describe_params(params)}",
            candidates={
                "z": activation_layer_mistakes(reference.activations, activation.name, inputs["z"], upstream, params)
            },
        )
    cases.finish()


@pytest.mark.points(0.5)
def test_prelu_forward_values(student, reference, rng):
    """prelu_forward: values vs reference"""
    inputs = prelu_inputs(rng, *sampling.distinct_sizes(rng, 2))
    expected, _ = reference.layers.prelu_forward(*inputs.values())
    h, _ = parts(student.layers.prelu_forward(*inputs.values()), ("h", "cache"), "prelu_forward")
    assert_array(h, expected, what="h returned by prelu_forward")


@pytest.mark.partial_credit
@pytest.mark.parametrize("wrt", gradient_cases("prelu", ("z", "alpha")))
def test_prelu_backward_gradient(student, reference, rng, credit, wrt):
    n, m = sampling.distinct_sizes(rng, 2)
    inputs = prelu_inputs(rng, n, m)
    upstream = sampling.normal(rng, (n, m))
    z, alpha = inputs.values()
    mistakes = {
        "alpha": {
            "dalpha is computed from the layer's output h = alpha·z instead of its input z (the "
            "forward caches h instead of z)": (upstream * np.where(z > 0, 0.0, alpha * z)).sum(axis=0)
        }
    }
    check_layer(
        credit,
        student.layers.prelu_forward,
        student.layers.prelu_backward,
        inputs,
        upstream,
        exact_output(reference.layers.prelu_forward),
        compared_with="the exact PReLU layer",
        rng=rng,
        wrt=(wrt,),
        kinks={"z": (0.0,)},
        candidates=mistakes,
    )


def layer_settings(layer, rng):
    """(label, draw) for each setting of a layer's purity test: ``draw()`` gives new arguments of
    the layer's forward by name, of the same shapes each time, and its keyword parameters. The
    activation layer: every name of the registry with parameters, on inputs with an entry at the
    kink 0 and, for the names that must be stable, entries of magnitude up to 1e4."""
    if layer == "affine":
        sizes = sampling.distinct_sizes(rng, 3)
        return [("", lambda: (affine_inputs(rng, *sizes), {}))]
    if layer == "prelu":
        sizes = sampling.distinct_sizes(rng, 2)
        return [("", lambda: (prelu_inputs(rng, *sizes), {}))]

    def draw(activation, params):
        z = activation_input(rng, (3, 4), activation, params)
        z[0, 0] = 0.0
        if activation.stable:
            z = np.concatenate([z.reshape(-1), rng.permutation(EXTREME_POINTS)]).reshape(2, -1)
        return {"z": z, "name": activation.name}, params

    return [(f"{activation.name}: ", partial(draw, activation, activation.params(rng, 11))) for activation in REGISTRY]


LAYERS = ("affine", "activation", "prelu")
LAYER_FUNCTIONS = [f"{layer}_{direction}" for layer in LAYERS for direction in ("forward", "backward")]
UPSTREAM = {"affine": "dout", "activation": "dh", "prelu": "dh"}
"""The name of each layer backward's upstream gradient, as the contract writes it."""


def backward_arguments(student, reference, rng, layer, forward_arguments, params):
    """The arguments of the student's ``<layer>_backward`` (by name) after their forward on
    ``forward_arguments``, with a random upstream gradient, and the exact gradients for them."""
    forward = f"{layer}_forward"
    out, cache = parts(
        getattr(student.layers, forward)(*forward_arguments.values(), **params), ("out", "cache"), forward
    )
    upstream = sampling.normal(rng, np.shape(out))
    _, exact_cache = getattr(reference.layers, forward)(*forward_arguments.values(), **params)
    return {UPSTREAM[layer]: upstream, "cache": cache}, getattr(reference.layers, f"{layer}_backward")(
        upstream, exact_cache
    )


@pytest.mark.partial_credit
@pytest.mark.parametrize(
    "function", named_cases("arguments unchanged, results repeatable, nothing remembered", LAYER_FUNCTIONS, 0.25)
)
def test_pure_and_repeatable(student, reference, rng, credit, function):
    """A forward: its inputs unchanged, out a new array (the cache may hold anything); a backward:
    the upstream gradient and the arrays of a plain cache unchanged; both repeatable and
    remembering nothing between calls."""
    layer, direction = function.rsplit("_", 1)
    settings = layer_settings(layer, rng)
    cases = Cases(credit, 3 * len(settings))
    for label, draw in settings:
        (arguments, params), (other, _) = draw(), draw()
        if direction == "forward":
            again = Again(other, getattr(reference.layers, function)(*other.values(), **params)[0], params)
            pure_and_repeatable(
                cases, getattr(student.layers, function), arguments, again, cache=1, label=label, **params
            )
        else:
            arguments, _ = backward_arguments(student, reference, rng, layer, arguments, params)
            again = Again(*backward_arguments(student, reference, rng, layer, other, params))
            pure_and_repeatable(cases, getattr(student.layers, function), arguments, again, label=label)
    cases.finish()
