"""Returned arrays that share memory with the arguments of the call that returned them.

A pure function returns new objects: an array that aliases an argument changes when the caller
later changes that argument. Once values cross from the worker they are copies, so the sharing can
only be seen where the call ran; the worker (and the in-process student) report it with the
arguments after the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

MAX_REPORTED = 20


def arrays_in(value: Any, path: str = "") -> Iterator[tuple[str, np.ndarray]]:
    """Every ndarray inside nested tuples, lists and dicts, with its path such as ``[0]['W1']``."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from arrays_in(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from arrays_in(item, f"{path}[{key!r}]")


def shared_memory(result: Any, args: tuple, kwargs: dict) -> list[list]:
    """``[result path, argument, path inside the argument]`` for every returned array that may
    share memory with an argument; ``argument`` is the position (int) or the keyword (str).

    For ``f(x)`` returning ``(x, cache)``: ``[["[0]", 0, ""]]``.
    """
    inputs = [(position, path, array) for position, arg in enumerate(args) for path, array in arrays_in(arg)]
    inputs += [(name, path, array) for name, arg in kwargs.items() for path, array in arrays_in(arg)]
    found = []
    for result_path, returned in arrays_in(result):
        for argument, path, array in inputs:
            if returned.size and array.size and np.may_share_memory(returned, array):
                found.append([result_path, argument, path])
                if len(found) == MAX_REPORTED:
                    return found
    return found
