"""Every benchmark script runs to its end at the smallest size, so a change of the engine that
breaks one is seen in CI, not when its figures are next taken. Only that they run and print
their table is checked: no figure is asserted. ``gradescope_limits.py`` is left out: it builds
the Gradescope environment with pip and needs cgroups (its own test of the zip is
``tests/integrations/test_gradescope.py``), and so is ``diagnosis_cost.py``: its baseline
interpreter borrows this environment's packages through a ``.pth`` file, which the sandbox shows
to student code only where the checkout is in a folder every user can enter, not in CI's closed
clone."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUNS = {
    "batch_throughput.py": (
        ["--submissions", "10", "--jobs", "1", "--one-by-one", "--in-process"],
        "in-process, 9 submissions (no infinite loop), on 1 thread(s)",
        "graded with 1 job(s)",
    ),
    "call_limit_margin.py": (["--cases", "1"], "slowest test of 2 correct implementations"),
    "grade_profile.py": (["--rounds", "1"], "tests"),
    "grading_time.py": (["--runs", "1"], "median"),
    "seed_sweep.py": (["--seeds", "2", "--jobs", "1"], "2"),
    "learning_targets.py": (["--json"], "{"),
    "gradcheck_cost.py": (["--sizes", "64", "--budget", "5"], "64"),
    "proxy_roundtrip.py": (["--repeat", "20"], "identity"),
    "confinement_cost.py": (["--rounds", "1"], "bubblewrap"),
    "similarity_class.py": (["--submissions", "42", "--copies", "2", "--jobs", "1"], "42"),
    "peers/single_grade.py": (["--rounds", "1"], "otter run"),
}
"""The arguments of each script and what its output must contain."""


@pytest.mark.parametrize("script", RUNS)
def test_the_benchmark_runs_to_its_end(script):
    arguments, *printed = RUNS[script]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert all(text in done.stdout for text in printed), done.stdout[-2000:]
