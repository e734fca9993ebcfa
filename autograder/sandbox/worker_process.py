"""Starting, limiting and killing the worker processes that run student code (grader side).

A ``Worker`` starts ``python -I -m autograder.suite.runtime`` (see ``autograder.suite.runtime``) in the scratch
folder on its first call, with a scrubbed environment, no inherited file descriptors but its own
pipes, its own session, resource limits (CPU time, address space, file size, processes) and the
confinement of ``autograder.sandbox.isolation`` (bubblewrap's namespaces where they work). When
``SandboxConfig.uid`` is given (the grader runs as root), the worker runs as that unprivileged uid.
The ``hidden_paths`` are empty for the worker (bubblewrap, or a private mount namespace) or, where
no namespace is allowed, verified to be unreadable by that uid.

Whatever the student's code does (raise, exit, loop, crash, print without end, fork, leave
daemons), a call ends with a value or a ``StudentError``; after a timeout or a crash every process
of the worker is killed and the next call starts a fresh one (``generation`` + 1). Problems of the
grader's own setup raise ``SandboxError``.
"""

from __future__ import annotations

import fcntl
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import autograder
from autograder.sandbox import isolation
from autograder.sandbox.isolation import Confinement, check_hidden_paths
from autograder.sandbox.uids import kill_all, task_count
from autograder.suite.aliasing import MAX_REPORTED
from autograder.suite.assignment import Limits
from autograder.suite.codec import CodecError, HandleTracker, MessageReader, decode, encode, write_some
from autograder.suite.errors import SandboxError, StudentError
from autograder.suite.proxy import CallResult
from autograder.suite.runtime import Failure

STARTUP_SECONDS = 60.0
"""How long a worker process may take to start (import numpy, set up) before the grader gives up."""

_PIPE_BYTES = 1 << 20
_POLL_SECONDS = 0.1
_MEGABYTE = 1 << 20


@dataclass(frozen=True)
class SandboxConfig:
    """Where and how a worker runs."""

    scratch: Path
    """The working folder, holding the student's and the provided files."""
    limits: Limits
    uid: int | None = None
    """None: run as the grader's own user; else drop to this uid and gid (the grader must be root)."""
    hidden_paths: tuple[Path, ...] = ()
    """Files and folders the worker must not read (hidden tests, solutions, results); needs ``uid``
    or the ``bubblewrap`` confinement."""
    concealed_paths: tuple[Path, ...] = ()
    """Folders the worker sees empty but for what it needs inside them (e.g. the project, which
    may hold the Python environment); under ``bubblewrap`` only."""
    confinement: Confinement | None = None
    """None: the best this machine allows (``isolation.available()``)."""
    max_reply_bytes: int = 64 << 20
    """The largest message exchanged with the worker, either way."""
    max_output_chars: int = 20_000
    """How much of the student's output is kept between two ``take_output`` (head and tail)."""
    preload: tuple[str, ...] = ()
    """Student modules the worker imports as soon as it has started, before its first call, so
    that importing them overlaps with the grader's own preparations (see ``Worker.start``)."""


class OutputBuffer:
    """Keeps the first and the last ``max_chars / 2`` bytes of a stream, however long it gets."""

    def __init__(self, max_chars: int) -> None:
        self.head_limit = max_chars // 2
        self.tail_limit = max_chars - self.head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self._cut = 0

    def add(self, data: bytes) -> None:
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        total = len(self._tail) + len(data)
        if total <= self.tail_limit:
            self._tail += data
            return
        self._cut += total - self.tail_limit
        kept_old = max(self.tail_limit - len(data), 0)
        self._tail = self._tail[len(self._tail) - kept_old :] + data[max(len(data) - self.tail_limit, 0) :]

    def take(self) -> str:
        """The text kept since the last ``take``, with a marker where output was cut."""
        marker = f"\n[... {self._cut} bytes of output cut ...]\n" if self._cut else ""
        text = self._head.decode(errors="replace") + marker + self._tail.decode(errors="replace")
        self._head, self._tail, self._cut = bytearray(), bytearray(), 0
        return text


# ---------------------------------------------------------------- starting a worker


_PROBE_ISOLATION_FAILED = 1
_PROBE_PROBLEMS = (
    (
        2,
        "cannot run the Python interpreter {path}; install bubblewrap (which shows it to the sandbox), "
        "or use a Python that every user may reach (not one under /root), e.g. /usr/bin/python3 -m venv /opt/venv",
    ),
    (
        8,
        "cannot use the scratch folder {path}; call prepare_scratch(folder, uid) and keep the folder "
        "where others may enter its parents (chmod o+x)",
    ),
    (64, "cannot be switched to (setresuid failed)"),
)


def _probe(uid: int, hidden: tuple[list[bytes], list[bytes]] | None, scratch: Path) -> tuple[bool, list[str]]:
    """In a forked child, try the namespaces (when ``hidden`` is given), become ``uid`` and
    check that it can run the interpreter and use the scratch folder (packages it cannot read
    stop the worker's start with the error that names them). Returns whether isolation worked
    and the problems found."""
    checks = (
        (2, sys.executable, os.X_OK),
        (8, str(scratch), os.R_OK | os.W_OK | os.X_OK),
    )
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            if hidden is not None:
                try:
                    isolation.isolate(*hidden)
                except OSError:
                    code |= _PROBE_ISOLATION_FAILED
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for bit, path, mode in checks:
                if not os.access(path, mode):
                    code |= bit
        except BaseException:
            code |= 64
        os._exit(code)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    failed_paths = {bit: path for bit, path, _ in reversed(checks) if code & bit}
    problems = [
        f"the sandbox user {uid} " + text.format(path=failed_paths.get(bit, ""))
        for bit, text in _PROBE_PROBLEMS
        if code & bit
    ]
    return not code & _PROBE_ISOLATION_FAILED, problems


class _ChildSetup:
    """Runs in the forked child before the interpreter (or bubblewrap) starts (``preexec_fn``):
    hides paths (the ``namespaces`` level), sets the resource limits and drops to the dedicated
    uid (but for bubblewrap, which needs root to set up the namespaces; the worker drops then)."""

    def __init__(
        self, limits: list[tuple[int, tuple[int, int]]], uid: int | None, hidden: tuple[list[bytes], list[bytes]] | None
    ) -> None:
        self.limits = limits
        self.uid = uid
        self.hidden = hidden

    def __call__(self) -> None:  # pragma: no cover - runs in the child
        try:
            if self.hidden is not None:
                isolation.isolate(*self.hidden)
            for which, values in self.limits:
                resource.setrlimit(which, values)
            if self.uid is not None:
                os.setgroups([])
                os.setresgid(self.uid, self.uid, self.uid)
                os.setresuid(self.uid, self.uid, self.uid)
        except BaseException as err:
            os.write(2, f"sandbox setup failed: {err}\n".encode())
            raise


_BUBBLEWRAP_TASKS = 2
"""The processes bubblewrap itself keeps in a sandbox (its own and the namespace's init)."""


def _resource_limits(limits: Limits, uid: int | None, wrapped: bool) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits of a worker, never above the grader's own hard limits. Without a dedicated
    uid, the process limit counts every task of the grader's user, so it is that count plus
    ``limits.processes`` (plus bubblewrap's own, when ``wrapped``)."""
    tasks = limits.processes
    if uid is None:
        tasks += task_count(os.getuid()) + (_BUBBLEWRAP_TASKS if wrapped else 0)
    wanted = [
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2),
        (resource.RLIMIT_AS, limits.memory_mb * _MEGABYTE, limits.memory_mb * _MEGABYTE),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * _MEGABYTE, limits.file_size_mb * _MEGABYTE),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, tasks, tasks),
    ]
    result = []
    for which, soft, hard in wanted:
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        result.append((which, (soft, hard)))
    return result


def _environment(scratch: Path) -> dict[str, str]:
    """The worker's whole environment. (``python -I`` ignores the ``PYTHON*`` variables; they
    matter for the interpreters the student's code may start. The worker turns off bytecode
    writing itself.)"""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


_SIGNAL_CAUSES = {
    signal.SIGXCPU: "CPU time limit exceeded ({limits.cpu_seconds} s of CPU time per worker process)",
    signal.SIGXFSZ: "file size limit exceeded (a file may hold at most {limits.file_size_mb} MB)",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "arithmetic error",
    signal.SIGILL: "illegal instruction",
    signal.SIGABRT: "aborted",
    signal.SIGKILL: "killed (out of memory, or killed from outside)",
}


class _Stopped(Exception):
    """The worker process died, or closed its end of the protocol."""


class _TimedOut(Exception):
    """The worker did not answer in time."""


class _Process:
    """One running worker process and the grader's ends of its pipes."""

    def __init__(
        self,
        popen: subprocess.Popen,
        request_fd: int,
        reply_fd: int,
        capture_fd: int,
        output: OutputBuffer,
        uid: int | None,
        wrapped: bool,
    ) -> None:
        self.popen = popen
        self.request_fd, self.reply_fd, self.capture_fd = request_fd, reply_fd, capture_fd
        self.output = output
        self.uid = uid
        self.wrapped = wrapped
        """Whether ``popen`` is bubblewrap, with the worker in a pid namespace of its own."""
        self.selector = selectors.DefaultSelector()
        self.selector.register(reply_fd, selectors.EVENT_READ)
        self.selector.register(capture_fd, selectors.EVENT_READ)
        for fd in (request_fd, reply_fd, capture_fd):
            os.set_blocking(fd, False)
        self.capture_open = True
        self.killed = False

    def exchange(self, buffers: list[memoryview], deadline: float, max_bytes: int) -> bytearray:
        """Writes ``buffers`` (a request, possibly empty) and returns the next message, draining
        the student's output meanwhile. Raises ``_TimedOut``, ``_Stopped`` or ``CodecError``."""
        reader = MessageReader(self.reply_fd, max_bytes)
        buffers = self._write(buffers) if buffers else buffers  # usually the pipe takes it all now
        if buffers:
            self.selector.register(self.request_fd, selectors.EVENT_WRITE)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _TimedOut
                for key, _ in self.selector.select(min(remaining, _POLL_SECONDS)):
                    if key.fd == self.capture_fd:
                        self.drain(once=True)
                    elif key.fd == self.request_fd:
                        buffers = self._write(buffers)
                        if not buffers:
                            self.selector.unregister(self.request_fd)
                    elif (message := self._read(reader)) is not None:
                        return message
                if self.popen.poll() is not None:
                    raise _Stopped
        finally:
            if buffers:
                self.selector.unregister(self.request_fd)

    def _write(self, buffers: list[memoryview]) -> list[memoryview]:
        """Writes what the request pipe takes now; returns what is left."""
        try:
            return write_some(self.request_fd, buffers)
        except BlockingIOError:
            return buffers
        except (BrokenPipeError, ConnectionResetError):
            raise _Stopped from None

    @staticmethod
    def _read(reader: MessageReader) -> bytearray | None:
        try:
            return reader.read()
        except EOFError:
            raise _Stopped from None

    def drain(self, once: bool = False) -> None:
        """Moves the student's output from the capture pipe to the buffer: what one read gives,
        or (``once=False``) what is there now, up to a bound so a busy printer cannot stall us."""
        for _ in range(1 if once else 64):
            try:
                data = os.read(self.capture_fd, _PIPE_BYTES)
            except (BlockingIOError, OSError):
                return
            if not data:  # every writer is gone
                if self.capture_open:
                    self.selector.unregister(self.capture_fd)
                    self.capture_open = False
                return
            self.output.add(data)

    def exit_status(self) -> int | None:
        """The return code once the process has ended (waiting a little for it), else None."""
        try:
            code = self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None
        return isolation.exit_status(code) if self.wrapped else code

    def kill(self) -> None:
        """SIGKILL the worker's process group (under bubblewrap: its pid namespace, waiting until
        every process in it is gone) and, with a dedicated uid, every process of that uid; reap the
        worker, keep its last output and close the pipes. Idempotent."""
        if self.killed:
            return
        self.killed = True
        if self.wrapped:
            isolation.kill_namespace(self.popen.pid)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            kill_all(self.uid)
        self.popen.wait()
        self.drain()
        self.selector.close()
        for fd in (self.request_fd, self.reply_fd, self.capture_fd):
            os.close(fd)


class Worker:
    """Calls functions of the student's modules in a sandboxed worker process (see the module
    docstring). The process is started on the first call; use as a context manager or call
    ``close``.

    The setup is checked on the first start: no hidden path may hold what the worker needs; under
    bubblewrap the hidden paths are empty for the worker; else, with a dedicated uid, the uid must
    be able to run the interpreter and use the scratch folder, and the hidden paths are hidden in
    a mount namespace (``namespaces``) or must be unreadable by the uid (``permissions``; hidden
    paths that do not exist then are skipped). One uid serves one ``Worker`` at a time: closing
    it kills every process of the uid."""

    def __init__(self, config: SandboxConfig) -> None:
        if config.uid is not None and os.geteuid() != 0:
            raise SandboxError("a dedicated uid (SandboxConfig.uid) needs the grader to run as root")
        if config.uid in (0, os.getuid()):
            raise SandboxError(f"SandboxConfig.uid must be an unprivileged uid of its own, not {config.uid}")
        self.confinement = config.confinement or isolation.available()
        if config.uid is not None and self.confinement is Confinement.NONE:
            raise SandboxError("a dedicated uid needs a confinement other than none")
        if config.hidden_paths and config.uid is None and self.confinement is not Confinement.BUBBLEWRAP:
            raise SandboxError(
                "hidden_paths can only be hidden by bubblewrap or from a dedicated uid; set SandboxConfig.uid"
            )
        self.config = config
        self.generation = 0
        """Number of worker processes started so far; handles carry the one that made them."""
        self._output = OutputBuffer(config.max_output_chars)
        self._handles = HandleTracker()
        self._process: _Process | None = None
        self._finalizer: weakref.finalize | None = None
        self._hidden: tuple[list[bytes], list[bytes]] | None = None
        """The paths to hide in the child's namespaces (the ``namespaces`` level)."""
        self._wrapper: list[str] | None = None
        """The bubblewrap command the worker starts under (the ``bubblewrap`` level)."""
        self._checked = False
        self._ready = False
        """Whether the current process said it is ready for calls."""
        self._preloaded = False
        """Whether the current process said it has imported the preload modules."""
        self._import_failures: dict[str, str] = {}
        """Preload module -> why importing it stopped a worker process (calls into it raise that)."""
        self.timings: dict[str, float] = {"requests": 0, "seconds_in_requests": 0.0}
        """For profiles: ``time.monotonic()`` when the last process was ``spawned``, ``ready`` and
        ``preloaded``; how many ``requests`` went to the worker (round trips, however many calls
        each holds) and the ``seconds_in_requests`` from sending each to its last reply."""

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the worker and every process it started; idempotent."""
        if self._finalizer is not None:
            self._finalizer()
        self._process = self._finalizer = None

    def start(self) -> None:
        """Start the worker process now rather than at the first call, without waiting for it:
        it starts Python, then imports the ``preload`` modules, while the caller goes on. The
        first call (or ``wait_until_ready``) waits for it."""
        if self._process is None:
            self._spawn()

    def wait_until_ready(self) -> None:
        """Wait until the worker process is ready for calls, its ``preload`` modules imported
        (starting it if need be); raises ``SandboxError`` if it cannot start."""
        self._running()

    def take_output(self) -> str:
        """What the student's code printed since the last take (head and tail when long)."""
        if self._process is not None and not self._process.killed:
            self._process.drain()
        return self._output.take()

    def call(
        self,
        module: str,
        function: str,
        args: tuple = (),
        kwargs: dict | None = None,
        *,
        timeout: float | None = None,
        return_args: bool = False,
    ) -> CallResult:
        """Calls ``module.function(*args, **kwargs)`` in the worker. Arguments must be plain data
        (see ``autograder.suite.codec``), function proxies or handles. Raises ``StudentError`` when the
        call gives no value."""
        return self.call_many(module, function, [(args, kwargs or {})], timeout=timeout, return_args=return_args)[0]

    def call_many(
        self,
        module: str,
        function: str,
        calls: Sequence[tuple[tuple, dict]],
        *,
        timeout: float | None = None,
        return_args: bool = False,
    ) -> list[CallResult]:
        """Calls ``module.function(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, in
        order, with one request to the worker (which replies to each call as it returns): the
        results of many calls for the cost of one round trip. Each call has the whole ``timeout``
        from the moment the previous one returned. Raises the ``StudentError`` of the first call
        that gives no value, as calling them one by one would. Calls too large for one message
        (``max_reply_bytes``) go in several requests."""
        if not calls:
            return []
        self._running()
        if module in self._import_failures:
            raise StudentError(self._import_failures[module], kind="import")
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        timeout = self.config.limits.call_timeout_seconds if timeout is None else timeout
        return self._request(module, function, calls, timeout, return_args, self._handles.take_released())

    def _request(
        self,
        module: str,
        function: str,
        calls: list[tuple[tuple, dict]],
        timeout: float,
        return_args: bool,
        release: list[int],
    ) -> list[CallResult]:
        """``call_many`` with one request, or with two halves when the request would be larger
        than a message may be (a single call that large raises ``CodecError``, a grader error)."""
        request = {
            "module": module,
            "function": function,
            "calls": calls,
            "return_args": return_args,
            "release": release,
        }
        try:
            buffers = encode(request, max_bytes=self.config.max_reply_bytes)
        except CodecError:
            if len(calls) == 1:
                raise
            half = len(calls) // 2
            first = self._request(module, function, calls[:half], timeout, return_args, release)
            return first + self._request(module, function, calls[half:], timeout, return_args, [])
        where = f"{module}.{function}"
        process = self._running()
        results: list[CallResult] = []
        sent = time.monotonic()
        self.timings["requests"] += 1
        try:
            while len(results) < len(calls):
                start = time.monotonic()
                message = process.exchange(buffers, start + timeout, self.config.max_reply_bytes)
                buffers = []
                reply = decode(message, max_bytes=self.config.max_reply_bytes, resolve_handle=self._handles.track)
                result = _call_result(reply, time.monotonic() - start)
                if isinstance(result, Failure):  # the worker stops at the first failure
                    raise result.error()
                results.append(result)
        except _TimedOut:
            self.close()
            raise StudentError(
                f"{where} did not return within {timeout:g} s; is there an infinite loop?", kind="timeout"
            ) from None
        except _Stopped:
            status = process.exit_status()
            self.close()
            raise StudentError(self._crash_message(status, where), kind="crash") from None
        except CodecError as err:
            self.close()
            raise StudentError(
                f"{where} sent back a malformed reply ({err}); the worker process was restarted", kind="bad-reply"
            ) from None
        finally:
            self.timings["seconds_in_requests"] += time.monotonic() - sent
            if not process.killed:
                process.drain()
        return results

    def _crash_message(self, status: int | None, where: str) -> str:
        if status is None:
            return (
                f"the worker process closed its connection to the grader while running {where} "
                "(does your code close file descriptors?)"
            )
        if status >= 0:
            return (
                f"the worker process exited with code {status} while running {where} "
                "(does your code call sys.exit, os._exit or exit?)"
            )
        number = -status
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        cause = _SIGNAL_CAUSES.get(number, "").format(limits=self.config.limits)
        return f"the worker process was killed by {name}" + (f": {cause}" if cause else "") + f" while running {where}"

    def _running(self) -> _Process:
        """The worker process, ready and done with its preloads; a preload that kills the
        process or does not finish is remembered, and a new process starts without it."""
        while True:
            if self._process is None:
                self._spawn()
            if not self._ready:
                self._await_ready()
            if self._preloaded:
                return self._process
            self._await_preloads()

    def _await_preloads(self) -> None:
        """Follow the worker's preloads until it says they are done. If one kills the process,
        does not finish within the import timeout or sends something else, that module's import
        failure is remembered (calls into it raise it) and the process is stopped."""
        process, limits = self._process, self.config.limits
        importing = None
        try:
            while True:
                deadline = time.monotonic() + limits.import_timeout_seconds
                note = decode(process.exchange([], deadline, self.config.max_reply_bytes))
                if note == {"status": "preloaded"}:
                    self._preloaded = True
                    self.timings["preloaded"] = time.monotonic()
                    return
                if (
                    type(note) is not dict
                    or set(note) != {"status", "module"}
                    or note["status"] != "importing"
                    or note["module"] not in self._preloads()
                ):
                    raise CodecError("an unexpected message while the student's modules were imported")
                importing = note["module"]
        except (_Stopped, _TimedOut, CodecError) as err:
            status = process.exit_status() if isinstance(err, _Stopped) else None
            self.close()
            if importing is None:
                raise SandboxError(
                    f"the worker process stopped before importing the student's modules: {err}"
                ) from None
            if isinstance(err, _TimedOut):
                message = (
                    f"importing {importing}.py did not finish within {limits.import_timeout_seconds:g} s; is "
                    f"there an infinite loop at the top level of {importing}.py?"
                )
            elif isinstance(err, CodecError):
                message = f"importing {importing}.py wrote into the grader's channel ({err})"
            else:
                message = self._crash_message(status, f"import {importing}")
            self._import_failures[importing] = message

    def _preloads(self) -> tuple[str, ...]:
        """The modules a new worker process imports first: those of ``preload`` whose import has
        not killed a process yet."""
        return tuple(name for name in self.config.preload if name not in self._import_failures)

    def _check_setup(self) -> None:
        """Once per worker: check that the worker can run the interpreter and use the scratch
        folder and that no hidden path holds what it needs, and prepare its confinement."""
        uid, scratch = self.config.uid, Path(os.path.realpath(self.config.scratch))
        hidden = [Path(os.path.realpath(path)) for path in self.config.hidden_paths if os.path.exists(path)]
        hidden = [path for path in hidden if not any(other in path.parents for other in hidden)]  # covered already
        needed = [  # as named (maybe through links, which bubblewrap must show too) and as resolved
            ("the Python environment", Path(os.path.abspath(sys.prefix))),
            ("the Python environment", Path(sys.prefix).resolve()),
            ("the Python interpreter", Path(os.path.abspath(sys.executable))),
            ("the Python interpreter", Path(os.path.realpath(sys.executable))),
            ("the autograder package", Path(autograder.__file__).parent.resolve()),
            ("numpy", Path(np.__file__).parent.resolve()),
        ]
        for path in hidden:
            for what, needed_path in [("the scratch folder", scratch), *needed]:
                if needed_path == path or path in needed_path.parents:
                    raise SandboxError(
                        f"the hidden path {path} holds {what} ({needed_path}), which the "
                        "worker needs; hide narrower paths"
                    )
        if self.confinement is Confinement.BUBBLEWRAP:
            if uid is not None and scratch.exists() and scratch.stat().st_uid != uid:
                raise SandboxError(
                    f"the sandbox user {uid} does not own the scratch folder {scratch}; call "
                    "prepare_scratch(folder, uid)"
                )
            concealed = [Path(os.path.realpath(path)) for path in self.config.concealed_paths]
            self._wrapper = isolation.bubblewrap_command(
                scratch, hidden, concealed, [path for _, path in needed], tmp_mb=self.config.limits.file_size_mb
            )
            return
        if uid is None:
            return
        plan = (
            [bytes(path) for path in hidden if path.is_dir()],
            [bytes(path) for path in hidden if not path.is_dir()],
        )
        namespaces = self.confinement is Confinement.NAMESPACES
        isolated, problems = _probe(uid, plan if namespaces else None, scratch)
        if problems:
            raise SandboxError(problems[0])
        if namespaces and not isolated:
            raise SandboxError("the worker's namespaces cannot be created (unshare failed)")
        if not namespaces:
            check_hidden_paths(tuple(hidden), uid)
        self._hidden = plan if namespaces else None

    def _spawn(self) -> None:
        """Start a worker process (checking the setup first, once); it is not ready yet."""
        if not self._checked:
            self._check_setup()
            self._checked = True
        config = self.config
        generation = self.generation + 1
        try:
            request_read, request_write = os.pipe()
            reply_read, reply_write = os.pipe()
            capture_read, capture_write = os.pipe()
        except OSError as err:
            raise SandboxError(f"cannot create the worker's pipes: {err}") from None
        for fd in (request_write, reply_write, capture_write):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            except OSError:  # larger pipes are only faster
                pass
        wrapped = self._wrapper is not None
        drop = ["--drop-to", str(config.uid)] if wrapped and config.uid is not None else []
        argv = [
            *(self._wrapper or ()),
            sys.executable,
            "-I",
            "-m",
            "autograder.suite.runtime",
            "--request-fd",
            str(request_read),
            "--reply-fd",
            str(reply_write),
            "--generation",
            str(generation),
            "--max-bytes",
            str(config.max_reply_bytes),
            *drop,
            "--preload",
            *self._preloads(),
        ]
        try:
            popen = subprocess.Popen(
                argv,
                cwd=config.scratch,
                env=_environment(config.scratch),
                stdin=subprocess.DEVNULL,
                stdout=capture_write,
                stderr=capture_write,
                pass_fds=(request_read, reply_write),
                close_fds=True,
                start_new_session=True,
                preexec_fn=_ChildSetup(
                    _resource_limits(config.limits, config.uid, wrapped), None if wrapped else config.uid, self._hidden
                ),
            )
        except (OSError, subprocess.SubprocessError) as err:
            for fd in (request_read, request_write, reply_read, reply_write, capture_write):
                os.close(fd)
            os.set_blocking(capture_read, False)
            said = _read_available(capture_read).strip()
            os.close(capture_read)
            raise SandboxError(f"cannot start the worker process: {said or err}") from None
        for fd in (request_read, reply_write, capture_write):
            os.close(fd)
        process = _Process(popen, request_write, reply_read, capture_read, self._output, config.uid, wrapped)
        self._process = process
        self._finalizer = weakref.finalize(self, process.kill)
        self.generation = generation
        self._handles.restart(generation)
        self._ready = self._preloaded = False
        self.timings["spawned"] = time.monotonic()

    def _await_ready(self) -> None:
        """Wait for the started process to say it is ready; raises ``SandboxError`` otherwise."""
        process = self._process
        try:
            ready = decode(process.exchange([], time.monotonic() + STARTUP_SECONDS, self.config.max_reply_bytes))
            if ready != {"status": "ready"}:
                raise CodecError(f"unexpected first message {ready!r:.80}")
        except (_Stopped, _TimedOut, CodecError) as err:
            status = process.exit_status()
            self.close()
            if isinstance(err, _TimedOut):
                reason = f"not ready within {STARTUP_SECONDS:g} s"
            else:
                reason = f"exit status {status}" + (f", {err}" if str(err) else "")
            said = [line.strip() for line in self._output.take()[-2000:].splitlines() if line.strip()]
            raise SandboxError(
                f"the worker process did not start ({reason})" + (f": {said[-1]}" if said else "")
            ) from None
        self._ready = True
        self.timings["ready"] = time.monotonic()


def _read_available(fd: int) -> str:
    try:
        return os.read(fd, 65536).decode(errors="replace")
    except OSError:
        return ""


def _call_result(reply: Any, seconds: float) -> CallResult | Failure:
    """The result or failure a decoded reply announces; raises ``CodecError`` if it announces
    neither properly."""
    if type(reply) is dict and reply.get("status") == "error" and set(reply) == {"status", "failure"}:
        return Failure.from_plain(reply["failure"])
    keys = {"status", "value", "warnings", "args_after", "kwargs_after", "aliases", "replaced"}
    if type(reply) is not dict or reply.get("status") != "ok" or set(reply) != keys:
        raise CodecError("the reply is neither a result nor a failure")
    caught = reply["warnings"]
    if type(caught) is not list or not all(type(text) is str for text in caught):
        raise CodecError("the warnings are not a list of strings")
    if type(reply["args_after"]) not in (tuple, type(None)) or type(reply["kwargs_after"]) not in (dict, type(None)):
        raise CodecError("the arguments after the call are malformed")
    aliases = reply["aliases"]
    if aliases is not None and not (type(aliases) is list and all(well_formed_alias(a) for a in aliases)):
        raise CodecError("the shared-memory report is malformed")
    replaced = reply["replaced"]
    if replaced is not None and not (type(replaced) is list and all(well_formed_replacement(r) for r in replaced)):
        raise CodecError("the report of replaced items is malformed")
    return CallResult(
        reply["value"],
        caught[:100],
        reply["args_after"],
        reply["kwargs_after"],
        seconds,
        aliases[:MAX_REPORTED] if aliases is not None else None,
        replaced[:MAX_REPORTED] if replaced is not None else None,
    )


def well_formed_replacement(replacement: Any) -> bool:
    """One entry of ``CallResult.replaced``: ``[argument position or keyword, path]``."""
    return (
        type(replacement) is list
        and len(replacement) == 2
        and type(replacement[0]) in (int, str)
        and type(replacement[1]) is str
    )


def well_formed_alias(alias: Any) -> bool:
    """One entry of ``CallResult.aliases``: ``[result path, argument position or keyword, path]``."""
    return (
        type(alias) is list
        and len(alias) == 3
        and type(alias[0]) is str
        and type(alias[2]) is str
        and type(alias[1]) in (int, str)
    )
