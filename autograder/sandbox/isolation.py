"""How student code is confined: the strongest isolation this machine allows, and the means of
each (grader side, Linux).

Four levels, best first; ``available()`` decides once per process which one applies:

``bubblewrap``
    The worker starts under bubblewrap (``bwrap``) with its own user (when not root), mount, pid,
    network, IPC and UTS namespaces: the file system is read-only, ``/tmp`` is private and empty,
    the homes, the project and every secret path (hidden suites, solutions, run folder, results)
    are empty, only the Python environment and the engine are exposed again, the scratch folder is
    the one writable folder, there is no network and ``/proc`` shows the sandbox's own processes.
    Works as root and, where unprivileged user namespaces are allowed, without root.
``namespaces``
    Root without bubblewrap: the worker, as a dedicated uid, gets a private mount namespace in
    which the secret paths are empty, and a network namespace without interfaces.
``permissions``
    Root where namespaces are refused (e.g. Gradescope's Docker containers): the dedicated uid
    must not be able to read any secret path by its mode bits, which is checked.
``none``
    Neither root nor user namespaces (macOS, a kernel that forbids them): the worker runs as the
    grader's own user with resource limits only, and the grader says so once.

bubblewrap over hand-written namespace code: it is small, audited, packaged by every distribution
(Flatpak's sandbox), sets up user namespaces without root, and gets the ordering of mounts,
``/proc`` and ``/dev`` right; the ctypes mount code is kept for root machines without it.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import os
import select
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from autograder.suite.errors import SandboxError

OVERRIDE_VARIABLE = "AUTOGRADER_CONFINEMENT"
"""Set to a level's name to require that level (an error names it when it cannot work here)."""


class Confinement(enum.Enum):
    BUBBLEWRAP = "bubblewrap"
    NAMESPACES = "namespaces"
    PERMISSIONS = "permissions"
    NONE = "none"

    @property
    def needs_uid(self) -> bool:
        """Whether the worker runs as a dedicated uid (the grader is root)."""
        return self is not Confinement.NONE and os.geteuid() == 0

    def describe(self) -> str:
        """One line for the grader's logs."""
        return {
            Confinement.BUBBLEWRAP: "bubblewrap (private mount, pid and network namespaces"
            + (", dedicated uid)" if os.geteuid() == 0 else ", user namespace)"),
            Confinement.NAMESPACES: "namespaces (dedicated uid, private mount and network namespaces)",
            Confinement.PERMISSIONS: "permissions (dedicated uid; secret paths unreadable by their mode bits; "
            "the network is reachable)",
            Confinement.NONE: "none (the grader's own user, resource limits only)",
        }[self]


NOT_CONFINED = (
    "student code is not confined here (no root, no user namespaces): it can read the hidden tests "
    "and reach the network; install bubblewrap on Linux, grade as root, or grade on Gradescope"
)


@functools.cache
def available() -> Confinement:
    """The level that applies to this process (see the module docstring); an ``AUTOGRADER_CONFINEMENT``
    naming a level requires it. Raises ``SandboxError`` for a level that does not work here."""
    wanted = os.environ.get(OVERRIDE_VARIABLE, "")
    root = os.geteuid() == 0
    if wanted:
        try:
            level = Confinement(wanted)
        except ValueError:
            names = ", ".join(level.value for level in Confinement)
            raise SandboxError(f"{OVERRIDE_VARIABLE}={wanted} is not a confinement level; use one of {names}") from None
        needs_root = level in (Confinement.NAMESPACES, Confinement.PERMISSIONS)
        if (needs_root and not root) or not works(level):
            raise SandboxError(
                f"{OVERRIDE_VARIABLE}={wanted}: that confinement does not work on this machine"
                + (" without root" if needs_root and not root else "")
            )
        return level
    for level in Confinement:
        if (root or level in (Confinement.BUBBLEWRAP, Confinement.NONE)) and works(level):
            return level
    raise AssertionError("unreachable: Confinement.NONE always works")


def works(level: Confinement) -> bool:
    """Whether ``level`` can confine a worker on this machine (ignoring whether it needs root)."""
    if level is Confinement.BUBBLEWRAP:
        return bubblewrap() is not None
    if level is Confinement.NAMESPACES:
        return _namespaces_work()
    return True


# ---------------------------------------------------------------- bubblewrap


_BASE_OPTIONS = (
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--new-session",
)
_CONCEALED_FOLDERS = (Path("/tmp"), Path("/var/tmp"), Path("/run"), Path("/home"), Path("/root"))
"""Folders whose content the worker never sees (each an empty tmpfs), besides the grader's home
and the project."""


@functools.cache
def bubblewrap() -> str | None:
    """The path of a ``bwrap`` that can create the namespaces the worker needs, or None."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    probe = [
        found,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        *_user_namespace(),
        *_BASE_OPTIONS,
        "--",
        "/bin/true",
    ]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if done.returncode == 0 else None


def _user_namespace() -> tuple[str, ...]:
    """Without root, bubblewrap needs a user namespace (and the worker must not make more)."""
    return () if os.geteuid() == 0 else ("--unshare-user", "--disable-userns")


def bubblewrap_command(
    scratch: Path, secrets: list[Path], concealed: list[Path], needed: list[Path], tmp_mb: int
) -> list[str]:
    """The ``bwrap`` command (up to ``--``) that confines a worker: ``scratch`` writable, each of
    ``secrets`` (existing files and folders) empty, the ``concealed`` folders (e.g. the project)
    empty but for the ``needed`` folders inside them (the Python environment, the engine), and a
    private ``/tmp`` of at most ``tmp_mb`` MB.

    The homes, ``/run``, the temporary folders and the grader's home are concealed too. A needed
    path inside a concealed folder is mounted again, through folders of mode 0755 (not those of
    its original parents, which may be closed to other users)."""
    home = Path(os.path.realpath(os.path.expanduser("~")))
    secret_folders = [path for path in secrets if path.is_dir()]
    inside_needed = [path for path in secret_folders if any(n in path.parents for n in needed)]
    covered = _outermost(
        [*_CONCEALED_FOLDERS, home, *concealed, *(p for p in secret_folders if p not in inside_needed)]
    )
    options = [bubblewrap() or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    read_only = []
    for folder in covered:
        if folder == Path("/tmp"):
            options += ["--perms", "1777", "--size", str(tmp_mb << 20), "--tmpfs", "/tmp"]
        else:
            options += ["--perms", "0755", "--tmpfs", str(folder)]
            read_only.append(folder)
    made: set[Path] = set(covered)
    for path in _outermost(needed):
        top = _cover_of(path, covered)
        if top is not None and top != path:
            options += _parents(path, top, made) + ["--ro-bind", str(path), str(path)]
    for folder in inside_needed:
        options += ["--perms", "0755", "--tmpfs", str(folder)]
        read_only.append(folder)
    for secret in secrets:
        if not secret.is_dir() and _visible(secret, covered, needed):
            options += ["--dev-bind", "/dev/null", str(secret)]  # reads as empty, as in the namespaces level
    top = _cover_of(scratch, covered)
    if top is not None:
        options += _parents(scratch, top, made)
    options += ["--bind", str(scratch), str(scratch)]
    for folder in read_only:
        options += ["--remount-ro", str(folder)]
    return [*options, "--chdir", str(scratch), "--unsetenv", "PWD", *_user_namespace(), *_BASE_OPTIONS]


def _cover_of(path: Path, covered: list[Path]) -> Path | None:
    """The covered folder ``path`` is in (or is), if any."""
    return next((folder for folder in covered if folder == path or folder in path.parents), None)


def _outermost(paths: list[Path]) -> list[Path]:
    """``paths`` without those inside another one, outer first."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    return [p for i, p in enumerate(unique) if not any(q in p.parents for q in unique[:i])]


def _parents(path: Path, top: Path, made: set[Path]) -> list[str]:
    """``--dir`` options for the folders between ``top`` (exclusive) and ``path`` (exclusive)."""
    options = []
    for parent in reversed(path.parents):
        if top in parent.parents and parent not in made:
            options += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    return options


def _visible(path: Path, concealed: list[Path], exposed: list[Path]) -> bool:
    """Whether ``path`` would be visible in the sandbox without its own cover."""
    hidden = any(folder in path.parents for folder in concealed)
    return not hidden or any(folder in path.parents for folder in exposed)


def kill_namespace(bubblewrap_pid: int, timeout: float = 10.0) -> None:
    """SIGKILL the init of the pid namespace that bubblewrap (``bubblewrap_pid``, still running)
    made, which takes every process of the namespace with it, and wait until all are gone (the
    init ends only after the others)."""
    try:
        children = Path(f"/proc/{bubblewrap_pid}/task/{bubblewrap_pid}/children").read_text().split()
    except OSError:  # gone already
        return
    for child in children:
        try:
            pidfd = os.pidfd_open(int(child))
        except OSError:
            continue
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], timeout)
        except OSError:
            pass
        finally:
            os.close(pidfd)


def exit_status(code: int) -> int:
    """The worker's status as ``Popen.returncode`` would give it without bubblewrap, which reports
    a death by signal N as exit code 128 + N."""
    return -(code - 128) if code > 128 else code


# ---------------------------------------------------------------- namespaces, as root


_CLONE_NEWNS, _CLONE_NEWNET = 0x00020000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    libc.unshare.argtypes = [ctypes.c_int]
    return libc


def _checked(result: int, action: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{action}: {os.strerror(code)}")


def isolate(hidden_folders: list[bytes], hidden_files: list[bytes]) -> None:
    """Give the calling process a network namespace without interfaces and a private mount
    namespace in which every hidden folder is an empty read-only tmpfs and every hidden file is
    ``/dev/null``. Called in a forked child only (the ``namespaces`` level)."""
    libc = _libc()
    _checked(libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET), "unshare(CLONE_NEWNS | CLONE_NEWNET)")
    _checked(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "making / private")
    for folder in hidden_folders:
        flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        _checked(libc.mount(b"tmpfs", folder, b"tmpfs", flags, b"size=4k,mode=0555"), f"hiding {folder!r}")
    for file in hidden_files:
        _checked(libc.mount(b"/dev/null", file, None, _MS_BIND, None), f"hiding {file!r}")


@functools.cache
def _namespaces_work() -> bool:
    """Whether a forked child can make the namespaces of ``isolate`` (root, and allowed here)."""
    if os.geteuid() != 0:
        return False
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            isolate([], [])
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


# ---------------------------------------------------------------- permissions, as root


def _permits(info: os.stat_result, uid: int, bit: int) -> bool:
    """Whether the mode bits let ``uid`` (whose only group is gid ``uid``) do ``bit`` (4 read, 1
    search/execute)."""
    if info.st_uid == uid:
        return bool(info.st_mode >> 6 & bit)
    if info.st_gid == uid:
        return bool(info.st_mode >> 3 & bit)
    return bool(info.st_mode & bit)


def check_hidden_paths(paths: tuple[Path, ...], uid: int) -> None:
    """Raise ``SandboxError`` with the ``chmod`` to run if ``uid`` could read any of ``paths`` by
    their mode bits and owners (the ``permissions`` level). A folder is safe when some folder above
    it cannot be entered, or when it can be neither listed nor entered; a file when some folder
    above it cannot be entered, or when it cannot be read."""
    for path in paths:
        path = Path(os.path.realpath(path))
        if not path.exists():
            continue
        if any(not _permits(os.stat(parent), uid, 1) for parent in path.parents):
            continue
        info = os.stat(path)
        exposed = _permits(info, uid, 4) or (stat.S_ISDIR(info.st_mode) and _permits(info, uid, 1))
        if exposed:
            fix = f"chmod o= {path}"
            if uid in (info.st_uid, info.st_gid):
                fix = f"chown 0:0 {path} && {fix}"
            raise SandboxError(
                f"the sandbox user {uid} could read the hidden path {path} (mount namespaces are not "
                f"available here to hide it); run: {fix}"
            )
