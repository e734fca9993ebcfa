"""Plain-words explanations of common mistakes, found by comparing a wrong result with the right one.

A ``Diagnosis`` is data: the ``kind`` of pattern that matched, the phrase for the student (which
states the evidence), a ``label`` naming the mistake in the same words in every submission (what a
class report counts) and the ``evidence`` numbers behind it.

``diagnose`` tries, in this order, and returns the first that matches:

1. the named wrong answers a suite computed itself (``candidates``): the formula the student
   probably wrote;
2. values the suite knows (``known``): an argument or an intermediate returned where the result
   belongs (the forward in place of its derivative, the upstream gradient as it came);
3. generic patterns: all zero; a constant factor (-1, 2, 1/2, the batch size N, 1/N, any other
   constant); a transposed or reshaped result; the square, square root or absolute value of the
   right one; a missing or extra sum over the batch; float32 arithmetic; right values on one side
   of a kink only (``argument`` and ``kinks``: the input of an elementwise function); the right
   values in the wrong order; right values on a subset of rows or entries only.

A pattern matches only when every entry agrees within the check's own ``Tolerance``: nothing is
named that the numbers do not show. Evidence never holds the expected values or hidden inputs:
only factors, counts, indices of rows or entries, and the kink a region is bounded by.
``shape_hint`` explains a wrong shape from the shapes alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any, Union

import numpy as np

FLOAT32_TOLERANCE = 1e-3  # float32 arithmetic keeps about 7 digits; longer computations lose a few more
LISTED_INDICES = 5  # rows or entries named in a "subset" diagnosis
SIMPLE_DENOMINATORS = 8  # a factor p/q with q up to this is named as that fraction

ALL_ZERO = "every entry is zero, as if the result were a placeholder that is never computed"
SIGN_FLIPPED = "the result has the opposite sign of the right one everywhere (a sign error)"
TRANSPOSED = (
    "the entries are those of the right result transposed "
    "(check the order of the factors of a matrix product and which of them is transposed)"
)
TIMES_BATCH = (
    "every entry is {n} times too large, and {n} is the batch size: "
    "the division by the batch size (the average over the batch) is missing"
)
DIVIDED_BY_BATCH = (
    "every entry is {n} times too small, and {n} is the batch size: "
    "the result is divided by the batch size once too often"
)
CONSTANT_FACTOR = (
    "every entry is exactly {factor} times the right one: a constant factor is extra or missing "
    "(a coefficient of the formula, a step such as h instead of 2h, a normaliser)"
)
ANY_FACTOR = (
    "every entry is {factor} times the right one (the same factor for all {n} entries): "
    "a constant factor of the formula is wrong"
)
SQUARED = "every entry is the square of the right one: a square too many (or a square root missing)"
SQUARE_ROOT = "every entry is the square root of the right one: a square is missing (or a square root too many)"
ABSOLUTE = "every entry is the absolute value of the right one: the sign is lost (an abs or a square root of a square)"
EXTRA_FIRST_AXIS = (
    "it has an extra first axis of length {n}, e.g. one row per example that must be summed over the batch (axis 0)"
)
MISSING_FIRST_AXIS = (
    "the first axis (length {n}) is missing, e.g. summed over the batch where one value per example is expected"
)
NOT_SUMMED = "it keeps one row per example: these rows must be summed over the batch (axis 0)"
SUMMED = "it is summed over the batch (axis 0), but one value per example is expected"
FLOAT32 = (
    "the values are right only to float32 precision (about 7 digits): part of the computation "
    "is done in float32; compute in float64 throughout"
)
RESHAPED = (
    "the entries are the right ones in the right order, but shaped {got}: "
    "a reshape (or a flattening) is wrong where the shape {expected} belongs"
)
BRANCH = (
    "all {wrong} entries where {where} are wrong, and all {right} entries where {other} are right: "
    "the branch of the formula for {where} is wrong"
)
BRANCH_FACTOR = "; there, every entry is exactly {factor} times the right one (a coefficient of that branch)"
AT_KINK = (
    "only the {wrong} entries exactly at the kink x = {kink} are wrong: the value at the kink "
    "belongs to the other branch (compare with > or >= as the formula says)"
)
NEAR_KINK = (
    "only the {wrong} entries nearest the kink at {kink} (within {distance} of it) are wrong, all "
    "others are right: the formula is wrong close to the kink"
)
PERMUTED = (
    "the values are the right ones, but {moved} of {n} entries are at the wrong position{sorted}: "
    "the order is wrong (a permutation, a shuffle or a sort that does not belong)"
)
ROWS_PERMUTED = (
    "every row is one of the right rows, but {moved} of {n} rows are at the wrong position: "
    "the rows (examples) are in the wrong order"
)
SOME_ROWS = "only {which} of {n} {verb} wrong, the other rows are right: the mistake concerns only these rows"
SOME_COLUMNS = "only {which} of {n} {verb} wrong, the other columns are right: the mistake concerns only these columns"
SOME_ENTRIES = "only {which} of {n} {verb} wrong, the others are right"
SOME_ROWS_LABEL = "only some rows are wrong, the other rows are right"
SOME_COLUMNS_LABEL = "only some columns are wrong, the other columns are right"
SOME_ENTRIES_LABEL = "only a few entries are wrong, the others are right"
NAMED = "{explanation} (all {n} {checked} agree with that formula)"
EQUALS = "the result is {name} (all {n} {checked} agree with it), not what belongs here"

Value = Union[Any, Callable[[], Any]]
"""A candidate or known value, or a function without arguments that computes it when needed."""


@dataclass(frozen=True)
class Diagnosis:
    """A likely cause of a wrong result, as data.

    kind: the pattern that matched (``named``, ``equals``, ``zero``, ``factor``, ``transposed``,
    ``reshaped``, ``square``, ``square-root``, ``absolute``, ``summed``, ``not-summed``,
    ``float32``, ``branch``, ``permuted``, ``subset`` or ``shape``; a suite may add its own, e.g.
    ``helper`` for a function the tested one relies on that is wrong alone). text: the phrase shown after
    "Likely cause:", evidence included. label: the same mistake in words that hold for every
    submission (no sizes, no factors that vary): what a class report counts. evidence: the numbers
    behind it (JSON-ready: numbers, strings and lists of integers).
    """

    kind: str
    text: str
    label: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Any) -> "Diagnosis":
        """The diagnosis of ``as_data``; ValueError for anything else."""
        if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("kind", "text", "label")):
            raise ValueError(f"not a diagnosis: {data!r}"[:200])
        evidence = data.get("evidence", {})
        if not isinstance(evidence, dict):
            raise ValueError(f"the evidence of a diagnosis must be a dict, not {evidence!r}"[:200])
        return cls(data["kind"], data["text"], data["label"], evidence)


@dataclass(frozen=True)
class Tolerance:
    """When a value agrees with a pattern: at every entry, ``|value - pattern| <= atol + rtol*|pattern|``."""

    rtol: float = 1e-7
    atol: float = 1e-12

    def agree(self, values: np.ndarray, pattern: np.ndarray) -> np.ndarray:
        """Entrywise agreement (bool array shaped like both)."""
        return np.abs(values - pattern) <= self.atol + self.rtol * np.abs(pattern)

    def agrees(self, values: np.ndarray, pattern: np.ndarray) -> bool:
        return values.shape == pattern.shape and bool(np.all(self.agree(values, pattern)))


def diagnose(
    got: Any,
    expected: Any,
    *,
    tolerance: Tolerance = Tolerance(),
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None = None,
    known: Mapping[str, Value] | None = None,
    batch_size: int | None = None,
    argument: Any = None,
    kinks: Sequence[float] = (),
    checked: str = "entries",
    positional: bool = True,
    generic: bool = True,
) -> Diagnosis | None:
    """The first known mistake that turns ``expected`` into ``got`` (see the module docstring), or None.

    got, expected: arrays (or numbers) of any shapes; a ``got`` that is not numeric or not finite
    matches nothing. tolerance: the check's own. candidates: explanation -> the wrong answer that
    mistake gives, shaped like ``got`` (or a function computing it, or a function returning the
    whole mapping: computed only here, when a check has failed); tried in order, each skipped when
    it agrees with ``expected`` (then it cannot explain a difference). known: description (``"the
    input x"``) -> a value the result must not simply be. batch_size: N, for "N times too
    large/small". argument, kinks: the input of an elementwise function, shaped like ``expected``,
    and the points where that function changes its formula, for "wrong on one side of a kink".
    checked: what the entries are, for the evidence ("probed values" of a gradient check).
    positional: whether the entries are the positions of an array; False for values along random
    directions, where order, subsets and kinks mean nothing. generic: False for integer results
    (labels, indices), whose few small values make a generic relation (a factor, a permutation,
    zeros) likely by chance: then only ``candidates`` and ``known`` are tried.
    """
    got_values, expected_values = _as_finite_floats(got), _as_finite_floats(expected)
    if got_values is None or expected_values is None or _peak(expected_values) == 0.0:
        return None
    context = _Context(got_values, expected_values, tolerance, checked)
    for diagnosis in _suite_patterns(context, candidates, known):
        if diagnosis is not None:
            return diagnosis
    if not generic:
        return None
    for pattern in _generic_patterns(context, batch_size, argument, kinks, positional):
        diagnosis = pattern()
        if diagnosis is not None:
            return diagnosis
    if _float32_rounded(got, got_values, expected_values):
        return Diagnosis("float32", FLOAT32, FLOAT32)
    return None


def shape_hint(got_shape: tuple[int, ...], expected_shape: tuple[int, ...]) -> Diagnosis | None:
    """What a wrong shape suggests, from the shapes alone, e.g. ``(5, 1)`` for ``(5,)``."""
    got_shape, expected_shape = tuple(got_shape), tuple(expected_shape)
    evidence = {"got_shape": list(got_shape), "expected_shape": list(expected_shape)}
    if len(got_shape) >= 2 and got_shape == expected_shape[::-1]:
        text = "the shape is the transpose of the right one"
        return Diagnosis("shape", text, text, evidence)
    if _without_ones(got_shape) == _without_ones(expected_shape):
        if len(got_shape) > len(expected_shape):
            text = (
                "it has an extra axis of length 1 (a column or row vector, e.g. from keepdims=True or reshape(-1, 1))"
            )
        else:
            text = "an axis of length 1 is missing (e.g. a reduction without keepdims=True)"
        return Diagnosis("shape", text, text, evidence)
    if got_shape[1:] == expected_shape:
        return _sized("shape", EXTRA_FIRST_AXIS, got_shape[0], evidence)
    if expected_shape[1:] == got_shape:
        return _sized("shape", MISSING_FIRST_AXIS, expected_shape[0], evidence)
    return None


def resolved(value: Value) -> Any:
    """A candidate or known value, computed now if it was given as a function."""
    return value() if callable(value) else value


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class _Context:
    got: np.ndarray
    expected: np.ndarray
    tolerance: Tolerance
    checked: str

    def matches(self, pattern: np.ndarray) -> bool:
        """got agrees with ``pattern``, and ``pattern`` differs from ``expected`` (else it explains nothing)."""
        return self.tolerance.agrees(self.got, pattern) and not self.tolerance.agrees(pattern, self.expected)

    @property
    def wrong(self) -> np.ndarray:
        """Where got disagrees with expected (bool, shaped like both)."""
        return ~self.tolerance.agree(self.got, self.expected)


def _suite_patterns(context: _Context, candidates, known) -> Iterator[Diagnosis | None]:
    """The suite's named candidates, then its known values, each computed only when reached."""
    named = resolved(candidates) if candidates is not None else {}
    n = context.got.size
    for explanation, candidate in (named or {}).items():
        values = _as_finite_floats(resolved(candidate))
        if values is not None and context.matches(values):
            yield Diagnosis("named", NAMED.format(explanation=explanation, n=n, checked=context.checked), explanation)
    for name, value in (known or {}).items():
        values = _as_finite_floats(resolved(value))
        if values is not None and context.matches(values):
            text = EQUALS.format(name=name, n=n, checked=context.checked)
            yield Diagnosis("equals", text, f"the result is {name}")


def _generic_patterns(
    context: _Context, batch_size: int | None, argument: Any, kinks: Sequence[float], positional: bool
) -> Iterator[Callable[[], Diagnosis | None]]:
    """The generic patterns in the order they are tried; each runs only when reached."""
    got, expected = context.got, context.expected
    yield lambda: _all_zero(context)
    yield lambda: _constant_factor(context, batch_size)
    yield lambda: _transposed(context)
    yield lambda: _reshaped(context)
    yield lambda: _not_summed(context)
    yield (
        lambda: (
            Diagnosis("summed", SUMMED, SUMMED)
            if expected.ndim >= 1 and expected.shape[1:] == got.shape and context.matches(expected.sum(axis=0))
            else None
        )
    )
    if positional:
        yield lambda: _branch(context, argument, kinks)
    yield lambda: _elementwise_relation(context)
    if positional:
        yield lambda: _permuted(context)
        yield lambda: _subset(context)


def _all_zero(context: _Context) -> Diagnosis | None:
    if context.got.size and _peak(context.got) <= context.tolerance.rtol * _peak(context.expected):
        return Diagnosis("zero", ALL_ZERO, ALL_ZERO, {"entries": int(context.got.size)})
    return None


def _constant_factor(context: _Context, batch_size: int | None) -> Diagnosis | None:
    """got = c * expected for one constant c: named as -1, N or 1/N (the batch size), a simple
    fraction, or as the number it is."""
    got, expected = context.got, context.expected
    if got.shape != expected.shape:
        return None
    factor = float(np.vdot(got, expected) / np.vdot(expected, expected))
    if not math.isfinite(factor) or factor == 0.0 or not context.matches(factor * expected):
        return None
    n = batch_size if batch_size is not None and batch_size > 1 else None
    if context.matches(-expected):
        return Diagnosis("factor", SIGN_FLIPPED, SIGN_FLIPPED, {"factor": -1.0})
    if n is not None and context.matches(expected * n):
        return _sized("factor", TIMES_BATCH, n, {"factor": float(n)})
    if n is not None and context.matches(expected / n):
        return _sized("factor", DIVIDED_BY_BATCH, n, {"factor": 1.0 / n})
    simple = Fraction(factor).limit_denominator(SIMPLE_DENOMINATORS)
    if abs(simple.numerator) <= 100 and context.matches(expected * float(simple)):
        text = CONSTANT_FACTOR.format(factor=str(simple))
        return Diagnosis("factor", text, text, {"factor": float(simple)})
    if np.count_nonzero(expected) < 2:
        return None  # one number is always some multiple of another: no evidence
    text = ANY_FACTOR.format(factor=f"{factor:.4g}", n=got.size)
    return Diagnosis("factor", text, ANY_FACTOR.format(factor="c", n="N"), {"factor": factor})


def _transposed(context: _Context) -> Diagnosis | None:
    """got holds the entries of expected.T (in either shape); never for a symmetric expected."""
    got, expected = context.got, context.expected
    if expected.ndim != 2 or got.size != expected.size:
        return None
    transposed = expected.T.reshape(-1)
    if not context.tolerance.agrees(transposed, expected.reshape(-1)) and context.tolerance.agrees(
        got.reshape(-1), transposed
    ):
        return Diagnosis("transposed", TRANSPOSED, TRANSPOSED)
    return None


def _reshaped(context: _Context) -> Diagnosis | None:
    got, expected = context.got, context.expected
    if (
        got.shape == expected.shape
        or got.size != expected.size
        or _without_ones(got.shape) == _without_ones(expected.shape)
    ):
        return None  # an axis of length 1 too many or too few: shape_hint says so
    if context.tolerance.agrees(got.reshape(-1), expected.reshape(-1)):
        text = RESHAPED.format(got=got.shape, expected=expected.shape)
        evidence = {"got_shape": list(got.shape), "expected_shape": list(expected.shape)}
        return Diagnosis("reshaped", text, RESHAPED.format(got="wrongly", expected="given"), evidence)
    return None


def _elementwise_relation(context: _Context) -> Diagnosis | None:
    """got is the square, the square root or the absolute value of expected."""
    expected = context.expected
    if context.got.shape != expected.shape:
        return None
    if context.matches(expected**2):
        return Diagnosis("square", SQUARED, SQUARED)
    if np.all(expected >= 0) and context.matches(np.sqrt(expected)):
        return Diagnosis("square-root", SQUARE_ROOT, SQUARE_ROOT)
    if context.matches(np.abs(expected)):
        return Diagnosis("absolute", ABSOLUTE, ABSOLUTE)
    return None


def _not_summed(context: _Context) -> Diagnosis | None:
    got, expected = context.got, context.expected
    if got.ndim >= 1 and got.shape[1:] == expected.shape and context.tolerance.agrees(got.sum(axis=0), expected):
        return Diagnosis("not-summed", NOT_SUMMED, NOT_SUMMED, {"rows": int(got.shape[0])})
    return None


def _branch(context: _Context, argument: Any, kinks: Sequence[float]) -> Diagnosis | None:
    """The wrong entries are those on one side of a kink of the elementwise function of
    ``argument``, all of them; or only those at the kink; or only the ones nearest to it."""
    x = _as_finite_floats(argument) if argument is not None else None
    if x is None or x.shape != context.expected.shape or context.got.shape != x.shape or not len(kinks):
        return None
    wrong = context.wrong
    for kink in kinks:
        kink = float(kink)
        shown = f"{kink:g}"
        at = x == kink
        if at.any() and np.array_equal(wrong, at):
            text = AT_KINK.format(wrong=int(at.sum()), kink=shown)
            return Diagnosis("branch", text, AT_KINK.format(wrong="few", kink="k"), {"kink": kink, "region": "at"})
        for where, other, side in (("x < ", "x > ", x < kink), ("x > ", "x < ", x > kink)):
            opposite = ~side & ~at
            if opposite.any() and np.array_equal(wrong & ~at, side) and not wrong[opposite].any():
                text = BRANCH.format(
                    wrong=int(side.sum()), where=where + shown, right=int(opposite.sum()), other=other + shown
                )
                label = BRANCH.format(wrong="the", where=where + "k", right="the", other=other + "k")
                evidence = {"kink": kink, "region": where.strip() + " " + shown, "wrong": int(side.sum())}
                factor = _branch_factor(context, side)
                if factor is not None:
                    text += BRANCH_FACTOR.format(factor=factor)
                    evidence["factor"] = float(Fraction(factor))
                return Diagnosis("branch", text, label, evidence)
        distance = np.abs(x - kink)
        count = int(wrong.sum())
        if 0 < count <= x.size // 2 and distance[wrong].max() < distance[~wrong].min():
            reach = float(distance[wrong].max())
            text = NEAR_KINK.format(wrong=count, kink=shown, distance=f"{reach:.3g}")
            label = NEAR_KINK.format(wrong="few", kink="k", distance="d")
            return Diagnosis("branch", text, label, {"kink": kink, "region": "near", "distance": reach})
    return None


def _branch_factor(context: _Context, side: np.ndarray) -> str | None:
    """The simple fraction (``"10"``, ``"1/2"``) that the wrong entries on ``side`` of a kink are
    of the right ones, all of them, when there is one and at least two such entries."""
    got, expected = context.got[side], context.expected[side]
    if np.count_nonzero(expected) < 2:
        return None
    factor = Fraction(float(np.vdot(got, expected) / np.vdot(expected, expected))).limit_denominator(
        SIMPLE_DENOMINATORS
    )
    if factor == 0 or abs(factor.numerator) > 100 or not context.tolerance.agrees(got, expected * float(factor)):
        return None
    return str(factor)


def _permuted(context: _Context) -> Diagnosis | None:
    """The right values in another order: all entries, or whole rows."""
    got, expected = context.got, context.expected
    if got.shape != expected.shape or got.size < 2:
        return None
    if got.ndim >= 2 and len(got) >= 2:
        moved = _rows_permuted(context)
        if moved:
            text = ROWS_PERMUTED.format(moved=moved, n=len(got))
            return Diagnosis("permuted", text, ROWS_PERMUTED.format(moved="some", n="the"), {"moved": moved})
    moved = int(context.wrong.sum())
    if not moved or not context.tolerance.agrees(np.sort(got, axis=None), np.sort(expected, axis=None)):
        return None
    ascending = bool(np.all(np.diff(got.reshape(-1)) >= 0))
    text = PERMUTED.format(moved=moved, n=got.size, sorted=" (yours are in ascending order)" if ascending else "")
    label = PERMUTED.format(moved="some", n="the", sorted="")
    return Diagnosis("permuted", text, label, {"moved": moved, "ascending": ascending})


def _rows_permuted(context: _Context) -> int:
    """How many rows of got are at a wrong position when every row of got is a distinct row of
    expected; 0 otherwise."""
    got, expected = context.got.reshape(len(context.got), -1), context.expected.reshape(len(context.expected), -1)
    used: set[int] = set()
    for row in got:
        found = [i for i in range(len(expected)) if i not in used and context.tolerance.agrees(row, expected[i])]
        if not found:
            return 0
        used.add(found[0])
    return int(np.count_nonzero(context.wrong.reshape(len(got), -1).any(axis=1)))


def _subset(context: _Context) -> Diagnosis | None:
    """Right values everywhere except in some rows, some columns, or a few entries."""
    got, expected = context.got, context.expected
    if got.shape != expected.shape or got.size < 2:
        return None
    wrong = context.wrong
    if got.ndim >= 2:
        rows = np.flatnonzero(wrong.reshape(len(wrong), -1).any(axis=1))
        if 0 < rows.size < len(wrong):
            text = SOME_ROWS.format(which=_listed("row", rows), n=len(wrong), verb=_verb(rows))
            return Diagnosis("subset", text, SOME_ROWS_LABEL, {"axis": 0, "wrong": _first(rows), "of": int(len(wrong))})
        columns = np.flatnonzero(np.moveaxis(wrong, -1, 0).reshape(wrong.shape[-1], -1).any(axis=1))
        if 0 < columns.size < wrong.shape[-1]:
            text = SOME_COLUMNS.format(which=_listed("column", columns), n=wrong.shape[-1], verb=_verb(columns))
            return Diagnosis(
                "subset", text, SOME_COLUMNS_LABEL, {"axis": -1, "wrong": _first(columns), "of": int(wrong.shape[-1])}
            )
        return None
    entries = np.flatnonzero(wrong)
    if 0 < entries.size <= min(LISTED_INDICES, got.size // 2):
        text = SOME_ENTRIES.format(which=_listed("entry", entries), n=got.size, verb=_verb(entries))
        return Diagnosis("subset", text, SOME_ENTRIES_LABEL, {"wrong": _first(entries), "of": int(got.size)})
    return None


# --------------------------------------------------------------------------- helpers


def _sized(kind: str, template: str, n: int, evidence: dict[str, Any]) -> Diagnosis:
    """A diagnosis whose text names a size ``n`` that its label leaves as N."""
    return Diagnosis(kind, template.format(n=n), template.format(n="N"), {**evidence, "n": int(n)})


def _first(indices: np.ndarray) -> list[int]:
    return [int(i) for i in indices[:LISTED_INDICES]]


def _listed(noun: str, indices: np.ndarray) -> str:
    """``row 3``, ``rows 0, 2 and 4``, ``rows 0, 1, 2, 3, 4, ...``."""
    plural = {"entry": "entries"}.get(noun, noun + "s")
    shown = [str(int(i)) for i in indices[:LISTED_INDICES]]
    if len(indices) == 1:
        return f"{noun} {shown[0]}"
    if len(indices) > LISTED_INDICES:
        return f"{plural} {', '.join(shown)}, ..."
    return f"{plural} {', '.join(shown[:-1])} and {shown[-1]}"


def _verb(indices: np.ndarray) -> str:
    return "is" if len(indices) == 1 else "are"


def _as_finite_floats(value: Any) -> np.ndarray | None:
    try:
        values = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values if np.all(np.isfinite(values)) else None


def _peak(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0


def _float32_rounded(got: Any, got_values: np.ndarray, expected: np.ndarray) -> bool:
    """got is float32 data (by dtype, or float64 values that all are float32 numbers) that agrees
    with expected only to float32 precision, while expected itself is not float32 data."""
    if got_values.shape != expected.shape or _peak(got_values - expected) == 0.0:
        return False
    if _peak(got_values - expected) > FLOAT32_TOLERANCE * _peak(expected):
        return False
    if np.asarray(got).dtype == np.float32:
        return True
    return _is_float32_data(got_values) and not _is_float32_data(expected)


def _is_float32_data(values: np.ndarray) -> bool:
    with np.errstate(over="ignore"):
        return bool(np.all(values.astype(np.float32).astype(np.float64) == values))


def _without_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(length for length in shape if length != 1)
