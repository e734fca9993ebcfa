"""A pre-started test runner grades each submission in a fresh fork: the same results as a runner
of its own, and nothing of one submission's grading reaches the next."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from autograder.grading import pipeline, runner_command, stubs, test_runner
from autograder.grading.prestarted_runner import PreStartedRunner
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
FULL = 14.0

STATEFUL_SUITE = '''
import pytest

SEEN = []


@pytest.mark.points(1)
def test_the_runner_starts_afresh(student, reference, provided):
    """runner state: fresh for every submission"""
    assert SEEN == [] and not hasattr(provided.helpers, "touched") and not hasattr(reference.arith, "touched")
    SEEN.append(1)
    provided.helpers.touched = reference.arith.touched = True  # module state of the runner, never undone
'''

TAMPERING_IMPORT = """
import builtins
import numpy as np
import numpy.testing

numpy.testing.assert_allclose = lambda *args, **kwargs: None
np.add = np.subtract
builtins.TAMPERED = True


def add(a, b):
    return 0
"""

EXPECTS_NO_TAMPERING = """

def add(a, b):
    import builtins
    import numpy as np

    clean = not hasattr(builtins, "TAMPERED") and np.add(1, 1) == 2
    return a + b if clean else 0
"""


@pytest.fixture
def project(tmp_path: Path) -> assignment.Assignment:
    """A copy of the fixture project whose suites also check that the runner starts afresh."""
    folder = tmp_path / "project"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    task = assignment.load("arith", folder)
    (task.tests / "hidden" / "test_runner_state.py").write_text(STATEFUL_SUITE)
    return task


@pytest.fixture
def runner(project):
    started = PreStartedRunner(project)
    yield started
    started.close()


def submission(tmp_path: Path, task: assignment.Assignment, name: str, **replaced: str) -> Path:
    """The reference solution with some of its modules' code appended (a later ``def`` wins)."""
    folder = tmp_path / name
    shutil.copytree(task.solution, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for module, code in replaced.items():
        with (folder / f"{module}.py").open("a") as stream:
            stream.write("\n" + code.strip("\n") + "\n")
    return folder


def comparable(grade: pipeline.Grade) -> dict:
    """The results without what depends on timing."""
    results = {key: value for key, value in json.loads(grade.results.to_json()).items() if key != "execution_time"}
    return {**results, "tests": [{k: v for k, v in t.items() if k != "execution_time"} for t in results["tests"]]}


def test_forked_runs_give_the_results_of_runners_of_their_own(project, runner, tmp_path):
    template = tmp_path / "template"
    stubs.generate_template(project.solution, template)
    folders = [
        project.solution,
        template,
        submission(tmp_path, project, "wrong", arith="def add(a, b):\n    return a - b"),
        submission(tmp_path, project, "crash", vectors="def double(x):\n    import os\n    os._exit(3)"),
    ]
    for number, folder in enumerate(folders):
        forked = pipeline.grade(project, folder, tmp_path / f"forked-{number}.json", seed=5, runner=runner)
        alone = pipeline.grade(project, folder, tmp_path / f"alone-{number}.json", seed=5)
        assert forked.problems == alone.problems == []
        assert comparable(forked) == comparable(alone)


def test_a_forked_run_can_stop_at_its_first_failure_and_the_next_runs_in_full(project, runner, tmp_path):
    wrong = submission(tmp_path, project, "wrong", arith="def add(a, b):\n    return a - b")

    def outcomes(**options) -> list[tuple[str, bool]]:
        """(status, whether the test ran) of every test."""
        grade = pipeline.grade(project, wrong, tmp_path / "r.json", seed=5, **options)
        assert grade.problems == []
        return [(t.status, "grader stopped before this test" not in t.output) for t in grade.results.tests]

    stopping = outcomes(runner=runner, stop_at_first_failure=True)
    in_full = outcomes(runner=runner)
    assert stopping == outcomes(stop_at_first_failure=True)  # as a runner of its own stops
    first_failure = [status for status, _ in stopping].index("failed")
    assert all(ran for _, ran in stopping[: first_failure + 1])
    assert stopping[first_failure + 1 :] and not any(ran for _, ran in stopping[first_failure + 1 :])
    assert all(ran for _, ran in in_full) and in_full.count(("passed", True)) > stopping.count(("passed", True))


def test_no_state_of_one_submission_reaches_the_next(project, runner, tmp_path):
    tampering = submission(tmp_path, project, "tampering", arith=TAMPERING_IMPORT)
    checking = submission(tmp_path, project, "checking", arith=EXPECTS_NO_TAMPERING)
    for number, folder in enumerate([tampering, checking, tampering, checking]):
        grade = pipeline.grade(project, folder, tmp_path / f"{number}.json", seed=5, runner=runner)
        assert grade.problems == []
        scores = {t.name: t.score for t in grade.results.tests}
        assert scores["runner state: fresh for every submission"] == 1.0, grade.results
        if folder == checking:
            assert grade.results.score == FULL + 1, "the tampering of the submission before was seen"


def test_a_run_over_its_time_limit_is_stopped_and_the_runner_serves_the_next(project, tmp_path):
    slow = submission(
        tmp_path, project, "slow", arith="def add(a, b):\n    import time\n    time.sleep(3)\n    return a + b"
    )
    config = project.folder / "assignment.toml"
    config.write_text(config.read_text().replace("suite_timeout_seconds = 120", "suite_timeout_seconds = 2"))
    limited = assignment.load("arith", project.root)
    with PreStartedRunner(limited) as runner:
        stopped = pipeline.grade(limited, slow, tmp_path / "slow.json", seed=5, runner=runner)
        assert "took longer than its limit of 2 s" in stopped.problems[0]
        graded = pipeline.grade(limited, limited.solution, tmp_path / "next.json", seed=5, runner=runner)
    assert graded.problems == [] and graded.results.score == FULL + 1


def test_a_runner_that_died_between_runs_is_started_again(project, runner, tmp_path):
    pipeline.grade(project, project.solution, tmp_path / "first.json", seed=5, runner=runner)
    os.killpg(runner.pid, signal.SIGKILL)
    again = pipeline.grade(project, project.solution, tmp_path / "again.json", seed=5, runner=runner)
    assert again.problems == [] and again.results.score == FULL + 1


def test_a_runner_that_cannot_start_is_a_grader_problem_in_one_line(project, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_command, "RUNNER_CONFIG", tmp_path / "missing.ini")
    grade = pipeline.grade(project, project.solution, tmp_path / "results.json", seed=5, runner=runner)
    assert grade.problems[0].startswith("the pre-started test runner stopped")
    assert grade.results.score == 0
    assert pipeline.one_line(grade.problems[0]).count("\n") == 0


LAZY_IMPORT_SUITE = """
import sys

import pytest


@pytest.mark.points(1)
def test_imports_colorsys(student):
    \"\"\"runner state: imports a module of the standard library\"\"\"
    with open({seen!r}, "a") as seen:
        seen.write(str("colorsys" in sys.modules) + "\\n")
    import colorsys  # noqa: F401
"""


def test_what_a_run_imported_of_the_installation_the_runner_imports_before_the_next_fork(project, tmp_path):
    seen = tmp_path / "seen.txt"
    (project.tests / "hidden" / "test_lazy_import.py").write_text(LAZY_IMPORT_SUITE.format(seen=str(seen)))
    with PreStartedRunner(project) as runner:
        for number in range(3):
            grade = pipeline.grade(project, project.solution, tmp_path / f"{number}.json", seed=5, runner=runner)
            assert grade.problems == [] and grade.results.score == FULL + 2
    assert seen.read_text().split() == ["False", "True", "True"]
    pipeline.grade(project, project.solution, tmp_path / "alone.json", seed=5)
    assert seen.read_text().split()[-1] == "False"  # a runner of its own starts without it


def test_modules_of_the_project_or_a_run_are_not_imported_into_the_runner(tmp_path, monkeypatch):
    (tmp_path / "run_local_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    before = set(sys.modules)
    importlib.import_module("colorsys")
    importlib.import_module("run_local_module")
    names = test_runner.installed_modules_since(before)
    assert "colorsys" in names and "run_local_module" not in names


def test_a_recorded_module_that_does_not_import_is_passed_over(tmp_path, monkeypatch):
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "fails_on_import.py").write_text("raise ImportError('no')\n")
    (tmp_path / "imports_fine.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("exits_on_import", "fails_on_import", "imports_fine"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    record = tmp_path / "imported.json"
    record.write_text(json.dumps(["exits_on_import", "no_such_module", "fails_on_import", "imports_fine"]))
    test_runner.import_installed(record)
    assert "imports_fine" in sys.modules and "exits_on_import" not in sys.modules
    test_runner.import_installed(tmp_path / "no-record.json")  # a run that wrote none
