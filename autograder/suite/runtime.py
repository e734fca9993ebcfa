"""Running student code: the worker process's main loop, and the runtime it shares with
in-process runs.

The grader starts the worker (see ``autograder.sandbox.worker_process``) as::

    python -I -m autograder.suite.runtime --request-fd R --reply-fd W --generation N --max-bytes B

in the scratch folder holding the student's and the provided files. Each request read from file
descriptor ``R`` names a function of a module of that folder and one or more calls of it (the
arguments of each); the worker answers each call, in order, with one reply on ``W``, and stops at
the first call that fails, both in the format of ``autograder.suite.codec``. Its file descriptors 1 and 2 are a
pipe the grader reads, so nothing the student prints can reach the protocol. Before the first
request the worker says it is ``ready``, then names each ``preload`` module as it imports it and
says when all are ``preloaded``: an import that kills the process is thereby known to the grader.

Everything in this process is untrusted once student code has run: the grader checks every reply.
``StudentRuntime`` is the part shared with ``autograder.suite.proxy.LocalStudent``, which runs the same
code in the test process for students' local runs.
"""

from __future__ import annotations

import argparse
import importlib
import linecache
import os
import sys
import sysconfig
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograder.suite.aliasing import Contents, shared_memory
from autograder.suite.codec import (
    CodecError,
    FunctionRef,
    Handle,
    decode,
    describe_type,
    encode,
    is_row,
    read_message,
    write_message,
)
from autograder.suite.errors import StudentError

MAX_TEXT = 2000
"""The longest exception message or source line kept."""
MAX_FRAMES = 20
"""The most traceback lines kept (the innermost ones)."""
MAX_WARNINGS = 20
"""The most distinct warnings kept per call."""

_HINTS = {
    "SystemExit": "your code called sys.exit or exit; a function must return its result instead",
    "MemoryError": "the worker ran out of memory: does your code build a huge array or list?",
    "RecursionError": "is there a recursion without a base case?",
}


def _clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` as valid unicode of at most ``limit`` characters."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_str(value: Any) -> str:
    """``str(value)``, even when the student's ``__str__`` misbehaves."""
    try:
        return _clean(str(value))
    except BaseException:
        return "<a value that cannot be printed>"


def _module_file(module: Any) -> str:
    """A module's file, or ``""`` (no file, or a module that misbehaves)."""
    try:
        file = vars(module).get("__file__")
    except BaseException:
        return ""
    return file if type(file) is str else ""


@dataclass(frozen=True)
class Failure:
    """Why a call of student code gave no value, as plain data that crosses the wire.

    ``kind`` is a ``StudentError`` kind; ``summary`` is the first line of the message
    (``"sigmoid raised ValueError: ..."``, ``"activations.py line 12: SyntaxError: invalid
    syntax"``, ``"layers.py has no function affine_forward"``); ``frames`` are the traceback's
    lines in the student's files as ``(file, line, source)``, innermost last; ``syntax`` is a
    SyntaxError's ``(file, line, offset, text)``."""

    kind: str
    summary: str
    exc_type: str = ""
    frames: tuple[tuple[str, int, str], ...] = ()
    syntax: tuple[str, int, int, str] | None = None

    def message(self) -> str:
        """The student-facing message: the summary, then the source of a syntax error or the
        traceback through the student's files."""
        lines = [self.summary]
        if self.syntax:
            _, _, offset, text = self.syntax
            if text:
                lines += [f"    {text}", "    " + " " * max(offset - 1, 0) + "^"]
        elif self.frames:
            lines.append("Traceback (your files only, most recent call last):")
            lines += [f"  {file} line {line}: {source}" for file, line, source in self.frames]
        return "\n".join(lines)

    def error(self) -> StudentError:
        return StudentError(self.message(), kind=self.kind)

    def to_plain(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "summary": self.summary,
            "exc_type": self.exc_type,
            "frames": [list(frame) for frame in self.frames],
            "syntax": list(self.syntax) if self.syntax else None,
        }

    @classmethod
    def from_plain(cls, value: Any) -> Failure:
        """A failure received from a worker, checked field by field; raises ``CodecError`` if it
        is malformed."""

        def row(item: Any, types: tuple[type, ...]) -> tuple:
            if not is_row(item, types):
                raise CodecError("the worker sent a malformed failure")
            return tuple(_clean(part) if kind is str else part for part, kind in zip(item, types, strict=True))

        if type(value) is not dict or set(value) != {"kind", "summary", "exc_type", "frames", "syntax"}:
            raise CodecError("the worker sent a malformed failure")
        kind, summary, exc_type, frames = (value[key] for key in ("kind", "summary", "exc_type", "frames"))
        if (
            kind not in StudentError.KINDS
            or type(summary) is not str
            or type(exc_type) is not str
            or type(frames) is not list
        ):
            raise CodecError("the worker sent a malformed failure")
        return cls(
            kind=kind,
            summary=_clean(summary),
            exc_type=_clean(exc_type, 100),
            frames=tuple(row(frame, (str, int, str)) for frame in frames[-MAX_FRAMES:]),
            syntax=None if value["syntax"] is None else row(value["syntax"], (str, int, int, str)),
        )


class CallFailed(Exception):
    """Raised by ``StudentRuntime`` when a call gives no value; carries the ``Failure`` (and the
    student's exception, if any, as ``__cause__``)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.summary)
        self.failure = failure


def unsendable(function: str, err: CodecError) -> Failure:
    """The failure of a call whose value cannot cross (too large, too deeply nested)."""
    return Failure("bad-reply", f"{function} returned a value that cannot be sent back: {err}")


class HandleTable:
    """The objects of this process that crossed as ``Handle``s, by handle id. The same object
    always gets the same id, so the grader can tell when it is handed back."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self._objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}
        self._last_id = 0

    def store(self, value: Any) -> Handle:
        handle_id = self._ids.get(id(value))
        if handle_id is None:
            self._last_id = handle_id = self._last_id + 1
            self._objects[handle_id] = value
            self._ids[id(value)] = handle_id
        type_name, note = describe_type(value)
        return Handle(handle_id, type_name, self.generation, note)

    def resolve(self, handle: Handle) -> Any:
        if handle.generation != self.generation:
            raise CallFailed(
                Failure(
                    "bad-reply",
                    (
                        f"an argument is {handle.describe()} returned by an earlier worker process, which was "
                        "stopped after a crash or a timeout; such objects do not survive a restart"
                    ),
                )
            )
        if handle.id not in self._objects:
            raise CallFailed(Failure("bad-reply", f"an argument is {handle.describe()} that no longer exists"))
        return self._objects[handle.id]

    def release(self, ids: list[int]) -> None:
        """Forget the objects the grader holds no handle to any more."""
        for handle_id in ids:
            if handle_id in self._objects:
                del self._ids[id(self._objects.pop(handle_id))]


class _WarningLog:
    """Collects the warnings of one call as ``"RuntimeWarning: overflow encountered in exp
    (activations.py:12)"``, identical ones counted once with their number of repeats."""

    def __init__(self, runtime: StudentRuntime) -> None:
        self.runtime = runtime
        self.counts: dict[str, int] = {}
        self.dropped = 0

    def show(self, message: Any, category: type, filename: str, lineno: int, *_: Any) -> None:
        """A replacement for ``warnings.showwarning``."""
        text = f"{getattr(category, '__name__', 'Warning')}: {_safe_str(message)}"
        where = self.runtime.student_file(filename)
        if where:
            text += f" ({where}:{lineno})"
        if text in self.counts or len(self.counts) < MAX_WARNINGS:
            self.counts[text] = self.counts.get(text, 0) + 1
        else:
            self.dropped += 1

    def lines(self) -> list[str]:
        lines = [text + (f" [{count} times]" if count > 1 else "") for text, count in self.counts.items()]
        return lines + ([f"... and {self.dropped} other warnings"] if self.dropped else [])


class StudentRuntime:
    """Imports the modules of one folder by flat name and calls their functions, turning whatever
    goes wrong into a ``Failure`` (raised as ``CallFailed``).

    Modules are imported on first use; an import failure is remembered and reported again on
    every later use. Each call runs with numpy's default error state, records its warnings and
    catches every exception (``BaseException``) except the ``let_through`` ones."""

    _folders: set[str] = set()
    """Every folder some runtime of this process has imported modules from."""

    def __init__(self, folder: Path, generation: int = 1, let_through: tuple[type[BaseException], ...] = ()) -> None:
        self.folder = str(Path(folder).resolve())
        self.handles = HandleTable(generation)
        self.let_through = let_through
        self._import_failures: dict[str, Failure] = {}
        self._modules: dict[str, Any] = {}
        self._student_files: dict[str, str] = {}
        self._forget_modules(self._shadowed)
        StudentRuntime._folders.add(self.folder)
        if self.folder not in sys.path:
            sys.path.insert(0, self.folder)

    def _shadowed(self, name: str, file: str) -> bool:
        """Whether the imported module ``name`` (from ``file``) must give way to this folder's:
        it comes from another student folder, or it is a flat module ``name.py`` like one of this
        folder's, from a folder outside the Python installation."""
        where = os.path.dirname(file)
        if not where or where == self.folder:
            return False
        if where in self._folders:
            return True
        if os.path.basename(file) != f"{name}.py" or not os.path.isfile(os.path.join(self.folder, f"{name}.py")):
            return False
        real = os.path.realpath(where)
        installed = {os.path.realpath(path) for path in sysconfig.get_paths().values()}
        return not any(os.path.commonpath([real, path]) == path for path in installed)

    def _forget_modules(self, forget: Callable[[str, str], bool]) -> None:
        for name, module in list(sys.modules.items()):
            if forget(name, _module_file(module)):
                del sys.modules[name]

    def unload(self) -> None:
        """Remove this folder's modules from ``sys.modules`` and the folder from ``sys.path``."""
        self._modules.clear()
        self._forget_modules(lambda name, file: os.path.dirname(file) == self.folder)
        if self.folder in sys.path:
            sys.path.remove(self.folder)

    def student_file(self, filename: str) -> str:
        """``filename`` relative to the folder when it is one of the folder's files, else ``""``."""
        if filename not in self._student_files:
            path = os.path.realpath(filename)
            inside = os.path.dirname(path) == self.folder
            self._student_files[filename] = os.path.basename(path) if inside else ""
        return self._student_files[filename]

    def module(self, name: str) -> Any:
        """The folder's module ``name``, imported on first use."""
        if name in self._modules:
            return self._modules[name]
        if name in self._import_failures:
            raise CallFailed(self._import_failures[name])
        if not name.isidentifier() or not os.path.isfile(os.path.join(self.folder, f"{name}.py")):
            raise CallFailed(Failure("missing", f"{_clean(name, 100)}.py was not submitted"))
        try:
            module = importlib.import_module(name)
        except self.let_through:
            raise
        except BaseException as err:
            self._import_failures[name] = self._failure("import", name, err)
            raise CallFailed(self._import_failures[name]) from err
        if os.path.dirname(_module_file(module)) != self.folder:
            raise CallFailed(
                Failure("import", (f"{name}.py cannot be imported: Python already has a module named {name}"))
            )
        self._modules[name] = module
        return module

    def function(self, ref: FunctionRef) -> Callable:
        """The function ``ref`` names."""
        module = self.module(ref.module)
        try:
            function = getattr(module, ref.name, None)
        except self.let_through:
            raise
        except BaseException as err:
            raise CallFailed(self._failure("exception", ref.name, err)) from err
        if not callable(function):
            raise CallFailed(Failure("missing", f"{ref.module}.py has no function {_clean(ref.name, 100)}"))
        return function

    def call(self, module: str, function: str, args: tuple, kwargs: dict) -> tuple[Any, list[str]]:
        """Calls ``module.function(*args, **kwargs)``; returns its value and its warnings."""
        target = self.function(FunctionRef(module, function))
        log = _WarningLog(self)
        with warnings.catch_warnings(), np.errstate(all="warn", under="ignore"):
            warnings.simplefilter("always")
            warnings.showwarning = log.show
            try:
                value = target(*args, **kwargs)
            except self.let_through:
                raise
            except BaseException as err:
                raise CallFailed(self._failure("exception", function, err)) from err
        return value, log.lines()

    def _failure(self, kind: str, subject: str, err: BaseException) -> Failure:
        """The failure of kind ``"exception"`` (``subject`` is the function) or ``"import"``
        (``subject`` is the module) that ``err`` caused."""
        if isinstance(err, MemoryError):
            traceback.clear_frames(err.__traceback__)  # free the memory before describing it
        exc_type = _safe_str(type(err).__name__)
        syntax_message = err.msg if isinstance(err, SyntaxError) else None
        detail = _safe_str(err if syntax_message is None else syntax_message)
        what = f"{exc_type}: {detail}" if detail else exc_type
        frames = self._frames(err)
        syntax = self._syntax(err)
        if kind == "import":
            where = (syntax[0], syntax[1]) if syntax else frames[-1][:2] if frames else None
            summary = f"{where[0]} line {where[1]}: {what}" if where else f"importing {subject}.py raised {what}"
        else:
            summary = f"{subject} raised {what}"
        if exc_type in _HINTS:
            summary += f" ({_HINTS[exc_type]})"
        return Failure(kind, summary, exc_type, frames, syntax)

    def _frames(self, err: BaseException) -> tuple[tuple[str, int, str], ...]:
        frames = []
        for frame, line in traceback.walk_tb(err.__traceback__):
            filename = frame.f_code.co_filename
            name = self.student_file(filename)
            if name:
                frames.append((name, line, _clean(linecache.getline(filename, line).strip(), 200)))
        return tuple(frames[-MAX_FRAMES:])

    def _syntax(self, err: BaseException) -> tuple[str, int, int, str] | None:
        """A SyntaxError's ``(file, line, offset, text)`` (checked: student code may raise one of
        its own making)."""
        if not isinstance(err, SyntaxError) or type(err.filename) is not str:
            return None
        name = self.student_file(err.filename) or os.path.basename(err.filename)
        line, offset = (value if type(value) is int else 0 for value in (err.lineno, err.offset))
        text = err.text.rstrip("\n") if type(err.text) is str else ""
        return (_clean(name, 200), line, offset, _clean(text, 200))


def _capture_output():
    """Make ``print`` and the standard streams write to file descriptor 1, line by line (the
    grader sends fd 1 and fd 2 to one pipe)."""
    stream = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdout = sys.stderr = stream
    return stream


def _answers(runtime: StudentRuntime, message: bytearray, max_bytes: int) -> Iterator[list[memoryview]]:
    """The replies to one request: one per call, in order, the last one a failure if a call fails."""
    function = "the function"
    try:
        request = decode(
            message, max_bytes=max_bytes, resolve_handle=runtime.handles.resolve, resolve_function=runtime.function
        )
        runtime.handles.release(request["release"])
        function = request["function"]
        keep_args = request["return_args"]
        for args, kwargs in request["calls"]:
            contents = Contents(args, kwargs) if keep_args else None
            value, caught = runtime.call(request["module"], function, args, kwargs)
            reply = {
                "status": "ok",
                "value": value,
                "warnings": caught,
                "args_after": args if keep_args else None,
                "kwargs_after": kwargs if keep_args else None,
                "aliases": shared_memory(value, args, kwargs) if keep_args else None,
                "replaced": contents.replaced(args, kwargs) if keep_args else None,
            }
            yield encode(reply, fallback=runtime.handles.store, max_bytes=max_bytes)
        return
    except CallFailed as failed:
        failure = failed.failure
    except CodecError as err:
        failure = unsendable(function, err)
    yield encode({"status": "error", "failure": failure.to_plain()}, max_bytes=max_bytes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autograder.suite.runtime", description=__doc__.split("\n")[0])
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--generation", type=int, required=True)
    parser.add_argument("--max-bytes", type=int, required=True)
    parser.add_argument(
        "--drop-to",
        type=int,
        help="become this uid and gid, with no groups, first (the grader "
        "starts the worker as root when bubblewrap makes its namespaces)",
    )
    parser.add_argument("--preload", nargs="*", default=[], help="modules to import before the first request")
    options = parser.parse_args(argv)
    if options.drop_to is not None:
        os.setgroups([])
        os.setresgid(options.drop_to, options.drop_to, options.drop_to)
        os.setresuid(options.drop_to, options.drop_to, options.drop_to)
    sys.dont_write_bytecode = True
    streams = (_capture_output(), sys.__stdout__, sys.__stderr__)
    runtime = StudentRuntime(Path.cwd(), options.generation)
    write_message(options.reply_fd, encode({"status": "ready"}))
    for name in options.preload:  # while the grader gets ready; a failure is kept for the calls that need it
        write_message(options.reply_fd, encode({"status": "importing", "module": name}))
        try:
            runtime.module(name)
        except CallFailed:
            pass
    write_message(options.reply_fd, encode({"status": "preloaded"}))
    while True:
        try:
            message = read_message(options.request_fd, options.max_bytes)
        except EOFError:
            return
        for reply in _answers(runtime, message, options.max_bytes):
            for stream in streams:  # what was printed goes out before the reply
                try:
                    stream.flush()
                except (OSError, ValueError):  # the student closed it
                    pass
            write_message(options.reply_fd, reply)


if __name__ == "__main__":
    main()
