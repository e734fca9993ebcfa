"""The bug corpus and the alternative implementations of the backprop assignment are what they claim.

Every variant of ``assignments/backprop/{mutants,alternatives}`` is materialised into a full copy
of the reference solution and imported in this process under the flat module names, which are
then removed from ``sys.modules`` again. A fixed battery calls every contract function on it and on
the reference: non-square shapes (N, D, M all different) and a square case, parameters away from
their defaults, repeated word ids, kink points, extreme inputs up to |x| = 1e4, and a function
that raises. Each call is observed for its result, the exception it raises, the floating-point
warnings it emits, whether it modifies an argument, whether a returned array shares memory with an
argument, and whether a second call gives bitwise the same result.

A mutant must differ from the reference in at least one observation; a value counts as different
only beyond the contract's accuracy (rtol 1e-7, atol 1e-12), so that every mutant is a real bug
under the contract. An alternative must agree with the reference in every observation.
"""

import copy
import importlib
import inspect
import itertools
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import variants

ROOT = Path(__file__).resolve().parents[3]
SOLUTION = ROOT / "solutions" / "backprop"
ASSIGNMENT = ROOT / "assignments" / "backprop"
MODULE_NAMES = ("activations", "layers", "network", "optim", "gradcheck")
MUTANTS = variants.discover(ASSIGNMENT / "mutants")
ALTERNATIVES = variants.discover(ASSIGNMENT / "alternatives")
RTOL, ATOL = 1e-7, 1e-12
"""The contract's accuracy."""


def import_modules(folder):
    """The five modules of ``folder``, imported by their flat names; ``sys.path`` and
    ``sys.modules`` are restored afterwards (the modules keep their references to each other)."""
    saved_path = list(sys.path)
    saved_modules = {name: sys.modules.pop(name) for name in MODULE_NAMES if name in sys.modules}
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        return {name: importlib.import_module(name) for name in MODULE_NAMES}
    finally:
        sys.path[:] = saved_path
        for name in MODULE_NAMES:
            sys.modules.pop(name, None)
        sys.modules.update(saved_modules)


# ----------------------------------------------------------------------------------------------
# Observing a call
# ----------------------------------------------------------------------------------------------


@dataclass
class Observation:
    result: object
    error: str | None
    warnings: tuple[str, ...]
    mutated: bool
    aliased: bool
    repeatable: bool


def attempt(function, args, kwargs):
    """``(result, exception type name or None, warnings)`` of one call; underflow is not a warning."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            result, error = function(*args, **kwargs), None
        except Exception as exception:  # the observation records it
            result, error = None, type(exception).__name__
    return result, error, tuple(sorted({f"{w.category.__name__}: {w.message}" for w in caught}))


def bitwise_equal(a, b):
    """Two nested structures of dicts, lists, tuples, arrays and scalars hold bitwise the same values."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(bitwise_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(bitwise_equal, a, b))
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return type(a) is type(b) and (a is b or a == b or (a != a and b != b))


def arrays_in(value):
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in arrays_in(item)]
    return []


def observe(function, args=(), kwargs=None):
    """Call ``function`` on a deep copy of the arguments, then again on a fresh copy."""
    pristine = copy.deepcopy((args, kwargs or {}))
    call_args, call_kwargs = copy.deepcopy(pristine)
    result, error, caught = attempt(function, call_args, call_kwargs)
    again, again_error, _ = attempt(function, *copy.deepcopy(pristine))
    return Observation(
        result=result,
        error=error,
        warnings=caught,
        mutated=not bitwise_equal((call_args, call_kwargs), pristine),
        aliased=any(np.shares_memory(r, a) for r in arrays_in(result) for a in arrays_in((call_args, call_kwargs))),
        repeatable=again_error == error and bitwise_equal(again, result),
    )


def compare(expected, actual, where="result"):
    """How ``actual`` differs from ``expected`` beyond the contract's accuracy (type, dtype, shape, value)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return [f"{where}: {actual!r:.80} instead of a dict with keys {sorted(expected)}"]
        return [d for key in expected for d in compare(expected[key], actual[key], f"{where}[{key!r}]")]
    if is_history(expected) and (isinstance(actual, tuple) or type(actual) is np.ndarray and actual.ndim == 1):
        return compare(np.array(expected), np.array(actual), where)  # any sequence of floats, as the contract allows
    if isinstance(expected, (list, tuple)):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return [f"{where}: {actual!r:.80} instead of a {type(expected).__name__} of {len(expected)}"]
        return [d for i, pair in enumerate(zip(expected, actual)) for d in compare(*pair, f"{where}[{i}]")]
    if isinstance(expected, np.ndarray):
        if type(actual) is not np.ndarray or actual.dtype != expected.dtype or actual.shape != expected.shape:
            found = f"{type(actual).__name__} {getattr(actual, 'dtype', '')} {np.shape(actual)}"
            return [f"{where}: {found} instead of ndarray {expected.dtype} {expected.shape}"]
        if not np.allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
            return [f"{where}: values differ, e.g. {actual.ravel()[:4]} instead of {expected.ravel()[:4]}"]
        return []
    if isinstance(expected, float):  # a Python float or a numpy float64 scalar
        if not isinstance(actual, float) or not np.isclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
            return [f"{where}: {actual!r} instead of {expected!r}"]
        return []
    if type(actual) is not type(expected) or actual != expected:
        return [f"{where}: {actual!r} instead of {expected!r}"]
    return []


def is_history(value):
    """A list of floats: a training history, which the contract lets ``train`` return as any sequence of floats."""
    return type(value) is list and all(type(item) in (float, np.float64) for item in value) and bool(value)


def differences(expected, actual):
    """Every way in which the observations ``actual`` of a battery differ from ``expected``."""
    found = []
    for label, want in expected.items():
        got = actual[label]
        if got.error != want.error:
            found.append(f"{label}: raises {got.error} (reference: {want.error})")
        elif want.error is None:
            found += [f"{label}: {d}" for d in compare(want.result, got.result)]
        for name in ("warnings", "mutated", "aliased", "repeatable"):
            if getattr(got, name) != getattr(want, name):
                found.append(f"{label}: {name} {getattr(got, name)} (reference: {getattr(want, name)})")
    return found


# ----------------------------------------------------------------------------------------------
# The battery
# ----------------------------------------------------------------------------------------------

rng = np.random.default_rng(2024)
SPECIAL_POINTS = [0.0, -0.0, 0.1, 0.3, -2.7, 2.0, 40.0, -40.0, 1e3, -1e3, 1e4, -1e4]
X_ACT = np.concatenate([SPECIAL_POINTS, 3.0 * rng.standard_normal(9)]).reshape(3, 7)
X_GRID = np.concatenate([np.linspace(-40.0, 40.0, 840), np.geomspace(1e-12, 1e4, 56), -np.geomspace(1e-12, 1e4, 56)])
X_GRID = X_GRID.reshape(-1, 7)
"""A dense grid over the range where the activations bend, and tiny and large magnitudes."""
PRELU_SLOPES = rng.uniform(0.1, 0.9, 7)
ACTIVATION_CALLS = [
    ("threshold", (), {}),
    ("threshold", (), {"theta": 0.3}),
    ("sigmoid", (), {}),
    ("tanh", (), {}),
    ("relu", (), {}),
    ("leaky_relu", (), {}),
    ("leaky_relu", (), {"slope": 0.2}),
    ("prelu", (0.25,), {}),
    ("prelu", (PRELU_SLOPES,), {}),
    ("elu", (), {}),
    ("elu", (), {"alpha": 1.7}),
    ("swish", (), {}),
    ("swish", (), {"beta": 1.5}),
    ("gelu", (), {}),
]

N, D, M = 4, 3, 5
X_AFF, W_AFF, B_AFF, DOUT = (rng.normal(size=s) for s in [(N, D), (M, D), (M,), (N, M)])
W_SQUARE, B_SQUARE, DOUT_SQUARE = (rng.normal(size=s) for s in [(D, D), (D,), (N, D)])
Z, DH = 2.0 * rng.normal(size=(N, M)), rng.normal(size=(N, M))
Z[0, :2] = 0.0  # the kink of the layers' backward passes
LAYER_ALPHA = rng.uniform(0.1, 0.9, M)
LAYER_ACTIVATIONS = [
    ("sigmoid", {}),
    ("tanh", {}),
    ("relu", {}),
    ("leaky_relu", {"slope": 0.2}),
    ("elu", {"alpha": 1.7}),
    ("swish", {"beta": 1.5}),
    ("gelu", {}),
]

BCE_SCORES = np.array([0.5, -1.2, 2.0, 40.0, -40.0, 1e3, -1e3, 1e4])
BCE_LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 1])
SOFTMAX_SCORES, SOFTMAX_LABELS = 2.0 * rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
SOFTMAX_EXTREME = np.array([[1e3, -1e3, 0.0], [0.0, 1e3, 999.0], [-1e3, -1e3, -1e3]])
WINDOW_PARAMS = {
    "E": rng.normal(size=(6, 2)),
    "W": rng.normal(size=(4, 6)),
    "b": rng.normal(size=4),
    "u": rng.normal(size=4),
}
WINDOWS = np.array([[0, 1, 2], [2, 2, 3], [4, 1, 0], [5, 3, 3], [1, 4, 2]])
WINDOW_LABELS = np.array([1, 0, 1, 0, 1])
MLP_X, MLP_Y = rng.normal(size=(6, 3)), np.array([0, 2, 1, 1, 0, 2])
MLP_PARAMS = {
    "W1": rng.normal(size=(5, 3)),
    "b1": rng.normal(size=5),
    "W2": rng.normal(size=(4, 5)),
    "b2": rng.normal(size=4),
    "W3": rng.normal(size=(3, 4)),
    "b3": rng.normal(size=3),
}
LINEAR_PARAMS = {"W1": rng.normal(size=(3, 3)), "b1": rng.normal(size=3)}
CHAIN = ([rng.normal(size=s) for s in [(4, 3), (5, 4), (2, 5)]], [rng.normal(size=s) for s in [4, 5, 2]])
SQUARE_CHAIN = ([rng.normal(size=(3, 3)) for _ in range(3)], [rng.normal(size=3) for _ in range(3)])

SGD_PARAMS = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
SGD_GRADS = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
LS_X, LS_Y = rng.normal(size=(10, 3)), rng.normal(size=10)
LS_PARAMS = {"w": rng.normal(size=3), "c": np.zeros(1)}
TRAIN_X, TRAIN_Y = rng.normal(size=(7, 2)), np.array([0, 1, 2, 0, 1, 2, 0])
TRAIN_PARAMS = {"W1": rng.normal(size=(4, 2)), "b1": np.zeros(4), "W2": rng.normal(size=(3, 4)), "b2": np.zeros(3)}

X_GRAD = rng.normal(size=(3, 4))
ERROR_A = np.array([0.0, 1e-6, 1.0, -2.0, 3e-9, 5.0])
ERROR_B = np.array([0.0, 1.1e-6, 1.5, -2.0, 0.0, 5.0 + 1e-6])
FAILING_CALL = "numerical_gradient of a function that raises"


def least_squares(params, X, y):
    residual = X @ params["w"] + params["c"] - y
    return 0.5 * float(np.mean(residual**2)), {"w": X.T @ residual / len(y), "c": np.array([residual.mean()])}


def cubic(x):
    return float(np.sum(x**3) / 3.0 + np.sum(np.sin(x)))


def cubic_grad(x):
    return x**2 + np.cos(x)


def fails_on_call(k):
    """``cubic``, except that its k-th call raises RuntimeError."""
    calls = []

    def f(x):
        calls.append(None)
        if len(calls) == k:
            raise RuntimeError("f failed")
        return cubic(x)

    return f


def output_of(forward):
    return lambda *args, **kwargs: forward(*args, **kwargs)[0]


def backward_of(forward, backward):
    """``(dout, *forward arguments) -> backward(dout, cache of the forward call)``."""
    return lambda dout, *args, **kwargs: backward(dout, forward(*args, **kwargs)[1])


def battery(modules):
    """``(label, function, args, kwargs)`` for every call of the battery on ``modules``."""
    act, lay, net, opt, grad = (modules[name] for name in MODULE_NAMES)
    calls = []
    for name, args, kwargs in ACTIVATION_CALLS:
        parameters = ["alpha per feature" if isinstance(a, np.ndarray) else repr(a) for a in args]
        parameters += [f"{key}={value!r}" for key, value in kwargs.items()]
        for function in (name, f"{name}_grad"):
            for points, x in (("points", X_ACT), ("grid", X_GRID)):
                label = f"{function}({', '.join([points, *parameters])})"
                calls.append((label, getattr(act, function), (x, *args), kwargs))

    affine_backward = backward_of(lay.affine_forward, lay.affine_backward)
    for shape, (W, b, dout) in {"DxM": (W_AFF, B_AFF, DOUT), "square": (W_SQUARE, B_SQUARE, DOUT_SQUARE)}.items():
        calls.append((f"affine_forward {shape}", output_of(lay.affine_forward), (X_AFF, W, b), {}))
        calls.append((f"affine_backward {shape}", affine_backward, (dout, X_AFF, W, b), {}))
    for name, params in LAYER_ACTIVATIONS:
        calls.append((f"activation_forward {name}", output_of(lay.activation_forward), (Z, name), params))
        calls.append(
            (
                f"activation_backward {name}",
                backward_of(lay.activation_forward, lay.activation_backward),
                (DH, Z, name),
                params,
            )
        )
    calls.append(("prelu_forward", output_of(lay.prelu_forward), (Z, LAYER_ALPHA), {}))
    calls.append(("prelu_backward", backward_of(lay.prelu_forward, lay.prelu_backward), (DH, Z, LAYER_ALPHA), {}))

    calls += [
        ("sigmoid_bce_loss int labels", net.sigmoid_bce_loss, (BCE_SCORES, BCE_LABELS), {}),
        ("sigmoid_bce_loss float labels", net.sigmoid_bce_loss, (BCE_SCORES, BCE_LABELS.astype(float)), {}),
        ("sigmoid_bce_loss moderate", net.sigmoid_bce_loss, (BCE_SCORES[:3], BCE_LABELS[:3]), {}),
        ("softmax_cross_entropy_loss", net.softmax_cross_entropy_loss, (SOFTMAX_SCORES, SOFTMAX_LABELS), {}),
        (
            "softmax_cross_entropy_loss extreme",
            net.softmax_cross_entropy_loss,
            (SOFTMAX_EXTREME, np.array([1, 2, 0])),
            {},
        ),
        ("window_classifier_loss", net.window_classifier_loss, (WINDOW_PARAMS, WINDOWS, WINDOW_LABELS), {}),
        (
            "window_classifier_loss sigmoid",
            net.window_classifier_loss,
            (WINDOW_PARAMS, WINDOWS, WINDOW_LABELS),
            {"activation": "sigmoid"},
        ),
        ("window_classifier_predict", net.window_classifier_predict, (WINDOW_PARAMS, WINDOWS), {}),
        ("mlp_loss", net.mlp_loss, (MLP_PARAMS, MLP_X, MLP_Y), {}),
        ("mlp_loss tanh", net.mlp_loss, (MLP_PARAMS, MLP_X, MLP_Y), {"activation": "tanh"}),
        ("mlp_loss one layer", net.mlp_loss, (LINEAR_PARAMS, MLP_X, MLP_Y), {}),
        ("mlp_predict", net.mlp_predict, (MLP_PARAMS, MLP_X), {}),
        ("mlp_predict tanh", net.mlp_predict, (MLP_PARAMS, MLP_X), {"activation": "tanh"}),
        ("collapse_linear", net.collapse_linear, CHAIN, {}),
        ("collapse_linear square", net.collapse_linear, SQUARE_CHAIN, {}),
        ("collapse_linear one layer", net.collapse_linear, ([CHAIN[0][0]], [CHAIN[1][0]]), {}),
    ]

    calls += [
        ("sgd_step", opt.sgd_step, (SGD_PARAMS, SGD_GRADS, 0.3), {}),
        ("sgd_step extra grads", opt.sgd_step, (SGD_PARAMS, {**SGD_GRADS, "unused": np.ones(2)}, 0.3), {}),
        *[
            (f"minibatch_indices{args}", opt.minibatch_indices, args, {})
            for args in [(10, 3, 7), (10, 5, 7), (4, 10, 3), (0, 3, 1)]
        ],
        ("train least squares", opt.train, (least_squares, LS_PARAMS, LS_X, LS_Y, 0.1, 3, 4, 11), {}),
        ("train mlp", opt.train, (net.mlp_loss, TRAIN_PARAMS, TRAIN_X, TRAIN_Y, 0.5, 2, 3, 0), {}),
    ]

    calls += [
        ("numerical_gradient", grad.numerical_gradient, (cubic, X_GRAD), {}),
        ("numerical_gradient h=1e-3", grad.numerical_gradient, (cubic, X_GRAD), {"h": 1e-3}),
        (FAILING_CALL, lambda x: grad.numerical_gradient(fails_on_call(4), x), (X_GRAD,), {}),
        ("relative_error", grad.relative_error, (ERROR_A, ERROR_B), {}),
        ("gradient_check", grad.gradient_check, (cubic, cubic_grad, X_GRAD), {}),
        ("gradient_check h=1e-2", grad.gradient_check, (cubic, cubic_grad, X_GRAD), {"h": 1e-2}),
    ]
    return calls


def run_battery(modules):
    """The observations of every call of the battery (the global numpy random state is restored)."""
    state = np.random.get_state()
    try:
        return {label: observe(function, args, kwargs) for label, function, args, kwargs in battery(modules)}
    finally:
        np.random.set_state(state)


def battery_of(variant, folder):
    variants.materialise(SOLUTION, variant, folder)
    return run_battery(import_modules(folder))


@pytest.fixture(scope="module")
def reference():
    return run_battery(import_modules(SOLUTION))


# ----------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------


def test_corpus_size_and_unique_ids():
    assert len(MUTANTS) >= 60 and len(ALTERNATIVES) >= 10
    ids = [variant.id for variant in MUTANTS + ALTERNATIVES]
    assert len(ids) == len(set(ids))


def test_every_override_file_defines_each_function_once():
    for path in sorted([*(ASSIGNMENT / "mutants").glob("*.py"), *(ASSIGNMENT / "alternatives").glob("*.py")]):
        names = [line.split("(")[0] for line in path.read_text().splitlines() if line.startswith("def ")]
        assert len(names) == len(set(names)), f"{path} defines a function twice"
        assert len(names) == sum(len(v.functions) for v in variants.read_overrides(path))


def test_mutants_cover_every_contract_function():
    modules = import_modules(SOLUTION)
    contract = {
        (name, function)
        for name, module in modules.items()
        for function, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == name
    }
    covered = {(variant.module, function) for variant in MUTANTS for function in variant.functions}
    assert contract - covered == set()


def test_reference_is_clean_on_the_battery(reference):
    labels = [label for label, *_ in battery(import_modules(SOLUTION))]
    assert len(labels) == len(set(labels)) == len(reference)
    for label, observation in reference.items():
        assert observation.error == ("RuntimeError" if label == FAILING_CALL else None), label
        assert not observation.warnings and not observation.mutated and not observation.aliased, label
        assert observation.repeatable, label


def test_differences_see_each_kind_of_observable_change_and_nothing_else():
    x = np.array([1.0, -2.0, 0.5])
    reference_call = {"call": observe(np.copy, (x,))}
    assert differences(reference_call, {"call": observe(lambda v: v * (1 + 1e-9), (x,))}) == []
    ticks = itertools.count()
    changed = {
        "values differ": lambda v: v * (1 + 1e-6),
        "float32": lambda v: v.astype(np.float32),
        "(1, 3)": lambda v: v[None].copy(),
        "raises IndexError": lambda v: v[10],
        "warnings ('RuntimeWarning: overflow": lambda v: (np.float64(1e308) * 10, v.copy())[1],
        "mutated True": lambda v: (v.copy(), v.fill(0.0))[0],
        "aliased True": lambda v: v,
        "repeatable False": lambda v: v + next(ticks),
    }
    for kind, function in changed.items():
        [found] = differences(reference_call, {"call": observe(function, (x,))})
        assert kind in found
    assert compare(1.0, np.float64(1.0)) == [] and compare(1.0, np.array(1.0)) != []


@pytest.mark.parametrize("variant", MUTANTS, ids=lambda variant: variant.id)
def test_mutant_differs_observably_from_the_reference(variant, tmp_path, reference):
    assert differences(reference, battery_of(variant, tmp_path)), (
        f"{variant.id} ({variant.description}) behaves like the reference on the whole battery"
    )


@pytest.mark.parametrize("variant", ALTERNATIVES, ids=lambda variant: variant.id)
def test_alternative_agrees_with_the_reference(variant, tmp_path, reference):
    found = differences(reference, battery_of(variant, tmp_path))
    assert not found, f"{variant.id} ({variant.description}):\n" + "\n".join(found)
