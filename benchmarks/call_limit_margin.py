"""How far the correct implementations stay from the per-call limit: the slowest test of the
reference and of every alternative correct implementation (``alternatives/``), against the
assignment's ``call_timeout_seconds``.

Each case is graded by the peers' in-process grader (``peers/inprocess_grader``: pytest imports
the student's code, the same tests, seed and checks, the runner's lean options) with pytest's
``--durations``; tests with a ``call_timeout`` marker of their own (e.g. training) are left out.
A test's duration covers all the calls it makes, and, in-process, the first import of what the
student's module imports (the sandbox imports the student's modules before the first call), so
it bounds the longest single call from above. Prints the slowest test of each case, the slowest
of all, and the margin of the limit over it at full speed and at Gradescope's half a CPU (twice
the time).

Run from the repository root:
``.venv/bin/python benchmarks/call_limit_margin.py [--assignment backprop] [--cases N]``
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import inprocess_grader  # noqa: E402
from single_grade import LEAN_OPTIONS  # noqa: E402

from autograder.authoring import variants  # noqa: E402
from autograder.suite import assignment  # noqa: E402

DURATION = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(\S+)", re.MULTILINE)


def own_limit_tests(tests: Path) -> set[str]:
    """Names of the test functions that carry a ``call_timeout`` marker."""
    names = set()
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any("call_timeout" in ast.unparse(d) for d in node.decorator_list):
                names.add(node.name)
    return names


def slowest_test(source: Path, submission: Path, work: Path, excluded: set[str]) -> tuple[float, str]:
    """(seconds, node id) of the slowest phase of a test of ``submission`` without its own limit."""
    shutil.rmtree(work, ignore_errors=True)
    inprocess_grader.lay_out(source, submission, work)
    environment = {**os.environ, "PYTEST_ADDOPTS": f"{LEAN_OPTIONS} --durations=0 --durations-min=0"}
    done = subprocess.run(inprocess_grader.command(work), env=environment, capture_output=True, text=True)
    found = [
        (float(seconds), nodeid)
        for seconds, nodeid in DURATION.findall(done.stdout)
        if nodeid.split("::")[-1].split("[")[0] not in excluded
    ]
    if not found:
        sys.exit(f"no test durations for {submission}:\n{done.stdout[-1500:]}")
    return max(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--cases", type=int, help="only the reference and the first N alternatives")
    args = parser.parse_args()
    task = assignment.load(args.assignment)
    alternatives = variants.discover(task.folder / "alternatives")[: args.cases]
    excluded = own_limit_tests(task.tests)
    limit = task.limits.call_timeout_seconds
    with tempfile.TemporaryDirectory(prefix="autograder-margin-") as tmp:
        root = Path(tmp)
        source = inprocess_grader.build(task, root / "grader")
        rows = [("reference", *slowest_test(source, task.solution, root / "case", excluded))]
        for variant in alternatives:
            folder = root / "submission"
            shutil.rmtree(folder, ignore_errors=True)
            variants.materialise(task.solution, variant, folder)
            rows.append((variant.id, *slowest_test(source, folder, root / "case", excluded)))
    for case, seconds, nodeid in rows:
        print(f"{seconds:6.2f} s  {case:32s} {nodeid}")
    worst, case, nodeid = max((seconds, case, nodeid) for case, seconds, nodeid in rows)
    print(
        f"\nslowest test of {len(rows)} correct implementations: {worst:.2f} s ({case}, {nodeid}), "
        f"tests with a call_timeout marker left out ({', '.join(sorted(excluded)) or 'none'}); "
        f"call_timeout_seconds = {limit:g}: {limit / max(worst, 0.01):.1f}x that at full speed, "
        f"{limit / max(2 * worst, 0.01):.1f}x at half a CPU"
    )


if __name__ == "__main__":
    main()
