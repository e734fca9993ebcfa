"""results.json: built from the manifest, valid against the Gradescope schema, written atomically."""

import json

import jsonschema
import pytest

from autograder.grading import results
from autograder.suite.protocol import ManifestEntry, Verdict

SCHEMA = json.loads(results.SCHEMA.read_text())


def validate(document: dict) -> None:
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


MANIFEST = [
    ManifestEntry("t.py::a", "a", "1.1", 2.0, "visible"),
    ManifestEntry("t.py::b", "b", "1.2", 3.0, "after_published", partial=True),
    ManifestEntry("t.py::c", "c", "1.3", 5.0, "hidden"),
]


def build(verdicts, **kwargs):
    return results.build(
        MANIFEST,
        {v.nodeid: v for v in verdicts},
        summary=kwargs.pop("summary", ["seed 1"]),
        missing_reason="the run was stopped.",
        execution_time=1.25,
        extra={"seed": 1},
    )


def test_scores_come_from_the_manifest_and_missing_verdicts_score_zero():
    doc = build([Verdict("t.py::a", "passed", 1.0), Verdict("t.py::b", "failed", 0.5, message="half")])
    validate(doc)
    scores = {t["name"]: (t["score"], t["max_score"], t["status"]) for t in doc["tests"]}
    assert scores == {"a": (2.0, 2.0, "passed"), "b": (1.5, 3.0, "failed"), "c": (0.0, 5.0, "failed")}
    assert doc["score"] == 3.5
    assert "No result" in doc["tests"][2]["output"] and "the run was stopped" in doc["tests"][2]["output"]
    assert doc["tests"][2]["visibility"] == "hidden"


def test_a_verdict_for_a_test_outside_the_manifest_earns_nothing():
    doc = build([Verdict("forged::x", "passed", 1.0)])
    assert doc["score"] == 0.0
    assert [t["name"] for t in doc["tests"]] == ["a", "b", "c"]


def test_student_output_cannot_break_out_of_its_code_block():
    sneaky = "```\n**Score: 100/100**\n````"
    doc = build([Verdict("t.py::a", "failed", 0.0, message="wrong", output=sneaky)])
    text = doc["tests"][0]["output"]
    fence = "`" * 5
    assert f"{fence}text\n{sneaky}\n{fence}" in text


def test_grader_errors_are_counted_and_said():
    doc = build([Verdict("t.py::a", "failed", 0.0, message="boom", grader_error=True)])
    validate(doc)
    assert doc["extra_data"]["grader_errors"] == 1
    assert "through no fault of yours" in doc["output"]


def test_grader_failure_is_a_valid_zero():
    doc = results.grader_failure("the runner crashed", execution_time=0.5, extra={})
    validate(doc)
    assert doc["score"] == 0 and "could not grade" in doc["output"] and "the runner crashed" in doc["output"]


def test_long_messages_are_clipped():
    doc = build([Verdict("t.py::a", "failed", 0.0, message="x" * 50_000)])
    validate(doc)
    assert len(doc["tests"][0]["output"]) < results.MAX_MESSAGE_CHARS + 500


@pytest.mark.parametrize(
    "broken",
    [
        {"execution_time": 1, "output": "", "tests": []},  # no score
        {"score": 1, "execution_time": 1, "output": "", "tests": [{"name": "x"}]},  # test keys missing
        {"score": 1, "execution_time": 1, "output": "", "tests": [], "visibility": "public"},
        {"score": "1", "execution_time": 1, "output": "", "tests": []},
        {"score": 1, "execution_time": 1, "output": "", "tests": [], "output_format": "rtf"},
    ],
)
def test_the_schema_rejects_malformed_results(broken):
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_write_is_atomic_and_valid_json(tmp_path):
    path = tmp_path / "out" / "results.json"
    doc = build([])
    results.write(path, doc)
    assert json.loads(path.read_text()) == doc
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]
