"""Running one grading command and measuring it: wall time and peak memory.

Memory is sampled every ``SAMPLE_SECONDS`` over the command's process tree (the grader, its test
runner, otter's kernel, our sandboxed workers):

- ``largest_mb``: the peak resident set of the largest single process;
- ``tree_mb``: the peak of the summed resident sets of the whole tree.

(``ru_maxrss`` from ``wait4`` would overstate both here: a child's high-water mark starts from
the resident set of the process that forked it, this benchmark's own.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Run:
    seconds: float
    largest_mb: float
    tree_mb: float
    returncode: int


def resident_sets(process: psutil.Process) -> list[int]:
    """Resident set sizes in bytes of ``process`` and its descendants (empty once it is gone)."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return []
    sizes = []
    for member in members:
        try:
            sizes.append(member.memory_info().rss)
        except psutil.Error:
            pass
    return sizes


def run_measured(command: list[str], cwd: Path, log: Path, timeout: float) -> Run:
    """Run ``command`` in ``cwd`` (its output into ``log``), killing its process group after
    ``timeout`` seconds and, once it has ended, whatever it left running."""
    largest = tree = 0
    with log.open("wb") as stream:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True
        )
        process = psutil.Process(child.pid)
        while child.poll() is None:
            if time.perf_counter() - started > timeout:
                os.killpg(child.pid, signal.SIGKILL)
            sizes = resident_sets(process)
            largest, tree = max([largest, *sizes]), max(tree, sum(sizes))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return Run(seconds, largest / 2**20, tree / 2**20, child.returncode)
