"""End-to-end grading of the fixture assignment: scores, results.json, and containment of
submissions that attack the grader."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from autograder.grading import pipeline, results_model, runner_command, stubs
from autograder.grading.results_model import Results
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
SCHEMA = json.loads(results_model.SCHEMA.read_text())
FULL = 14.0
AS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


def submission(tmp_path: Path, task: assignment.Assignment, **appended: str) -> Path:
    """The reference solution with code appended to some of its modules (a later ``def`` of the
    same name replaces the reference's function)."""
    folder = tmp_path / "submission"
    shutil.copytree(task.solution, folder)
    for module, code in appended.items():
        with (folder / f"{module}.py").open("a") as stream:
            stream.write("\n" + code.strip("\n") + "\n")
    return folder


def run(arith, folder: Path, tmp_path: Path) -> pipeline.Grade:
    started = time.perf_counter()
    outcome = pipeline.grade(arith, folder, tmp_path / "results.json", seed=7)
    assert time.perf_counter() - started < 60, "grading must finish in bounded time"
    written = (tmp_path / "results.json").read_text()
    assert written == outcome.results.to_json() and Results.from_json(written) == outcome.results
    jsonschema.validate(json.loads(written), SCHEMA, cls=jsonschema.Draft202012Validator)
    return outcome


def scores(outcome: pipeline.Grade) -> dict[str, float]:
    return {t.name: t.score for t in outcome.results.tests}


def output_of(outcome: pipeline.Grade, name: str) -> str:
    return next(t.output for t in outcome.results.tests if t.name == name)


ADD_TESTS = {"add: small integers", "add: random floats"}


def assert_only_add_lost(outcome: pipeline.Grade) -> None:
    """The add tests earned nothing; every other test earned its points."""
    assert outcome.problems == []
    for test in outcome.results.tests:
        if test.name in ADD_TESTS:
            assert test.score == 0 and test.status == "failed", test
        else:
            assert test.score == test.max_score, test
    assert outcome.results.score == FULL - 4


def test_reference_gets_full_marks(arith, tmp_path):
    outcome = run(arith, arith.solution, tmp_path)
    assert outcome.problems == []
    assert outcome.results.score == FULL
    tests = outcome.results.tests
    assert [t.number for t in tests] == ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4"]
    visibility = {t.name: t.visibility for t in tests}
    assert visibility["add: small integers"] == "visible"
    assert visibility["add: random floats"] == "after_due_date"
    assert visibility["double: many sizes"] == "after_published"
    assert "seed 7" in outcome.results.output


def test_blank_template_gets_zero_with_a_message_per_test(arith, tmp_path):
    template = tmp_path / "template"
    stubs.generate_template(arith.solution, template)
    outcome = run(arith, template, tmp_path)
    assert outcome.problems == []
    assert outcome.results.score == 0
    for test in outcome.results.tests:
        assert "NotImplementedError" in test.output and "not implemented" in test.output, test


def test_a_grade_times_each_of_its_phases_and_counts_the_round_trips(arith, tmp_path):
    outcome = run(arith, arith.solution, tmp_path)
    phases = outcome.phases()
    assert list(phases) == [name for name, _, _ in pipeline.PHASES]
    assert all(seconds >= 0 for seconds in phases.values()), phases
    assert sum(phases.values()) == pytest.approx(outcome.timings["written"] - outcome.timings["started"])
    assert outcome.timings["requests"] >= len(outcome.results.tests)  # each test calls the student's code
    assert 0 < outcome.timings["seconds_in_requests"] < phases["tests"]
    assert outcome.timings["spawned"] < outcome.timings["configured"]  # the worker starts before pytest loads


def test_a_runner_that_dies_leaves_the_phases_it_saw(arith, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_command, "RUNNER_CONFIG", tmp_path / "missing.ini")  # pytest stops at once
    outcome = run(arith, arith.solution, tmp_path)
    assert outcome.problems
    phases = outcome.phases()
    assert "runner start-up (Python, pytest, plugins)" not in phases and "tests" not in phases
    assert {"intake", "sandbox set-up (scratch, uid, plan)", "results.json"} <= set(phases)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda path: path.unlink(), "vectors.py was not submitted"),
        (
            lambda path: path.write_text("import os\nos._exit(0)\n" + path.read_text()),
            "exited with code 0 while running import vectors",
        ),
    ],
    ids=["missing", "exits at import"],
)
def test_a_missing_or_broken_file_fails_exactly_the_tests_that_need_it(arith, tmp_path, spoil, message):
    folder = submission(tmp_path, arith)
    spoil(folder / "vectors.py")
    outcome = run(arith, folder, tmp_path)
    assert outcome.problems == []
    for test in outcome.results.tests:
        needs_vectors = "double" in test.name or "scaler" in test.name
        assert (test.score == 0) == needs_vectors, test
        if needs_vectors:
            assert message in test.output
    assert ("`vectors.py` was not submitted" in outcome.results.output) == (message == "vectors.py was not submitted")


def test_syntax_error_is_shown_with_the_line(arith, tmp_path):
    folder = submission(tmp_path, arith, arith="def broken(:\n    pass")
    outcome = run(arith, folder, tmp_path)
    assert "arith.py line" in outcome.results.output and "SyntaxError" in outcome.results.output
    assert "SyntaxError" in output_of(outcome, "add: small integers")
    assert scores(outcome)["double: a vector"] == 2


def test_partial_credit(arith, tmp_path):
    folder = submission(
        tmp_path,
        arith,
        vectors="""
def double(x):
    import numpy as np
    return 2.0 * x if len(x) < 5 else np.zeros_like(x)
""",
    )
    outcome = run(arith, folder, tmp_path)
    assert scores(outcome)["double: many sizes"] == 2.0  # 2 of 4 sizes right, 4 points
    assert "wrong for 2 of 4 sizes" in output_of(outcome, "double: many sizes")


@pytest.mark.parametrize(
    "attack, expected_message",
    [
        ("def add(a, b):\n    import os\n    os._exit(0)", "exited with code 0"),
        ("def add(a, b):\n    import sys\n    sys.exit(0)", "SystemExit"),
        ("def add(a, b):\n    import pytest\n    pytest.exit('stop', returncode=0)", "Exit"),
        ("def add(a, b):\n    raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("def add(a, b):\n    while True:\n        pass", "did not return within 5 s"),
        ("def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))", "MemoryError"),
        ("def add(a, b):\n    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)", "SIGSEGV"),
    ],
    ids=["os._exit", "sys.exit", "pytest.exit", "KeyboardInterrupt", "infinite loop", "memory bomb", "segfault"],
)
def test_a_function_that_attacks_the_process_loses_only_its_own_tests(arith, tmp_path, attack, expected_message):
    outcome = run(arith, submission(tmp_path, arith, arith=attack), tmp_path)
    assert_only_add_lost(outcome)
    assert expected_message in output_of(outcome, "add: small integers")


@pytest.mark.skipif(not AS_ROOT, reason="the process limit is per dedicated user, which needs root")
def test_fork_bomb_is_bounded(arith, tmp_path):
    attack = "def add(a, b):\n    import os\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass"
    outcome = run(arith, submission(tmp_path, arith, arith=attack), tmp_path)
    assert_only_add_lost(outcome)


def test_tampering_with_numpy_at_import_changes_nothing(arith, tmp_path):
    tamper = """
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None

def double(x):
    return x
"""
    outcome = run(arith, submission(tmp_path, arith, vectors=tamper), tmp_path)
    assert scores(outcome)["double: many sizes"] == 1.0  # only the size-1 array of zeros... is right
    assert scores(outcome)["double: a vector"] == 0


def test_grader_configuration_files_in_a_submission_are_ignored(arith, tmp_path):
    folder = submission(tmp_path, arith)
    (folder / "conftest.py").write_text(
        "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:terminal\n")
    (folder / "numpy.py").write_text("raise SystemExit('shadowed numpy')\n")
    (folder / "sitecustomize.py").write_text("import os; os._exit(0)\n")
    (folder / "arith.py").write_text("def add(a, b):\n    return 0\n\ndef apply_twice(f, x):\n    return 0\n")
    outcome = run(arith, folder, tmp_path)
    assert outcome.results.score == FULL - 6
    ignored = " ".join(outcome.submission.ignored)
    for name in ("conftest.py", "pytest.ini", "numpy.py", "sitecustomize.py"):
        assert name in ignored


def test_writing_or_printing_results_does_not_change_the_grade(arith, tmp_path):
    forged = json.dumps({"score": 999, "tests": []})
    attack = f"""
def add(a, b):
    import os
    for path in ("results.json", "../results.json", {str(tmp_path / "results.json")!r}):
        try:
            with open(path, "w") as f:
                f.write({forged!r})
        except OSError:
            pass
    print({forged!r})
    return 0
"""
    outcome = run(arith, submission(tmp_path, arith, arith=attack), tmp_path)
    assert_only_add_lost(outcome)
    assert Results.read(tmp_path / "results.json").score == FULL - 4


def test_a_hundred_megabytes_of_output_is_truncated(arith, tmp_path):
    attack = "def add(a, b):\n    print('x' * 100_000_000)\n    return a + b"
    outcome = run(arith, submission(tmp_path, arith, arith=attack), tmp_path)
    assert outcome.results.score == FULL
    assert len(outcome.results.to_json()) < 200_000


@pytest.mark.parametrize(
    "value", ["np.ones(2).view(Sneaky)", "np.array([2.0, 4.0], dtype=object)"], ids=["ndarray subclass", "object array"]
)
def test_non_plain_results_fail_cleanly(arith, tmp_path, value):
    attack = f"""
import numpy as np

class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True

def double(x):
    return {value}
"""
    outcome = run(arith, submission(tmp_path, arith, vectors=attack), tmp_path)
    assert outcome.problems == []
    assert scores(outcome)["double: a vector"] == 0 and scores(outcome)["double: many sizes"] == 0


@pytest.mark.skipif(not AS_ROOT, reason="student code runs as another user only when grading as root")
def test_student_code_cannot_read_the_grader_files(arith, tmp_path):
    secrets = [arith.tests / "hidden" / "test_hidden.py", arith.solution / "arith.py"]
    attack = f"""
def add(a, b):
    found = []
    for path in {[str(p) for p in secrets]!r}:
        try:
            with open(path) as f:
                if f.read():
                    found.append(path)
        except OSError:
            pass
    if found:
        return a + b
    raise PermissionError("could not read " + str(len({[str(p) for p in secrets]!r})) + " grader files")
"""
    outcome = run(arith, submission(tmp_path, arith, arith=attack), tmp_path)
    assert "could not read 2 grader files" in output_of(outcome, "add: small integers")
    assert_only_add_lost(outcome)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_PROJECT": str(FIXTURE)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_grade_prints_a_table_and_exits_0(arith, tmp_path):
    folder = submission(tmp_path, arith, arith="def add(a, b):\n    return a - b")
    done = cli("grade", str(folder), "--results", str(tmp_path / "r.json"), "--seed", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "add: random floats" in done.stdout and "score 10 / 14" in done.stdout
    assert Results.read(tmp_path / "r.json").seed == 3


def test_cli_grade_shows_square_brackets_in_messages_and_paths_as_they_are(arith, tmp_path, monkeypatch):
    """A student's exception message and a folder name are text, never terminal markup: ``[/]``
    must neither crash the table nor ``[bold]`` restyle it."""
    folder = submission(tmp_path, arith, arith='def add(a, b):\n    raise ValueError("[/] [bold]x")')
    folder = folder.rename(tmp_path / "sub[red]")
    (folder / "old[bold]").mkdir()
    shutil.copy(folder / "arith.py", folder / "old[bold]" / "arith.py")  # a second copy, ignored with a note
    monkeypatch.setenv("COLUMNS", "200")  # a message on one line
    done = cli("grade", str(folder), "--results", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[/] [bold]x" in done.stdout and "sub[red]" in done.stdout and "old[bold]/arith.py" in done.stdout
    assert "score 10 / 14" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", "missing-folder"], "does not exist"),
        (["grade", "."], None),
        (["grade", "broken.zip"], "not a readable zip"),
        (["grade", ".", "--assignment", "nope"], "unknown assignment 'nope'"),
    ],
)
def test_cli_unusable_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    done = cli(*args, cwd=tmp_path)
    if message is None:  # an empty folder is gradable: every file is missing
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_suite_file_that_cannot_be_collected_is_a_grader_problem(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    task = assignment.load("arith", project)
    (task.tests / "hidden" / "test_broken.py").write_text("import no_such_module\n")
    outcome = run(task, task.solution, tmp_path)
    assert any("could not collect" in p and "test_broken.py" in p for p in outcome.problems), outcome.problems
    assert outcome.results.score == FULL  # the other tests still earn their points


def test_suites_can_use_pytests_usual_fixtures_and_markers(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    task = assignment.load("arith", project)
    (task.tests / "hidden" / "test_pytest_features.py").write_text("""
import warnings

import pytest


@pytest.mark.points(1)
def test_tmp_path_and_monkeypatch(student, tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_SETTING", "on")
    (tmp_path / "note.txt").write_text("kept")
    assert (tmp_path / "note.txt").read_text() == "kept"


@pytest.mark.points(1)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_warnings(student):
    with pytest.warns(RuntimeWarning):
        warnings.warn("expected", RuntimeWarning)
    warnings.warn("filtered", UserWarning)


@pytest.mark.points(1)
@pytest.mark.skipif(True, reason="not on this platform")
def test_skipped(student):
    pass
""")
    outcome = run(task, task.solution, tmp_path)
    assert outcome.problems == []
    got = {name: score for name, score in scores(outcome).items() if name.startswith("test_")}
    assert got == {"test_tmp_path_and_monkeypatch": 1.0, "test_warnings": 1.0, "test_skipped": 0.0}
    assert "skipped: not on this platform" in output_of(outcome, "test_skipped")


def test_a_project_given_by_a_relative_path_grades_as_an_absolute_one(tmp_path, monkeypatch):
    monkeypatch.chdir(FIXTURE.parent)
    relative = assignment.load("arith", Path(FIXTURE.name))
    assert relative.root == FIXTURE.resolve()
    outcome = run(relative, relative.solution, tmp_path)
    assert outcome.problems == [] and outcome.results.score == FULL


def test_a_call_timeout_marker_gives_the_calls_of_its_test_more_time_and_only_them(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    toml = project / "assignments" / "arith" / "assignment.toml"
    toml.write_text(toml.read_text().replace("call_timeout_seconds = 5", "call_timeout_seconds = 0.5"))
    task = assignment.load("arith", project)
    (task.tests / "hidden" / "test_slow_calls.py").write_text("""
import pytest


@pytest.mark.points(1)
@pytest.mark.call_timeout(20)
def test_slow_allowed(student):
    assert student.arith.add(1, 2) == 3


@pytest.mark.points(1)
def test_slow_default(student):
    assert student.arith.add(1, 2) == 3
""")
    slow = submission(tmp_path, task, arith="def add(a, b):\n    import time\n    time.sleep(1.5)\n    return a + b")
    outcome = run(task, slow, tmp_path)
    assert scores(outcome)["test_slow_allowed"] == 1.0
    assert scores(outcome)["test_slow_default"] == 0.0
    assert "arith.add did not return within 0.5 s" in output_of(outcome, "test_slow_default")


@pytest.mark.parametrize("marker", ["call_timeout", "call_timeout(0)", "call_timeout('long')"])
def test_a_call_timeout_marker_without_positive_seconds_is_a_grader_problem(tmp_path, marker):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    task = assignment.load("arith", project)
    (task.tests / "hidden" / "test_bad_marker.py").write_text(
        f"import pytest\n\n\n@pytest.mark.points(1)\n@pytest.mark.{marker}\ndef test_bad(student):\n    pass\n"
    )
    outcome = run(task, task.solution, tmp_path)
    assert any("call_timeout needs a number of seconds > 0" in problem for problem in outcome.problems), (
        outcome.problems
    )


def test_ended_within_notices_the_end_at_once_and_reports_a_process_still_running(monkeypatch):
    quick = subprocess.Popen([sys.executable, "-c", "pass"])
    assert pipeline.ended_within(quick, 30.0) and quick.wait() == 0
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not pipeline.ended_within(slow, 0.2)
        monkeypatch.delattr(pipeline.os, "pidfd_open", raising=False)  # where there is no pidfd: polling
        assert not pipeline.ended_within(slow, 0.2)
    finally:
        slow.kill()
        slow.wait()
    quick = subprocess.Popen([sys.executable, "-c", "pass"])
    assert pipeline.ended_within(quick, 30.0)


def test_the_runner_reports_a_failure_in_one_line_and_leaves_skips_to_pytest(pytester):
    pytester.makepyfile(
        """
        import pytest

        def test_fails():
            raise ValueError("the one line")

        def test_skipped():
            pytest.skip("not today")
        """
    )
    result = pytester.inline_run("-p", "autograder.grading.test_runner", "-p", "no:cacheprovider")
    failed = result.getfailures()
    assert [report.longrepr for report in failed] == ["ValueError: the one line"]
    skipped = [report for report in result.getreports("pytest_runtest_logreport") if report.skipped]
    assert len(skipped) == 1 and skipped[0].longrepr[2] == "Skipped: not today"
