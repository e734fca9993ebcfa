"""Throughput of ``autograder batch``: submissions graded per second with 1 job and with more.

Builds a class of N submissions of an assignment (default: ``backprop``, 200):

- correct: the reference solution, each copy with its own comment (so every submission differs);
- buggy: the assignment's mutants (``assignments/NAME/mutants``, materialised with
  ``autograder.authoring.variants``), in turn;
- broken: a syntax error, a missing file, a crash (a function that kills its process) and an
  infinite loop (a function that never returns: each call of it waits out the per-call limit).

Then grades the whole class from scratch (a fresh output folder) once per job count, and prints
the wall time, submissions per second and the speed-up over the first job count, and any
submission whose score differs between job counts (there should be none). With ``--one-by-one``,
each job count first grades the class as many single ``autograder grade`` runs would
(``pipeline.grade`` with a test runner of its own per submission, on as many threads as jobs),
then as the batch: that run's wall time, and every score of the batch that differs from it. Each
pass also gives the CPU time the machine spent meanwhile (``cpu_seconds``). With ``--in-process``,
each job count also grades the class with the peers' in-process grader (``peers/inprocess_grader``:
pytest imports the student's code, the same tests, seed and checks, the runner's lean options),
as many at a time, without the infinite loops, which nothing would stop there: the floor of
running the suites at all, with neither sandbox nor worker.

Run from the repository root:
``.venv/bin/python benchmarks/batch_throughput.py [--assignment backprop] [--submissions 200] [--jobs 1 2] [--one-by-one] [--in-process]``
(``--project DIR`` for an assignment of another project, e.g. ``tests/fixtures/project``).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import inprocess_grader  # noqa: E402
from single_grade import LEAN_OPTIONS  # noqa: E402

from autograder.authoring import variants
from autograder.classroom import batch
from autograder.grading import pipeline
from autograder.suite import assignment
from autograder.suite.assignment import Assignment

SHARES = {"infinite loop": 0.01, "crash": 0.04, "syntax error": 0.04, "missing file": 0.04, "buggy": 0.40}
"""Share of each kind of submission; the rest are correct."""
BODIES = {
    "crash": "    import os\n    os._exit(3)\n",
    "infinite loop": "    while True:\n        pass\n",
}


def first_function(solution_file: Path) -> str:
    """The first public function of a module of the reference solution."""
    tree = ast.parse(solution_file.read_text())
    return next(node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"))


def replaced_first_function(task: Assignment, kind: str) -> variants.Variant:
    """A variant whose first function of the first module has the body of ``kind``."""
    module = task.modules[0]
    name = first_function(task.solution / f"{module}.py")
    source = f"def {name}(*args, **kwargs):\n{BODIES[kind]}"
    return variants.Variant(module=module, name=kind.replace(" ", "_"), description=kind, functions={name: source})


def plan(task: Assignment, total: int) -> list[str]:
    """The kind of each of ``total`` submissions."""
    kinds = []
    for kind, share in SHARES.items():
        kinds += [kind] * max(1, round(share * total))
    return (kinds + ["correct"] * total)[:total]


def submission_name(number: int) -> str:
    return f"student{number:04d}"


def write_submission(task: Assignment, kind: str, number: int, mutants: list[variants.Variant], folder: Path) -> None:
    first = folder / task.files[0]
    if kind == "buggy":
        variants.materialise(task.solution, mutants[number % len(mutants)], folder)
    elif kind in BODIES:
        variants.materialise(task.solution, replaced_first_function(task, kind), folder)
    else:
        shutil.copytree(task.solution, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if kind == "syntax error":
        first.write_text(first.read_text() + "\ndef unfinished(:\n")
    elif kind == "missing file":
        (folder / task.files[-1]).unlink()
    with first.open("a") as stream:
        stream.write(f"\n# submission {number}\n")


def make_class(task: Assignment, total: int, folder: Path) -> dict[str, int]:
    """Write ``total`` submissions into ``folder``; return how many of each kind."""
    mutants = variants.discover(task.folder / "mutants")
    counts: dict[str, int] = {}
    for number, kind in enumerate(plan(task, total)):
        kind = "correct" if kind == "buggy" and not mutants else kind
        write_submission(task, kind, number, mutants, folder / submission_name(number))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (user, nice, system, irq and softirq time of
    every core, ``/proc/stat``). Unlike ``getrusage``, it counts the sandboxed workers, which are
    killed rather than waited for by this process's descendants; it counts any other load too,
    so measure on an otherwise quiet machine."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def grade_one_by_one(task: Assignment, folder: Path, out: Path, jobs: int) -> dict[str, float]:
    """Every submission of ``folder`` graded with a test runner of its own, ``jobs`` at a time
    (printing the wall and CPU time); the score of each by id."""

    def grade(submission: Path) -> tuple[str, float]:
        results = out / f"{submission.name}.json"
        return submission.name, pipeline.grade(task, submission, results).results.score

    out.mkdir()
    started, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        scores = dict(pool.map(grade, sorted(folder.iterdir())))
    wall = time.perf_counter() - started
    print(f"  one by one on {jobs} thread(s) in {wall:.1f} s, {cpu_seconds() - cpu:.1f} s of CPU", flush=True)
    return scores


def grade_in_process(task: Assignment, folder: Path, total: int, work: Path, jobs: int) -> None:
    """Every submission of the class of ``total`` in ``folder`` but the infinite loops graded by
    the in-process grader, ``jobs`` at a time (printing the wall and CPU time)."""
    source = inprocess_grader.build(task, work / "grader")
    environment = {**os.environ, "PYTEST_ADDOPTS": LEAN_OPTIONS}

    def grade(submission: Path) -> None:
        root = work / submission.name
        inprocess_grader.lay_out(source, submission, root)
        subprocess.run(inprocess_grader.command(root), env=environment, capture_output=True, check=False)

    chosen = [
        folder / submission_name(number) for number, kind in enumerate(plan(task, total)) if kind != "infinite loop"
    ]
    started, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(grade, chosen))
    print(
        f"  in-process, {len(chosen)} submissions (no infinite loop), on {jobs} thread(s) in "
        f"{time.perf_counter() - started:.1f} s, {cpu_seconds() - cpu:.1f} s of CPU",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop", help="assignment to grade (default: backprop)")
    parser.add_argument("--project", type=Path, help="project folder (default: found from the working folder)")
    parser.add_argument("--submissions", type=int, default=200, help="size of the class (default: 200)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="job counts to compare (default: 1 2)")
    parser.add_argument("--one-by-one", action="store_true", help="also grade every submission on its own")
    parser.add_argument("--in-process", action="store_true", help="also grade the class in-process (the floor)")
    args = parser.parse_args()
    task = assignment.load(args.assignment, args.project.resolve() if args.project else None)
    with tempfile.TemporaryDirectory(prefix="autograder-batch-bench-") as tmp:
        root = Path(tmp)
        counts = make_class(task, args.submissions, root / "class")
        mix = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda item: -item[1]))
        print(f"{task.name}: {args.submissions} submissions ({mix}); {os.cpu_count()} cores", flush=True)
        rows = []
        for jobs in args.jobs:
            if args.in_process:
                grade_in_process(task, root / "class", args.submissions, root / f"in-process-{jobs}", jobs)
            alone = grade_one_by_one(task, root / "class", root / f"alone-{jobs}", jobs) if args.one_by_one else None
            started, cpu = time.perf_counter(), cpu_seconds()
            summary = batch.grade_class(task, root / "class", root / f"out-{jobs}", jobs=jobs)
            wall = time.perf_counter() - started
            rows.append((jobs, wall, summary))
            print(f"  graded with {jobs} job(s) in {wall:.1f} s, {cpu_seconds() - cpu:.1f} s of CPU", flush=True)
            if alone is not None:
                differ = [s for s in summary["submissions"] if s["score"] is not None and s["score"] != alone[s["id"]]]
                for row in differ:
                    print(f"  {row['id']}: batch {row['score']}, one by one {alone[row['id']]}")
                print(
                    f"  scores identical to one-by-one grades: {len(summary['submissions']) - len(differ)} of "
                    f"{len(summary['submissions'])}",
                    flush=True,
                )
    base = rows[0][1]
    print(
        f"\n{'jobs':>4}  {'wall s':>8}  {'subm/s':>7}  {'speed-up':>8}  {'s/subm median':>13}  "
        f"{'graded':>6}  {'unusable':>8}  {'grader-err':>10}  {'mean score':>10}"
    )
    for jobs, wall, summary in rows:
        counts, score = summary["counts"], summary["score"] or {"mean": float("nan")}
        median = summary["timings"]["seconds_per_submission"]["median"]
        print(
            f"{jobs:>4}  {wall:>8.1f}  {args.submissions / wall:>7.2f}  {base / wall:>7.2f}x  {median:>13.2f}  "
            f"{counts['graded']:>6}  {counts['unusable']:>8}  {counts['grader-error']:>10}  {score['mean']:>10.2f}"
        )
    for jobs, _, summary in rows[1:]:
        for first, other in zip(rows[0][2]["submissions"], summary["submissions"]):
            if first["score"] != other["score"]:
                print(f"{first['id']} scored {first['score']} with {rows[0][0]} job(s), {other['score']} with {jobs}")


if __name__ == "__main__":
    main()
