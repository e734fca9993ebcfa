"""otter-grader interoperability: results.json and final_grades.csv in otter's shapes, made with
otter's own classes, and a clear message when otter-grader is not installed."""

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import cli
from autograder.grading import pipeline, results
from autograder.grading.results_model import Results
from autograder.integrations import otter_format
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
OTTER_MISSING = "otter-grader is not installed: pip install -e '.[otter]' (the dev extra includes it)"
QUESTIONS = ["hidden/test_hidden", "public/test_public"]
BUGGY_ADD = "\n\ndef add(a, b):\n    return a - b\n"
DOUBLE_WRONG_FOR_LONG_VECTORS = (
    "\n\ndef double(x):\n    x = np.asarray(x, dtype=np.float64)\n    return 2.0 * x if x.size < 5 else x\n"
)


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


@pytest.fixture(scope="module")
def otter():
    pytest.importorskip("otter", reason=OTTER_MISSING)
    return otter_format.otter()


def submission(folder: Path, task, **appended: str) -> Path:
    """The reference solution with code appended to some modules (a later def replaces the reference's)."""
    shutil.copytree(task.solution, folder)
    for module, code in appended.items():
        with (folder / f"{module}.py").open("a") as stream:
            stream.write(code)
    return folder


@pytest.fixture(scope="module")
def graded(arith, tmp_path_factory):
    """Our results of the reference, of a submission failing the add tests, and of one that also
    earns partial credit on 'double: many sizes' (2 of its 4 sizes right)."""
    base = tmp_path_factory.mktemp("otter")
    cases = {
        "reference": arith.solution,
        "buggy": submission(base / "buggy", arith, arith=BUGGY_ADD),
        "partial": submission(base / "partial", arith, arith=BUGGY_ADD, vectors=DOUBLE_WRONG_FOR_LONG_VECTORS),
    }
    return {name: pipeline.grade(arith, path, base / f"{name}.json", seed=3).results for name, path in cases.items()}


def ottr_equivalent(ours: Results, otter) -> dict:
    """The same results built independently through otter's own reader of R (ottr) results."""
    files = {}
    for test in ours.tests:
        part = test.file
        files.setdefault(part, {"filename": part, "points": None, "test_case_results": []})
        files[part]["test_case_results"].append(
            {
                "test_case": {
                    "name": f"{test.number} {test.name}",
                    "code": None,
                    "points": test.max_score,
                    "hidden": test.visibility != "visible",
                    "success_message": None,
                    "failure_message": None,
                },
                "passed": test.passed,
                "error": otter_format.plain_message(test),
            }
        )
    graded = otter.GradingResults.from_ottr_json(json.dumps({"test_file_results": list(files.values())}))
    for test_file, part in zip(graded.results.values(), files):
        test_file.name = part.removesuffix(".py")
    graded.set_output(ours.output)
    return graded.to_gradescope_dict(otter.AutograderConfig({"show_hidden": True}))


def test_results_json_is_what_otters_gradescope_autograder_writes(otter, graded, arith):
    ours = graded["buggy"]
    converted = otter_format.gradescope_dict(ours, otter_format.autograder_config(arith))
    expected = ottr_equivalent(ours, otter)
    assert converted == {**expected, "score": ours.score}
    assert [t["name"] for t in converted["tests"]] == ["Public Tests", "public/test_public", "hidden/test_hidden"]
    public = converted["tests"][0]
    assert public["visibility"] == "visible" and public["status"] == "failed"
    assert "add(2, 3) should be 5" in public["output"] and "add is wrong on random floats" not in public["output"]
    hidden = converted["tests"][2]
    assert hidden["visibility"] == "after_published" and (hidden["score"], hidden["max_score"]) == (8, 11)
    assert "❌ Test case failed\n        add is wrong on random floats" in hidden["output"]
    assert converted["output"] == ours.output and converted["score"] == 10


def test_partial_credit_is_kept_in_the_question_score(otter, graded, arith):
    ours = graded["partial"]
    converted = otter_format.gradescope_dict(ours, otter_format.autograder_config(arith))
    hidden = next(t for t in converted["tests"] if t["name"] == "hidden/test_hidden")
    assert hidden["score"] == 6.0  # apply_twice 2 + scaler 2 + half of double's 4; add lost its 3
    assert "❌ Test case failed (2 of 4 points)" in hidden["output"]
    assert converted["score"] == ours.score == sum(t.get("score", 0) for t in converted["tests"])


def test_hidden_tests_stay_hidden_when_the_assignment_says_so(otter, graded, arith):
    config = otter_format.autograder_config(assignment.Assignment(**{**vars(arith), "hidden_visibility": "hidden"}))
    converted = otter_format.gradescope_dict(graded["reference"], config)
    assert [t["visibility"] for t in converted["tests"]] == ["visible", "hidden", "hidden"]
    assert converted["tests"][0]["status"] == "passed" and converted["score"] == 14


def test_a_run_that_could_not_grade_is_otters_catastrophic_failure(otter):
    failed = results.grader_failure("the test runner crashed", execution_time=1.0)
    converted = otter_format.gradescope_dict(failed)
    assert converted["score"] == 0
    assert [t["name"] for t in converted["tests"]] == ["Autograder Failed", "Autograder Exception"]
    assert "the test runner crashed" in converted["tests"][1]["output"]


def test_final_grades_csv_has_otter_grades_columns_and_points_row(otter, graded):
    text = otter_format.final_grades_csv(
        [("zeta", graded["reference"]), ("alpha", graded["buggy"]), ("broken.zip", "broken.zip is not a readable zip")]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["file", *QUESTIONS, "total_points_earned", "percent_correct", "grading_status"]
    assert rows[1] == ["points-per-question", "11.0", "3.0", "14.0", "1.0", "--"]
    assert rows[2:] == [
        ["alpha", "8.0", "2.0", "10.0", "0.7143", "Completed"],
        ["broken.zip", "0.0", "0.0", "0.0", "0.0", "broken.zip is not a readable zip"],
        ["zeta", "11.0", "3.0", "14.0", "1.0", "Completed"],
    ]


def test_final_grades_csv_of_no_submission_has_the_fixed_columns(otter):
    assert otter_format.final_grades_csv([]) == "file,total_points_earned,percent_correct,grading_status\n"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"AUTOGRADER_PROJECT": str(FIXTURE)})


def test_grade_format_otter_writes_otters_results_json(otter, arith, tmp_path):
    written = tmp_path / "results.json"
    result = invoke("grade", str(arith.solution), "--results", str(written), "--format", "otter")
    assert result.exit_code == 0, result.output
    doc = json.loads(written.read_text())
    assert [t["name"] for t in doc["tests"]] == ["Public Tests", "public/test_public", "hidden/test_hidden"]
    assert doc["score"] == 14 and "number" not in doc["tests"][1]


def test_batch_format_otter_writes_final_grades_csv(otter, arith, tmp_path):
    folder = tmp_path / "class"
    submission(folder / "correct", arith)
    submission(folder / "buggy", arith, arith=BUGGY_ADD)
    (folder / "corrupt.zip").write_bytes(b"PK\x03\x04 not a zip")
    out = tmp_path / "out"
    result = invoke("batch", str(folder), "--out", str(out), "--jobs", "2", "--format", "otter")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((out / otter_format.FINAL_GRADES).read_text())))
    assert [(r["file"], r["total_points_earned"]) for r in rows] == [
        ("points-per-question", "14.0"),
        ("buggy", "10.0"),
        ("correct", "14.0"),
        ("corrupt", "0.0"),
    ]
    assert [r["grading_status"] for r in rows[:3]] == ["--", "Completed", "Completed"]
    assert "not a readable zip" in rows[3]["grading_status"]


@pytest.fixture
def without_otter(monkeypatch):
    """As if otter-grader were not installed: importing it fails."""
    for name in [m for m in sys.modules if m == "otter" or m.startswith("otter.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "otter", None)


def test_without_otter_the_conversion_says_how_to_install_it(without_otter, graded):
    expected = r"needs otter-grader 7\.0\.0 .*pip install 'autograder\[otter\]'"
    with pytest.raises(otter_format.OtterUnavailable, match=expected):
        otter_format.gradescope_dict(graded["reference"])


@pytest.mark.parametrize("command", ["grade", "batch"])
def test_without_otter_format_otter_fails_with_one_line_before_grading(without_otter, arith, tmp_path, command):
    written = tmp_path / "results.json"
    extra = ["--results", str(written)] if command == "grade" else ["--out", str(tmp_path / "out")]
    result = invoke(command, str(arith.solution), "--assignment", "arith", "--format", "otter", *extra)
    assert result.exit_code == 2
    message = result.output.strip()
    assert "\n" not in message and message.startswith("autograder: the otter format needs otter-grader 7.0.0")
    assert "pip install" in message
    assert not written.exists() and not (tmp_path / "out").exists()


def test_another_otter_version_is_refused(otter, monkeypatch):
    monkeypatch.setattr(sys.modules["otter"], "__version__", "6.4.0")
    with pytest.raises(otter_format.OtterUnavailable, match="needs otter-grader 7.0.0, not 6.4.0"):
        otter_format.otter()
