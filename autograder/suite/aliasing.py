"""Identity facts about a call that copies cannot show: returned arrays that share memory with the
call's arguments, and items of the arguments' dicts and lists that the call replaced.

A pure function returns new objects: an array that aliases an argument changes when the caller
later changes that argument. And a changed argument was either modified in place (``W -= step``)
or assigned into (``params["W"] = W - step``), which call for different advice. Once values cross
from the worker they are copies, so both can only be seen where the call ran; the worker (and the
in-process student) report them with the arguments after the call.
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


def container_items(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every item of the dicts and lists inside nested tuples, lists and dicts, with its path
    (the items a call can replace by assigning into a container)."""
    if isinstance(value, (tuple, list, dict)):
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in pairs:
            item_path = f"{path}[{key!r}]" if isinstance(value, dict) else f"{path}[{key}]"
            if not isinstance(value, tuple):
                yield item_path, item
            yield from container_items(item, item_path)


class Contents:
    """What the dicts and lists inside a call's arguments hold before the call, so that afterwards
    the items assigned anew (``params["W"] = ...``, ``weights[0] = ...``, a key added or removed)
    can be told from arrays changed in place."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self._before = dict(_argument_items(args, kwargs))

    def replaced(self, args: tuple, kwargs: dict) -> list[list]:
        """``[argument, path inside the argument]`` of every item that is not the object it was
        before the call; ``argument`` is the position (int) or the keyword (str). After
        ``params["W"] = params["W"] - step`` in ``f(params)``: ``[[0, "['W']"]]``."""
        after = dict(_argument_items(args, kwargs))
        changed = [key for key, item in self._before.items() if key not in after or after[key] is not item]
        changed += [key for key in after if key not in self._before]
        return [list(key) for key in changed[:MAX_REPORTED]]


def _argument_items(args: tuple, kwargs: dict) -> Iterator[tuple[tuple[int | str, str], Any]]:
    for argument, value in (*enumerate(args), *kwargs.items()):
        for path, item in container_items(value):
            yield (argument, path), item
