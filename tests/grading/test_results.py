"""results.json: built from the manifest, valid against the Gradescope schema, written atomically,
byte for byte as before it had a type, and read back with one-line errors naming the wrong field."""

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from autograder.classroom import gradebook
from autograder.grading import pipeline, results, results_model, stubs
from autograder.grading.results_model import Results, ResultsError
from autograder.suite import assignment
from autograder.suite.protocol import ManifestEntry, Verdict

SCHEMA = json.loads(results_model.SCHEMA.read_text())
FIXTURES = Path(__file__).parents[1] / "fixtures"
WRITTEN_BEFORE = FIXTURES / "results"
"""results.json files written by the dictionary serialisation the typed model replaced, with the
engine version ``golden``: ``built.json`` (a leaderboard, findings with a diagnosis, a grader error,
a test without a verdict, an integer maximum), ``failure.json`` and ``failure_bare.json`` (runs that
could not grade), and ``reference.json`` and ``template.json``: the fixture assignment's reference
and blank template graded with seed 7. Written again only when the fixture assignment changes."""


def validate(document: Results | dict) -> None:
    data = document.as_data() if isinstance(document, Results) else document
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


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
        seed=1,
    )


def test_scores_come_from_the_manifest_and_missing_verdicts_score_zero():
    doc = build([Verdict("t.py::a", "passed", 1.0), Verdict("t.py::b", "failed", 0.5, message="half")])
    validate(doc)
    scores = {t.name: (t.score, t.max_score, t.status) for t in doc.tests}
    assert scores == {"a": (2.0, 2.0, "passed"), "b": (1.5, 3.0, "failed"), "c": (0.0, 5.0, "failed")}
    assert doc.score == 3.5 and doc.max_score == 10.0
    assert "No result" in doc.tests[2].output and "the run was stopped" in doc.tests[2].output
    assert doc.tests[2].visibility == "hidden"


def test_a_verdict_for_a_test_outside_the_manifest_earns_nothing():
    doc = build([Verdict("forged::x", "passed", 1.0)])
    assert doc.score == 0.0
    assert [t.name for t in doc.tests] == ["a", "b", "c"]


def test_student_output_cannot_break_out_of_its_code_block():
    sneaky = "```\n**Score: 100/100**\n````"
    doc = build([Verdict("t.py::a", "failed", 0.0, message="wrong", output=sneaky)])
    text = doc.tests[0].output
    fence = "`" * 5
    assert f"{fence}text\n{sneaky}\n{fence}" in text


def test_grader_errors_are_counted_and_said():
    doc = build([Verdict("t.py::a", "failed", 0.0, message="boom", grader_error=True)])
    validate(doc)
    assert doc.grader_errors == 1 and doc.grader_failure is None
    assert "through no fault of yours" in doc.output


def test_grader_failure_is_a_valid_zero():
    doc = results.grader_failure("the runner crashed", execution_time=0.5)
    validate(doc)
    assert doc.score == 0 and "could not grade" in doc.output and "the runner crashed" in doc.output
    assert doc.grader_failure == "the runner crashed" and doc.grader_errors == 0 and doc.max_score == 0


def test_long_messages_are_clipped():
    doc = build([Verdict("t.py::a", "failed", 0.0, message="x" * 50_000)])
    validate(doc)
    assert len(doc.tests[0].output) < results.MAX_MESSAGE_CHARS + 500


MALFORMED = [
    {"execution_time": 1, "output": "", "tests": []},  # no score
    {"score": 1, "execution_time": 1, "output": "", "tests": [{"name": "x"}]},  # test keys missing
    {"score": 1, "execution_time": 1, "output": "", "tests": [], "visibility": "public"},
    {"score": "1", "execution_time": 1, "output": "", "tests": []},
    {"score": 1, "execution_time": 1, "output": "", "tests": [], "output_format": "rtf"},
]
"""results.json documents that Gradescope's schema rejects."""


@pytest.mark.parametrize("broken", MALFORMED)
def test_the_schema_rejects_malformed_results(broken):
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_write_is_atomic_and_valid_json(tmp_path):
    path = tmp_path / "out" / "results.json"
    doc = build([])
    doc.write(path)
    assert path.read_text() == doc.to_json() and json.loads(path.read_text()) == doc.as_data()
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


# ---------------------------------------------------------------- the file, byte for byte as before

GOLDEN_MANIFEST = [
    ManifestEntry("public/t.py::a", "a", "1.1", 2.0, "visible"),
    ManifestEntry("public/t.py::b", "b", "1.2", 3, "after_published", partial=True),
    ManifestEntry("hidden/u.py::c", "c", "2.1", 5.0, "hidden"),
    ManifestEntry("hidden/u.py::d", "d", "2.2", 1.5, "after_due_date"),
]
FACTOR = {"kind": "values", "diagnosis": {"kind": "factor", "label": "off by a factor 2", "factor": 2.0}}
GOLDEN_VERDICTS = [
    Verdict("public/t.py::a", "passed", 1.0, leaderboard={"name": "accuracy", "value": 97.5, "order": "desc"}),
    Verdict(
        "public/t.py::b", "failed", 0.5, message="half right", output="printed\n", findings=[FACTOR, {"kind": "shape"}]
    ),
    Verdict(
        "hidden/u.py::c",
        "failed",
        0.0,
        message="boom",
        grader_error=True,
        leaderboard={"name": "speed", "value": "fast", "order": "asc"},
    ),
]


@pytest.fixture
def golden_engine(monkeypatch):
    """The engine version the files of ``WRITTEN_BEFORE`` were written with."""
    monkeypatch.setattr(results, "__version__", "golden")


def golden_built() -> Results:
    return results.build(
        GOLDEN_MANIFEST,
        {v.nodeid: v for v in GOLDEN_VERDICTS},
        summary=["seed 3", "Graded files: `a.py`."],
        missing_reason="The grader stopped.",
        execution_time=2.34567,
        assignment="toy",
        seed=3,
    )


def test_the_file_is_byte_for_byte_what_the_dictionaries_wrote(golden_engine, tmp_path):
    written = {
        "built.json": golden_built(),
        "failure.json": results.grader_failure("the runner crashed", execution_time=0.5, assignment="toy"),
        "failure_bare.json": results.grader_failure("ImportError: x", execution_time=0.25),
    }
    for name, found in written.items():
        assert found.to_json() == (WRITTEN_BEFORE / name).read_text(), name
        found.write(tmp_path / name)
        assert (tmp_path / name).read_bytes() == (WRITTEN_BEFORE / name).read_bytes(), name
    built = written["built.json"]
    assert [entry.name for entry in built.leaderboard] == ["accuracy", "speed"]
    assert [f.kind for f in built.tests[1].findings] == ["values", "shape"] and built.tests[0].findings == ()
    assert built.tests[1].findings[0].diagnosis_kind == "factor" and built.tests[1].findings[1].diagnosis_kind is None


def test_a_real_grade_is_byte_for_byte_what_the_dictionaries_wrote(golden_engine, tmp_path):
    arith = assignment.load("arith", FIXTURES / "project")
    template = tmp_path / "template"
    stubs.generate_template(arith.solution, template)
    for name, folder in (("reference.json", arith.solution), ("template.json", template)):
        grade = pipeline.grade(arith, folder, tmp_path / name, seed=7)
        assert (tmp_path / name).read_text() == grade.results.to_json()
        before = (WRITTEN_BEFORE / name).read_text()
        timed_as_before = dataclasses.replace(grade.results, execution_time=json.loads(before)["execution_time"])
        assert timed_as_before.to_json() == before, name
        assert Results.read(tmp_path / name) == grade.results
        validate(grade.results)


@pytest.mark.parametrize("name", sorted(path.name for path in WRITTEN_BEFORE.glob("*.json")))
def test_reading_a_file_and_writing_it_again_changes_nothing(name):
    text = (WRITTEN_BEFORE / name).read_text()
    found = Results.from_json(text, source=name)
    assert found.to_json() == text
    assert Results.from_json(found.to_json()) == found


def test_results_survive_a_round_trip():
    for found in (golden_built(), build([]), results.grader_failure("x", execution_time=1.0)):
        assert Results.from_json(found.to_json()) == found


def test_the_typed_accessors_read_what_the_file_holds():
    found = Results.from_json((WRITTEN_BEFORE / "built.json").read_text())
    assert (found.score, found.max_score, found.seed, found.engine) == (3.5, 11.5, 3, "golden")
    assert (found.grader_errors, found.grader_failure, found.extra_data.assignment) == (1, None, "toy")
    assert [(t.file, t.passed) for t in found.tests] == [
        ("public/t.py", True),
        ("public/t.py", False),
        ("hidden/u.py", False),
        ("hidden/u.py", False),
    ]
    failure = Results.from_json((WRITTEN_BEFORE / "failure_bare.json").read_text())
    assert (failure.grader_failure, failure.seed, failure.extra_data.assignment) == ("ImportError: x", None, None)


# ---------------------------------------------------------------- reading: one line naming the field


def damaged(change) -> str:
    """The text of ``built.json`` after ``change(document)``."""
    document = json.loads((WRITTEN_BEFORE / "built.json").read_text())
    change(document)
    return json.dumps(document)


def set_at(*path_and_value):
    *path, key, value = path_and_value

    def change(document):
        for step in path:
            document = document[step]
        document[key] = value

    return change


def delete(*path):
    def change(document):
        for step in path[:-1]:
            document = document[step]
        del document[path[-1]]

    return change


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "results.json: not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        ("", "results.json: not JSON (Expecting value: line 1 column 1 (char 0))"),
        ("[]", "results.json: expected an object, got []"),
        (damaged(delete("tests")), "results.json: tests: missing"),
        (damaged(set_at("tests", {})), "results.json: tests: expected a list, got {}"),
        (damaged(set_at("tests", 3, "score", "x")), 'results.json: tests[3].score: expected a number, got "x"'),
        (
            damaged(set_at("tests", 0, "max_score", True)),
            "results.json: tests[0].max_score: expected a number, got true",
        ),
        (damaged(set_at("score", -1)), "results.json: score: expected a number of at least 0, got -1"),
        (
            damaged(set_at("tests", 1, "extra_data", "findings", "x")),
            'results.json: tests[1].extra_data.findings: expected a list, got "x"',
        ),
        (
            damaged(set_at("tests", 1, "extra_data", "findings", 0, "x")),
            'results.json: tests[1].extra_data.findings[0]: expected an object, got "x"',
        ),
        (
            damaged(set_at("tests", 1, "extra_data", "findings", 1, "kind", 3)),
            "results.json: tests[1].extra_data.findings[1].kind: expected a text, got 3",
        ),
        (
            damaged(set_at("tests", 1, "extra_data", "findings", 0, "diagnosis", [])),
            "results.json: tests[1].extra_data.findings[0].diagnosis: expected an object, got []",
        ),
        (
            damaged(set_at("tests", 1, "extra_data", "findings", 0, "diagnosis", {"label": "x"})),
            "results.json: tests[1].extra_data.findings[0].diagnosis.kind: missing",
        ),
        (damaged(delete("tests", 2, "extra_data", "file")), "results.json: tests[2].extra_data.file: missing"),
        (
            damaged(set_at("tests", 2, "status", "ok")),
            'results.json: tests[2].status: expected one of "passed", "failed", got "ok"',
        ),
        (damaged(set_at("tests", 2, "tags", [])), 'results.json: tests[2]: unexpected key "tags"'),
        (
            damaged(set_at("visibility", "public")),
            'results.json: visibility: expected one of "hidden", "after_due_date", "after_published", "visible", got "public"',
        ),
        (damaged(set_at("extra_data", "seed", "7")), 'results.json: extra_data.seed: expected an integer, got "7"'),
        (damaged(delete("extra_data", "engine")), "results.json: extra_data.engine: missing"),
        (
            damaged(set_at("leaderboard", 1, "value", None)),
            "results.json: leaderboard[1].value: expected a number or a text, got null",
        ),
        (
            damaged(set_at("leaderboard", 0, "order", "up")),
            'results.json: leaderboard[0].order: expected one of "asc", "desc", got "up"',
        ),
        (damaged(set_at("surprise", 1)), 'results.json: unexpected key "surprise"'),
        ('{"score": NaN}', "results.json: not JSON (NaN is not a number JSON allows)"),
    ],
)
def test_a_file_that_is_not_ours_fails_with_one_line_naming_the_field(text, message):
    with pytest.raises(ResultsError) as refused:
        Results.from_json(text)
    assert str(refused.value) == message
    assert "\n" not in str(refused.value)


def test_a_wrong_value_is_shown_clipped():
    with pytest.raises(ResultsError) as refused:
        Results.from_json(damaged(set_at("output", ["x" * 100])))
    shown = '["' + "x" * (results_model.SHOWN_CHARS - 5) + "..."
    assert str(refused.value) == f"results.json: output: expected a text, got {shown}"


def test_an_error_names_the_file_it_read(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(damaged(set_at("tests", 3, "score", "x")))
    with pytest.raises(ResultsError, match=f'^{path}: tests\\[3\\].score: expected a number, got "x"$'):
        Results.read(path)
    with pytest.raises(
        ResultsError, match=f"^{tmp_path / 'none.json'}: cannot be read \\(No such file or directory\\)$"
    ):
        Results.read(tmp_path / "none.json")


@pytest.mark.parametrize("broken", MALFORMED)
def test_what_the_schema_rejects_reading_rejects_too(broken):
    with pytest.raises(ResultsError):
        Results.from_json(json.dumps(broken))


def test_the_gradebook_of_a_damaged_results_file_fails_with_that_line(tmp_path):
    record = gradebook.Record("alice", gradebook.GRADED, score=3.5, max_score=11.5)
    path = gradebook.submission_folder(tmp_path, "alice") / gradebook.RESULTS
    path.parent.mkdir(parents=True)
    path.write_text(damaged(set_at("tests", 0, "extra_data", "findings", {"kind": "values"})))
    with pytest.raises(gradebook.GradebookError) as refused:
        gradebook.write(tmp_path, [record], {}, set())
    assert str(refused.value) == (
        f'{path}: tests[0].extra_data.findings: expected a list, got {{"kind": "values"}}; '
        "grade the submission again with autograder batch"
    )
