"""Shared pieces of the backprop suites (public and hidden).

- test tables: ``named_cases`` (one pytest param per function, with its display name and points)
  and ``Cases`` (partial credit over the cases of one function);
- calling student functions under the contract's rules: arguments unchanged, results repeatable,
  no warnings, results of the documented structure;
- the activations: which have parameters, kinks and a stability requirement, and the parameters
  the suites use (away from the defaults);
- inputs that expose mistakes: MLP and window-classifier problems, values that a perturbation of
  h does not round-trip, and the "repeated word ids" wrong answer of a window classifier.

Public tests use only what works without the reference solution; the hidden ones pass reference
functions to the same helpers.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    assert_array_form,
    assert_same_bits,
    assert_structure,
    assert_unchanged,
    sampling,
)
from autograder.codec import Handle
from autograder.errors import CheckFailure

# --------------------------------------------------------------------------- test tables


def named_cases(title: str, items: Iterable[str], points: float) -> list:
    """One pytest param per item, shown as ``"<item>: <title>"`` and worth ``points``."""
    return [
        pytest.param(item, id=item, marks=[pytest.mark.name(f"{item}: {title}"), pytest.mark.points(points)])
        for item in items
    ]


class Cases:
    """Partial credit over the cases of one test: ``with cases.case("default slope"): ...``.

    Each case that raises ``CheckFailure`` is recorded and the test goes on; the credit is the
    fraction of cases passed so far, so an exception of the student's code (which is never
    caught) still leaves the credit of the cases before it. ``finish()`` fails the test with the
    first failures' messages.
    """

    SHOWN = 2  # failure messages quoted in full

    def __init__(self, credit, total: int) -> None:
        self.credit = credit
        self.total = total
        self.passed = 0
        self.failures: list[str] = []
        credit.set(0.0)

    @contextlib.contextmanager
    def case(self, label: str) -> Iterator[None]:
        try:
            yield
        except CheckFailure as failure:
            self.failures.append(f"[{label}] {failure}")
        else:
            self.passed += 1
            self.credit.set(min(1.0, self.passed / self.total))

    def finish(self) -> None:
        if self.passed + len(self.failures) != self.total:
            raise RuntimeError(f"{self.passed + len(self.failures)} cases ran, {self.total} were announced")
        if self.failures:
            more = len(self.failures) - self.SHOWN
            raise CheckFailure(
                f"{len(self.failures)} of {self.total} cases fail. "
                + " ".join(self.failures[: self.SHOWN])
                + (f" (and {more} more)" if more > 0 else "")
            )


@contextlib.contextmanager
def lead(text: str) -> Iterator[None]:
    """Put ``text`` before the message of a check failing inside the block (what was compared
    with what, e.g. "Compared with central differences of your own sigmoid:")."""
    try:
        yield
    except CheckFailure as failure:
        raise CheckFailure(f"{text} {failure}") from None


# --------------------------------------------------------------------------- calling students


def name_of(function: Any) -> str:
    """The name of a student function proxy, as the student wrote it (``sigmoid``)."""
    return function.ref.name


def is_function(value: Any) -> bool:
    """A function proxy (a student or provided function passed as an argument)."""
    return hasattr(value, "ref")


def call_unchanged(function: Any, arguments: dict[str, Any], **options: Any):
    """Call ``function(*arguments.values(), **options)`` and assert that no argument changed
    (bitwise); return the ``CallResult``. ``arguments`` maps the contract's argument names to
    values, in order; function arguments are passed on but not compared."""
    values = list(arguments.values())
    before = copy.deepcopy([None if is_function(v) else v for v in values])
    options_before = copy.deepcopy(options)
    result = function.call(*values, return_args=True, **options)
    named_after = list(zip(arguments, before, result.args_after)) + [
        (key, options_before[key], result.kwargs_after[key]) for key in options
    ]
    for name, old, new in named_after:
        if old is not None:
            assert_unchanged(old, new, function=name_of(function), name=name)
    return result


def comparable(value: Any) -> Any:
    """``value`` with every opaque handle replaced by its type name: two calls give two handles,
    whose identities differ even when the objects are equal."""
    if isinstance(value, Handle):
        return f"<{value.type_name}>"
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(item) for item in value)
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


def assert_repeatable(function: Any, arguments: dict[str, Any], **options: Any) -> None:
    """Call ``function`` twice with (copies of) the same arguments; the results must be bitwise
    identical."""
    first = function(*copy.deepcopy(list(arguments.values())), **copy.deepcopy(options))
    second = function(*copy.deepcopy(list(arguments.values())), **copy.deepcopy(options))
    assert_same_bits(comparable(first), comparable(second), function=name_of(function))


def assert_no_warnings(result, function: str, inputs: str) -> None:
    """The call behind ``result`` emitted no warning (overflow, division by zero, invalid value)."""
    if result.warnings:
        raise CheckFailure(
            f"{function} emitted {len(result.warnings)} warning(s) for {inputs}, the first: "
            f"{result.warnings[0]}. It must stay finite and accurate without warnings there: never "
            "evaluate exp of a large positive number, not even in a branch of np.where that is "
            "thrown away afterwards (np.where evaluates both branches)."
        )


def parts(value: Any, names: tuple[str, ...], function: str) -> tuple:
    """``value`` checked to be a tuple of ``len(names)`` items named ``names``, returned as is."""
    assert_structure(value, names, what=f"the result of {function}")
    return value


def array_result(function: Any, *args: Any, shape: tuple[int, ...], what: str | None = None, **options: Any):
    """Call ``function`` and assert that it returned a finite float64 array of ``shape``."""
    value = function(*args, **options)
    assert_array_form(value, what=what or f"the result of {name_of(function)}", shape=shape)
    return value


def forward_output(forward: Any, out_shape: tuple[int, ...]) -> Callable[..., np.ndarray]:
    """The output of a layer forward ``(out, cache)`` as a function of its inputs, for gradient
    checks; the output is checked to be a float64 array of ``out_shape``."""
    function = name_of(forward)

    def output(*args: Any, **options: Any) -> np.ndarray:
        out, _ = parts(forward(*args, **options), ("out", "cache"), function)
        assert_array_form(out, what=f"out returned by {function}", shape=out_shape)
        return out

    return output


def loss_value(loss: Any) -> Callable[..., float]:
    """The loss of a ``(loss, gradients)`` function as a function of its inputs, for gradient
    checks."""
    function = name_of(loss)

    def value(*args: Any, **options: Any) -> float:
        return parts(loss(*args, **options), ("loss", "gradients"), function)[0]

    return value


# --------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    """One activation of the contract: ``name`` and ``name_grad``.

    parameter: the keyword parameter with a default (``slope``, ``alpha``, ``beta``, ``theta``),
    if any; stable: whether the contract requires finite, accurate, warning-free results for
    |x| up to 1e4; registry: whether it is a key of ``ACTIVATIONS`` (usable in the layers).
    """

    name: str
    parameter: str | None = None
    stable: bool = False
    registry: bool = True
    kinked: bool = False
    revealing: tuple[tuple[float, float], ...] = ()
    draw_parameter: Callable[[np.random.Generator], float] | None = field(default=None, compare=False)

    @property
    def grad(self) -> str:
        return f"{self.name}_grad"

    def params(self, rng: np.random.Generator) -> dict[str, float]:
        """A value of the parameter away from its default, as keyword arguments ({} if none)."""
        return {self.parameter: self.draw_parameter(rng)} if self.parameter else {}

    def kinks(self, params: dict[str, Any]) -> tuple[float, ...]:
        """Where the activation with ``params`` is not differentiable."""
        if not self.kinked:
            return ()
        return (float(params.get("theta", 0.0)),)


def away_from_one(rng: np.random.Generator) -> float:
    """A positive parameter whose default is 1, drawn far from 1 (below or above)."""
    return float(rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.5, 3.0)]))


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("threshold", "theta", registry=False, kinked=True,
                   draw_parameter=lambda rng: float(rng.choice([-1, 1]) * rng.uniform(0.2, 1.0))),
        Activation("sigmoid", stable=True),
        Activation("tanh", stable=True),
        Activation("relu", kinked=True),
        Activation("leaky_relu", "slope", kinked=True, draw_parameter=lambda rng: float(rng.uniform(0.15, 0.9))),
        Activation("prelu", registry=False, kinked=True),
        Activation("elu", "alpha", stable=True, kinked=True, draw_parameter=away_from_one),
        Activation("swish", "beta", stable=True, draw_parameter=away_from_one),
        Activation("gelu", stable=True, revealing=((-2.9, -2.5), (1.8, 2.2))),
    )
}  # fmt: skip
"""The activations by name, in the order of the contract."""

REGISTRY = [a for a in ACTIVATIONS.values() if a.registry]
"""The activations of the ``ACTIVATIONS`` registry, usable by name in the layers and networks."""


def prelu_slopes(rng: np.random.Generator, units: int) -> np.ndarray:
    """One PReLU slope per unit, in (0, 1), all different."""
    return rng.uniform(0.05, 0.95, size=units)


def activation_input(rng: np.random.Generator, shape: tuple[int, ...], activation: Activation,
                     params: dict[str, Any]) -> np.ndarray:
    """Values in [-4, 4] at least 1e-3 away from the activation's kinks, both sides of each kink
    present, and one value in each of its revealing intervals."""
    x = sampling.away_from_kinks(rng, shape, activation.kinks(params), low=-4.0, high=4.0)
    flat = x.reshape(-1)
    for position, (low, high) in zip(rng.choice(flat.size, len(activation.revealing), replace=False),
                                      activation.revealing):
        flat[position] = rng.uniform(low, high)
    return x


EXTREME_POINTS = np.array([-1e4, -800.0, -710.0, -40.0, -1.5, 0.7, 40.0, 710.0, 800.0, 1e4])
"""Inputs where naive formulas overflow (|x| > 709), lose all digits (|x| ~ 40) or are fine."""


# --------------------------------------------------------------------------- networks


def hidden_pre_activations(params: dict[str, np.ndarray], X: np.ndarray) -> list[np.ndarray]:
    """The pre-activations z of the hidden layers of a ReLU MLP (params W1, b1, …, WL, bL)."""
    layers = len(params) // 2
    hidden, found = X, []
    for layer in range(1, layers):
        z = hidden @ params[f"W{layer}"].T + params[f"b{layer}"]
        found.append(z)
        hidden = np.maximum(z, 0.0)
    return found


@dataclass(frozen=True)
class MlpProblem:
    """Parameters and a batch for ``mlp_loss``: ``params`` (W1, b1, …), ``X`` (N, D), ``y`` (N,)."""

    params: dict[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray

    @property
    def classes(self) -> int:
        return len(self.params[f"b{len(self.params) // 2}"])


KINK_MARGIN = 1e-3  # far above the step of the gradient checks, so no difference straddles a kink


def mlp_problem(rng: np.random.Generator, layer_sizes: tuple[int, ...], batch: int) -> MlpProblem:
    """An MLP with ``layer_sizes`` (D, hidden…, C) and a batch of ``batch`` examples whose hidden
    pre-activations all stay ``KINK_MARGIN`` away from 0 (the ReLU kink), and whose labels
    cover more than one class."""
    for _ in range(sampling.MAX_REJECTION_ROUNDS):
        params = {}
        for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
            params[f"W{layer}"] = sampling.normal(rng, (n_out, n_in), scale=1.0 / np.sqrt(n_in))
            params[f"b{layer}"] = sampling.normal(rng, n_out, scale=0.5)
        X = sampling.normal(rng, (batch, layer_sizes[0]))
        y = rng.integers(0, layer_sizes[-1], size=batch, dtype=np.int64)
        pre_activations = hidden_pre_activations(params, X)
        clear = all(np.all(np.abs(z) >= KINK_MARGIN) for z in pre_activations)
        if clear and len(np.unique(y)) > 1:
            return MlpProblem(params, X, y)
    raise RuntimeError("could not draw an MLP problem away from the ReLU kinks")


@dataclass(frozen=True)
class WindowProblem:
    """Parameters and a batch for ``window_classifier_loss``: ``params`` (E, W, b, u), ``windows``
    (N, C) int64 with repeated ids within and across windows, ``labels`` (N,) of both values."""

    params: dict[str, np.ndarray]
    windows: np.ndarray
    labels: np.ndarray


def window_problem(rng: np.random.Generator, label_dtype: Any = np.int64) -> WindowProblem:
    """A small window classifier: vocabulary V, word vectors of size d, windows of C words, H
    hidden units and N windows, all different sizes."""
    vocab, dim, window, hidden, batch = 7, 2, 3, 4, 5
    params = {
        "E": sampling.normal(rng, (vocab, dim)),
        "W": sampling.normal(rng, (hidden, window * dim), scale=1.0 / np.sqrt(window * dim)),
        "b": sampling.normal(rng, hidden, scale=0.5),
        "u": sampling.normal(rng, hidden),
    }
    windows = sampling.integer_ids(rng, (batch, window), vocab)
    labels = rng.permutation(np.arange(batch) % 2).astype(label_dtype)
    return WindowProblem(params, windows, labels)


REPEATED_IDS_IGNORED = (
    "a word that occurs more than once in the batch gets the gradient of only one of its "
    "occurrences: dE[windows] += ... (fancy-index +=) keeps one of the repeated ids; accumulate "
    "with np.add.at(dE, windows, ...) or a loop"
)


def repeated_ids_ignored(loss: Callable[..., Any], problem: WindowProblem, **options: Any) -> np.ndarray:
    """The dE that ``dE[windows] += dx`` gives, from the gradients ``loss`` (a window-classifier
    loss) computes when every occurrence of a word has a row of E of its own."""
    windows = problem.windows
    occurrences = np.arange(windows.size, dtype=np.int64).reshape(windows.shape)
    own_rows = dict(problem.params, E=problem.params["E"][windows.reshape(-1)])
    _, grads = parts(loss(own_rows, occurrences, problem.labels, **options), ("loss", "gradients"), name_of_any(loss))
    assert_array_form(grads["E"], what="dE for one row per occurrence", shape=own_rows["E"].shape)
    wrong = np.zeros_like(problem.params["E"])
    wrong[windows.reshape(-1)] = grads["E"]  # the last occurrence of each id wins, as with +=
    return wrong


def name_of_any(function: Any) -> str:
    """The name of a student proxy or of a plain (reference) function."""
    return name_of(function) if is_function(function) else function.__name__


# --------------------------------------------------------------------------- gradient checking


def not_round_tripping(rng: np.random.Generator, shape: tuple[int, ...], h: float) -> np.ndarray:
    """Values in [-3, 3] for which moving by ``h`` and back does not give the value back in
    float64 (``(x + h) - h != x`` and ``((x + h) - 2h) + h != x``), so undoing a perturbation by
    arithmetic instead of restoring the saved value leaves a trace."""
    values = np.empty(int(np.prod(shape)))
    filled = 0
    for _ in range(sampling.MAX_REJECTION_ROUNDS):
        draws = rng.uniform(-3.0, 3.0, size=values.size)
        moved = ((draws + h) - h != draws) & (((draws + h) - 2 * h) + h != draws)
        kept = draws[moved][: values.size - filled]
        values[filled : filled + kept.size] = kept
        filled += kept.size
        if filled == values.size:
            return values.reshape(shape)
    raise RuntimeError("could not draw values that do not round-trip")
