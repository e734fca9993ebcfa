"""What the test suites see of the student's code: ``student.activations.sigmoid(x)``.

A ``Student`` gives one proxy per module and per function. Calling a function proxy returns the
value; ``.call(...)`` returns a ``CallResult`` (value, warnings, arguments after the call, time);
``.map(calls)`` returns the values of many calls, made with one round trip to the worker;
``.ref`` is the ``FunctionRef`` a proxy becomes when passed as an argument
(``student.optim.train(student.network.mlp_loss, ...)``). Whatever goes wrong raises
``StudentError`` with a message for the student.

``RemoteStudent`` (``autograder.grading.test_runner``) sends calls to a sandboxed worker; it is
what grading uses.
``LocalStudent`` runs the same code in the test process, for students' local runs: fast and
debuggable, with the same values, warnings, handles and messages, but no protection. The one
deliberate difference: a ``KeyboardInterrupt`` (Ctrl-C) stops a local run instead of being
reported as the student's exception, and the student's output goes straight to the terminal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.suite.aliasing import Contents, shared_memory
from autograder.suite.codec import CodecError, FunctionRef, HandleTracker, convert, reference_or_reject
from autograder.suite.runtime import CallFailed, StudentRuntime, unsendable


@dataclass
class CallResult:
    """What one call of a student function gave."""

    value: Any
    warnings: list[str]
    """The warnings the call raised, e.g. ``"RuntimeWarning: overflow encountered in exp (activations.py:12)"``."""
    args_after: tuple | None
    """With ``return_args``: the positional arguments as they were after the call."""
    kwargs_after: dict | None
    seconds: float
    """Wall-clock time of the call as seen by the grader."""
    aliases: list[list] | None = None
    """With ``return_args``: returned arrays that share memory with an argument, as
    ``[result path, argument position or keyword, path inside the argument]``
    (see ``autograder.suite.aliasing``)."""
    replaced: list[list] | None = None
    """With ``return_args``: items of the arguments' dicts and lists that the call assigned anew,
    as ``[argument position or keyword, path inside the argument]`` (see ``autograder.suite.aliasing``)."""


class FunctionProxy:
    """One function of a student module."""

    def __init__(self, student: Student, module: str, name: str) -> None:
        self._student = student
        self.ref = FunctionRef(module, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs).value

    def call(self, *args: Any, return_args: bool = False, **kwargs: Any) -> CallResult:
        """Calls the function; with ``return_args``, the result also holds the arguments as they
        are after the call (to detect in-place modification)."""
        return self._student._call(self.ref.module, self.ref.name, args, kwargs, return_args)

    def map(self, calls: Iterable[tuple[tuple, dict]]) -> list[Any]:
        """The values of ``function(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, in
        order (as calling them one by one, but in one round trip to a worker); raises the
        ``StudentError`` of the first call that fails."""
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        return [result.value for result in self._student._call_many(self.ref.module, self.ref.name, calls)]

    def __repr__(self) -> str:
        return f"<student function {self.ref}>"


class ModuleProxy:
    """One student module; its attributes are function proxies."""

    def __init__(self, student: Student, name: str) -> None:
        self._student = student
        self._name = name

    def __getattr__(self, name: str) -> FunctionProxy:
        if name.startswith("__"):
            raise AttributeError(name)
        return FunctionProxy(self._student, self._name, name)

    def __repr__(self) -> str:
        return f"<student module {self._name}>"


class Student:
    """The student's code as the suites see it: ``student.<module>.<function>(...)``."""

    def __init__(self, modules: Iterable[str]) -> None:
        self._modules = tuple(modules)

    @property
    def modules(self) -> tuple[str, ...]:
        """The names of the modules a proxy can be had for."""
        return self._modules

    def __getattr__(self, name: str) -> ModuleProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._modules:
            raise AttributeError(f"{name!r} is not one of the student's modules ({', '.join(self._modules)})")
        return ModuleProxy(self, name)

    def _call(self, module: str, function: str, args: tuple, kwargs: dict, return_args: bool) -> CallResult:
        raise NotImplementedError

    def _call_many(self, module: str, function: str, calls: list[tuple[tuple, dict]]) -> list[CallResult]:
        return [self._call(module, function, args, kwargs, False) for args, kwargs in calls]

    def take_output(self) -> str:
        """What the student's code printed since the last take."""
        return ""

    def close(self) -> None:
        """Release what the student's code holds (processes, imported modules)."""

    def __enter__(self) -> Student:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LocalStudent(Student):
    """Calls run in this process, on the modules of ``folder`` imported by flat name."""

    def __init__(self, folder: Path, modules: Iterable[str]) -> None:
        super().__init__(modules)
        self.runtime = StudentRuntime(Path(folder), let_through=(KeyboardInterrupt,))
        self._handles = HandleTracker()
        self._handles.restart(self.runtime.handles.generation)

    def _call(self, module: str, function: str, args: tuple, kwargs: dict, return_args: bool) -> CallResult:
        runtime = self.runtime
        runtime.handles.release(self._handles.take_released())
        start = time.monotonic()
        try:
            resolved = convert(
                (args, kwargs),
                fallback=reference_or_reject,
                resolve_handle=runtime.handles.resolve,
                resolve_function=runtime.function,
            )
            contents = Contents(*resolved) if return_args else None
            value, caught = runtime.call(module, function, *resolved)
        except CallFailed as failed:
            raise failed.failure.error() from failed.__cause__
        try:
            value = convert(value, fallback=runtime.handles.store, resolve_handle=self._handles.track)
        except CodecError as err:
            raise unsendable(function, err).error() from None
        seconds = time.monotonic() - start
        aliases = shared_memory(value, args, kwargs) if return_args else None
        replaced = contents.replaced(*resolved) if return_args else None
        return CallResult(
            value, caught, args if return_args else None, kwargs if return_args else None, seconds, aliases, replaced
        )

    def close(self) -> None:
        """Forgets the imported student modules."""
        self.runtime.unload()
