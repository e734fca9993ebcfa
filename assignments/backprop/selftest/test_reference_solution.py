"""The reference solution of the backprop assignment follows the student-facing contract.

Values are compared with formulas written here independently (scalar ``math`` formulas, explicit
loops, known identities); gradients with central differences computed here, with a random
upstream gradient and at points away from kinks; kink conventions with explicit value tests.
Every function is also checked for stability (no floating-point warning, finite and accurate
results for |x| up to 1e4), purity (arguments bitwise unchanged, results not aliasing them) and
repeatability (bitwise identical results on a second call).
"""

import contextlib
import copy
import importlib
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

SOLUTION = Path(__file__).resolve().parents[3] / "solutions" / "backprop"
MODULE_NAMES = ("activations", "layers", "network", "optim", "gradcheck")


def import_solution_modules():
    """Import the solution's flat-named modules, then take them out of ``sys.modules`` again.

    The modules import each other by flat name (``import layers``), as they do when graded; other
    folders (e.g. the student template) hold modules of the same names, so ``sys.path`` and
    ``sys.modules`` are restored afterwards. The modules keep their references to each other.
    """
    saved_path = list(sys.path)
    saved_modules = {name: sys.modules.pop(name) for name in MODULE_NAMES if name in sys.modules}
    sys.path.insert(0, str(SOLUTION))
    try:
        return [importlib.import_module(name) for name in MODULE_NAMES]
    finally:
        sys.path[:] = saved_path
        for name in MODULE_NAMES:
            sys.modules.pop(name, None)
        sys.modules.update(saved_modules)


activations, layers, network, optim, gradcheck = import_solution_modules()

# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------

H = 1e-6
"""Step of the central differences computed by these tests."""


def rng_for(test_name):
    """A generator seeded by the test's name, so every test draws its own fixed numbers."""
    return np.random.default_rng(sum(test_name.encode()))


def away_from(points, kink, margin=0.05):
    """``points`` with every entry closer than ``margin`` to ``kink`` moved 2·margin away."""
    return np.where(np.abs(points - kink) < margin, points + 2 * margin, points)


def numerical_vjp(function, array, upstream, h=H):
    """Σ upstream · ∂function/∂array by central differences, perturbing a copy of ``array``.

    ``function`` maps an array shaped like ``array`` to an array (or a float when ``upstream`` is
    1.0); the result is shaped like ``array``.
    """
    point = np.array(array, dtype=np.float64)
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        plus = np.sum(upstream * function(point))
        point[index] = original - h
        minus = np.sum(upstream * function(point))
        point[index] = original
        gradient[index] = (plus - minus) / (2 * h)
    return gradient


def assert_array(actual, shape, dtype=np.float64):
    """``actual`` is a plain ndarray of exactly ``shape`` and ``dtype``."""
    assert type(actual) is np.ndarray, f"expected numpy.ndarray, got {type(actual).__name__}"
    assert actual.dtype == dtype, f"expected dtype {np.dtype(dtype)}, got {actual.dtype}"
    assert actual.shape == tuple(shape), f"expected shape {tuple(shape)}, got {actual.shape}"


def assert_values(actual, expected, rtol=1e-7, atol=1e-12):
    """``actual`` is a float64 ndarray shaped like ``expected`` and equal to it within tolerance."""
    expected = np.asarray(expected, dtype=np.float64)
    assert_array(actual, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_gradient(analytic, numeric):
    """An analytic gradient agrees with central differences (shape, dtype and values)."""
    assert_values(analytic, numeric, rtol=1e-5, atol=1e-8)


def snapshot(value):
    """A deep copy of arrays, dicts, lists and tuples, to detect later modifications."""
    return copy.deepcopy(value)


def assert_bitwise_equal(actual, expected):
    """Two (nested) structures of arrays and numbers hold bitwise the same values."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected)
        for key in expected:
            assert_bitwise_equal(actual[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for item_actual, item_expected in zip(actual, expected):
            assert_bitwise_equal(item_actual, item_expected)
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray)
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.tobytes() == expected.tobytes()
    else:
        assert type(actual) is type(expected) and (actual == expected or actual != actual)


def arrays_in(value):
    """Every ndarray inside a (nested) structure of dicts, lists and tuples."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in arrays_in(item)]
    return []


def assert_pure_and_repeatable(function, *args, **kwargs):
    """Calling ``function`` leaves its arguments bitwise unchanged, returns arrays that share no
    memory with them, and gives bitwise the same result when called again."""
    before = snapshot((args, kwargs))
    first = function(*args, **kwargs)
    assert_bitwise_equal((args, kwargs), before)
    second = function(*args, **kwargs)
    assert_bitwise_equal(second, first)
    for result in arrays_in(first):
        for argument in arrays_in((args, kwargs)):
            assert not np.shares_memory(result, argument), "a returned array aliases an argument"
    return first


@contextlib.contextmanager
def floating_point_warnings_as_errors():
    """Turn overflow, divide-by-zero and invalid-value warnings into errors (underflow is fine)."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


# ----------------------------------------------------------------------------------------------
# activations.py
# ----------------------------------------------------------------------------------------------


def scalar_sigmoid(v):
    """σ(v) by the textbook formula, on the side where the exponential cannot overflow."""
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def scalar_normal_cdf(v):
    return 0.5 * math.erfc(-v / math.sqrt(2.0))


def scalar_normal_pdf(v):
    return math.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class ActivationCase:
    """An activation with parameters away from its defaults and independent scalar formulas."""

    name: str
    forward: Callable
    derivative: Callable
    value: Callable[[float], float]
    slope: Callable[[float], float]
    params: dict = field(default_factory=dict)
    kink: float = 0.0
    stable: bool = True
    """Whether the contract requires stability for |x| up to 1e4."""

    def __str__(self):
        return self.name


SLOPE, ELU_ALPHA, SWISH_BETA, THETA = 0.2, 1.7, 1.5, 0.3

ACTIVATION_CASES = [
    ActivationCase(
        "threshold",
        activations.threshold,
        activations.threshold_grad,
        lambda v: 1.0 if v > THETA else 0.0,
        lambda v: 0.0,
        {"theta": THETA},
        kink=THETA,
        stable=False,
    ),
    ActivationCase(
        "sigmoid",
        activations.sigmoid,
        activations.sigmoid_grad,
        scalar_sigmoid,
        lambda v: math.exp(-abs(v)) / (1.0 + math.exp(-abs(v))) ** 2,
    ),
    ActivationCase(
        "tanh",
        activations.tanh,
        activations.tanh_grad,
        math.tanh,
        lambda v: 1.0 / math.cosh(v) ** 2 if abs(v) < 700 else 0.0,
    ),
    ActivationCase(
        "relu",
        activations.relu,
        activations.relu_grad,
        lambda v: v if v > 0 else 0.0,
        lambda v: 1.0 if v > 0 else 0.0,
        stable=False,
    ),
    ActivationCase(
        "leaky_relu",
        activations.leaky_relu,
        activations.leaky_relu_grad,
        lambda v: v if v > 0 else SLOPE * v,
        lambda v: 1.0 if v > 0 else SLOPE,
        {"slope": SLOPE},
        stable=False,
    ),
    ActivationCase(
        "elu",
        activations.elu,
        activations.elu_grad,
        lambda v: v if v > 0 else ELU_ALPHA * math.expm1(v),
        lambda v: 1.0 if v > 0 else ELU_ALPHA * math.exp(v),
        {"alpha": ELU_ALPHA},
    ),
    ActivationCase(
        "swish",
        activations.swish,
        activations.swish_grad,
        lambda v: v * scalar_sigmoid(SWISH_BETA * v),
        lambda v: scalar_sigmoid(SWISH_BETA * v) * (1 + SWISH_BETA * v * scalar_sigmoid(-SWISH_BETA * v)),
        {"beta": SWISH_BETA},
    ),
    ActivationCase(
        "gelu",
        activations.gelu,
        activations.gelu_grad,
        lambda v: v * scalar_normal_cdf(v),
        lambda v: scalar_normal_cdf(v) + v * scalar_normal_pdf(v),
    ),
]
STABLE_CASES = [case for case in ACTIVATION_CASES if case.stable]
EXTREMES = np.array([-1e4, -1e3, -800.0, -710.0, -40.0, -1.0, 0.0, 1.0, 40.0, 710.0, 800.0, 1e3, 1e4])


def elementwise(formula, x):
    return np.vectorize(formula, otypes=[np.float64])(x)


def moderate_points(test_name, case, shape=(3, 5)):
    return away_from(rng_for(test_name).uniform(-4.0, 4.0, shape), case.kink)


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=str)
def test_activation_values_match_formula(case, request):
    x = moderate_points(request.node.name, case)
    assert_values(case.forward(x, **case.params), elementwise(case.value, x))


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=str)
def test_activation_derivative_matches_formula(case, request):
    x = moderate_points(request.node.name, case)
    assert_values(case.derivative(x, **case.params), elementwise(case.slope, x))


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=str)
def test_activation_derivative_matches_central_differences(case, request):
    x = moderate_points(request.node.name, case, shape=(4, 3))
    numeric = (case.forward(x + H, **case.params) - case.forward(x - H, **case.params)) / (2 * H)
    assert_gradient(case.derivative(x, **case.params), numeric)


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=str)
@pytest.mark.parametrize("role", ["forward", "derivative"])
def test_activation_is_pure_repeatable_and_keeps_shape(case, role, request):
    x = moderate_points(request.node.name, case, shape=(2, 3, 4))
    result = assert_pure_and_repeatable(getattr(case, role), x, **case.params)
    assert_array(result, x.shape)


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=str)
def test_activation_default_parameters(case, request):
    x = moderate_points(request.node.name, case)
    defaults = {"theta": 0.0, "slope": 0.01, "alpha": 1.0, "beta": 1.0}
    explicit = {key: defaults[key] for key in case.params}
    for function in (case.forward, case.derivative):
        assert_bitwise_equal(function(x), function(x, **explicit))


@pytest.mark.parametrize("case", STABLE_CASES, ids=str)
@pytest.mark.parametrize("role", ["forward", "derivative"])
def test_activation_is_stable_for_large_inputs(case, role):
    formula = case.value if role == "forward" else case.slope
    with floating_point_warnings_as_errors():
        result = getattr(case, role)(EXTREMES, **case.params)
    assert np.all(np.isfinite(result))
    assert_values(result, elementwise(formula, EXTREMES))


def test_sigmoid_identities(request):
    x = rng_for(request.node.name).normal(0.0, 5.0, 50)
    assert_values(activations.sigmoid(-x), 1.0 - activations.sigmoid(x), atol=1e-15)
    assert_values(activations.tanh(x), 2.0 * activations.sigmoid(2.0 * x) - 1.0, atol=1e-15)
    assert activations.sigmoid(np.array([0.0]))[0] == 0.5


def test_sigmoid_grad_is_accurate_where_one_minus_sigma_rounds_to_one():
    x = np.array([-40.0, 40.0])
    assert_values(activations.sigmoid_grad(x), [math.exp(-40.0) / (1 + math.exp(-40.0)) ** 2] * 2, atol=0)


def test_gelu_known_values_and_negative_tail():
    x = np.array([-10.0, -2.7, -1.0, 0.0, 1.0, 2.0])
    # Φ(−1) = 0.15865525393145707, Φ(1) = 0.8413447460685429, Φ(2) = 0.9772498680518208,
    # Φ(−10) = 7.619853024160527e-24 (standard normal tables).
    expected = [
        -7.619853024160527e-23,
        -2.7 * 0.0034669738030406647,
        -0.15865525393145707,
        0.0,
        0.8413447460685429,
        1.9544997361036416,
    ]
    assert_values(activations.gelu(x), expected, rtol=1e-9, atol=0)


def test_gelu_is_not_the_tanh_approximation():
    x = np.array([-2.7])  # where the two functions differ most, by about 4.7e-4
    approximation = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    assert abs(activations.gelu(x)[0] - approximation[0]) > 4e-4


def test_kink_conventions():
    zero = np.array([0.0, -0.0])
    assert_values(activations.relu(zero), [0.0, 0.0], atol=0)
    assert_values(activations.relu_grad(zero), [0.0, 0.0], atol=0)
    assert_values(activations.leaky_relu_grad(zero, slope=0.2), [0.2, 0.2], atol=0)
    assert_values(activations.leaky_relu_grad(zero), [0.01, 0.01], atol=0)
    assert_values(activations.elu_grad(zero, alpha=1.7), [1.7, 1.7], atol=0)
    assert_values(activations.elu(zero, alpha=1.7), [0.0, 0.0], atol=0)
    dfdx, dfdalpha = activations.prelu_grad(zero, 0.3)
    assert_values(dfdx, [0.3, 0.3], atol=0)
    assert_values(dfdalpha, [0.0, 0.0], atol=0)
    near_theta = np.array([0.3, 0.3 + 1e-12, 0.3 - 1e-12])
    assert_values(activations.threshold(near_theta, theta=0.3), [0, 1, 0], atol=0)
    assert_values(activations.threshold(np.array([0.0, 1e-300])), [0.0, 1.0], atol=0)


def test_prelu_with_per_feature_slopes(request):
    rng = rng_for(request.node.name)
    x = away_from(rng.normal(size=(4, 3)), 0.0)
    alpha = np.array([0.1, 0.25, 0.7])
    expected = np.where(x > 0, x, alpha * x)
    assert_values(assert_pure_and_repeatable(activations.prelu, x, alpha), expected)
    dfdx, dfdalpha = assert_pure_and_repeatable(activations.prelu_grad, x, alpha)
    assert_gradient(dfdx, (activations.prelu(x + H, alpha) - activations.prelu(x - H, alpha)) / (2 * H))
    assert_gradient(dfdalpha, (activations.prelu(x, alpha + H) - activations.prelu(x, alpha - H)) / (2 * H))
    assert_values(dfdx, np.where(x > 0, 1.0, np.broadcast_to(alpha, x.shape)))


def test_prelu_with_scalar_slope_returns_a_tuple_shaped_like_x(request):
    x = away_from(rng_for(request.node.name).normal(size=(2, 5)), 0.0)
    grads = activations.prelu_grad(x, 0.4)
    assert isinstance(grads, tuple) and len(grads) == 2
    for grad in grads:
        assert_array(grad, x.shape)
    assert_values(activations.prelu(x, 0.4), activations.leaky_relu(x, slope=0.4))


def test_registry_maps_names_to_the_module_functions():
    expected = {
        name: (getattr(activations, name), getattr(activations, f"{name}_grad"))
        for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "gelu")
    }
    assert activations.ACTIVATIONS == expected


# ----------------------------------------------------------------------------------------------
# layers.py
# ----------------------------------------------------------------------------------------------

N, D, M = 3, 5, 4


@pytest.fixture
def affine_inputs(request):
    rng = rng_for(request.node.name)
    return rng.normal(size=(N, D)), rng.normal(size=(M, D)), rng.normal(size=M), rng.normal(size=(N, M))


def test_affine_forward_values(affine_inputs):
    x, W, b, _ = affine_inputs
    out, _ = assert_pure_and_repeatable(layers.affine_forward, x, W, b)
    expected = [[sum(x[n, d] * W[m, d] for d in range(D)) + b[m] for m in range(M)] for n in range(N)]
    assert_values(out, expected)


def test_affine_backward_matches_central_differences(affine_inputs):
    x, W, b, dout = affine_inputs
    _, cache = layers.affine_forward(x, W, b)
    dx, dW, db = assert_pure_and_repeatable(layers.affine_backward, dout, cache)
    assert_gradient(dx, numerical_vjp(lambda v: layers.affine_forward(v, W, b)[0], x, dout))
    assert_gradient(dW, numerical_vjp(lambda v: layers.affine_forward(x, v, b)[0], W, dout))
    assert_gradient(db, numerical_vjp(lambda v: layers.affine_forward(x, W, v)[0], b, dout))


def test_affine_backward_of_zero_upstream_gradient_is_zero(affine_inputs):
    x, W, b, dout = affine_inputs
    _, cache = layers.affine_forward(x, W, b)
    for grad, like in zip(layers.affine_backward(np.zeros_like(dout), cache), (x, W, b)):
        assert_values(grad, np.zeros_like(like), atol=0)


ACTIVATION_LAYER_CASES = [case for case in ACTIVATION_CASES if case.name in activations.ACTIVATIONS]


@pytest.mark.parametrize("case", ACTIVATION_LAYER_CASES, ids=str)
def test_activation_layer_by_name(case, request):
    rng = rng_for(request.node.name)
    z = away_from(rng.normal(0.0, 2.0, size=(N, M)), case.kink)
    dh = rng.normal(size=(N, M))
    h, cache = assert_pure_and_repeatable(layers.activation_forward, z, case.name, **case.params)
    assert_values(h, elementwise(case.value, z))
    dz = assert_pure_and_repeatable(layers.activation_backward, dh, cache)

    def forward(v):
        return layers.activation_forward(v, case.name, **case.params)[0]

    assert_gradient(dz, numerical_vjp(forward, z, dh))


def test_activation_layer_rejects_unknown_names():
    with pytest.raises(ValueError, match="softsign"):
        layers.activation_forward(np.ones((2, 3)), "softsign")


def test_prelu_layer(request):
    rng = rng_for(request.node.name)
    z = away_from(rng.normal(size=(N, M)), 0.0)
    alpha = np.array([0.05, 0.2, 0.5, 0.9])
    dh = rng.normal(size=(N, M))
    h, cache = assert_pure_and_repeatable(layers.prelu_forward, z, alpha)
    assert_values(h, np.where(z > 0, z, alpha * z))
    dz, dalpha = assert_pure_and_repeatable(layers.prelu_backward, dh, cache)
    assert_array(dalpha, (M,))
    assert_gradient(dz, numerical_vjp(lambda v: layers.prelu_forward(v, alpha)[0], z, dh))
    assert_gradient(dalpha, numerical_vjp(lambda v: layers.prelu_forward(z, v)[0], alpha, dh))


# ----------------------------------------------------------------------------------------------
# network.py: losses
# ----------------------------------------------------------------------------------------------


def scalar_softplus(v):
    """log(1 + e^v) without overflow."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


@pytest.mark.parametrize("label_dtype", [np.int64, np.float64])
def test_sigmoid_bce_loss_values_and_gradient(label_dtype, request):
    rng = rng_for(request.node.name)
    scores = rng.normal(0.0, 3.0, 7)
    y = np.array([0, 1, 1, 0, 1, 0, 0], dtype=label_dtype)
    loss, dscores = assert_pure_and_repeatable(network.sigmoid_bce_loss, scores, y)
    probabilities = [1 / (1 + math.exp(-s)) for s in scores]
    expected = -sum(t * math.log(p) + (1 - t) * math.log(1 - p) for t, p in zip(y, probabilities)) / len(y)
    assert type(loss) is float
    assert loss == pytest.approx(expected, rel=1e-9)
    assert_gradient(dscores, numerical_vjp(lambda v: network.sigmoid_bce_loss(v, y)[0], scores, 1.0))
    assert_values(dscores, (np.array(probabilities) - y) / len(y))


def test_sigmoid_bce_loss_is_stable_for_large_scores():
    scores = np.array([1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 40.0, -40.0])
    y = np.array([1, 0, 0, 1, 0, 1, 1, 1])
    with floating_point_warnings_as_errors():
        loss, dscores = network.sigmoid_bce_loss(scores, y)
    expected_losses = [scalar_softplus(-s) if t else scalar_softplus(s) for s, t in zip(scores, y)]
    assert loss == pytest.approx(np.mean(expected_losses), rel=1e-12)
    expected_gradient = [(scalar_sigmoid(s) - t) / len(y) for s, t in zip(scores, y)]
    assert_values(dscores, expected_gradient)


def test_sigmoid_bce_loss_rejects_labels_of_another_shape():
    with pytest.raises(ValueError):
        network.sigmoid_bce_loss(np.zeros(4), np.zeros((4, 1)))


def test_softmax_cross_entropy_values_and_gradient(request):
    rng = rng_for(request.node.name)
    scores = rng.normal(0.0, 2.0, (5, 3))
    y = np.array([2, 0, 1, 1, 2])
    loss, dscores = assert_pure_and_repeatable(network.softmax_cross_entropy_loss, scores, y)
    exponentials = np.exp(scores)
    probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
    assert type(loss) is float
    assert loss == pytest.approx(-np.mean(np.log(probabilities[np.arange(5), y])), rel=1e-9)
    numeric = numerical_vjp(lambda v: network.softmax_cross_entropy_loss(v, y)[0], scores, 1.0)
    assert_gradient(dscores, numeric)


def test_softmax_cross_entropy_is_stable_for_large_scores():
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
    y = np.array([2, 0, 1])
    with floating_point_warnings_as_errors():
        loss, dscores = network.softmax_cross_entropy_loss(scores, y)
    assert loss == pytest.approx((2e4 + math.log(2) + math.log(3)) / 3, rel=1e-12)
    expected = np.array([[1, 0, -1], [0.5 - 1, 0.5, 0], [1 / 3, 1 / 3 - 1, 1 / 3]]) / 3
    assert_values(dscores, expected)


@pytest.mark.parametrize("labels", [np.array([0, 3]), np.array([[0], [1]]), np.array([0, -1])], ids=str)
def test_softmax_cross_entropy_rejects_bad_labels(labels):
    with pytest.raises(ValueError):
        network.softmax_cross_entropy_loss(np.zeros((2, 3)), labels)


# ----------------------------------------------------------------------------------------------
# network.py: the window classifier
# ----------------------------------------------------------------------------------------------

VOCABULARY, DIM, WINDOW, HIDDEN = 8, 3, 5, 6
# Word 2 occurs twice in window 0 and in windows 2 and 3; word 3 fills most of window 1 and
# occurs in window 0 too; word 7 occurs nowhere (its gradient is 0).
WINDOWS = np.array([[1, 2, 2, 3, 1], [3, 3, 3, 4, 5], [0, 0, 2, 6, 0], [5, 1, 4, 1, 2]], dtype=np.int64)
WINDOW_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0),
}


def window_params(rng):
    return {
        "E": rng.normal(size=(VOCABULARY, DIM)),
        "W": rng.normal(0.0, 0.5, size=(HIDDEN, WINDOW * DIM)),
        "b": rng.normal(size=HIDDEN),
        "u": rng.normal(size=HIDDEN),
    }


def window_scores(params, windows, f):
    """s = u · f(W x + b), x the concatenation of the window's word vectors, window by window."""
    scores = []
    for window in windows:
        x = np.concatenate([params["E"][word] for word in window])
        scores.append(params["u"] @ f(params["W"] @ x + params["b"]))
    return np.array(scores)


@pytest.mark.parametrize("activation", sorted(WINDOW_ACTIVATIONS))
@pytest.mark.parametrize("label_dtype", [np.int64, np.float64])
def test_window_classifier_loss_values_and_gradients(activation, label_dtype, request):
    params = window_params(rng_for(request.node.name))
    labels = np.array([1, 0, 0, 1], dtype=label_dtype)
    loss, grads = assert_pure_and_repeatable(network.window_classifier_loss, params, WINDOWS, labels, activation)
    scores = window_scores(params, WINDOWS, WINDOW_ACTIVATIONS[activation])
    expected = np.mean([scalar_softplus(-s) if t else scalar_softplus(s) for s, t in zip(scores, labels)])
    assert type(loss) is float
    assert loss == pytest.approx(expected, rel=1e-9)
    assert list(grads) == ["E", "W", "b", "u"]
    for key in params:

        def loss_of(value, key=key):
            return network.window_classifier_loss({**params, key: value}, WINDOWS, labels, activation)[0]

        assert_gradient(grads[key], numerical_vjp(loss_of, params[key], 1.0))
    assert_values(grads["E"][7], np.zeros(DIM), atol=0)


def test_window_classifier_accumulates_a_word_that_fills_the_window(request):
    params = window_params(rng_for(request.node.name))
    windows = np.array([[4, 4, 4, 4, 4], [4, 0, 4, 0, 4]], dtype=np.int64)
    labels = np.array([1, 0])
    _, grads = network.window_classifier_loss(params, windows, labels)
    numeric = numerical_vjp(
        lambda v: network.window_classifier_loss({**params, "E": v}, windows, labels)[0], params["E"], 1.0
    )
    assert_gradient(grads["E"], numeric)


@pytest.mark.parametrize("activation", sorted(WINDOW_ACTIVATIONS))
def test_window_classifier_predict(activation, request):
    params = window_params(rng_for(request.node.name))
    probabilities = assert_pure_and_repeatable(network.window_classifier_predict, params, WINDOWS, activation)
    scores = window_scores(params, WINDOWS, WINDOW_ACTIVATIONS[activation])
    assert_values(probabilities, 1 / (1 + np.exp(-scores)))


def test_window_classifier_default_activation_is_tanh(request):
    params = window_params(rng_for(request.node.name))
    labels = np.array([1, 0, 1, 1])
    assert_bitwise_equal(
        network.window_classifier_loss(params, WINDOWS, labels),
        network.window_classifier_loss(params, WINDOWS, labels, "tanh"),
    )
    assert_bitwise_equal(
        network.window_classifier_predict(params, WINDOWS), network.window_classifier_predict(params, WINDOWS, "tanh")
    )


# ----------------------------------------------------------------------------------------------
# network.py: the multi-layer perceptron and collapse_linear
# ----------------------------------------------------------------------------------------------

MLP_ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}


def mlp_params(rng, sizes):
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.normal(size=(n_out, n_in))
        params[f"b{layer}"] = rng.normal(size=n_out)
    return params


def mlp_scores(params, X, f):
    n_layers = len(params) // 2
    hidden = X
    for layer in range(1, n_layers + 1):
        z = hidden @ params[f"W{layer}"].T + params[f"b{layer}"]
        hidden = f(z) if layer < n_layers else z
    return hidden


@pytest.mark.parametrize("sizes", [(5, 3), (5, 6, 3), (5, 7, 4, 3)], ids=str)
@pytest.mark.parametrize("activation", sorted(MLP_ACTIVATIONS))
def test_mlp_loss_values_and_gradients(sizes, activation, request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, sizes)
    X = rng.normal(size=(4, sizes[0]))
    y = np.array([2, 0, 1, 2])
    loss, grads = assert_pure_and_repeatable(network.mlp_loss, params, X, y, activation)
    scores = mlp_scores(params, X, MLP_ACTIVATIONS[activation])
    log_probabilities = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    assert type(loss) is float
    assert loss == pytest.approx(-np.mean(log_probabilities[np.arange(4), y]), rel=1e-9)
    assert list(grads) == list(params)
    for key in params:

        def loss_of(value, key=key):
            return network.mlp_loss({**params, key: value}, X, y, activation)[0]

        assert_gradient(grads[key], numerical_vjp(loss_of, params[key], 1.0))


def test_mlp_loss_default_activation_is_relu(request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, (3, 5, 2))
    X, y = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    assert_bitwise_equal(network.mlp_loss(params, X, y), network.mlp_loss(params, X, y, "relu"))
    assert_bitwise_equal(network.mlp_predict(params, X), network.mlp_predict(params, X, "relu"))


MALFORMED_KEYS = [[], ["W1"], ["W1", "b1", "W2"], ["W1", "b1", "W3", "b3"], ["W1", "b2"]]


@pytest.mark.parametrize("keys", MALFORMED_KEYS, ids=str)
def test_mlp_loss_rejects_malformed_parameter_names(keys):
    params = {key: np.zeros((2, 2)) if key.startswith("W") else np.zeros(2) for key in keys}
    with pytest.raises(ValueError):
        network.mlp_loss(params, np.zeros((3, 2)), np.array([0, 1, 0]))


@pytest.mark.parametrize("sizes", [(5, 3), (5, 6, 3), (5, 7, 4, 3)], ids=str)
def test_mlp_predict(sizes, request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, sizes)
    X = rng.normal(size=(9, sizes[0]))
    labels = assert_pure_and_repeatable(network.mlp_predict, params, X, "tanh")
    assert_array(labels, (9,), dtype=np.int64)
    np.testing.assert_array_equal(labels, np.argmax(mlp_scores(params, X, np.tanh), axis=1))


@pytest.mark.parametrize("sizes", [(4, 3), (4, 6, 3), (4, 7, 5, 2)], ids=str)
def test_collapse_linear_equals_the_composition(sizes, request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, sizes)
    weights = [params[f"W{layer}"] for layer in range(1, len(sizes))]
    biases = [params[f"b{layer}"] for layer in range(1, len(sizes))]
    W, b = assert_pure_and_repeatable(network.collapse_linear, weights, biases)
    assert_array(W, (sizes[-1], sizes[0]))
    assert_array(b, (sizes[-1],))
    X = rng.normal(size=(6, sizes[0]))
    assert_values(X @ W.T + b, mlp_scores(params, X, lambda z: z), atol=1e-10)


@pytest.mark.parametrize("lengths", [(0, 0), (2, 1)], ids=str)
def test_collapse_linear_rejects_empty_or_unequal_lists(lengths):
    with pytest.raises(ValueError):
        network.collapse_linear([np.eye(2)] * lengths[0], [np.zeros(2)] * lengths[1])


# ----------------------------------------------------------------------------------------------
# optim.py
# ----------------------------------------------------------------------------------------------


def test_sgd_step_values():
    params = {"w": np.linspace(-0.6, 0.6, num=6).reshape(2, 3), "c": np.linspace(0.1, 0.4, num=4)}
    grads = {"w": np.linspace(-0.4, 0.1, num=6).reshape(2, 3), "c": np.array([1.0, -2.0, 0.5, 0.0])}
    new = assert_pure_and_repeatable(optim.sgd_step, params, grads, 0.1)
    assert list(new) == ["w", "c"] and new is not params
    assert_values(new["w"], [[-0.56, -0.33, -0.1], [0.13, 0.36, 0.59]])
    assert_values(new["c"], [0.0, 0.4, 0.25, 0.4])


@pytest.mark.parametrize("n, batch_size, seed", [(10, 3, 0), (10, 5, 7), (7, 20, 3), (1, 1, 2), (0, 4, 0)])
def test_minibatch_indices_is_the_pinned_permutation(n, batch_size, seed):
    batches = assert_pure_and_repeatable(optim.minibatch_indices, n, batch_size, seed)
    permutation = np.random.default_rng(seed).permutation(n)
    assert isinstance(batches, list) and len(batches) == math.ceil(n / batch_size)
    for number, batch in enumerate(batches):
        assert_array(batch, (min(batch_size, n - number * batch_size),), dtype=np.int64)
        np.testing.assert_array_equal(batch, permutation[number * batch_size : (number + 1) * batch_size])


@pytest.mark.parametrize("batch_size", [0, -2])
def test_minibatch_indices_rejects_empty_batches(batch_size):
    with pytest.raises(ValueError):
        optim.minibatch_indices(5, batch_size, 0)


def least_squares_loss(params, X, y):
    """Mean squared error of the linear model X w + c, and its gradients."""
    residual = X @ params["w"] + params["c"] - y
    grads = {"w": 2 * X.T @ residual / len(y), "c": np.array([2 * np.mean(residual)])}
    return float(np.mean(residual**2)), grads


def least_squares_problem(rng, n):
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.01 * rng.normal(size=n)
    return {"w": np.zeros(3), "c": np.zeros(1)}, X, y


@pytest.mark.parametrize("n, batch_size, epochs", [(10, 3, 4), (12, 4, 3), (5, 8, 2), (6, 1, 1)])
def test_train_follows_the_per_epoch_seed_rule(n, batch_size, epochs, request):
    params, X, y = least_squares_problem(rng_for(request.node.name), n)
    lr, seed = 0.05, 11
    trained, history = assert_pure_and_repeatable(
        optim.train, least_squares_loss, params, X, y, lr, epochs, batch_size, seed
    )
    expected_params, expected_history = dict(params), []
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(n)
        losses = []
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss, grads = least_squares_loss(expected_params, X[idx], y[idx])
            losses.append(loss)
            expected_params = {key: expected_params[key] - lr * grads[key] for key in expected_params}
        expected_history.append(np.mean(losses))
    assert isinstance(history, list) and all(type(loss) is float for loss in history)
    np.testing.assert_allclose(history, expected_history, rtol=1e-13)
    assert list(trained) == list(params)
    for key in params:
        np.testing.assert_allclose(trained[key], expected_params[key], rtol=1e-13, atol=1e-15)


def test_train_converges_on_a_convex_problem(request):
    params, X, y = least_squares_problem(rng_for(request.node.name), 40)
    trained, history = optim.train(least_squares_loss, params, X, y, lr=0.1, epochs=60, batch_size=8, seed=0)
    assert history[-1] < 1e-3 < history[0]
    np.testing.assert_allclose(trained["w"], [1.0, -2.0, 0.5], atol=0.02)


def test_train_with_the_mlp_loss(request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, (2, 8, 2))
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    trained, history = optim.train(network.mlp_loss, params, X, y, lr=0.05, epochs=3, batch_size=7, seed=4)
    assert len(history) == 3 and list(trained) == list(params)


@pytest.mark.parametrize("change", [{"epochs": 0}, {"batch_size": 0}, {"y": np.zeros(3)}], ids=str)
def test_train_rejects_invalid_arguments(change, request):
    params, X, y = least_squares_problem(rng_for(request.node.name), 5)
    arguments = {
        "loss_fn": least_squares_loss,
        "params": params,
        "X": X,
        "y": y,
        "lr": 0.1,
        "epochs": 2,
        "batch_size": 2,
        "seed": 0,
        **change,
    }
    with pytest.raises(ValueError):
        optim.train(**arguments)


# ----------------------------------------------------------------------------------------------
# gradcheck.py
# ----------------------------------------------------------------------------------------------


def cubic_sum(x):
    return float(np.sum(x**3))


def test_numerical_gradient_of_a_known_function(request):
    x = rng_for(request.node.name).normal(size=(2, 3))
    grad = gradcheck.numerical_gradient(cubic_sum, x)
    assert_array(grad, x.shape)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_uses_central_differences_with_step_h():
    x = np.array([0.5, -1.25])
    seen = []

    def recording(v):
        seen.append(v.copy())
        return float(v[0] ** 2 + 3 * v[1])

    grad = gradcheck.numerical_gradient(recording, x, h=1e-3)
    perturbed = [np.flatnonzero(v != x) for v in seen]
    assert [list(p) for p in perturbed] == [[0], [0], [1], [1]]
    assert sorted(v[0] for v in seen[:2]) == [0.5 - 1e-3, 0.5 + 1e-3]
    # Central differences are exact for a quadratic, up to rounding.
    np.testing.assert_allclose(grad, [1.0, 3.0], rtol=1e-9)


def test_numerical_gradient_restores_x_bitwise():
    h = 1e-5
    # Small entries: x + h - h does not give 1e-7 nor -2e-6 back in float64.
    x = np.array([[1e-7, -2e-6, 0.5], [3e-6, 4.2e-6, -1.3]])
    assert np.sum((x + h) - h != x) >= 2, "the test needs entries that x + h - h does not give back"
    original = x.copy()
    gradcheck.numerical_gradient(cubic_sum, x, h)
    assert x.tobytes() == original.tobytes()


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1e-7, -2e-6, 0.5])
    original = x.copy()
    calls = []

    def failing(v):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("f failed")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="f failed"):
        gradcheck.numerical_gradient(failing, x)
    assert x.tobytes() == original.tobytes()


def test_numerical_gradient_refuses_non_float64_arrays():
    for x in (np.array([1, 2, 3]), np.array([1.0, 2.0], dtype=np.float32)):
        with pytest.raises(TypeError):
            gradcheck.numerical_gradient(cubic_sum, x)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([1.0, 2.0], [1.0, 2.2], 0.2 / 4.2),
        ([0.0, 0.0], [0.0, 0.0], 0.0),
        ([0.0, 5.0], [1e-10, 5.0], 1e-10 / 1e-8),
        ([-1.0, 3.0], [1.0, 3.0], 1.0),
    ],
    ids=str,
)
def test_relative_error_values(a, b, expected):
    error = gradcheck.relative_error(np.array(a), np.array(b))
    assert type(error) is float
    assert error == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_relative_error_is_nan_or_rejects_bad_input():
    assert math.isnan(gradcheck.relative_error(np.array([np.nan]), np.array([1.0])))
    with pytest.raises(ValueError):
        gradcheck.relative_error(np.zeros(3), np.zeros((3, 1)))


def test_gradient_check_accepts_a_right_gradient_and_rejects_a_wrong_one(request):
    x = rng_for(request.node.name).normal(size=(3, 4))
    original = x.copy()
    right = gradcheck.gradient_check(cubic_sum, lambda v: 3 * v**2, x)
    wrong = gradcheck.gradient_check(cubic_sum, lambda v: 2 * v**2, x)
    assert type(right) is float and right < 1e-7
    assert wrong > 0.1
    assert x.tobytes() == original.tobytes()


def test_gradient_check_of_the_mlp_loss(request):
    rng = rng_for(request.node.name)
    params = mlp_params(rng, (3, 4, 2))
    X, y = rng.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    W1 = params["W1"].copy()
    error = gradcheck.gradient_check(
        lambda v: network.mlp_loss({**params, "W1": v}, X, y, "tanh")[0],
        lambda v: network.mlp_loss({**params, "W1": v}, X, y, "tanh")[1]["W1"],
        W1,
    )
    assert error < 1e-6
