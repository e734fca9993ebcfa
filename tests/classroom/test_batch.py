"""Grading a whole class: the roster (folders, zips, Gradescope exports), the gradebook and the
summary, skipping unchanged submissions, shards and their merge, and the ``batch`` and ``merge``
commands."""

import csv
import dataclasses
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.classroom import batch, gradebook, merge, roster
from autograder.cli import cli
from autograder.grading import pipeline
from autograder.grading.results_model import Results
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
FULL = 14.0
BUGGY_ADD = "\ndef add(a, b):\n    return a - b\n"
METADATA = """\
---
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '0001'
    :email: ada@example.edu
  :created_at: 2023-12-02 02:52:07.938335000 Z
  :score: 0.0
  :status: processed
  :results:
    score: 0.0
    tests: []
  :history: []
submission_1002:
  :submitters:
  - :name: Bob Babbage
    :sid: '0002'
    :email: bob@example.edu
  - :name: Carol Hopper
    :sid: '0003'
    :email: carol@example.edu
  :created_at: 2023-12-03 04:59:24.749935000 Z
  :score: 0.0
  :status: processed
  :history:
  - :submitters: []
    :created_at: 2023-12-02 23:19:49.159668000 Z
    :score: 0.0
    :id: 999
submission_1003:
  :submitters:
  - :name: =HYPERLINK("http://example.com", "Dan")
    :sid:
    :email: dan@example.edu
"""


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


def solution_files(task) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(task.solution.glob("*.py"))}


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def write_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def make_class(folder: Path, task) -> Path:
    """Six submissions: correct, buggy, a missing file, a syntax error, a corrupt zip, and a zip
    with a folder inside; plus a stray file that is not a submission."""
    good = solution_files(task)
    write_folder(folder / "correct", good)
    write_folder(folder / "buggy", {**good, "arith.py": good["arith.py"] + BUGGY_ADD})
    write_folder(folder / "missing", {"arith.py": good["arith.py"]})
    write_folder(folder / "syntax", {**good, "arith.py": "def add(a, b)\n    return a + b\n"})
    (folder / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    write_zip(folder / "zipped.zip", {f"homework/{name}": text for name, text in good.items()})
    (folder / "notes.txt").write_text("not a submission\n")
    return folder


def gradebook_rows(out: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((out / gradebook.GRADEBOOK).read_text())))


def summary_of(out: Path) -> dict:
    return json.loads((out / gradebook.SUMMARY).read_text())


def stored_results(out: Path, submission_id: str) -> Results:
    return Results.read(out / "submissions" / submission_id / "results.json")


def without_timing(results: Results) -> Results:
    return dataclasses.replace(results, execution_time=0.0)


@pytest.fixture(scope="module")
def graded_class(arith, tmp_path_factory):
    """The six-submission class graded once with two jobs: (class folder, output folder, summary)."""
    base = tmp_path_factory.mktemp("class")
    folder = make_class(base / "class", arith)
    out = base / "out"
    summary = batch.grade_class(arith, folder, out, jobs=2)
    return folder, out, summary


# ---------------------------------------------------------------- a folder of submissions


def test_every_submission_gets_a_row_with_its_status(graded_class):
    _, out, summary = graded_class
    rows = {row["id"]: row for row in gradebook_rows(out)}
    assert list(rows) == ["buggy", "correct", "corrupt", "missing", "syntax", "zipped"]
    assert {i: row["status"] for i, row in rows.items()} == {
        "buggy": "graded",
        "correct": "graded",
        "corrupt": "unusable",
        "missing": "graded",
        "syntax": "graded",
        "zipped": "graded",
    }
    assert rows["correct"]["score"] == rows["zipped"]["score"] == "14"
    assert 0 < float(rows["buggy"]["score"]) < FULL
    assert float(rows["missing"]["score"]) < FULL and float(rows["syntax"]["score"]) < FULL
    assert "not a readable zip" in rows["corrupt"]["reason"]
    assert rows["corrupt"]["score"] == rows["corrupt"]["seed"] == ""
    assert summary["counts"] == {"submissions": 6, "graded": 5, "unusable": 1, "grader-error": 0, "skipped": 0}


def test_scores_and_results_are_those_of_a_single_grade(graded_class, arith, tmp_path):
    folder, out, _ = graded_class
    rows = {row["id"]: row for row in gradebook_rows(out)}
    for submission_id, path in [
        ("correct", folder / "correct"),
        ("buggy", folder / "buggy"),
        ("missing", folder / "missing"),
        ("syntax", folder / "syntax"),
        ("zipped", folder / "zipped.zip"),
    ]:
        alone = pipeline.grade(arith, path, tmp_path / f"{submission_id}.json")
        assert float(rows[submission_id]["score"]) == alone.results.score, submission_id
        assert int(rows[submission_id]["seed"]) == alone.seed == pipeline.default_seed(alone.submission)
        assert without_timing(stored_results(out, submission_id)) == without_timing(alone.results)


def test_the_gradebook_has_one_column_per_test_file_that_adds_up(graded_class):
    _, out, summary = graded_class
    rows = gradebook_rows(out)
    parts = ["public/test_public.py (3 pts)", "hidden/test_hidden.py (11 pts)"]
    assert list(rows[0]) == [
        "id",
        "names",
        "sids",
        "emails",
        *parts,
        "score",
        "max_score",
        "status",
        "seed",
        "reason",
        "similarity",
        "similar_to",
    ]
    for row in rows:
        if row["status"] == "graded":
            assert sum(float(row[part]) for part in parts) == pytest.approx(float(row["score"]))
            assert row["max_score"] == "14"
    buggy = next(row for row in rows if row["id"] == "buggy")
    assert (buggy[parts[0]], buggy[parts[1]]) == ("2", "8")  # the add tests: 1 public point, 3 hidden
    assert [p["part"] for p in summary["parts"]] == ["public/test_public.py", "hidden/test_hidden.py"]


def test_the_summary_has_the_statistics_a_report_needs(graded_class):
    _, out, summary = graded_class
    assert summary == summary_of(out)
    scores = sorted(s["score"] for s in summary["submissions"] if s["status"] == "graded")
    assert summary["max_score"] == FULL
    assert summary["score"]["max"] == FULL and summary["score"]["min"] == scores[0]
    assert summary["score"]["median"] == scores[2]
    assert summary["score"]["mean"] == pytest.approx(sum(scores) / 5, abs=1e-4)
    by_name = {t["name"]: t for t in summary["tests"]}
    assert by_name["add: small integers"]["pass_rate"] == pytest.approx(3 / 5, abs=1e-4)  # buggy and syntax fail
    assert by_name["add: small integers"]["graded"] == 5
    assert all(0 <= t["pass_rate"] <= 1 for t in summary["tests"])
    assert summary["timings"]["seconds_per_submission"]["mean"] > 0
    assert summary["runs"][0]["jobs"] == 2 and summary["runs"][0]["wall_seconds"] > 0
    listed = {s["id"]: s for s in summary["submissions"]}
    assert listed["corrupt"]["results"] is None
    assert listed["correct"]["results"] == "submissions/correct/results.json"
    assert (out / listed["correct"]["results"]).is_file()
    assert not (out / "submissions" / "corrupt" / "results.json").exists()
    assert (out / "submissions" / "corrupt" / "record.json").is_file()


@pytest.fixture
def open_tmp():
    """A temporary folder every user may enter (pytest's own are private to root, which would
    hide the class from the sandbox user whatever the batch does)."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-batch-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_submission_cannot_read_the_class_or_the_output(arith, open_tmp):
    folder = open_tmp / "class"
    good = solution_files(arith)
    write_folder(folder / "victim", good)
    out = open_tmp / "out"
    spy = f"""
def add(a, b):
    import os
    try:
        with open({str(folder / "victim" / "arith.py")!r}) as stream:
            stream.read()
        return -1
    except OSError:
        pass
    if os.path.isdir({str(out)!r}) and os.listdir({str(out)!r}):
        return -2
    return a + b
"""
    write_folder(folder / "spy", {**good, "arith.py": good["arith.py"] + spy})
    batch.grade_class(arith, folder, out, jobs=2)
    summary = batch.grade_class(arith, folder, out, jobs=1, force=True)  # the output is full this time
    scores = {s["id"]: s["score"] for s in summary["submissions"]}
    assert scores == {"spy": FULL, "victim": FULL}


# ---------------------------------------------------------------- Gradescope exports


def make_export(path: Path, task, metadata: str = METADATA) -> Path:
    good = solution_files(task)
    root = "assignment_77_export/"
    files = {f"{root}submission_metadata.yml": metadata, "__MACOSX/._junk": b"\0"}
    files |= {f"{root}submission_1001/{name}": text for name, text in good.items()}
    files |= {f"{root}submission_1002/{name}": text for name, text in good.items()}
    files[f"{root}submission_1002/arith.py"] = good["arith.py"] + BUGGY_ADD
    return write_zip(path, files)


def test_a_gradescope_export_zip_gives_names_sids_and_emails(arith, tmp_path):
    export = make_export(tmp_path / "export.zip", arith)
    summary = batch.grade_class(arith, export, tmp_path / "out", jobs=2)
    rows = {row["id"]: row for row in gradebook_rows(tmp_path / "out")}
    assert list(rows) == ["submission_1001", "submission_1002", "submission_1003"]
    assert rows["submission_1001"]["names"] == "Ada Lovelace"
    assert rows["submission_1001"]["sids"] == "0001"
    assert rows["submission_1001"]["emails"] == "ada@example.edu"
    assert rows["submission_1001"]["score"] == "14"
    group = rows["submission_1002"]
    assert group["names"] == "Bob Babbage; Carol Hopper"
    assert group["sids"] == "0002; 0003"
    assert group["emails"] == "bob@example.edu; carol@example.edu"
    assert float(group["score"]) < FULL
    dropped = rows["submission_1003"]
    assert (dropped["status"], dropped["sids"]) == ("unusable", "")
    assert dropped["names"] == "'" + '=HYPERLINK("http://example.com", "Dan")'  # shown as text, never run
    assert "no folder submission_1003" in dropped["reason"]
    listed = {s["id"]: s for s in summary["submissions"]}
    assert [p["name"] for p in listed["submission_1002"]["submitters"]] == ["Bob Babbage", "Carol Hopper"]


def test_an_export_is_seeded_with_the_submission_id_as_gradescope_seeds_it(arith, tmp_path):
    export = make_export(tmp_path / "export.zip", arith)
    batch.grade_class(arith, export, tmp_path / "out", jobs=2)
    rows = {row["id"]: row for row in gradebook_rows(tmp_path / "out")}
    with zipfile.ZipFile(export) as archive:
        archive.extractall(tmp_path / "unzipped")
    for number in (1001, 1002):
        alone = pipeline.grade(
            arith,
            tmp_path / f"unzipped/assignment_77_export/submission_{number}",
            tmp_path / f"{number}.json",
            seed=number,
        )
        assert rows[f"submission_{number}"]["seed"] == str(number)
        assert without_timing(stored_results(tmp_path / "out", f"submission_{number}")) == without_timing(alone.results)


def test_an_unzipped_export_folder_reads_the_same(arith, tmp_path):
    export = make_export(tmp_path / "export.zip", arith)
    with zipfile.ZipFile(export) as archive:
        archive.extractall(tmp_path / "unzipped")
    export_folder = tmp_path / "unzipped" / "assignment_77_export"
    write_folder(export_folder, {"submission_2000/arith.py": "", "readme.txt": ""})
    with roster.open_roster(tmp_path / "unzipped") as found:
        assert found.export and found.root == export_folder
        ids = [e.id for e in found.entries]
        assert ids == ["submission_1001", "submission_1002", "submission_1003", "submission_2000"]
        assert found.entries[1].submitters[1] == roster.Submitter("Carol Hopper", "0003", "carol@example.edu")
        assert found.entries[2].problem and not found.entries[3].problem
        assert found.entries[3].submitters == () and found.entries[3].gradescope_id == 2000
        assert found.ignored == ["readme.txt (not a submission_<id> folder)"]


def test_an_export_zip_is_extracted_safely(arith, tmp_path):
    good = solution_files(arith)
    (tmp_path / "nested").mkdir()
    export = write_zip(
        tmp_path / "nested" / "export.zip",
        {
            "submission_metadata.yml": "submission_7:\n  :submitters: []\n",
            "submission_7/arith.py": good["arith.py"],
            "submission_7/vectors.py": good["vectors.py"],
            "../escaped.py": "x = 1\n",
            "/absolute.py": "x = 1\n",
        },
    )
    with roster.open_roster(export) as found:
        extracted = sorted(str(p.relative_to(found.root)) for p in found.root.rglob("*") if p.is_file())
        assert extracted == ["submission_7/arith.py", "submission_7/vectors.py", "submission_metadata.yml"]
    assert not found.root.exists()  # the extraction is gone after the with block
    assert not (tmp_path / "escaped.py").exists() and not Path("/absolute.py").exists()


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("submission_1: [unclosed\n", "not readable YAML"),
        ("- just a list\n", "should map submission_<id>"),
        ("../../etc:\n  :submitters: []\n", "unexpected top-level key"),
        ("submission_1:\n  :score: 3\n", "no :submitters list"),
        ("submission_1:\n  :submitters:\n  - just a name\n", "should have :name"),
        ("submission_1:\n  :submitters:\n  - :name: [a, b]\n", ":name should be text"),
    ],
)
def test_malformed_export_metadata_is_refused(arith, tmp_path, metadata, message):
    export = make_export(tmp_path / "export.zip", arith, metadata)
    with pytest.raises(roster.RosterError, match=message.replace("[", r"\[")):
        batch.grade_class(arith, export, tmp_path / "out")


def test_an_oversized_file_in_an_export_is_reported_not_extracted(arith, tmp_path):
    good = solution_files(arith)
    big = "# padding\n" * 120_000  # over intake's 1 MB cap
    export = write_zip(
        tmp_path / "export.zip",
        {
            "submission_metadata.yml": "submission_5:\n  :submitters: []\n",
            "submission_5/arith.py": good["arith.py"] + big,
            "submission_5/vectors.py": good["vectors.py"],
        },
    )
    batch.grade_class(arith, export, tmp_path / "out", jobs=1)
    results = stored_results(tmp_path / "out", "submission_5")
    assert "larger than 1 MB" in results.output and "`arith.py` was not submitted" in results.output


# ---------------------------------------------------------------- re-running


def test_rerun_skips_unchanged_force_regrades_and_a_changed_file_is_regraded(arith, tmp_path):
    folder = make_class(tmp_path / "class", arith)
    out = tmp_path / "out"
    first = batch.grade_class(arith, folder, out, jobs=2)
    before = {s["id"]: stored_results(out, s["id"]) for s in first["submissions"] if s["results"]}
    book = (out / "gradebook.csv").read_text()

    again = batch.grade_class(arith, folder, out, jobs=2)
    assert again["counts"]["skipped"] == 5  # every graded one; the unusable zip is tried again
    assert {s["id"]: stored_results(out, s["id"]) for s in again["submissions"] if s["results"]} == before
    assert (out / "gradebook.csv").read_text() == book

    forced = batch.grade_class(arith, folder, out, jobs=2, force=True)
    assert forced["counts"]["skipped"] == 0 and forced["counts"]["graded"] == 5
    assert not any(s["skipped"] for s in forced["submissions"])

    fixed = (folder / "buggy" / "arith.py").read_text().replace(BUGGY_ADD, "\n")
    (folder / "buggy" / "arith.py").write_text(fixed)
    changed = batch.grade_class(arith, folder, out, jobs=2)
    regraded = [s["id"] for s in changed["submissions"] if not s["skipped"]]
    assert sorted(regraded) == ["buggy", "corrupt"]
    assert {s["id"]: s["score"] for s in changed["submissions"]}["buggy"] == FULL

    (out / "submissions" / "correct" / "results.json").write_text('{"score": ')  # damaged: graded again
    repaired = batch.grade_class(arith, folder, out, jobs=2)
    assert sorted(s["id"] for s in repaired["submissions"] if not s["skipped"]) == ["correct", "corrupt"]
    assert without_timing(stored_results(out, "correct")) == without_timing(before["correct"])


def test_a_changed_suite_regrades_everything(arith, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
    task = assignment.load("arith", project)
    folder = write_folder(tmp_path / "class" / "one", solution_files(task)).parent
    out = tmp_path / "out"
    batch.grade_class(task, folder, out, jobs=1)
    with (task.tests / "public" / "test_public.py").open("a") as stream:
        stream.write("\n# a comment changes the suite\n")
    assert batch.grade_class(task, folder, out, jobs=1)["counts"]["skipped"] == 0


def test_grader_errors_are_retried_and_removed_submissions_leave_the_output(arith, tmp_path, monkeypatch):
    folder = tmp_path / "class"
    for name in ("one", "two"):
        write_folder(folder / name, solution_files(arith))
    out = tmp_path / "out"
    real_grade = pipeline.grade

    def failing_for_two(task, path, results_path, **options):
        if path.name == "two":
            raise RuntimeError("the disk is on fire\nsecond line")
        return real_grade(task, path, results_path, **options)

    monkeypatch.setattr(pipeline, "grade", failing_for_two)
    summary = batch.grade_class(arith, folder, out, jobs=2)
    assert {s["id"]: (s["status"], s["reason"]) for s in summary["submissions"]} == {
        "one": ("graded", ""),
        "two": ("grader-error", "RuntimeError: the disk is on fire"),
    }
    failure = stored_results(out, "two")
    assert failure.score == 0 and "could not grade" in failure.output
    assert failure.grader_failure == "RuntimeError: the disk is on fire"
    monkeypatch.setattr(pipeline, "grade", real_grade)
    retried = batch.grade_class(arith, folder, out, jobs=2)
    assert [s["skipped"] for s in retried["submissions"]] == [True, False]
    assert retried["counts"]["graded"] == 2

    shutil.rmtree(folder / "two")
    smaller = batch.grade_class(arith, folder, out, jobs=2)
    assert [s["id"] for s in smaller["submissions"]] == ["one"]
    assert sorted(p.name for p in (out / "submissions").iterdir()) == ["one"]


# ---------------------------------------------------------------- shards and merge


def test_shards_partition_the_class_and_merge_gives_the_unsharded_gradebook(graded_class, arith, tmp_path):
    folder, whole, _ = graded_class
    halves = [tmp_path / "half1", tmp_path / "half2"]
    ids = []
    for index, out in enumerate(halves, start=1):
        summary = batch.grade_class(arith, folder, out, jobs=2, shard=batch.Shard(index, 2))
        assert summary["shard"] == {"index": index, "count": 2}
        ids.append({s["id"] for s in summary["submissions"]})
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == {row["id"] for row in gradebook_rows(whole)}

    merged = merge.merge(halves, tmp_path / "merged", arith)
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()
    assert merged["counts"] == summary_of(whole)["counts"]
    assert [run["shard"] for run in merged["runs"]] == ["1/2", "2/2"]
    assert merged["shard"] == {"index": 1, "count": 1}
    assert sorted(p.name for p in (tmp_path / "merged" / "submissions").iterdir()) == sorted(ids[0] | ids[1])


def test_shard_membership_depends_on_the_id_only():
    shard = batch.Shard(2, 3)
    assert [shard.takes(f"student{i}") for i in range(30)] == [shard.takes(f"student{i}") for i in range(30)]
    owners = [sum(batch.Shard(i, 3).takes(f"student{n}") for i in (1, 2, 3)) for n in range(50)]
    assert owners == [1] * 50
    for text in ("0/2", "3/2", "1", "a/b", "1/0", ""):
        with pytest.raises(batch.ShardError):
            batch.Shard.parse(text)
    assert batch.Shard.parse(" 2 / 5 ") == batch.Shard(2, 5)


@pytest.fixture(scope="module")
def two_halves(graded_class, arith, tmp_path_factory):
    folder, _, _ = graded_class
    base = tmp_path_factory.mktemp("halves")
    for index in (1, 2):
        batch.grade_class(arith, folder, base / f"half{index}", jobs=2, shard=batch.Shard(index, 2))
    return base / "half1", base / "half2"


def test_merge_refuses_shards_that_do_not_fit(two_halves, graded_class, tmp_path):
    half1, half2 = two_halves
    _, whole, _ = graded_class
    with pytest.raises(gradebook.GradebookError, match="both shard 1/2"):
        merge.merge([half1, half1], tmp_path / "m1")
    with pytest.raises(gradebook.GradebookError, match="shard 2/2 is missing"):
        merge.merge([half1], tmp_path / "m2")
    with pytest.raises(gradebook.GradebookError, match="shard 1/1 but"):
        merge.merge([half1, whole], tmp_path / "m3")
    with pytest.raises(gradebook.GradebookError, match="no readable summary.json"):
        merge.merge([half1, write_folder(tmp_path / "stray", {"gradebook.csv": ""})], tmp_path / "m4")
    with pytest.raises(gradebook.GradebookError, match="apart from"):
        merge.merge([half1, half2], half1 / "inside")

    other_suite = tmp_path / "other-suite"
    shutil.copytree(half2, other_suite)
    summary = summary_of(other_suite)
    summary["suite"] = "0" * 64
    (other_suite / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(gradebook.GradebookError, match="differ in suite"):
        merge.merge([half1, other_suite], tmp_path / "m5")

    overlapping = tmp_path / "overlapping"
    shutil.copytree(half2, overlapping)
    summary = summary_of(overlapping)
    stolen = summary_of(half1)["submissions"][0]
    summary["submissions"].append(stolen)
    shutil.copytree(half1 / "submissions" / stolen["id"], overlapping / "submissions" / stolen["id"])
    (overlapping / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(gradebook.GradebookError, match=f"submission {stolen['id']} is in both"):
        merge.merge([half1, overlapping], tmp_path / "m6")

    partial = tmp_path / "partial"
    shutil.copytree(half2, partial)
    summary = summary_of(partial)
    summary["submissions"].pop()
    (partial / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(gradebook.GradebookError, match="not the 6 of their class"):
        merge.merge([half1, partial], tmp_path / "m7")


# ---------------------------------------------------------------- the commands


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"AUTOGRADER_PROJECT": str(FIXTURE)})


def test_the_batch_command_writes_everything_with_a_progress_bar_off_a_terminal(graded_class, tmp_path):
    folder, whole, _ = graded_class
    result = invoke("batch", str(folder), "--assignment", "arith", "--out", str(tmp_path / "out"), "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert "6/6" in result.stdout
    assert "\x1b[" not in result.stdout  # no cursor movement or colour when not a terminal
    assert "6 submissions: 5 graded, 1 unusable" in result.stdout
    assert "corrupt" in result.stdout and result.stderr == ""
    assert (tmp_path / "out" / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()


def test_the_batch_command_exits_1_on_a_grader_problem(arith, tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "class" / "one", solution_files(arith)).parent

    def broken(task, path, results_path, **options):
        raise RuntimeError("grader bug")

    monkeypatch.setattr(pipeline, "grade", broken)
    result = invoke("batch", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.strip() == "autograder: grader problem with one: RuntimeError: grader bug"
    assert (tmp_path / "out" / "gradebook.csv").is_file() and (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "absent", "does not exist"),
        (lambda tmp: write_folder(tmp, {"notes.txt": "x"}) / "notes.txt", "neither a folder nor a zip"),
        (lambda tmp: write_folder(tmp / "empty", {"notes.txt": "x"}), "no submissions in"),
        (lambda tmp: write_zip(tmp / "plain.zip", {"alice/arith.py": "x = 1\n"}), "not a Gradescope export"),
        (lambda tmp: write_zip(tmp / "up.zip", {"../submission_metadata.yml": "{}"}), "not a Gradescope export"),
        (lambda tmp: tmp.joinpath("bad.zip").write_bytes(b"nope") and tmp / "bad.zip", "not a readable zip"),
        (lambda tmp: write_zip(tmp / "e.zip", {"submission_metadata.yml": "- 1\n"}), "should map submission_<id>"),
        (lambda tmp: write_folder(tmp / "c", {"a/arith.py": "", "a.zip": ""}), "two submissions have the id 'a'"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, make_path, message):
    result = invoke("batch", str(make_path(tmp_path)), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("autograder: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_bad_options_exit_2(graded_class, tmp_path):
    folder, _, _ = graded_class
    bad_shard = invoke("batch", str(folder), "--shard", "3/2", "--out", str(tmp_path / "o"))
    assert bad_shard.exit_code == 2 and bad_shard.stderr.count("\n") == 1 and "I/N" in bad_shard.stderr
    inside = invoke("batch", str(folder), "--out", str(folder / "out"))
    assert inside.exit_code == 2 and "overlap" in inside.stderr and not (folder / "out").exists()
    assert invoke("batch", str(folder), "--jobs", "0").exit_code == 2
    assert invoke("batch", str(folder), "--assignment", "nope").exit_code == 2


def test_the_merge_command(two_halves, graded_class, tmp_path):
    half1, half2 = two_halves
    _, whole, _ = graded_class
    result = invoke("merge", str(half1), str(half2), "--out", str(tmp_path / "merged"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()
    refused = invoke("merge", str(half1), "--out", str(tmp_path / "again"))
    assert refused.exit_code == 2
    assert refused.stderr == "autograder: shard 2/2 is missing\n"


def test_the_merge_command_names_the_field_of_a_damaged_results_file(two_halves, tmp_path):
    half1, half2 = two_halves
    damaged = tmp_path / "damaged"
    shutil.copytree(half2, damaged)
    graded = next(s["id"] for s in summary_of(damaged)["submissions"] if s["results"])
    path = damaged / "submissions" / graded / "results.json"
    document = json.loads(path.read_text())
    document["tests"][1]["extra_data"]["findings"] = "wrong"
    path.write_text(json.dumps(document))
    result = invoke("merge", str(half1), str(damaged), "--out", str(tmp_path / "merged"))
    assert result.exit_code == 2
    merged = tmp_path / "merged" / "submissions" / graded / "results.json"
    assert result.stderr == (
        f'autograder: {merged}: tests[1].extra_data.findings: expected a list, got "wrong"; '
        "grade the submission again with autograder batch\n"
    )


def test_names_from_the_class_are_printed_as_they_are(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "[red]odd.zip").write_bytes(b"not a zip")
    result = invoke("batch", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "[red]odd" in result.stdout  # not taken for rich markup
