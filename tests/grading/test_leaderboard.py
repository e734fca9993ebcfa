"""The leaderboard: entries declared in assignment.toml, values measured by the suites on the
student's own code through the plugin's ``leaderboard`` fixture, carried in the verdicts into
Gradescope's ``leaderboard`` field, the gradebook, the summary and the report."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from autograder.classroom import gradebook
from autograder.grading import pipeline as grading
from autograder.grading import results, results_model
from autograder.suite import assignment
from autograder.suite.plugin import LeaderboardValue
from autograder.suite.protocol import ManifestEntry, Verdict

ROOT = Path(__file__).parent.parent.parent
SCHEMA = json.loads(results_model.SCHEMA.read_text())
SPIRALS = "Spirals: accuracy on a fresh draw (%)"
LOCATIONS = "Locations: held-out F1 (%)"
# What the suite measures, computed again here in a fresh interpreter that imports the
# submission's own modules (never the grader's): the same data, initial parameters and settings.
MEASURE = """
import json, sys
import numpy as np
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import data, network, optim
X, y = data.make_spirals(seed=0)
params, _ = optim.train(network.mlp_loss, data.init_mlp_params((2, 64, 64, 2), seed=0), X, y, 0.3, 300, 32, 0)
fresh_X, fresh_y = data.make_spirals(seed=1)
accuracy = 100 * float(np.mean(network.mlp_predict(params, fresh_X) == fresh_y))
task = data.make_location_task(seed=0)
initial = data.init_window_params(len(task.vocabulary), dim=8, window=task.train_windows.shape[1], hidden=16, seed=0)
params, _ = optim.train(network.window_classifier_loss, initial, task.train_windows, task.train_labels, 0.5, 20, 32, 0)
predicted = network.window_classifier_predict(params, task.test_windows) > 0.5
positives = task.test_labels == 1
f1 = 100 * 2 * float(np.sum(predicted[positives])) / (np.sum(predicted) + np.sum(positives))
print(json.dumps([accuracy, f1]))
"""


@pytest.fixture(scope="module")
def backprop():
    return assignment.load("backprop", ROOT)


def measured_by_the_code(backprop, folder: Path) -> list[float]:
    command = [sys.executable, "-I", "-c", MEASURE, str(folder), str(backprop.folder)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def slow_learner(backprop, folder: Path) -> Path:
    """The reference solution whose train takes a tenth of the learning rate it is given."""
    shutil.copytree(backprop.solution, folder)
    optim = folder / "optim.py"
    text = optim.read_text()
    assert "current = sgd_step(current, grads, lr)" in text
    optim.write_text(
        text.replace("current = sgd_step(current, grads, lr)", "current = sgd_step(current, grads, lr / 10)")
    )
    return folder


@pytest.mark.parametrize("make", [lambda backprop, tmp: backprop.solution, slow_learner], ids=["reference", "slow"])
def test_the_leaderboard_holds_what_the_students_code_achieves(backprop, tmp_path, make):
    folder = make(backprop, tmp_path / "submission")
    outcome = grading.grade(backprop, folder, tmp_path / "results.json")
    written = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(written, SCHEMA, cls=jsonschema.Draft202012Validator)
    accuracy, f1 = measured_by_the_code(backprop, folder)
    assert written["leaderboard"] == [
        {"name": SPIRALS, "value": round(accuracy, 2), "order": "desc"},
        {"name": LOCATIONS, "value": round(f1, 2), "order": "desc"},
    ]
    if folder == backprop.solution:
        assert outcome.results.score == 100 and accuracy > 95 and f1 > 95
    else:  # a worse learner ranks lower, and fails the spirals target, yet is on the board
        assert accuracy < 90
        spirals = next(t for t in outcome.results.tests if "fits the provided spirals" in t.name)
        assert spirals.status == "failed"


def test_a_submission_that_cannot_train_has_no_leaderboard_entry(backprop, tmp_path):
    folder = tmp_path / "submission"
    shutil.copytree(backprop.template, folder)
    outcome = grading.grade(backprop, folder, tmp_path / "results.json")
    assert outcome.results.score == 0 and outcome.results.leaderboard == ()
    assert "leaderboard" not in json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(outcome.results.as_data(), SCHEMA, cls=jsonschema.Draft202012Validator)


def test_results_list_the_measured_entries_in_the_order_of_the_suite():
    manifest = [ManifestEntry(f"t.py::{n}", n, f"1.{i}", 1.0, "visible") for i, n in enumerate("abc", start=1)]
    verdicts = {
        "t.py::c": Verdict("t.py::c", "passed", 1.0, leaderboard={"name": "C", "value": 2.5, "order": "asc"}),
        "t.py::a": Verdict("t.py::a", "failed", 0.0, leaderboard={"name": "A", "value": "n/a", "order": "desc"}),
        "t.py::b": Verdict("t.py::b", "passed", 1.0),
    }
    built = results.build(manifest, verdicts, summary=[], missing_reason="", execution_time=0.1)
    assert built.as_data()["leaderboard"] == [verdicts["t.py::a"].leaderboard, verdicts["t.py::c"].leaderboard]
    assert [(entry.name, entry.value, entry.order) for entry in built.leaderboard] == [
        ("A", "n/a", "desc"),
        ("C", 2.5, "asc"),
    ]
    jsonschema.validate(built.as_data(), SCHEMA, cls=jsonschema.Draft202012Validator)
    del verdicts["t.py::a"], verdicts["t.py::c"]
    assert (
        "leaderboard"
        not in results.build(manifest, verdicts, summary=[], missing_reason="", execution_time=0.1).as_data()
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, True, None, [1.0]])
def test_a_leaderboard_value_is_a_finite_number_or_a_text(value):
    with pytest.raises(ValueError, match="finite number or a text"):
        LeaderboardValue().set(value)
    measured = LeaderboardValue()
    measured.set(3)
    assert measured.value == 3.0 and isinstance(measured.value, float)


def project_with(tmp_path: Path, leaderboard: str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "fixtures" / "project", project)
    toml = project / "assignments" / "arith" / "assignment.toml"
    toml.write_text(toml.read_text() + leaderboard)
    return project


@pytest.mark.parametrize(
    "tables, message",
    [
        ('[[leaderboard]]\nname = "x"\n', r"missing 1 required positional argument: 'test'"),
        ('[[leaderboard]]\nname = "x"\ntest = "test_a"\n', r"test must be a node id"),
        ('[[leaderboard]]\nname = "x"\ntest = "a.py::t"\norder = "up"\n', r"order must be desc or asc, got 'up'"),
        ('[[leaderboard]]\nname = ""\ntest = "a.py::t"\n', r"name must be non-empty text"),
        (
            '[[leaderboard]]\nname = "x"\ntest = "a.py::t"\n[[leaderboard]]\nname = "x"\ntest = "a.py::u"\n',
            r"two leaderboard entries have the name 'x'",
        ),
        ('[leaderboard]\nname = "x"\n', r"leaderboard must be a list of \[\[leaderboard\]\] tables"),
    ],
)
def test_malformed_leaderboard_entries_are_refused_with_what_to_fix(tmp_path, tables, message):
    project = project_with(tmp_path, "\n" + tables)
    with pytest.raises(assignment.AssignmentError, match=message):
        assignment.load("arith", project)


def test_a_leaderboard_test_that_is_not_in_the_suites_is_a_grader_problem(tmp_path):
    project = project_with(tmp_path, '\n[[leaderboard]]\nname = "x"\ntest = "hidden/test_hidden.py::test_gone"\n')
    arith = assignment.load("arith", project)
    outcome = grading.grade(arith, arith.solution, tmp_path / "results.json")
    assert any(
        "the leaderboard test hidden/test_hidden.py::test_gone is not in the suites" in p for p in outcome.problems
    )


def test_the_gradebook_summary_and_report_show_the_leaderboard(backprop, tmp_path):
    from autograder.classroom import batch, report

    shutil.copytree(backprop.solution, tmp_path / "class" / "reference")
    slow_learner(backprop, tmp_path / "class" / "slow")
    out = tmp_path / "out"
    summary = batch.grade_class(backprop, tmp_path / "class", out, jobs=2)
    values = {
        row["id"]: gradebook.leaderboard_values(gradebook.read_results(out, row["id"]))
        for row in summary["submissions"]
    }
    boards = {board["name"]: board for board in summary["leaderboard"]}
    assert sorted(boards[SPIRALS]["values"]) == sorted(v[SPIRALS] for v in values.values())
    assert boards[SPIRALS]["spread"]["max"] == values["reference"][SPIRALS]
    header = (out / gradebook.GRADEBOOK).read_text().splitlines()[0]
    assert f"{SPIRALS},{LOCATIONS}" in header
    page = report.write_report(out).read_text()
    section = page.split("<h2>Leaderboard</h2>", 1)[1].split("</section>", 1)[0]
    assert f"<h3>{SPIRALS}</h3>" in section and "2 submissions (higher is better)" in section
    assert section.count("<img") == 2 and (out / "report" / "leaderboard-2.png").is_file()
