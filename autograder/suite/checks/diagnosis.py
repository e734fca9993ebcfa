"""Plain-words explanations of common mistakes, found by comparing a wrong result with the right one.

``diagnose`` tries a list of generic mistake patterns (zero everywhere, a sign error, a transposed
matrix, a missing or extra division by the batch size, a missing or extra sum over the batch,
float32 arithmetic) and the named wrong answers a suite computed itself (``candidates``), and
returns the explanation of the first one that matches within ``MATCH_TOLERANCE``. ``shape_hint``
does the same from shapes alone. Explanations are phrases; the checks print them after
"Likely cause:".
"""

from __future__ import annotations

from typing import Any

import numpy as np

MATCH_TOLERANCE = 1e-4  # a pattern matches when max|got - pattern| <= MATCH_TOLERANCE * max|pattern|
FLOAT32_TOLERANCE = 1e-3  # float32 arithmetic keeps about 7 digits; longer computations lose a few more

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
EXTRA_FIRST_AXIS = (
    "it has an extra first axis of length {n}, "
    "e.g. one row per example that must be summed over the batch (axis 0)"
)
MISSING_FIRST_AXIS = (
    "the first axis (length {n}) is missing, "
    "e.g. summed over the batch where one value per example is expected"
)
NOT_SUMMED = "it keeps one row per example: these rows must be summed over the batch (axis 0)"
SUMMED = "it is summed over the batch (axis 0), but one value per example is expected"
FLOAT32 = (
    "the values are right only to float32 precision (about 7 digits): part of the computation "
    "is done in float32; compute in float64 throughout"
)


def diagnose(
    got: Any,
    expected: Any,
    *,
    candidates: dict[str, Any] | None = None,
    batch_size: int | None = None,
) -> str | None:
    """The explanation of the first known mistake that turns ``expected`` into ``got``, or None.

    got, expected: arrays (or numbers) of any shapes; a ``got`` that is not numeric or not finite
    matches nothing. candidates: explanation -> the wrong answer that mistake gives, shaped like
    ``got``; tried first, in order, and skipped when it equals ``expected`` (then it cannot
    explain a difference). batch_size: N, enabling the patterns "N times too large/small".
    """
    got_values, expected_values = _as_finite_floats(got), _as_finite_floats(expected)
    if got_values is None or expected_values is None or _peak(expected_values) == 0.0:
        return None
    for explanation, candidate in (candidates or {}).items():
        candidate_values = _as_finite_floats(candidate)
        if (
            candidate_values is not None
            and not _matches(candidate_values, expected_values)
            and _matches(got_values, candidate_values)
        ):
            return explanation
    for explanation, matches in _generic_patterns(got_values, expected_values, batch_size):
        if matches():
            return explanation
    if _float32_rounded(got, got_values, expected_values):
        return FLOAT32
    return None


def shape_hint(got_shape: tuple[int, ...], expected_shape: tuple[int, ...]) -> str | None:
    """What a wrong shape suggests, from the shapes alone, e.g. ``(5, 1)`` for ``(5,)``."""
    got_shape, expected_shape = tuple(got_shape), tuple(expected_shape)
    if len(got_shape) >= 2 and got_shape == expected_shape[::-1]:
        return "the shape is the transpose of the right one"
    if _without_ones(got_shape) == _without_ones(expected_shape):
        if len(got_shape) > len(expected_shape):
            return (
                "it has an extra axis of length 1 (a column or row vector, "
                "e.g. from keepdims=True or reshape(-1, 1))"
            )
        return "an axis of length 1 is missing (e.g. a reduction without keepdims=True)"
    if got_shape[1:] == expected_shape:
        return EXTRA_FIRST_AXIS.format(n=got_shape[0])
    if expected_shape[1:] == got_shape:
        return MISSING_FIRST_AXIS.format(n=expected_shape[0])
    return None


def _generic_patterns(got: np.ndarray, expected: np.ndarray, batch_size: int | None):
    """(explanation, test) pairs in the order they are tried; tests run only when reached."""
    yield ALL_ZERO, lambda: got.size > 0 and _peak(got) <= MATCH_TOLERANCE * _peak(expected)
    yield SIGN_FLIPPED, lambda: _matches(got, -expected)
    yield TRANSPOSED, lambda: _is_transposed(got, expected)
    if batch_size is not None and batch_size > 1:
        yield TIMES_BATCH.format(n=batch_size), lambda: _matches(got, expected * batch_size)
        yield DIVIDED_BY_BATCH.format(n=batch_size), lambda: _matches(got, expected / batch_size)
    yield NOT_SUMMED, lambda: (
        got.ndim >= 1 and got.shape[1:] == expected.shape and _matches(got.sum(axis=0), expected)
    )
    yield SUMMED, lambda: (
        expected.ndim >= 1 and expected.shape[1:] == got.shape and _matches(got, expected.sum(axis=0))
    )


def _as_finite_floats(value: Any) -> np.ndarray | None:
    try:
        values = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values if np.all(np.isfinite(values)) else None


def _peak(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0


def _matches(values: np.ndarray, pattern: np.ndarray) -> bool:
    """Same shape, and equal up to MATCH_TOLERANCE relative to the largest entry of the pattern."""
    if values.shape != pattern.shape or _peak(pattern) == 0.0:
        return False
    return _peak(values - pattern) <= MATCH_TOLERANCE * _peak(pattern)


def _is_transposed(got: np.ndarray, expected: np.ndarray) -> bool:
    """got holds the entries of expected.T (in either shape); never for a symmetric expected."""
    if expected.ndim != 2 or got.size != expected.size:
        return False
    transposed = expected.T.reshape(-1)
    return not _matches(transposed, expected.reshape(-1)) and _matches(got.reshape(-1), transposed)


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
