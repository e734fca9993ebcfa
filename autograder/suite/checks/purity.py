"""Bitwise identity of values: functions must not modify their arguments, and must be repeatable.

Gradient checks cannot see either property (a checker that copies its inputs hides a function
that writes into them), so they are asserted directly. Values are compared bit for bit, through
nested dicts, lists and tuples: ``0.1`` and ``0.1 + 1e-17`` differ, ``-0.0`` and ``0.0`` differ,
and a NaN equals the same NaN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.suite.checks.messages import count_items, describe, format_exact, format_index
from autograder.suite.errors import CheckFailure


@dataclass(frozen=True)
class Difference:
    """Where two values first differ: ``path`` inside the value (``"['W'][2, 1]"``, ``""`` for the
    value itself) and what was found there on each side, worded for the student."""

    path: str
    first: str
    second: str


def first_difference(first: Any, second: Any, path: str = "") -> Difference | None:
    """The first place where ``second`` is not bitwise ``first``, or None when they are identical.

    Arrays must match in type, shape, dtype and every bit; dicts in keys (not order) and values;
    lists and tuples in length and items; other values in type and value (floats bitwise).
    """
    if type(first) is not type(second):
        return Difference(path, describe(first), describe(second))
    if isinstance(first, np.ndarray):
        return _array_difference(first, second, path)
    if isinstance(first, dict):
        if first.keys() != second.keys():
            return Difference(path, _keys(first), _keys(second))
        return _first_of((first[key], second[key], f"{path}[{key!r}]") for key in first)
    if isinstance(first, (list, tuple)):
        if len(first) != len(second):
            return Difference(path, describe(first), describe(second))
        return _first_of((a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(first, second)))
    if _same_scalar(first, second):
        return None
    return Difference(path, format_exact(first), format_exact(second))


def assert_unchanged(before: Any, after: Any, *, function: str, name: str, replaced: Iterable[str] = ()) -> None:
    """Assert that argument ``name`` of ``function`` still holds bitwise what it held before the
    call. before: a deep copy (``copy.deepcopy``) taken before the call; after: the argument
    object itself after the call; replaced: the paths inside the argument whose item the call
    assigned anew into a dict or list (``"['W']"``), so that the message tells an assignment
    into a container from an array changed in place."""
    difference = first_difference(before, after)
    if difference is None:
        return
    assigned = next(
        (path for path in replaced if difference.path.startswith(path) or path.startswith(difference.path)), None
    )  # the change is inside an item assigned anew, or is the key of one added or removed
    if assigned is not None:
        raise CheckFailure(
            f"{function} assigned into its argument {name}: {name}{assigned} holds another object after the "
            f"call ({name}{difference.path} was {difference.first}, is now {difference.second}). Functions must "
            "not change their arguments, not even by assigning into a dict or list they were given: build a "
            "new one (e.g. a dict comprehension) and return it.",
            kind="modified",
        )
    change = f"({name}{difference.path} was {difference.first}, is now {difference.second})"
    if round_off_only(before, after):
        raise CheckFailure(
            f"{function} did not give its argument {name} back bitwise {change}: its values changed only in "
            "their last digits, as a value changed and then changed back by arithmetic (x[i] += h, then "
            "x[i] -= h) is not restored exactly, because of round-off. Save the original value and assign "
            "it back instead.",
            kind="modified",
        )
    raise CheckFailure(
        f"{function} modified its argument {name} in place {change}. Functions must not change their "
        "arguments: work on new arrays (e.g. x.copy()) instead of assigning into the inputs.",
        kind="modified",
    )


ROUND_OFF_RTOL = 1e-12
"""Changes within this relative distance (a few thousand float64 steps) are round-off."""
ROUND_OFF_ATOL = 1e-15


def round_off_only(before: Any, after: Any) -> bool:
    """Whether ``after`` differs from ``before`` only in float arrays of the same shape and
    dtype, and there by no more than round-off (``ROUND_OFF_RTOL``, ``ROUND_OFF_ATOL``)."""
    if type(before) is not type(after):
        return False
    if isinstance(before, np.ndarray):
        if before.shape != after.shape or before.dtype != after.dtype:
            return False
        if not np.issubdtype(before.dtype, np.floating):
            return np.array_equal(before, after)
        return bool(np.all(np.abs(after - before) <= ROUND_OFF_ATOL + ROUND_OFF_RTOL * np.abs(before)))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(round_off_only(before[k], after[k]) for k in before)
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(round_off_only(a, b) for a, b in zip(before, after))
    return _same_scalar(before, after)


def assert_same_bits(first: Any, second: Any, *, function: str, name: str = "result") -> None:
    """Assert that two results of calling ``function`` with the same arguments are bitwise
    identical. ``name`` is the result's name in the message."""
    difference = first_difference(first, second)
    if difference is not None:
        raise CheckFailure(
            f"{function} is not repeatable: called twice with the same arguments, it gave "
            f"{name}{difference.path} = {difference.first} the first time and {difference.second} "
            "the second time. Look for state kept between calls (globals, default arguments, "
            "an unseeded random generator) or an argument modified in place.",
            kind="not-repeatable",
        )


def _first_of(pairs) -> Difference | None:
    for first, second, path in pairs:
        difference = first_difference(first, second, path)
        if difference is not None:
            return difference
    return None


def _array_difference(first: np.ndarray, second: np.ndarray, path: str) -> Difference | None:
    if first.shape != second.shape or first.dtype != second.dtype:
        return Difference(path, describe(first), describe(second))
    if first.size == 0:
        return None
    width = first.dtype.itemsize
    first_bytes = np.ascontiguousarray(first).reshape(-1).view(np.uint8).reshape(first.size, width)
    second_bytes = np.ascontiguousarray(second).reshape(-1).view(np.uint8).reshape(second.size, width)
    changed = np.flatnonzero(np.any(first_bytes != second_bytes, axis=1))
    if not changed.size:
        return None
    position = np.unravel_index(changed[0], first.shape)
    where = path + (format_index(position) if position else "")
    return Difference(where, format_exact(first[position]), format_exact(second[position]))


def _same_scalar(first: Any, second: Any) -> bool:
    if isinstance(first, (float, complex, np.generic)):
        return np.asarray(first).tobytes() == np.asarray(second).tobytes()
    return first == second


def _keys(mapping: dict) -> str:
    return f"a dict with {count_items(len(mapping), 'key')} ({', '.join(sorted(repr(k) for k in mapping))})"
