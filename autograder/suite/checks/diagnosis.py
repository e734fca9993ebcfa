"""Plain-words explanations of common mistakes, found by comparing a wrong result with the right one.

``diagnose`` tries the named wrong answers a suite computed itself (``candidates``) and a list of
generic mistake patterns (zero everywhere, a sign error, a transposed matrix, a missing or extra
division by the batch size, a missing or extra sum over the batch, a constant factor, an extra or
missing square, the right values in another order or another shape, right rows among wrong ones,
float32 arithmetic), and returns the explanation of the first one that matches within
``MATCH_TOLERANCE``, with its evidence. None matches by chance: a pattern is named only when the
wrong result is that pattern of the right one, never the right one itself. ``shape_hint``
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
    "it has an extra first axis of length {n}, e.g. one row per example that must be summed over the batch (axis 0)"
)
MISSING_FIRST_AXIS = (
    "the first axis (length {n}) is missing, e.g. summed over the batch where one value per example is expected"
)
NOT_SUMMED = "it keeps one row per example: these rows must be summed over the batch (axis 0)"
SUMMED = "it is summed over the batch (axis 0), but one value per example is expected"
FACTOR = "every entry is exactly {factor} times the right one: a constant factor is {change}"
SQUARED = "every entry is the square of the right one: an extra square (or a product of a value with itself)"
SQUARE_ROOT = "every entry is the square root of the right one: a square is missing"
REORDERED = "the values are the right ones in another order: {what} in the wrong order (an index or a permutation)"
RESHAPED = "the entries are the right ones in another shape (a reshape where the axes must be kept or transposed)"
SOME_ROWS = "rows {right} are right and the other {wrong} rows are wrong (a loop or a mask that misses rows)"
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
                "it has an extra axis of length 1 (a column or row vector, e.g. from keepdims=True or reshape(-1, 1))"
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
    yield NOT_SUMMED, lambda: got.ndim >= 1 and got.shape[1:] == expected.shape and _matches(got.sum(axis=0), expected)
    yield SUMMED, lambda: expected.ndim >= 1 and expected.shape[1:] == got.shape and _matches(got, expected.sum(axis=0))
    factor = _simple_factor(got, expected)
    if factor is not None:
        change = "missing" if abs(factor[0]) > 1 else "extra"
        yield FACTOR.format(factor=factor[1], change=f"{change} (a factor, a normaliser or a step size)"), lambda: True
    yield SQUARED, lambda: not _matches(expected**2, expected) and _matches(got, expected**2)
    yield (
        SQUARE_ROOT,
        lambda: (
            bool(np.all(expected >= 0))
            and not _matches(np.sqrt(expected), expected)
            and _matches(got, np.sqrt(expected))
        ),
    )
    yield (
        RESHAPED,
        lambda: (  # not for axes of length 1 only, which shape_hint names better
            got.shape != expected.shape
            and got.size == expected.size
            and _without_ones(got.shape) != _without_ones(expected.shape)
            and _matches(got.reshape(-1), expected.reshape(-1))
        ),
    )
    if got.shape == expected.shape and got.size >= 2:
        what = "the rows are" if got.ndim >= 2 and _rows_reordered(got, expected) else "the entries are"
        yield (
            REORDERED.format(what=what),
            lambda: not _matches(got, expected) and _matches(np.sort(got, axis=None), np.sort(expected, axis=None)),
        )
    rows = _right_rows(got, expected)
    if rows is not None:
        right, wrong = rows
        yield SOME_ROWS.format(right=_listed(right), wrong=wrong), lambda: True


SIMPLE_FACTORS = {
    2: "2",
    3: "3",
    4: "4",
    0.5: "1/2",
    1 / 3: "1/3",
    0.25: "1/4",
    -2: "-2",
    -0.5: "-1/2",
    10: "10",
    0.1: "1/10",
    2 / 3: "2/3",
    1.5: "3/2",
}
"""The factors a slip gives (a doubled term, a missing 1/2 of a squared loss, a step 2h for h, ...),
as printed."""


def _simple_factor(got: np.ndarray, expected: np.ndarray) -> tuple[float, str] | None:
    """``(factor, text)`` when ``got`` is ``expected`` times one of ``SIMPLE_FACTORS`` (for an
    array with at least two non-zero entries, also any other factor, printed with 4 digits)."""
    if got.shape != expected.shape:
        return None
    for factor, text in SIMPLE_FACTORS.items():
        if _matches(got, expected * factor):
            return factor, text
    nonzero = np.flatnonzero(np.abs(expected) > MATCH_TOLERANCE * _peak(expected))
    if nonzero.size < 2:
        return None
    flat_got, flat_expected = got.reshape(-1), expected.reshape(-1)
    factor = float(flat_got @ flat_expected / (flat_expected @ flat_expected))
    if abs(abs(factor) - 1) <= 1e-3 or abs(factor) < 1e-3 or not _matches(got, expected * factor):
        return None
    return factor, f"{factor:.4g}"


def _rows_reordered(got: np.ndarray, expected: np.ndarray) -> bool:
    """The rows (first axis) of ``got`` are those of ``expected`` in another order."""
    return _matches(_sorted_rows(got), _sorted_rows(expected))


def _sorted_rows(values: np.ndarray) -> np.ndarray:
    """The rows of ``values`` (flattened beyond the first axis) in lexicographic order."""
    rows = values.reshape(len(values), -1)
    return rows[np.lexsort(rows.T[::-1])]


def _right_rows(got: np.ndarray, expected: np.ndarray) -> tuple[list[int], int] | None:
    """With two axes or more: the rows that are right and how many are wrong, when some rows are
    right throughout and every other row is wrong."""
    if got.shape != expected.shape or got.ndim < 2 or len(got) < 2:
        return None
    scale = _peak(expected)
    close = np.abs(got - expected).reshape(len(got), -1) <= MATCH_TOLERANCE * scale
    right = [int(row) for row in np.flatnonzero(close.all(axis=1))]
    if not right or len(right) == len(got):
        return None
    return right, len(got) - len(right)


def _listed(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:5]))
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


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
