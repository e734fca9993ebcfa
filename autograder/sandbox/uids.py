"""Dedicated unprivileged uids for running student code, when the grader runs as root: leasing a
free one, giving it the scratch folder, and killing every process it has (Linux ``/proc``).

Kept apart from the worker machinery (``autograder.sandbox.worker_process``) so that the grading process, which
only leases, prepares and cleans up, never loads what talking to a worker needs (numpy, the codec).
"""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import signal
import stat
import time
from pathlib import Path

from autograder.suite.errors import SandboxError

UID_RANGE = (61000, 61999)
"""Where ``UidLease`` looks for a free dedicated uid."""


def _task_table() -> list[tuple[int, int, str, int]]:
    """``(pid, real uid, state letter, threads)`` of every process."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            table.append((int(entry), int(fields["Uid"].split()[0]), fields["State"].split()[0],
                          int(fields["Threads"])))
        except (OSError, KeyError, ValueError, IndexError):  # gone meanwhile
            continue
    return table


def processes_of(uid: int) -> list[int]:
    """The live (not zombie) processes whose real uid is ``uid``."""
    return [pid for pid, owner, state, _ in _task_table() if owner == uid and state != "Z"]


def task_count(uid: int) -> int:
    """How many tasks (threads, which RLIMIT_NPROC counts) the processes of ``uid`` have."""
    return sum(threads for _, owner, _, threads in _task_table() if owner == uid)


def kill_all(uid: int, timeout: float = 10.0) -> None:
    """SIGKILL every process of ``uid`` (including daemons that left the worker's session) until
    none is left. Needs root; refuses root's own uid and the grader's."""
    if uid in (0, os.getuid()):
        raise ValueError(f"refusing to kill every process of uid {uid}")
    if os.geteuid() != 0:
        raise SandboxError("killing every process of a uid needs the grader to run as root")
    deadline = time.monotonic() + timeout
    while survivors := processes_of(uid):
        if time.monotonic() > deadline:
            raise SandboxError(f"processes {survivors} of uid {uid} survive SIGKILL")
        killer = os.fork()
        if killer == 0:  # pragma: no cover - runs in the child
            try:
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(killer, 0)
        time.sleep(0.002)


class UidLease:
    """A dedicated uid for one grader at a time: ``with UidLease() as uid: ...``.

    Picks a uid of ``UID_RANGE`` that has no passwd or group entry and no running process,
    guarded by an ``flock`` on a lock file, so parallel graders never share one. On exit, kills
    every process of the uid and frees it."""

    def __init__(self, uids: range = range(UID_RANGE[0], UID_RANGE[1] + 1),
                 lock_folder: Path = Path("/tmp/autograder-uids")) -> None:
        self.uids = uids
        self.lock_folder = lock_folder
        self.uid: int | None = None
        self._lock_fd = -1

    def __enter__(self) -> int:
        if os.geteuid() != 0:
            raise SandboxError("a dedicated uid needs the grader to run as root")
        self._check_lock_folder()
        taken = {user.pw_uid for user in pwd.getpwall()} | {group.gr_gid for group in grp.getgrall()}
        for uid in self.uids:
            if uid in taken:
                continue
            fd = os.open(self.lock_folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if processes_of(uid):
                os.close(fd)
                continue
            self.uid, self._lock_fd = uid, fd
            return uid
        raise SandboxError(f"no free uid between {self.uids.start} and {self.uids.stop - 1}")

    def _check_lock_folder(self) -> None:
        try:
            self.lock_folder.mkdir(mode=0o755)
        except FileExistsError:
            pass
        info = os.lstat(self.lock_folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise SandboxError(f"{self.lock_folder} must be a folder owned by root and writable only by it")

    def __exit__(self, *exc_info: object) -> None:
        if self.uid is not None:
            try:
                kill_all(self.uid)
            finally:
                os.close(self._lock_fd)
                self.uid, self._lock_fd = None, -1


def prepare_scratch(folder: Path, uid: int) -> None:
    """Give ``folder`` and everything in it to ``uid`` (and its gid), and make the folder private
    to it (mode 0700)."""
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(folder, uid, uid)
    os.chmod(folder, 0o700)
