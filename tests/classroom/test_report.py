"""The instructor report of a batch: what it shows (scores, pass rates, diagnosed mistakes, slowest
submissions, submissions not graded), HTML escaping of what students control, empty and unusable
classes, the ``report`` command and the report ``batch`` writes, and the page as headless Chromium
renders it."""

import base64
import dataclasses
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import autograder
from autograder import __version__
from autograder.classroom import charts, gradebook, report
from autograder.classroom.gradebook import GRADED, GRADER_ERROR, UNUSABLE, Record
from autograder.classroom.roster import Submitter
from autograder.cli import cli
from autograder.grading import results, results_model
from autograder.grading.results_model import Results
from autograder.suite.checks import compare, diagnosis
from autograder.suite.errors import CheckFailure
from autograder.suite.protocol import ManifestEntry, Verdict

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
FORWARD, BACKWARD, LOSS = "1.1 affine: forward", "1.2 affine: backward", "2.1 softmax loss"
MANIFEST = [
    ManifestEntry("public/test_layers.py::test_forward", "affine: forward", "1.1", 2.0, "visible"),
    ManifestEntry("public/test_layers.py::test_backward", "affine: backward", "1.2", 3.0, "visible"),
    ManifestEntry("hidden/test_loss.py::test_loss", "softmax loss", "2.1", 5.0, "after_due_date"),
]
FULL = 10.0
X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]])
TIMES_FOUR = diagnosis.TIMES_BATCH.format(n=4)
TIMES_SIX = diagnosis.TIMES_BATCH.format(n=6)
TIMES_ANY = diagnosis.TIMES_BATCH.format(n="N")
EXTRA_AXIS = diagnosis.shape_hint((2, 3, 1), (2, 3)).label  # "... (a column or row vector, e.g. keepdims ...)"


def check_message(check, *args, **options) -> CheckFailure:
    """The CheckFailure that a check of the checking library raises (its message and findings)."""
    with pytest.raises(CheckFailure) as failure:
        check(*args, **options)
    return failure.value


# Messages exactly as the checking library words them, with and without a likely cause.
SIGN_ERROR = check_message(compare.assert_array, -X, X, what="out", show_inputs={"x": X})
TRANSPOSED = check_message(compare.assert_array, X.T.copy(), X, what="dx")
TOO_LARGE = check_message(compare.assert_scalar, 4 * 0.75, 0.75, what="loss", batch_size=4)
SIX_TIMES_TOO_LARGE = check_message(compare.assert_scalar, 6 * 0.75, 0.75, what="loss", batch_size=6)
# A suite that checks several cases in one test reports them in one message, as the backprop suites do.
TWO_CASES_TOO_LARGE = CheckFailure.gathered(
    f"2 of 3 cases fail. [int64 labels] {TOO_LARGE} [float64 labels] {SIX_TIMES_TOO_LARGE} (and 1 more)",
    [TOO_LARGE, SIX_TIMES_TOO_LARGE],
)
WITH_EXTRA_AXIS = check_message(compare.assert_array, X[:, :, None], X, what="out", show_inputs={"x": X})
UNEXPLAINED = check_message(compare.assert_array, X + np.array([[0.5, 1.0, 0.25], [2.0, 0.75, 1.5]]), X, what="out")


def failed_verdict(nodeid: str, failure: CheckFailure, printed: str = "") -> Verdict:
    """The verdict the test runner records for a test that raised ``failure``."""
    findings = [finding.as_data() for finding in failure.findings]
    return Verdict(nodeid, "failed", 0.0, message=str(failure), output=printed, findings=findings)


def graded_results(failures: dict[str, CheckFailure] | None = None, printed: dict[str, str] | None = None) -> Results:
    """results.json of a submission that fails the tests in ``failures`` (nodeid -> failure) and
    passes the others; ``printed``: nodeid -> what its code printed."""
    failures, printed = failures or {}, printed or {}
    verdicts = {
        entry.nodeid: failed_verdict(entry.nodeid, failures[entry.nodeid], printed.get(entry.nodeid, ""))
        if entry.nodeid in failures
        else Verdict(entry.nodeid, "passed", 1.0, output=printed.get(entry.nodeid, ""))
        for entry in MANIFEST
    }
    return results.build(MANIFEST, verdicts, summary=[], missing_reason="stopped", execution_time=1.0, assignment="toy")


def write_batch(out: Path, submissions: list[tuple[Record, Results | None]], *, assignment: str = "toy") -> Path:
    """A batch output folder as ``autograder batch`` writes it: each results.json, then the
    gradebook and summary by ``gradebook.write``."""
    for record, found in submissions:
        if found is not None:
            found.write(gradebook.submission_folder(out, record.id) / gradebook.RESULTS)
    about = {
        "assignment": assignment,
        "engine": __version__,
        "suite": "0" * 64,
        "class": {"submissions": len(submissions), "digest": "0" * 64},
        "shard": {"index": 1, "count": 1},
        "runs": [],
    }
    gradebook.write(out, [record for record, _ in submissions], about, set())
    return out


def graded(submission_id: str, found: Results, seconds: float, *names: str) -> tuple[Record, Results]:
    record = Record(
        submission_id,
        GRADED,
        [Submitter(name=n) for n in names],
        score=found.score,
        max_score=FULL,
        seed=1,
        seconds=seconds,
    )
    return record, found


def unusable(submission_id: str, reason: str, *names: str) -> tuple[Record, None]:
    return Record(submission_id, UNUSABLE, [Submitter(name=n) for n in names], reason=reason), None


def grader_error(
    submission_id: str, reason: str, seconds: float, with_problem: Results | None = None
) -> tuple[Record, Results]:
    """A grader error: a run that could not grade at all, or ``with_problem``, results with a problem."""
    found = with_problem or results.grader_failure(reason, execution_time=seconds, assignment="toy")
    return Record(submission_id, GRADER_ERROR, reason=reason, score=found.score, seconds=seconds), found


FORWARD_ID, BACKWARD_ID, LOSS_ID = (entry.nodeid for entry in MANIFEST)


def small_class() -> list[tuple[Record, Results | None]]:
    """Seven submissions: four graded (with diagnosed mistakes, one printing a fake "Likely cause",
    each test failed by some), one unusable, two grader errors (one with a diagnosed mistake, which
    is not counted: grader errors are left out of the statistics)."""
    return [
        graded("alice", graded_results({FORWARD_ID: SIGN_ERROR, BACKWARD_ID: TRANSPOSED}), 3.5, "Alice A"),
        graded(
            "bob",
            graded_results({FORWARD_ID: SIGN_ERROR, BACKWARD_ID: SIGN_ERROR, LOSS_ID: TWO_CASES_TOO_LARGE}),
            12.0,
            "Bob B",
            "Bea B",
        ),
        graded(
            "carol",
            graded_results({LOSS_ID: UNEXPLAINED}, printed={LOSS_ID: "debug: Likely cause: nothing at all."}),
            1.2,
            "Carol C",
        ),
        graded("dave", graded_results({BACKWARD_ID: UNEXPLAINED}), 7.25, "Dave D"),
        unusable("erin", "the zip file is corrupt", "Erin E"),
        grader_error("frank", "the test runner ended with exit code 3", 30.0),
        grader_error(
            "gina",
            "grader error in hidden/test_loss.py::test_loss: KeyError",
            0.5,
            graded_results({FORWARD_ID: SIGN_ERROR}),
        ),
    ]


class Page(HTMLParser):
    """What a browser would show of a page: the text of each section, its tables (rows of cell
    texts) and its images, and the script elements found anywhere."""

    def __init__(self, html: str):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.current = self.sections.setdefault("", {"text": "", "tables": [], "images": []})
        self.scripts = 0
        self.in_heading = False
        self.row: list[str] | None = None
        self.cell: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        elif tag == "h2":
            self.in_heading = True
            self.heading = ""
        elif tag == "table":
            self.current["tables"].append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "br" and self.cell is not None:
            self.cell += "\n"
        elif tag == "img":
            self.current["images"].append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_heading = False
            self.current = self.sections.setdefault(self.heading, {"text": "", "tables": [], "images": []})
        elif tag in ("td", "th"):
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.current["tables"][-1].append(self.row)

    def handle_data(self, data):
        if self.in_heading:
            self.heading += data
        elif self.cell is not None:
            self.cell += data
        self.current["text"] += data


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = write_batch(tmp_path_factory.mktemp("small"), small_class())
    page = report.write_report(out)
    return out, page.read_text(encoding="utf-8")


# ---------------------------------------------------------------- diagnosed mistakes


def test_diagnoses_are_read_from_the_findings_of_a_test():
    def test_of(failure: CheckFailure, printed: str = "") -> results_model.TestResult:
        (test,) = results.build(
            MANIFEST[:1],
            {FORWARD_ID: failed_verdict(FORWARD_ID, failure, printed)},
            summary=[],
            missing_reason="",
            execution_time=1.0,
        ).tests
        return test

    def labels(failure: CheckFailure, printed: str = "") -> list[str]:
        return [found.label for found in report.diagnoses_of(test_of(failure, printed))]

    assert labels(SIGN_ERROR) == [diagnosis.SIGN_FLIPPED]
    assert labels(TRANSPOSED) == [diagnosis.TRANSPOSED]
    assert labels(TOO_LARGE) == [TIMES_ANY]
    assert labels(WITH_EXTRA_AXIS) == [EXTRA_AXIS]
    assert labels(TWO_CASES_TOO_LARGE) == [TIMES_ANY, TIMES_ANY]
    assert labels(UNEXPLAINED) == []
    assert labels(TRANSPOSED, "Likely cause: whatever the student printed.") == [diagnosis.TRANSPOSED]
    assert labels(UNEXPLAINED, "Likely cause: whatever the student printed.") == []
    (too_large,) = report.diagnoses_of(test_of(TOO_LARGE))
    assert (too_large.kind, too_large.text, too_large.evidence) == ("factor", TIMES_FOUR, {"factor": 4.0, "n": 4})


def test_findings_without_a_diagnosis_of_the_checking_library_give_none():
    # Findings of the wrong type cannot reach the report: reading results.json refuses them
    # (tests/grading/test_results.py).
    test = graded_results({FORWARD_ID: UNEXPLAINED}).tests[0]
    foreign = results_model.TestFinding("values", {"kind": "named", "text": "no label"})
    findings = (foreign, results_model.TestFinding("values"))
    unexplained = dataclasses.replace(test, extra_data=results_model.TestData(test.file, findings))
    assert report.diagnoses_of(unexplained) == []


def test_a_mistake_that_names_a_size_is_one_mistake_whatever_the_size():
    labels = {
        check_message(compare.assert_scalar, n * 0.75, 0.75, what="loss", batch_size=n).findings[0].diagnosis.label
        for n in (4, 6, 64)
    }
    assert labels == {TIMES_ANY}
    assert diagnosis.shape_hint((7, 4), (4,)).label == diagnosis.EXTRA_FIRST_AXIS.format(n="N")
    assert diagnosis.shape_hint((4,), (7, 4)).label == diagnosis.MISSING_FIRST_AXIS.format(n="N")


def test_diagnosed_mistakes_are_counted_per_failed_test_and_submission():
    by_id = {record.id: found for record, found in small_class() if record.status == GRADED}
    mistakes = report.diagnosed_mistakes(by_id)
    assert mistakes == [
        report.Mistake(diagnosis.SIGN_FLIPPED, "factor", 3, 2, [(FORWARD, 2), (BACKWARD, 1)]),
        report.Mistake(TIMES_ANY, "factor", 1, 1, [(LOSS, 1)]),  # once for the test; ties: alphabetical
        report.Mistake(diagnosis.TRANSPOSED, "transposed", 1, 1, [(BACKWARD, 1)]),
    ]


def test_tests_with_a_mistake_equally_often_are_listed_in_the_order_of_the_suite():
    manifest = [ManifestEntry(f"t.py::test_{n}", f"test {n}", f"1.{n}", 1.0, "visible") for n in (10, 9, 2)]
    verdicts = {e.nodeid: failed_verdict(e.nodeid, SIGN_ERROR) for e in manifest}
    failed = results.build(manifest, verdicts, summary=[], missing_reason="", execution_time=1.0)
    (mistake,) = report.diagnosed_mistakes({"x": failed})
    assert mistake.tests == [("1.2 test 2", 1), ("1.9 test 9", 1), ("1.10 test 10", 1)]


def test_a_passed_test_with_a_likely_cause_in_its_output_is_not_a_mistake():
    passed = graded_results()
    claims = dataclasses.replace(passed.tests[0], output="Passed.\n\nLikely cause: not a failure.")
    assert report.diagnosed_mistakes({"x": dataclasses.replace(passed, tests=(claims, *passed.tests[1:]))}) == []


# ---------------------------------------------------------------- the report of a small batch


def test_the_report_has_a_header_and_every_chart_as_a_file_and_embedded(small_report):
    out, html = small_report
    page = Page(html)
    assert "Class report: toy" in page.sections[""]["text"]
    header = " ".join(page.sections[""]["text"].split())
    assert "7 submissions: 4 graded, 1 unusable, 2 grader-error." in header
    assert "out of 10: mean 4.25, median 5 (lowest 0, highest 7)" in header
    embedded = [image["src"] for section in page.sections.values() for image in section["images"]]
    files = [(out / report.CHART_FOLDER / name).read_bytes() for name in report.CHARTS]
    assert embedded == ["data:image/png;base64," + base64.b64encode(png).decode() for png in files]
    assert all(png_size(png)[0] == charts.WIDTH_INCHES * charts.DPI for png in files)
    assert page.scripts == 0
    without_images = re.sub(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', "", html)
    for outside in ("src=", "href=", "http:", "https:", "//", "<link", "url(", "@import"):
        assert outside not in without_images


def test_the_pass_rates_chart_lists_every_test_hardest_first(small_report, monkeypatch):
    out, _ = small_report
    drawn, draw = [], charts.pass_rates
    monkeypatch.setattr(charts, "pass_rates", lambda rates: drawn.append(rates) or draw(rates))
    report.write_report(out)
    assert drawn == [[(BACKWARD, 0.25), (FORWARD, 0.5), (LOSS, 0.5)]]  # ties in the order of the suite


def test_the_mistakes_table_counts_likely_causes_with_their_tests(small_report):
    _, html = small_report
    (table,) = Page(html).sections["Diagnosed mistakes"]["tables"]
    assert table == [
        ["likely cause", "kind", "failed tests", "submissions", "in tests (failed tests)"],
        [diagnosis.SIGN_FLIPPED, "factor", "3", "2", f"{FORWARD} (2)\n{BACKWARD} (1)"],
        [TIMES_ANY, "factor", "1", "1", f"{LOSS} (1)"],
        [diagnosis.TRANSPOSED, "transposed", "1", "1", f"{BACKWARD} (1)"],
    ]
    assert "nothing at all" not in html  # printed by the student's code, not a diagnosis


def test_the_slowest_submissions_come_first_without_unusable_ones(small_report):
    _, html = small_report
    (table,) = Page(html).sections["Grading time"]["tables"]
    assert table == [
        ["submission", "names", "status", "score", "seconds"],
        ["frank", "", "grader-error", "0", "30.0"],
        ["bob", "Bob B; Bea B", "graded", "0", "12.0"],
        ["dave", "Dave D", "graded", "7", "7.2"],
        ["alice", "Alice A", "graded", "5", "3.5"],
        ["carol", "Carol C", "graded", "5", "1.2"],
        ["gina", "", "grader-error", "8", "0.5"],
    ]


def test_submissions_not_graded_are_listed_with_their_reasons(small_report):
    _, html = small_report
    (table,) = Page(html).sections["Not graded"]["tables"]
    assert table[1:] == [
        ["erin", "Erin E", "unusable", "the zip file is corrupt"],
        ["frank", "", "grader-error", "the test runner ended with exit code 3"],
        ["gina", "", "grader-error", "grader error in hidden/test_loss.py::test_loss: KeyError"],
    ]


def test_the_same_batch_gives_the_same_report(small_report):
    out, html = small_report
    before = {name: (out / report.CHART_FOLDER / name).read_bytes() for name in report.CHARTS}
    assert report.write_report(out).read_text(encoding="utf-8") == html
    assert {name: (out / report.CHART_FOLDER / name).read_bytes() for name in report.CHARTS} == before


# ---------------------------------------------------------------- hostile, empty, unusable, large


HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_ID = "<img src=x onerror=alert(1)>"  # a folder name may hold anything but "/"
HOSTILE_REASON = '<script>alert("reason")</script> & "quotes"'
HOSTILE_CAUSE = "<script>alert('cause')</script>"


def test_what_students_control_is_escaped_and_shown_as_written(tmp_path):
    test_name = "<b>cost</b> in $ and $x^"  # "$x^" would be bad mathtext: shown as written
    manifest = [ManifestEntry(MANIFEST[0].nodeid, test_name, "1.1", 2.0, "visible"), *MANIFEST[1:]]
    raised = "add raised ValueError: Likely cause: a student's own words."  # never read as a diagnosis
    named = diagnosis.Diagnosis("named", HOSTILE_CAUSE, HOSTILE_CAUSE)  # words of a suite: escaped all the same
    verdicts = {e.nodeid: Verdict(e.nodeid, "passed", 1.0) for e in manifest}
    verdicts[FORWARD_ID] = Verdict(
        FORWARD_ID,
        "failed",
        0.0,
        message=raised,
        findings=[{"kind": "exception"}, {"kind": "values", "diagnosis": named.as_data()}],
    )
    hostile = results.build(manifest, verdicts, summary=[], missing_reason="", execution_time=1.0)
    out = write_batch(
        tmp_path,
        [
            graded(HOSTILE_ID, hostile, 2.0, HOSTILE_NAME),
            unusable("x", HOSTILE_REASON, HOSTILE_NAME),
        ],
        assignment="<i>toy</i>",
    )
    html = report.write_report(out).read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img src=x" not in html and "<b>" not in html and "<i>" not in html
    page = Page(html)
    assert "Class report: <i>toy</i>" in page.sections[""]["text"]
    assert [HOSTILE_CAUSE, "named", "1", "1", f"1.1 {test_name} (1)"] in page.sections["Diagnosed mistakes"]["tables"][
        0
    ]
    assert "a student's own words" not in page.sections["Diagnosed mistakes"]["text"]
    assert [HOSTILE_ID, HOSTILE_NAME, "graded", "8", "2.0"] in page.sections["Grading time"]["tables"][0]
    assert ["x", HOSTILE_NAME, "unusable", HOSTILE_REASON] in page.sections["Not graded"]["tables"][0]
    assert page.scripts == 0


def test_an_empty_batch_says_there_are_no_submissions(tmp_path):
    out = write_batch(tmp_path, [])
    (tmp_path / report.CHART_FOLDER).mkdir()
    (tmp_path / report.CHART_FOLDER / report.SCORES_CHART).write_bytes(b"an earlier chart")
    page = Page(report.write_report(out).read_text(encoding="utf-8"))
    assert "No submissions" in page.sections[""]["text"]
    assert [heading for heading in page.sections if heading] == []
    assert not list((tmp_path / report.CHART_FOLDER).iterdir()), "charts of an earlier report must go"


def test_an_all_unusable_batch_lists_them_and_draws_nothing(tmp_path):
    out = write_batch(tmp_path, [unusable(f"s{i}", f"reason {i}") for i in range(3)])
    page = Page(report.write_report(out).read_text(encoding="utf-8"))
    assert "3 submissions: 0 graded, 3 unusable, 0 grader-error." in " ".join(page.sections[""]["text"].split())
    assert "No submission was graded" in page.sections["Scores"]["text"]
    assert "No submission was graded" in page.sections["Tests"]["text"]
    assert "No failed test was diagnosed" in page.sections["Diagnosed mistakes"]["text"]
    assert "No submission was graded" in page.sections["Grading time"]["text"]
    assert [row[0] for row in page.sections["Not graded"]["tables"][0][1:]] == ["s0", "s1", "s2"]
    assert not any(section["images"] for section in page.sections.values())
    assert not list((tmp_path / report.CHART_FOLDER).iterdir())


def test_the_report_of_one_shard_says_so(tmp_path):
    out = write_batch(tmp_path, small_class())
    summary = json.loads((out / gradebook.SUMMARY).read_text())
    summary["shard"], summary["class"]["submissions"] = {"index": 2, "count": 3}, 20
    (out / gradebook.SUMMARY).write_text(json.dumps(summary))
    header = " ".join(Page(report.write_report(out).read_text(encoding="utf-8")).sections[""]["text"].split())
    assert "Only shard 2/3 of a class of 20 submissions; merge the shards" in header


def test_hundreds_of_submissions(tmp_path):
    failures = [{}, {FORWARD_ID: SIGN_ERROR}, {FORWARD_ID: SIGN_ERROR, BACKWARD_ID: TRANSPOSED, LOSS_ID: UNEXPLAINED}]
    submissions = [graded(f"s{i:03}", graded_results(failures[i % 3]), seconds=i / 10) for i in range(300)]
    out = write_batch(tmp_path, submissions)
    page = Page(report.write_report(out).read_text(encoding="utf-8"))
    (mistakes,) = page.sections["Diagnosed mistakes"]["tables"]
    assert [[row[0], *row[2:4]] for row in mistakes[1:]] == [
        [diagnosis.SIGN_FLIPPED, "200", "200"],
        [diagnosis.TRANSPOSED, "100", "100"],
    ]
    (slowest,) = page.sections["Grading time"]["tables"]
    assert [row[0] for row in slowest[1:]] == [f"s{i:03}" for i in range(299, 289, -1)]
    assert len([image for section in page.sections.values() for image in section["images"]]) == 4


# ---------------------------------------------------------------- the commands


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"AUTOGRADER_PROJECT": str(FIXTURE)})


def test_the_report_command_writes_the_report(small_report):
    out, html = small_report
    result = invoke("report", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"report written to {out / report.PAGE}\n"
    assert (out / report.PAGE).read_text(encoding="utf-8") == html


def test_the_report_command_refuses_what_is_not_a_batch_output(small_report, tmp_path):
    out, _ = small_report
    no_results = write_batch(tmp_path / "no-results", small_class())
    (gradebook.submission_folder(no_results, "bob") / gradebook.RESULTS).unlink()
    old_summary = tmp_path / "old"
    old_summary.mkdir()
    (old_summary / gradebook.SUMMARY).write_text((out / gradebook.SUMMARY).read_text().replace('"timings"', '"timing"'))
    not_json = tmp_path / "not-json"
    not_json.mkdir()
    (not_json / gradebook.SUMMARY).write_text("{")
    bad_score = write_batch(tmp_path / "bad-score", small_class())
    bob = gradebook.submission_folder(bad_score, "bob") / gradebook.RESULTS
    document = json.loads(bob.read_text())
    document["tests"][0]["score"] = "x"
    bob.write_text(json.dumps(document))
    bad_json = write_batch(tmp_path / "bad-json", small_class())
    (gradebook.submission_folder(bad_json, "bob") / gradebook.RESULTS).write_text('{"score": ')
    again = "; grade the submission again with autograder batch"
    cases = {
        tmp_path / "missing": "is not the output of autograder batch",
        FIXTURE: "is not the output of autograder batch",
        not_json: "is not the output of autograder batch",
        old_summary: "lacks timings",
        no_results: "bob/results.json: cannot be read (No such file or directory)" + again,
        bad_score: 'bob/results.json: tests[0].score: expected a number, got "x"' + again,
        bad_json: "bob/results.json: not JSON (Expecting value: line 1 column 11 (char 10))" + again,
    }
    for folder, reason in cases.items():
        result = invoke("report", str(folder))
        assert result.exit_code == 2, (folder, result.output)
        assert result.stderr.startswith("autograder: ") and reason in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert not (FIXTURE / report.PAGE).exists()


def test_without_matplotlib_the_report_command_says_how_to_install_it(small_report, monkeypatch):
    out, _ = small_report
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "import matplotlib" raises ImportError
    monkeypatch.delitem(sys.modules, "autograder.classroom.charts")
    monkeypatch.delattr(autograder.classroom, "charts")
    result = invoke("report", str(out))
    assert result.exit_code == 2
    assert "pip install matplotlib" in result.stderr and result.stderr.count("\n") == 1


def test_the_batch_command_writes_the_report(tmp_path):
    submissions = tmp_path / "class"
    shutil.copytree(FIXTURE / "solutions" / "arith", submissions / "right")
    shutil.copytree(FIXTURE / "solutions" / "arith", submissions / "wrong")
    (submissions / "wrong" / "arith.py").write_text("def add(a, b):\n    return a - b\n")
    result = invoke("batch", str(submissions), "--assignment", "arith", "--out", str(tmp_path / "out"), "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert f"report written to {tmp_path / 'out' / report.PAGE}" in result.stdout
    page = Page((tmp_path / "out" / report.PAGE).read_text(encoding="utf-8"))
    assert "Class report: arith" in page.sections[""]["text"]
    assert sorted(row[0] for row in page.sections["Grading time"]["tables"][0][1:]) == ["right", "wrong"]


# ---------------------------------------------------------------- in a real browser

BROWSER_TIMEOUT_SECONDS = 90
MEASURE_IMAGES = """<script>
addEventListener("load", () => {
  for (const image of document.images) {
    image.dataset.decoded = image.complete ? image.naturalWidth + "x" + image.naturalHeight : "not loaded";
  }
  document.documentElement.dataset.measured = "yes";
});
</script>"""
INJECTED = '<script>document.documentElement.dataset.injected = "ran";</script>'


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        pytest.fail("Chromium is missing but can be installed here: ./dev test installs it (apt-get install chromium)")
    pytest.skip(
        "Chromium is not installed and cannot be installed here (that needs root and apt-get); "
        "install it (Debian: apt-get install chromium) to run the browser checks"
    )


def run_chromium(chromium: str, profile: Path, *arguments: str) -> str:
    """Run headless Chromium to the end (killing every process it started) and return its stdout."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    browser = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = browser.communicate(timeout=BROWSER_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.communicate()
        pytest.fail(f"Chromium did not finish within {BROWSER_TIMEOUT_SECONDS} s")
    finally:
        try:
            os.killpg(browser.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert browser.returncode == 0, stderr[-3000:]
    return stdout


def test_chromium_decodes_every_chart_and_runs_no_injected_script(chromium, small_report, tmp_path):
    out, html = small_report
    # The measuring script comes before the page's Content-Security-Policy, which therefore lets it
    # run; a script inside the page (as an escaping bug would let a student inject) must not run.
    probe = html.replace("<head>", "<head>\n" + MEASURE_IMAGES, 1).replace("</body>", INJECTED + "\n</body>", 1)
    probe_path = out / "probe.html"
    probe_path.write_text(probe, encoding="utf-8")
    try:
        dom = run_chromium(chromium, tmp_path / "profile", "--dump-dom", probe_path.as_uri())
    finally:
        probe_path.unlink()
    assert 'data-measured="yes"' in dom, "the measuring script did not run: " + dom[:300]
    assert "data-injected" not in dom, "a script inside the page ran despite the Content-Security-Policy"
    images = [image for section in Page(dom).sections.values() for image in section["images"]]
    decoded = [image.get("data-decoded") for image in images]
    expected = ["%dx%d" % png_size((out / report.CHART_FOLDER / name).read_bytes()) for name in report.CHARTS]
    assert decoded == expected


def test_chromium_paints_the_charts_without_any_script(chromium, small_report, tmp_path):
    from PIL import Image

    out, _ = small_report
    shot = tmp_path / "report.png"
    page = (out / report.PAGE).as_uri()
    run_chromium(chromium, tmp_path / "profile", "--window-size=1000,5000", f"--screenshot={shot}", page)
    bar = tuple(int(charts.BAR_COLOR[i : i + 2], 16) for i in (1, 3, 5))

    def bar_pixels(path: Path) -> int:
        pixels = np.asarray(Image.open(path).convert("RGB"))
        return int(np.all(pixels == bar, axis=-1).sum())

    in_charts = sum(bar_pixels(out / report.CHART_FOLDER / name) for name in report.CHARTS)
    assert in_charts > 10_000
    assert bar_pixels(shot) >= 0.95 * in_charts, "the charts are not painted at their full size"
