"""Checks of values returned by student code against the values the grader expects.

A returned value may be anything (a list, an ndarray subclass, a float32 array, NaN, a tuple of
the wrong length), so every check first asserts the kind of value, one property at a time with
its own message: exact type, exact shape (never broadcast), dtype, finiteness; only then are the
numbers compared, elementwise, with ``|got - expected| <= atol + rtol * |expected|``.

A failed check raises ``CheckFailure`` with one short paragraph for the student that shows at
most one entry of the expected value (inputs only when the caller passes ``show_inputs``, for
public tests) and, when a known mistake explains the difference, its likely cause. Misuse by the
grader itself (an expected value that is not an array, or not finite) raises TypeError or
ValueError, which are reported as grader errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

import numpy as np

from autograder.suite.checks.diagnosis import Diagnosis, Tolerance, Value, diagnose, shape_hint
from autograder.suite.checks.messages import (
    at_index,
    count_items,
    describe,
    format_errors,
    format_inputs,
    format_number,
    format_pair,
    likely_cause,
)
from autograder.suite.errors import WRONG_VALUES, CheckFailure

# Results must agree with the exact value to a relative error of about 1e-7, or to an absolute
# error of about 1e-12 where the value is tiny: far above the ~1e-15 that differently ordered
# correct float64 formulas differ by, far below what any wrong formula gives.
DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-12

EXACT = Tolerance(rtol=0.0, atol=0.0)  # integer results agree only when equal
FLOAT_TYPES = (float, np.float64)  # exact types accepted as a float64 scalar
NOT_FINITE_ADVICE = "look for an overflow in exp, a division by zero or the log of 0."


def assert_array_form(got: Any, *, what: str, shape: tuple[int, ...], dtype: Any = np.float64) -> None:
    """Assert that ``got`` is a plain ``numpy.ndarray`` of exactly ``shape``, whose dtype is
    ``dtype`` (or a subtype of it, e.g. ``np.signedinteger`` accepts int32 and int64), and whose
    entries are finite when it is a floating dtype. ``what`` names the value for the student,
    e.g. ``"dW returned by affine_backward"``."""
    _check_form(got, what, tuple(shape), dtype, shape_cause=None)


def assert_array(
    got: Any,
    expected: np.ndarray,
    *,
    what: str,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    show_inputs: dict[str, Any] | None = None,
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None = None,
    known: Mapping[str, Value] | None = None,
    batch_size: int | None = None,
    argument: Any = None,
    kinks: Sequence[float] = (),
) -> None:
    """Assert that ``got`` has the type, shape and dtype of ``expected`` (a finite float ndarray)
    and agrees with it elementwise: ``|got - expected| <= atol + rtol * |expected|``.

    show_inputs: name -> value printed with the failure (public tests only). candidates, known,
    batch_size, argument and kinks: passed to ``diagnose`` (only when the check fails) to explain
    a wrong shape or wrong values.
    """
    _require_expected_array(expected, np.inexact)

    def cause() -> Diagnosis | None:
        return diagnose(
            got,
            expected,
            tolerance=Tolerance(rtol, atol),
            candidates=candidates,
            known=known,
            batch_size=batch_size,
            argument=argument,
            kinks=kinks,
        )

    shape_cause = cause() if isinstance(got, np.ndarray) and got.shape != expected.shape else None
    _check_form(got, what, expected.shape, expected.dtype, shape_cause)
    error = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    wrong = np.flatnonzero(~(error <= allowed))
    if wrong.size:
        position = np.unravel_index(wrong[0], expected.shape)
        diagnosis = cause()
        expected_text, got_text = format_pair(expected[position], got[position])
        raise CheckFailure(
            f"{what} is wrong{at_index(position)}: expected {expected_text}, got {got_text} "
            f"({format_errors(got[position], expected[position], allowed[position])}); "
            f"{wrong.size} of {expected.size} entries are wrong."
            f"{likely_cause(diagnosis)}{format_inputs(show_inputs)}",
            kind=WRONG_VALUES,
            diagnosis=diagnosis,
        )


def assert_int_array(
    got: Any,
    expected: np.ndarray,
    *,
    what: str,
    show_inputs: dict[str, Any] | None = None,
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None = None,
) -> None:
    """Assert that ``got`` is an ndarray of signed integers (e.g. int64) with the shape of
    ``expected`` (a signed integer ndarray, e.g. labels or a permutation) and equal to it.
    candidates: as for ``assert_array``, compared exactly."""
    _require_expected_array(expected, np.signedinteger)
    _check_form(got, what, expected.shape, np.signedinteger, shape_cause=None)
    wrong = np.flatnonzero(got != expected)
    if wrong.size:
        position = np.unravel_index(wrong[0], expected.shape)
        diagnosis = diagnose(got, expected, tolerance=EXACT, candidates=candidates, generic=False)
        raise CheckFailure(
            f"{what} is wrong{at_index(position)}: expected {int(expected[position])}, "
            f"got {int(got[position])}; {wrong.size} of {expected.size} entries are wrong."
            f"{likely_cause(diagnosis)}{format_inputs(show_inputs)}",
            kind=WRONG_VALUES,
            diagnosis=diagnosis,
        )


def assert_scalar(
    got: Any,
    expected: float,
    *,
    what: str,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    show_inputs: dict[str, Any] | None = None,
    candidates: Mapping[str, Value] | Callable[[], Mapping[str, Value]] | None = None,
    batch_size: int | None = None,
) -> None:
    """Assert that ``got`` is a Python float or a numpy float64 scalar (not an int, not an array,
    even of shape () or (1,)), finite, and ``|got - expected| <= atol + rtol * |expected|``."""
    if not isinstance(expected, (int, float, np.integer, np.floating)) or not math.isfinite(expected):
        raise TypeError(f"expected must be a finite real number, not {expected!r}")
    if type(got) not in FLOAT_TYPES:
        raise CheckFailure(
            f"{what} must be a float (a Python float or a numpy float64 scalar); "
            f"got {describe(got)}.{_scalar_advice(got)}",
            kind="type",
        )
    if not math.isfinite(got):
        raise CheckFailure(
            f"{what} is {format_number(got)}, not a finite number; {NOT_FINITE_ADVICE}", kind="not-finite"
        )
    allowed = atol + rtol * abs(expected)
    if not abs(got - expected) <= allowed:
        diagnosis = diagnose(
            got, expected, tolerance=Tolerance(rtol, atol), candidates=candidates, batch_size=batch_size
        )
        expected_text, got_text = format_pair(expected, got)
        raise CheckFailure(
            f"{what} is wrong: expected {expected_text}, got {got_text} "
            f"({format_errors(got, expected, allowed)}).{likely_cause(diagnosis)}{format_inputs(show_inputs)}",
            kind=WRONG_VALUES,
            diagnosis=diagnosis,
        )


def assert_structure(got: Any, expected: int | Sequence[str] | Set, *, what: str) -> None:
    """Assert the container shape of a result before its parts are checked.

    expected: an int n (``got`` must be a tuple of n items); a sequence of item names such as
    ``("dx", "dW", "db")`` (a tuple of that many items, named in the message); or a set of keys,
    e.g. ``params.keys()`` (a dict with exactly these keys). Tuple and dict subclasses are
    accepted: they unpack and index like the base types, unlike ndarray subclasses.
    """
    if isinstance(expected, Set):
        _check_keys(got, expected, what)
    elif isinstance(expected, int) and not isinstance(expected, bool):
        _check_length(got, expected, "", what)
    elif (
        isinstance(expected, Sequence)
        and not isinstance(expected, str)
        and all(isinstance(name, str) for name in expected)
    ):
        _check_length(got, len(expected), f"({', '.join(expected)}) ", what)
    else:
        raise TypeError(f"expected must be a length, item names or a set of keys, not {expected!r}")


def _check_form(got: Any, what: str, shape: tuple[int, ...], dtype: Any, shape_cause: Diagnosis | None) -> None:
    if type(got) is not np.ndarray:
        raise CheckFailure(
            f"{what} must be a numpy array (numpy.ndarray) of shape {shape}; got {describe(got)}.{_array_advice(got)}",
            kind="type",
        )
    if got.shape != shape:
        diagnosis = shape_cause or shape_hint(got.shape, shape)
        raise CheckFailure(
            f"{what} has shape {got.shape} but must have shape {shape} exactly "
            f"(shapes are never broadcast).{likely_cause(diagnosis)}",
            kind="shape",
            diagnosis=diagnosis,
        )
    if not np.issubdtype(got.dtype, dtype):
        raise CheckFailure(
            f"{what} has dtype {got.dtype} but must have dtype {_dtype_name(dtype)}{_dtype_advice(got.dtype, dtype)}.",
            kind="dtype",
        )
    if np.issubdtype(got.dtype, np.inexact):
        not_finite = np.flatnonzero(~np.isfinite(got))
        if not_finite.size:
            position = np.unravel_index(not_finite[0], shape)
            raise CheckFailure(
                f"{what} is not finite{at_index(position)}: it holds {format_number(got[position])} "
                f"({not_finite.size} of {got.size} entries are not finite); {NOT_FINITE_ADVICE}",
                kind="not-finite",
            )


def _require_expected_array(expected: Any, kind: Any) -> None:
    if type(expected) is not np.ndarray or not np.issubdtype(expected.dtype, kind):
        raise TypeError(f"expected must be a numpy array of {kind.__name__} values, not {describe(expected)}")
    if np.issubdtype(expected.dtype, np.inexact) and not np.all(np.isfinite(expected)):
        raise ValueError("expected holds non-finite values")


def _check_length(got: Any, length: int, names: str, what: str) -> None:
    if not isinstance(got, tuple) or len(got) != length:
        raise CheckFailure(
            f"{what} must be a tuple {names}of {count_items(length, 'item')}; "
            f"got {describe(got)}.{_return_advice(got)}",
            kind="structure",
        )


def _check_keys(got: Any, keys: Set, what: str) -> None:
    wanted = ", ".join(sorted(repr(key) for key in keys))
    if not isinstance(got, dict):
        raise CheckFailure(
            f"{what} must be a dict with the keys {wanted}; got {describe(got)}.{_return_advice(got)}",
            kind="structure",
        )
    missing = sorted(repr(key) for key in keys if key not in got)
    unexpected = sorted(repr(key)[:40] for key in got if key not in keys)
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"it lacks {', '.join(missing)}")
        if unexpected:
            problems.append(f"it has the unexpected {', '.join(unexpected)}")
        raise CheckFailure(
            f"{what} must be a dict with exactly the keys {wanted}; {' and '.join(problems)}.", kind="structure"
        )


def _return_advice(got: Any) -> str:
    return " Does the function end with a return statement?" if got is None else ""


def _array_advice(got: Any) -> str:
    if isinstance(got, np.ndarray):
        return " Return a plain numpy.ndarray, e.g. np.asarray(result)."
    if isinstance(got, (list, tuple)):
        return " Compute it with numpy operations, or convert it with np.array(...)."
    if isinstance(got, (int, float, complex, np.generic)):
        return " A single number came back where an array is expected (e.g. a sum over all axes)."
    return _return_advice(got)


def _scalar_advice(got: Any) -> str:
    if isinstance(got, np.ndarray):
        if got.size == 1:
            return " Return a number, e.g. float(value), not an array."
        return " A reduction (e.g. the mean over the batch) may be missing."
    if isinstance(got, (int, np.integer)):
        return " Compute it in floating point."
    if isinstance(got, np.floating):
        return " Compute it in float64."
    return _return_advice(got)


def _dtype_name(dtype: Any) -> str:
    if dtype is np.signedinteger:
        return "a signed integer type such as int64"
    return np.dtype(dtype).name


def _dtype_advice(got: np.dtype, dtype: Any) -> str:
    if np.issubdtype(dtype, np.floating):
        wanted = np.dtype(dtype)
        if np.issubdtype(got, np.floating) and got.itemsize < wanted.itemsize:
            return f": compute in {wanted.name} ({got.name} keeps fewer significant digits)"
        if np.issubdtype(got, np.integer) or np.issubdtype(got, np.bool_):
            return ": it holds no floating-point numbers; compute with floats"
    if dtype is np.signedinteger and np.issubdtype(got, np.floating):
        return ": integer values are expected, not floats"
    return ""
