"""Grading the reference solution inside Gradescope's default limits: 768 MB of memory and one
core (``--cpus 0.5`` for Gradescope's default of half a vCPU).

Lays out a moved ``/autograder`` as Gradescope's image has it (``gradescope.unpack`` of the
assignment's autograder zip, with this project's environment as ``venv``: ``setup.sh`` makes an
equivalent one, see ``tests/test_gradescope.py``), puts the reference solution in ``submission``,
then runs ``run_autograder`` as root under the limits, set the strongest way the machine allows:

- ``cgroup v2``: a child cgroup with ``memory.max`` and ``cpu.max``;
- ``cgroup v1``: child cgroups with ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``,
  so no swap) and ``cpu.cfs_quota_us``;
- otherwise ``prlimit --as`` (address space per process, a weaker bound) and ``taskset -c 0``.

Reports the wall time, the peak memory (the cgroup's peak counter: every process of the run
together, page cache included; without a cgroup, the largest resident size of one process) and
the score. Run from the repository root, as root:
``.venv/bin/python benchmarks/gradescope_limits.py [ASSIGNMENT] [--cpus 1] [--memory-mb 768]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.integrations import gradescope
from autograder.suite import assignment

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


@dataclass
class Limiter:
    """How the run is confined: a command prefix, cgroups to join, and where the peak is read."""

    name: str
    prefix: list[str]
    cgroups: list[Path]
    peak_file: Path | None

    def join(self) -> None:
        """Move the calling process into the cgroups (the child, before it runs the autograder)."""
        for group in self.cgroups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> tuple[int, str]:
        if self.peak_file is not None:
            return int(self.peak_file.read_text()), "cgroup peak, all processes"
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "largest single process (ru_maxrss)"

    def remove(self) -> None:
        for group in self.cgroups:
            group.rmdir()


def own_cgroups() -> dict[str, str]:
    """Controller (``memory``, ``cpu``; ``""`` for cgroup v2) -> this process's cgroup path."""
    found = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path.lstrip("/")
    return found


def cgroup_v2(memory: int, cpus: float, tag: str) -> Limiter:
    group = CGROUP_ROOT / own_cgroups()[""] / tag
    if not {"memory", "cpu"} <= set((group.parent / "cgroup.controllers").read_text().split()):
        raise OSError("cgroup v2 without the memory and cpu controllers here")
    group.mkdir()
    try:
        (group / "memory.max").write_text(str(memory))
        (group / "memory.swap.max").write_text("0")
        (group / "cpu.max").write_text(f"{int(cpus * PERIOD_US)} {PERIOD_US}")
    except OSError:
        group.rmdir()
        raise
    return Limiter("cgroup v2 (memory.max, cpu.max)", [], [group], group / "memory.peak")


def cgroup_v1(memory: int, cpus: float, tag: str) -> Limiter:
    paths = own_cgroups()
    memory_group = CGROUP_ROOT / "memory" / paths["memory"] / tag
    cpu_group = CGROUP_ROOT / "cpu" / paths["cpu"] / tag
    made = []
    try:
        for group in (memory_group, cpu_group):
            group.mkdir()
            made.append(group)
        (memory_group / "memory.limit_in_bytes").write_text(str(memory))
        if (memory_group / "memory.memsw.limit_in_bytes").exists():
            (memory_group / "memory.memsw.limit_in_bytes").write_text(str(memory))
        (cpu_group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (cpu_group / "cpu.cfs_quota_us").write_text(str(int(cpus * PERIOD_US)))
    except (OSError, KeyError):
        for group in reversed(made):
            group.rmdir()
        raise OSError("no writable cgroup v1 memory and cpu hierarchies") from None
    return Limiter(
        "cgroup v1 (memory.limit_in_bytes + memsw, cpu.cfs_quota_us)",
        [],
        made,
        memory_group / "memory.max_usage_in_bytes",
    )


def choose_limiter(memory: int, cpus: float) -> Limiter:
    tag = f"autograder-bench-{os.getpid()}"
    problems = []
    for make in (cgroup_v2, cgroup_v1):
        try:
            return make(memory, cpus, tag)
        except (OSError, KeyError) as err:
            problems.append(f"{make.__name__}: {err}")
    print("no cgroup could be used (" + "; ".join(problems) + ")", file=sys.stderr)
    cores = max(1, round(cpus))
    prefix = ["prlimit", f"--as={memory}", "--", "taskset", "-c", f"0-{cores - 1}"]
    return Limiter(f"prlimit --as + taskset -c 0-{cores - 1}", prefix, [], None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", help="assignment to grade (default: the only one)")
    parser.add_argument("--cpus", type=float, default=1.0, help="CPU quota in cores (default: 1)")
    parser.add_argument("--memory-mb", type=int, default=768, help="memory limit (default: 768)")
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Gradescope runs the autograder as root, and limits need it")
    chosen = assignment.load(options.assignment)
    root = Path(tempfile.mkdtemp(prefix="autograder-bench-", dir="/tmp"))
    root.chmod(0o755)
    layout = gradescope.Layout(root)
    limiter = choose_limiter(options.memory_mb << 20, options.cpus)
    try:
        gradescope.autograder_archive(chosen).write(root / "autograder.zip")
        gradescope.unpack(root / "autograder.zip", layout)
        layout.venv.symlink_to(Path(sys.prefix))
        for name in chosen.files:
            shutil.copy(chosen.solution / name, layout.submission)
        layout.metadata.write_text(json.dumps({"id": 1}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
        env[gradescope.ROOT_ENV] = str(root)
        started = time.perf_counter()
        done = subprocess.run(
            [*limiter.prefix, str(root / "run_autograder")],
            cwd=root,
            env=env,
            preexec_fn=limiter.join,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        peak, how = limiter.peak_bytes()
        report = json.loads(layout.results_file.read_text())
    finally:
        limiter.remove()
        shutil.rmtree(root)
    total = sum(t["max_score"] for t in report["tests"])
    print(f"assignment      {chosen.name} (reference solution, {len(report['tests'])} tests)")
    print(f"limits          {options.memory_mb} MB, {options.cpus:g} CPU, with {limiter.name}")
    print(f"exit status     {done.returncode}")
    print(f"score           {report['score']:g} / {total:g}")
    print(f"wall time       {seconds:.1f} s (grading alone: {report['execution_time']:.1f} s)")
    print(f"peak memory     {peak / (1 << 20):.0f} MB ({how})")


if __name__ == "__main__":
    main()
