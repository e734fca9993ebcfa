"""The parameter values of one parametrized pytest test, found outside pytest.

Collection records, per argument, the index of the parameter set a test was generated from
(``item.callspec.indices``); ``parameter_values`` reads the test function's ``parametrize`` marks
and picks those parameter sets again, so a test can be called without pytest with the very
objects pytest would pass (functions included, which no generated file could spell out).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

PARAMETER_SET = type(pytest.param(None))
"""The class of what ``pytest.param(...)`` returns."""


def argument_names(argnames) -> list[str]:
    """``"a, b"`` or ``("a", "b")`` as a list of names."""
    return [name.strip() for name in argnames.split(",")] if isinstance(argnames, str) else list(argnames)


def parameter_values(function: Callable, indices: dict[str, int]) -> dict:
    """Argument name -> value for the test of ``function`` whose parameter-set indices are ``indices``."""
    values = {}
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        arguments = {**dict(zip(("argnames", "argvalues"), mark.args)), **mark.kwargs}
        names = argument_names(arguments["argnames"])
        entry = list(arguments["argvalues"])[indices[names[0]]]
        if isinstance(entry, PARAMETER_SET):
            row = entry.values
        else:
            row = (entry,) if len(names) == 1 else tuple(entry)
        values.update(zip(names, row, strict=True))
    return values
