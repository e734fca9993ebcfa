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
import random
import signal
import stat
import time
from pathlib import Path

from autograder.suite.errors import SandboxError

UID_WINDOWS = (range(2_000_000_000, 2_100_000_000), range(60_000, 61_184))
"""Where ``UidLease`` looks for a free dedicated uid: the first window this user namespace maps
(a container may map only the low uids). Far from the uids of people, of systemd's dynamic users
(61184-65519) and of the subordinate ranges of rootless containers (excluded as well)."""
ATTEMPTS = 200
"""How many uids of the window a lease tries, starting at a random one."""
RANGE_VARIABLE = "AUTOGRADER_UID_RANGE"
"""``FIRST-LAST``: the uids to lease instead of ``UID_WINDOWS`` (e.g. a container that maps others)."""
ROUNDS = 3
"""How often a lease goes through a small window whose uids are all busy, a little later each time."""


def _task_table() -> list[tuple[int, int, int, str, int]]:
    """``(pid, real uid, effective uid, state letter, threads)`` of every process."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            real, effective = (int(uid) for uid in fields["Uid"].split()[:2])
            table.append((int(entry), real, effective, fields["State"].split()[0], int(fields["Threads"])))
        except (OSError, KeyError, ValueError, IndexError):  # gone meanwhile
            continue
    return table


def processes_of(uid: int) -> list[int]:
    """The live (not zombie) processes whose real uid is ``uid``."""
    return [pid for pid, owner, _, state, _ in _task_table() if owner == uid and state != "Z"]


def claims_on(uid: int) -> list[int]:
    """The live processes whose real or effective uid is ``uid``: its processes and the holders of
    leases on it (see ``UidLease``)."""
    return [pid for pid, real, effective, state, _ in _task_table() if uid in (real, effective) and state != "Z"]


def task_count(uid: int) -> int:
    """How many tasks (threads, which RLIMIT_NPROC counts) the processes of ``uid`` have."""
    return sum(threads for _, owner, _, _, threads in _task_table() if owner == uid)


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


def _mapped(path: str) -> list[range]:
    """The ids this user namespace maps (``/proc/self/uid_map`` or ``gid_map``)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return [range(0, 2**32 - 1)]
    ranges = []
    for line in lines:
        inside, _, count = (int(field) for field in line.split())
        ranges.append(range(inside, inside + count))
    return ranges


def _subordinate(path: str) -> list[range]:
    """The ranges of ``/etc/subuid`` or ``/etc/subgid`` (``name:first:count`` lines)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        try:
            _, first, count = line.split(":")
            ranges.append(range(int(first), int(first) + int(count)))
        except ValueError:
            continue
    return ranges


def candidate_uids() -> range:
    """The window of ``AUTOGRADER_UID_RANGE``, else of ``UID_WINDOWS``, that this namespace maps
    as uids and gids."""
    if os.environ.get(RANGE_VARIABLE):
        try:
            first, last = (int(part) for part in os.environ[RANGE_VARIABLE].split("-"))
        except ValueError:
            raise SandboxError(
                f"{RANGE_VARIABLE}={os.environ[RANGE_VARIABLE]} is not FIRST-LAST, e.g. 70000-70999"
            ) from None
        if not 0 < first <= last < 2**32 - 1:
            raise SandboxError(f"{RANGE_VARIABLE}={os.environ[RANGE_VARIABLE]} is not a range of unprivileged uids")
        return range(first, last + 1)
    mapped = _mapped("/proc/self/uid_map"), _mapped("/proc/self/gid_map")
    for window in UID_WINDOWS:
        if all(any(window.start in r and window.stop - 1 in r for r in ranges) for ranges in mapped):
            return window
    raise SandboxError("no uid window of the grader is mapped in this user namespace; grade as root on the host")


class UidLease:
    """A dedicated uid for one grader at a time: ``with UidLease() as uid: ...``.

    Tries uids of the window, from a random one on, that have no passwd or group entry, lie in no
    subordinate range and have no running process. A uid is claimed by an ``flock`` on a lock file
    (graders that share ``/tmp``) and by a holder process with the uid as its effective uid,
    started before looking for others: two graders that see each other's processes (one pid
    namespace) but not each other's lock files both see two claims, and both move on. The holder's
    real and saved uids stay root's, so killing every process of the uid (which signals as the
    uid, between two workers of one grade) leaves the claim standing until the lease ends. Graders that share neither
    ``/tmp`` nor a pid namespace are kept apart by the randomness alone (one chance in 10^8 per
    pair of grades; their namespaces keep them from reaching each other anyway). On exit, kills
    every process of the uid and frees it."""

    def __init__(self, uids: range | None = None, lock_folder: Path = Path("/tmp/autograder-uids")) -> None:
        self.uids = uids
        self.lock_folder = lock_folder
        self.uid: int | None = None
        self._lock_fd = -1
        self._holder: tuple[int, int] | None = None
        """The holder's pid and the write end of the pipe whose closing ends it."""

    def __enter__(self) -> int:
        if os.geteuid() != 0:
            raise SandboxError("a dedicated uid needs the grader to run as root")
        self._check_lock_folder()
        uids = self.uids if self.uids is not None else candidate_uids()
        taken = {user.pw_uid for user in pwd.getpwall()} | {group.gr_gid for group in grp.getgrall()}
        subordinate = _subordinate("/etc/subuid") + _subordinate("/etc/subgid")
        tries = min(ATTEMPTS, len(uids))
        for round_ in range(ROUNDS if tries < ATTEMPTS else 1):
            time.sleep(0.05 * round_)
            start = random.randrange(len(uids))
            for step in range(tries):
                uid = uids[(start + step) % len(uids)]
                if uid in taken or any(uid in r for r in subordinate):
                    continue
                if self._claim(uid):
                    return uid
        raise SandboxError(
            f"no free uid between {uids.start} and {uids.stop - 1} "
            f"(tried {min(ATTEMPTS, len(uids))}); are that many graders running?"
        )

    def _claim(self, uid: int) -> bool:
        fd = os.open(self.lock_folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if claims_on(uid):
            os.close(fd)
            return False
        holder = _start_holder(uid)
        if claims_on(uid) != [holder[0]]:  # another grader claims it at the same time
            _stop_holder(holder)
            os.close(fd)
            return False
        self.uid, self._lock_fd, self._holder = uid, fd, holder
        return True

    def _check_lock_folder(self) -> None:
        try:
            self.lock_folder.mkdir(mode=0o755)
        except FileExistsError:
            pass
        info = os.lstat(self.lock_folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise SandboxError(
                f"{self.lock_folder} must be a folder owned by root and writable only by it; "
                f"remove it (rm -r {self.lock_folder}) and grade again"
            )

    def __exit__(self, *exc_info: object) -> None:
        if self.uid is not None:
            try:
                kill_all(self.uid)
            finally:
                _stop_holder(self._holder)
                os.close(self._lock_fd)
                self.uid, self._lock_fd, self._holder = None, -1, None


def _start_holder(uid: int) -> tuple[int, int]:
    """A forked process that claims ``uid``: effective uid ``uid``, real and saved uid root (no
    exec, which would make the saved uid ``uid``). It keeps none of the grader's files open (no
    other lease's lock or pipe), waits on a pipe and ends when the grader closes it or dies.
    Returns its pid and the pipe's write end."""
    read_end, write_end = os.pipe()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            for fd in map(int, os.listdir("/proc/self/fd")):  # nothing else of the grader's stays open
                if fd > 2 and fd not in (read_end, ready_write):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            os.setresuid(0, uid, 0)
            os.write(ready_write, b"1")
            os.read(read_end, 1)
        finally:
            os._exit(0)
    os.close(read_end)
    os.close(ready_write)
    started = os.read(ready_read, 1)  # once it holds the uid (nothing if it could not)
    os.close(ready_read)
    if not started:
        _stop_holder((pid, write_end))
        raise SandboxError(f"cannot claim the sandbox uid {uid} (setresuid failed)")
    return pid, write_end


def _stop_holder(holder: tuple[int, int]) -> None:
    pid, write_end = holder
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(write_end)


def prepare_scratch(folder: Path, uid: int) -> None:
    """Give ``folder`` and everything in it to ``uid`` (and its gid), and make the folder private
    to it (mode 0700)."""
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(folder, uid, uid)
    os.chmod(folder, 0o700)
