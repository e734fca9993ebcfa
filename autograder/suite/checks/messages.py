"""How values are worded in student-facing messages: compact numbers, indices, kinds of value.

Messages never print whole arrays of a hidden test: at most one entry, through these helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.suite.codec import Handle

SHOWN_ENTRIES = 40  # arrays of public inputs longer than this are summarised with "..."
LIKELY_CAUSE = "Likely cause:"  # begins the sentence that explains a diagnosed mistake


def format_number(value: Any) -> str:
    """A number in at most 6 significant digits, e.g. ``0.333333`` or ``1.5e-08``."""
    return "%.6g" % value


def format_pair(expected: Any, got: Any) -> tuple[str, str]:
    """Two numbers in as few significant digits (at least 6) as show that they differ:
    ``("0.96780012", "0.96780031")``, not ``0.9678`` twice."""
    for digits in range(6, 18):
        shown = ("%.*g" % (digits, expected), "%.*g" % (digits, got))
        if shown[0] != shown[1]:
            return shown
    return shown


def format_exact(value: Any) -> str:
    """A value with every digit needed to tell it from any other float (``0.30000000000000004``)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def format_index(position: tuple[int, ...]) -> str:
    """An array index as the student would type it: ``[2, 1]``."""
    return "[" + ", ".join(str(int(i)) for i in position) + "]"


def at_index(position: tuple[int, ...]) -> str:
    """`` at index [2, 1]``, or nothing for the single entry of a 0-d array."""
    return f" at index {format_index(position)}" if position else ""


def count_items(count: int, noun: str) -> str:
    """``1 item``, ``3 items``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def describe(value: Any) -> str:
    """What kind of value this is, in plain words: ``a list of 2 items``, ``a numpy float64 scalar``,
    ``a MyArray (an ndarray subclass)``, ``a numpy array of shape (3,) and dtype int64``; a handle
    to an object kept by student code (not plain data) as that object."""
    kind = type(value)
    if value is None:
        return "None"
    if kind is np.ndarray:
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a {kind.__name__} (an ndarray subclass)"
    if isinstance(value, np.generic):
        return f"a numpy {np.dtype(kind).name} scalar"
    if kind is bool:
        return "a bool"
    if kind in (int, float, complex):
        return f"a Python {kind.__name__}"
    if kind is str:
        return "a string"
    if isinstance(value, (list, tuple)):
        return f"a {kind.__name__} of {count_items(len(value), 'item')}"
    if isinstance(value, dict):
        return f"a {kind.__name__} with {count_items(len(value), 'key')}"
    if isinstance(value, Handle):
        return value.describe()
    return f"an object of type {kind.__name__}"


def format_inputs(shown: dict[str, Any]) -> str:
    """`` Inputs: x = [ 0.1, -2. ]; n = 3.`` for the public inputs a caller chose to show."""
    if not shown:
        return ""
    parts = []
    for name, value in shown.items():
        if isinstance(value, np.ndarray):
            text = np.array2string(value, precision=6, separator=", ", threshold=SHOWN_ENTRIES)
        else:
            text = repr(value)
        parts.append(f"{name} = {text}")
    return " Inputs: " + "; ".join(parts) + "."


def format_errors(got: float, expected: float, allowed: float) -> str:
    """``absolute error 0.25, relative error 0.5, allowed 1e-07`` for one wrong entry."""
    error = abs(got - expected)
    parts = [f"absolute error {format_number(error)}"]
    if expected != 0:
        parts.append(f"relative error {format_number(error / abs(expected))}")
    parts.append(f"allowed {format_number(allowed)}")
    return ", ".join(parts)


def likely_cause(diagnosis: Any) -> str:
    """`` Likely cause: ...`` appended to a message for a ``checks.diagnosis.Diagnosis``, or nothing
    for None."""
    return f" {LIKELY_CAUSE} {diagnosis.text}." if diagnosis is not None else ""
