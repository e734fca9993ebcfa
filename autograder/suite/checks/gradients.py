"""Numerical gradient checks of arbitrary functions of numpy arrays, by central differences.

What is differentiated
    For a function ``f(**inputs)`` returning an array shaped like ``upstream``, the scalar
    ``L(v) = sum(upstream * f(**inputs with inputs[wrt] = v))``. Its gradient with respect to v is
    the vector-Jacobian product a backward pass returns for the upstream gradient ``upstream``. A
    random upstream (not ones) is what exposes a backward pass that ignores it. For a scalar loss
    the upstream is 1.

How
    Central differences ``(L(v + h d) - L(v - h d)) / 2h`` in float64, on float64 copies made here:
    the caller's arrays are never perturbed, and every evaluation gets fresh copies of all inputs,
    so a function that writes into its inputs cannot corrupt later evaluations. ``d`` is a basis
    vector (one entry) or a random unit direction. A tensor of at most ``full_threshold`` entries is
    checked at every entry (2 evaluations per entry); a larger one along a few random unit
    directions plus a few sampled entries (2 evaluations each). Tensors are checked one at a time:
    in one direction drawn over all parameters together, a small error in a small tensor (a bias)
    would be drowned by a large one (a weight matrix).

Tolerance
    An analytic value ``a`` (an entry, or the projection <a, d>) passes when
    ``|a - n| <= atol + rtol*|n| + floor``, where n is the central difference and
    ``floor = eps * (M+ + M-) / 2h`` with ``M± = sum|upstream * f|`` at ``v ± h d``.
    With h = 1e-6 in float64, the central difference of a smooth function is off by about
    ``h²|f'''|/6`` (~1e-13) plus the rounding of L divided by 2h (~1e-10 relative for values of
    order one), four orders of magnitude below rtol = 1e-5, while real mistakes (a sign, a
    factor, a transposition, a missing term) are orders of magnitude above it. atol = 1e-7 is
    the floor for derivatives that are exactly 0 (dead units, saturated sigmoids). ``floor`` is
    the smallest difference a central difference can resolve at all: about 1e-9 for outputs of a
    few dozen values of order one, it keeps large tensors, whose L sums many thousands of terms,
    from failing correct code.

Kinks
    A central difference that straddles a kink (ReLU at 0) measures a mix of the two one-sided
    slopes, not a derivative. Inputs must stay more than h away from every kink:
    ``sampling.away_from_kinks`` draws them at least a margin (default 1e-3, far above h) away,
    and ``kinks=`` makes the checker verify this for the tensor it perturbs, refusing with a
    ValueError (a grader error) any perturbed entry within h of a kink. A kink inside a
    composition (a ReLU after an affine layer, while W is perturbed) is invisible here: the suite
    keeps that intermediate value away from kinks itself.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.suite.checks.compare import assert_array_form
from autograder.suite.checks.diagnosis import Diagnosis, Tolerance, Value, diagnose, resolved
from autograder.suite.checks.messages import at_index, describe, format_errors, format_number, likely_cause
from autograder.suite.errors import WRONG_VALUES, CheckFailure

DEFAULT_STEP = 1e-6
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-7
DEFAULT_FULL_THRESHOLD = 400  # at most 800 evaluations for a full check
DEFAULT_DIRECTIONS = 4
DEFAULT_SAMPLES = 8
EPSILON = float(np.finfo(np.float64).eps)

IGNORES_UPSTREAM = (
    "the upstream gradient is ignored (the result equals the gradient for an upstream gradient "
    "of all ones); multiply by the upstream gradient"
)


@dataclass(frozen=True)
class GradientProbe:
    """Numerical derivatives of L at one point along S basis vectors, then K unit directions.

    wrt: the name of the input differentiated; shape: its shape.
    entries: (S,) int64 flat indices of the probed entries, ascending.
    directions: (K, size) float64 unit vectors.
    numerical: (S + K,) central differences, the entries first.
    rounding_floor: (S + K,) the smallest difference each central difference resolves.
    evaluations: how many times the function was called.
    """

    wrt: str
    shape: tuple[int, ...]
    entries: np.ndarray
    directions: np.ndarray
    numerical: np.ndarray
    rounding_floor: np.ndarray
    evaluations: int

    @property
    def is_full(self) -> bool:
        """Every entry and nothing else was probed: ``numerical`` is the whole gradient, flattened."""
        return self.entries.size == math.prod(self.shape) and not len(self.directions)

    def project(self, gradient: np.ndarray) -> np.ndarray:
        """(S + K,) the values an analytic ``gradient`` (shaped like the input) predicts for
        ``numerical``: its probed entries, then its dot products with the directions."""
        flat = np.reshape(gradient, -1)
        return np.concatenate([flat[self.entries], self.directions @ flat])


def numerical_vjp(
    f: Callable[..., Any],
    inputs: dict[str, Any],
    upstream: Any,
    wrt: str,
    *,
    h: float = DEFAULT_STEP,
    entries: None | int | Sequence[int] = None,
    directions: int | np.ndarray = 0,
    rng: np.random.Generator | None = None,
    kinks: Sequence[float] = (),
    f_many: Callable[[list[dict[str, Any]]], list[Any]] | None = None,
) -> GradientProbe:
    """Central differences of ``L(v) = sum(upstream * f(**inputs, wrt=v))`` at ``v = inputs[wrt]``.

    f: called with keyword arguments ``inputs`` (``inputs[wrt]`` replaced by a float64 copy, moved
    by h along each probe); returns a float64 array shaped like ``upstream`` (a float when
    upstream is a scalar). entries: None (every entry), an int (that many distinct entries drawn
    with rng) or flat indices. directions: an int (that many random unit directions drawn with
    rng) or an array (K, *shape) of directions used as given. kinks: points where f is not
    differentiable in the entries of ``inputs[wrt]``; a perturbed entry within h of one raises
    ValueError. f_many: f at many points at once, given the list of their keyword arguments (for
    instance a student function evaluated in one round trip to its worker); by default f is
    called once per point.
    """
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"the step h must be a positive number, not {h!r}")
    point = np.array(_wrt_value(inputs, wrt), dtype=np.float64)
    if point.size == 0:
        raise ValueError(f"inputs[{wrt!r}] is empty")
    flat_entries = _choose_entries(point.size, entries, rng)
    unit_directions = _choose_directions(point.size, directions, rng)
    _refuse_kink_crossings(point.reshape(-1), flat_entries, unit_directions, kinks, h, wrt)
    objective = _Objective(f_many or _one_by_one(f), inputs, upstream, wrt, point.shape)
    high, high_magnitude, low, low_magnitude = objective.at_pairs(
        _probe_points(point.reshape(-1), flat_entries, unit_directions, h)
    )
    numerical = (high - low) / (2 * h)
    floor = EPSILON * (high_magnitude + low_magnitude) / (2 * h)
    return GradientProbe(
        wrt=wrt,
        shape=point.shape,
        entries=flat_entries,
        directions=unit_directions,
        numerical=numerical,
        rounding_floor=floor,
        evaluations=objective.evaluations,
    )


def check_gradient(
    f: Callable[..., Any],
    analytic: Any,
    inputs: dict[str, Any],
    upstream: Any,
    wrt: str,
    *,
    what: str,
    rng: np.random.Generator,
    h: float = DEFAULT_STEP,
    full_threshold: int = DEFAULT_FULL_THRESHOLD,
    directions: int = DEFAULT_DIRECTIONS,
    samples: int = DEFAULT_SAMPLES,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    kinks: Sequence[float] = (),
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None = None,
    known: Mapping[str, Value] | None = None,
    batch_size: int | None = None,
    f_many: Callable[[list[dict[str, Any]]], list[Any]] | None = None,
) -> GradientProbe:
    """Assert that ``analytic`` is the gradient of ``sum(upstream * f(**inputs))`` with respect to
    ``inputs[wrt]``; return the probe (its ``evaluations`` give the cost).

    analytic: what the student's backward returned, checked first to be a float64 ndarray of
    exactly the input's shape with finite entries. what: names it for the student, e.g.
    ``"dW returned by affine_backward"``. Every entry is checked when the input has at most
    ``full_threshold`` entries; otherwise ``directions`` random unit directions and ``samples``
    sampled entries. Tolerances: see the module docstring. kinks and f_many: as for ``numerical_vjp``.
    candidates (explanation -> wrong gradient shaped like the input, or a function computing it),
    known (description -> a value shaped like the input that the gradient must not simply be) and
    batch_size feed the "Likely cause" of a failure, as do the gradient for an upstream of ones
    and, when every entry is checked, the kinks (a gradient wrong on one side of a kink only).
    All of it is computed only when the check fails.
    """
    shape = np.shape(_wrt_value(inputs, wrt))
    assert_array_form(analytic, what=what, shape=shape)
    full = math.prod(shape) <= full_threshold
    probe = numerical_vjp(
        f,
        inputs,
        upstream,
        wrt,
        h=h,
        entries=None if full else samples,
        directions=0 if full else directions,
        rng=rng,
        kinks=kinks,
        f_many=f_many,
    )
    predicted = probe.project(analytic)
    allowed = atol + rtol * np.abs(probe.numerical) + probe.rounding_floor
    wrong = np.flatnonzero(~(np.abs(predicted - probe.numerical) <= allowed))
    if wrong.size:
        clues = _Clues(f, f_many, inputs, upstream, h, kinks, candidates, known, batch_size)
        diagnosis = _explain(probe, analytic, clues, Tolerance(rtol, atol + float(np.max(probe.rounding_floor))))
        message = _disagreement(probe, predicted, allowed, wrong, what) + likely_cause(diagnosis)
        raise CheckFailure(message, kind=WRONG_VALUES, diagnosis=diagnosis)
    return probe


def check_loss_gradient(
    loss: Callable[..., Any], analytic: Any, inputs: dict[str, Any], wrt: str, **options: Any
) -> GradientProbe:
    """``check_gradient`` for a function returning a scalar loss (a float): the upstream is 1.
    Takes the same keyword options (``what`` and ``rng`` required)."""
    return check_gradient(loss, analytic, inputs, 1.0, wrt, **options)


def _one_by_one(f: Callable[..., Any]) -> Callable[[list[dict[str, Any]]], list[Any]]:
    return lambda points: [f(**arguments) for arguments in points]


class _Objective:
    """L(v) = sum(upstream * f(**inputs, wrt=v)) and M(v) = sum|upstream * f(...)|, counting calls."""

    def __init__(
        self,
        f_many: Callable[[list[dict[str, Any]]], list[Any]],
        inputs: dict[str, Any],
        upstream: Any,
        wrt: str,
        shape: tuple[int, ...],
    ) -> None:
        self.f_many = f_many
        self.other_inputs = {name: value for name, value in inputs.items() if name != wrt}
        self.upstream = np.array(upstream, dtype=np.float64)
        if not np.all(np.isfinite(self.upstream)):
            raise ValueError("the upstream gradient holds non-finite values")
        self.wrt = wrt
        self.shape = shape
        self.evaluations = 0

    def at_pairs(self, pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """(4, P): L and M at the first points of the P pairs of flat values, then at the second
        points; all 2P points are evaluated with one call of ``f_many``."""
        points = [point for pair in pairs for point in pair]
        outputs = self.f_many([self._arguments(point) for point in points])
        if type(outputs) is not list or len(outputs) != len(points):
            raise ValueError(f"f_many returned {describe(outputs)} for {len(points)} points")
        self.evaluations += len(points)
        values = np.array([self._terms(output) for output in outputs], dtype=np.float64).reshape(-1, 2, 2)
        return values.transpose(1, 2, 0).reshape(4, -1)

    def _arguments(self, flat_value: np.ndarray) -> dict[str, Any]:
        """Fresh copies of all inputs, with ``wrt`` at ``flat_value``."""
        arguments = copy.deepcopy(self.other_inputs)
        arguments[self.wrt] = flat_value.reshape(self.shape)
        return arguments

    def _terms(self, output: Any) -> tuple[float, float]:
        """L and M for one output of f."""
        if not _is_float64_value(output, self.upstream.shape):
            raise CheckFailure(
                f"The function whose gradient is checked returned {describe(output)} when {self.wrt} "
                f"was perturbed, where a float64 value of shape {self.upstream.shape} was expected.",
                kind="type",
            )
        terms = self.upstream * output
        value = float(np.sum(terms))
        if not math.isfinite(value):
            raise CheckFailure(
                f"The function whose gradient is checked returned a non-finite value when {self.wrt} "
                "was perturbed slightly, so its gradient cannot be checked there.",
                kind="not-finite",
            )
        return value, float(np.sum(np.abs(terms)))


def _is_float64_value(value: Any, shape: tuple[int, ...]) -> bool:
    """A float64 ndarray of ``shape``, or a float64 number when ``shape`` is ()."""
    if type(value) is np.ndarray:
        return value.dtype == np.float64 and value.shape == shape
    return type(value) in (float, np.float64) and shape == ()


def _wrt_value(inputs: dict[str, Any], wrt: str) -> Any:
    if wrt not in inputs:
        raise ValueError(f"wrt={wrt!r} is not one of the inputs {sorted(inputs)}")
    return inputs[wrt]


def _probe_points(
    base: np.ndarray, entries: np.ndarray, directions: np.ndarray, h: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(v + h d, v - h d) for each basis vector of ``entries``, then for each direction."""
    for entry in entries:
        plus, minus = base.copy(), base.copy()
        plus[entry] += h
        minus[entry] -= h
        yield plus, minus
    for direction in directions:
        yield base + h * direction, base - h * direction


def _choose_entries(size: int, entries: None | int | Sequence[int], rng: np.random.Generator | None) -> np.ndarray:
    if entries is None:
        return np.arange(size)
    if isinstance(entries, (int, np.integer)):
        if entries < 0:
            raise ValueError(f"the number of sampled entries must be >= 0, not {entries}")
        return np.sort(_require_rng(rng).choice(size, size=min(int(entries), size), replace=False))
    chosen = np.unique(np.asarray(entries, dtype=np.int64))
    if chosen.size and (chosen[0] < 0 or chosen[-1] >= size):
        raise ValueError(f"entries must be flat indices in [0, {size})")
    return chosen


def _choose_directions(size: int, directions: int | np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    if isinstance(directions, (int, np.integer)):
        if directions < 0:
            raise ValueError(f"the number of directions must be >= 0, not {directions}")
        if directions == 0:
            return np.empty((0, size))
        vectors = _require_rng(rng).standard_normal((int(directions), size))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.array(directions, dtype=np.float64)
    return vectors.reshape(len(vectors), size)


def _require_rng(rng: np.random.Generator | None) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError("a numpy Generator (rng) is needed to draw entries or directions")
    return rng


def _refuse_kink_crossings(
    flat_point: np.ndarray,
    entries: np.ndarray,
    directions: np.ndarray,
    kinks: Sequence[float],
    h: float,
    wrt: str,
) -> None:
    """Raise ValueError when a perturbed entry lies within h of a kink. A direction moves every
    entry, by at most h; a basis vector only its own entry."""
    kink_points = np.asarray(kinks, dtype=np.float64).reshape(-1)
    if not kink_points.size:
        return
    moved = flat_point if len(directions) else flat_point[entries]
    too_close = np.argwhere(np.abs(moved[:, None] - kink_points[None, :]) <= h)
    if too_close.size:
        entry, kink = too_close[0]
        raise ValueError(
            f"cannot check the gradient with respect to {wrt}: the entry {moved[entry]!r} lies within "
            f"the step h={h:g} of the kink at {kink_points[kink]:g}, so a central difference would "
            "straddle the kink. Draw the inputs with sampling.away_from_kinks and a margin larger "
            "than h."
        )


def _disagreement(
    probe: GradientProbe, predicted: np.ndarray, allowed: np.ndarray, wrong: np.ndarray, what: str
) -> str:
    """The message of a failed check: the first disagreeing entry, else the first direction."""
    first = wrong[0]
    numerical, yours = probe.numerical[first], predicted[first]
    errors = format_errors(yours, numerical, allowed[first])
    sampled = probe.entries.size
    if first < sampled:
        position = np.unravel_index(probe.entries[first], probe.shape)
        scope = "entries" if probe.is_full else "sampled entries"
        return (
            f"{what} disagrees with the numerical gradient{at_index(position)}: numerical "
            f"{format_number(numerical)}, yours {format_number(yours)} ({errors}); "
            f"{np.count_nonzero(wrong < sampled)} of {sampled} {scope} disagree."
        )
    agreeing = f", while all {sampled} sampled entries agree" if sampled else ""
    return (
        f"{what} disagrees with the numerical gradient along a random direction: the derivative "
        f"along it is {format_number(numerical)} numerically but {format_number(yours)} by your "
        f"gradient ({errors}); {wrong.size} of {len(probe.directions)} random directions "
        f"disagree{agreeing}."
    )


@dataclass(frozen=True)
class _Clues:
    """What a failed ``check_gradient`` was given, for its diagnosis."""

    f: Callable[..., Any]
    f_many: Callable[[list[dict[str, Any]]], list[Any]] | None
    inputs: dict[str, Any]
    upstream: Any
    h: float
    kinks: Sequence[float]
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None
    known: Mapping[str, Value] | None
    batch_size: int | None


def _explain(probe: GradientProbe, analytic: np.ndarray, clues: _Clues, tolerance: Tolerance) -> Diagnosis | None:
    """The likely cause of a failed check, from the probe's values (the whole gradient when every
    entry was probed), the caller's candidates and known values and the gradient for an upstream
    of ones; every candidate is computed only if it is reached."""
    shape = probe.shape if probe.is_full else (len(probe.numerical),)

    def probed(value: Value) -> Callable[[], np.ndarray]:
        return lambda: probe.project(_candidate(resolved(value), probe.shape)).reshape(shape)

    def candidates() -> dict[str, Callable[[], np.ndarray]]:
        predicted = {explanation: probed(wrong) for explanation, wrong in (resolved(clues.candidates) or {}).items()}
        ones = np.ones_like(np.asarray(clues.upstream, dtype=np.float64))
        if not np.array_equal(ones, clues.upstream):
            predicted[IGNORES_UPSTREAM] = lambda: numerical_vjp(
                clues.f,
                clues.inputs,
                ones,
                probe.wrt,
                h=clues.h,
                entries=probe.entries,
                directions=probe.directions,
                f_many=clues.f_many,
            ).numerical.reshape(shape)
        return predicted

    return diagnose(
        probe.project(analytic).reshape(shape),
        probe.numerical.reshape(shape),
        tolerance=tolerance,
        candidates=candidates,
        known={name: probed(value) for name, value in (clues.known or {}).items()},
        batch_size=clues.batch_size,
        argument=np.asarray(clues.inputs[probe.wrt], dtype=np.float64) if probe.is_full else None,
        kinks=clues.kinks,
        checked="entries" if probe.is_full else "probed values",
        positional=probe.is_full,
    )


def _candidate(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"a candidate of shape {array.shape} cannot explain a gradient of shape {shape}")
    return array
