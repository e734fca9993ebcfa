"""Cost of the similarity of a class (``autograder.classroom.similarity``), and whether planted copies are found.

Builds a class of N submissions (default 500) of ``backprop`` without grading it. Each submission
is the reference solution in which every function is, independently, replaced by one of its
known versions: the bug corpus (``mutants/``) and the alternative correct versions
(``alternatives/``) of that function, its stub from the student template (an unfinished
function), or the reference itself; a line of the student's own goes before some statements
(``note_17 = 4093``: no two students write the same code throughout) and local names are
renamed at random. Into that class go planted copies (an exact copy and a copy with renamed
variables of other submissions), submissions with a syntax error in one file and submissions
with missing files (copies of others' other files and of one file respectively: the first are
planted copies too).

Then compares the whole class with 1 and with 2 processes (``--jobs``) and prints the wall and CPU
time (CPU time does not depend on what else the machine runs; the load average says how busy it
was), the
candidate pairs compared function by function, the pairs flagged, and how many planted copies
were flagged (all that have code of their own should be) besides pairs that are not planted
copies. Every submission of this class derives from the one reference solution, so pairs that
picked the same rare versions of several functions may be similar indeed; whether independent
solutions stay apart is tested on real ones (``tests/test_similarity.py``).

Run from the repository root:
``.venv/bin/python benchmarks/similarity_class.py [--submissions 500] [--jobs 1 2] [--copies 20]``
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import resource
import time
from pathlib import Path

from autograder.authoring import variants
from autograder.classroom import similarity
from autograder.grading import source_edit
from autograder.suite import assignment
from autograder.suite.assignment import Assignment

REFERENCE_SHARE = 0.4  # a function keeps the reference version this often
STUB_SHARE = 0.08  # ... is left as the template's stub this often; otherwise a mutant or an alternative
OWN_LINE_SHARE = 0.25  # a statement gets a line of the student's own before it this often
BROKEN = 10  # submissions with a syntax error, and as many with missing files
RENAMED = ("params", "grads", "grad", "dout", "cache", "x", "W", "b", "scores", "probs", "loss", "history", "index")


def functions_of(path: Path) -> dict[str, str]:
    """Top-level function name -> its source, of one module."""
    source = path.read_text()
    tree = ast.parse(source)
    return {n.name: ast.get_source_segment(source, n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def versions(task: Assignment) -> dict[str, dict[str, list[str]]]:
    """Module -> function -> its sources other than the reference (mutants, alternatives, stub)."""
    found: dict[str, dict[str, list[str]]] = {}
    for variant in [*variants.discover(task.folder / "mutants"), *variants.discover(task.folder / "alternatives")]:
        for name, text in variant.functions.items():
            found.setdefault(variant.module, {}).setdefault(name, []).append(text)
    return found


def renamed(text: str, rng: random.Random) -> str:
    """``text`` with some local names replaced by others, as students name things differently."""
    chosen = rng.sample(RENAMED, 4)
    table = {name: f"{name}_{rng.randrange(100)}" for name in chosen}
    return re.sub(r"\b(" + "|".join(map(re.escape, chosen)) + r")\b", lambda m: table[m[1]], text)


def with_own_lines(text: str, rng: random.Random) -> str:
    """``text`` with a line of the student's own (``note_17 = 4093``) before some statements of its
    functions: what makes each student's code partly their own, as independent work is."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    starts = sorted(
        {
            (node.lineno, node.col_offset)
            for function in tree.body
            if isinstance(function, ast.FunctionDef)
            for node in ast.walk(function)
            if isinstance(node, (ast.Assign, ast.Return, ast.For, ast.If))
            and not lines[node.lineno - 1][: node.col_offset].strip()
        },
        reverse=True,
    )
    for line, column in starts:
        if rng.random() < OWN_LINE_SHARE:
            lines.insert(line - 1, " " * column + f"note_{rng.randrange(100)} = {rng.randrange(10**6)}\n")
    return "".join(lines)


def make_class(task: Assignment, total: int, copies: int, rng: random.Random) -> tuple[dict, set]:
    """``total`` submissions (id -> files); the planted copy pairs."""
    known = versions(task)
    stubs = {module: functions_of(task.template / f"{module}.py") for module in task.modules}
    sources = {module: (task.solution / f"{module}.py").read_text() for module in task.modules}
    own = total - copies - 2 * BROKEN
    submissions = {}
    for number in range(own):
        files = {}
        for module in task.modules:
            replacements = {}
            for name in functions_of(task.solution / f"{module}.py"):
                draw = rng.random()
                if draw < STUB_SHARE and name in stubs[module]:
                    replacements[name] = stubs[module][name]
                elif draw > REFERENCE_SHARE + STUB_SHARE and known.get(module, {}).get(name):
                    replacements[name] = rng.choice(known[module][name])
            text = source_edit.replace_definitions(sources[module], f"{module}.py", replacements)
            files[f"{module}.py"] = renamed(with_own_lines(text, rng), rng).encode()
        submissions[f"s{number:04d}"] = files
    originals = rng.sample(sorted(submissions), copies)
    planted = set()
    for number, original in enumerate(originals):
        copy = f"copy{number:03d}"
        text = submissions[original]
        submissions[copy] = (
            dict(text) if number % 2 else {n: renamed(t.decode(), rng).encode() for n, t in text.items()}
        )
        planted.add(frozenset((original, copy)))
    for number in range(BROKEN):
        files = dict(submissions[f"s{number:04d}"])
        files["layers.py"] = files["layers.py"] + b"\ndef unfinished(:\n"
        submissions[f"syntax{number:02d}"] = files
        planted.add(frozenset((f"s{number:04d}", f"syntax{number:02d}")))  # a copy with one broken file
        submissions[f"missing{number:02d}"] = {
            "activations.py": submissions[f"s{number + BROKEN:04d}"]["activations.py"]
        }
    return submissions, planted


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (the tokenising workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=500, help="size of the class (default: 500)")
    parser.add_argument("--copies", type=int, default=20, help="planted copies (default: 20)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="process counts (default: 1 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    smallest = args.copies + 4 * BROKEN  # the broken ones are made from the first 2 * BROKEN of the others
    if args.submissions < smallest:
        parser.error(f"--submissions must be at least {smallest} with --copies {args.copies}")
    task = assignment.load("backprop")
    submissions, planted = make_class(task, args.submissions, args.copies, random.Random(args.seed))
    template = {name: (task.template / name).read_bytes() for name in task.files}
    size = sum(len(text) for files in submissions.values() for text in files.values())
    print(
        f"backprop: {len(submissions)} submissions, {size / 1e6:.1f} MB of code, {len(planted)} planted copies; "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    for jobs in args.jobs:
        started, cpu = time.perf_counter(), cpu_seconds()
        found = similarity.compare_class(submissions, template, task.similarity, jobs=jobs)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        load = os.getloadavg()[0]
        flagged = {frozenset((pair.a, pair.b)) for pair in found.flagged()}
        comparable = {pair for pair in planted if pair <= set(found.compared)}
        print(
            f"  jobs {jobs}: {wall:.1f} s ({cpu:.1f} s of CPU, load average {load:.1f}); {len(found.compared)} compared, {len(found.skipped)} skipped "
            f"(all their code common), {len(found.notes)} with files left out; {found.candidates} candidate pairs; "
            f"{len(flagged)} flagged: {len(flagged & comparable)}/{len(comparable)} planted copies that have code "
            f"of their own ({len(planted) - len(comparable)} planted copies are all common code), "
            f"{len(flagged - planted)} other pairs",
            flush=True,
        )


if __name__ == "__main__":
    main()
