"""The output folder of ``autograder batch`` (and of ``autograder merge``): the input of a report.

Layout of the folder ``DIR``:

- ``DIR/submissions/<id>/results.json``: the very file ``autograder grade`` writes for that
  submission (Gradescope's format; each test's ``extra_data.file`` names its test file). Absent
  for an unusable submission, which could not be graded at all.
- ``DIR/submissions/<id>/files/``: the submitted files as intake took them (only the files the
  assignment lists; a notebook's functions as the file they make), for ``autograder similarity``.
- ``DIR/submissions/<id>/record.json``: what the batch knows of that submission: ``id``,
  ``submitters`` (a list of ``{name, sid, email}``, empty outside a Gradescope export),
  ``status`` (``graded``, ``unusable`` or ``grader-error``), ``reason`` (one line; empty when
  graded), ``seed``, ``score``, ``max_score`` (null when not graded), ``seconds`` (wall time of
  its grading) and ``fingerprint`` (see ``autograder.classroom.batch``).
- ``DIR/gradebook.csv``: one row per submission, sorted by id. Columns: ``id``, ``names``,
  ``sids``, ``emails`` (a group's members joined by ``"; "``); one column per **part**, a test file
  of the suite relative to its ``tests/`` folder, headed ``"<file> (<points> pts)"`` (e.g.
  ``public/test_public_layers.py (6 pts)``), holding the points earned on that file's tests; then
  ``score``, ``max_score``, ``status``, ``seed`` and ``reason``; one column per leaderboard entry
  that a results.json holds, headed by its name, holding the submission's value; and when
  ``similarity.json`` is there, ``similarity`` (the submission's highest similarity to another
  one, 0 to 1) and ``similar_to`` (that other submission). The score cells of an unusable
  submission are empty: it has no grade. A text cell that starts like a spreadsheet formula
  (``=``, ``+``, ``-``, ``@``) is prefixed with an apostrophe, so that opening the file runs nothing.
- ``DIR/summary.json``:

  - ``assignment``, ``engine`` (version), ``suite`` (digest of the suites and the reference);
  - ``class``: ``{submissions, digest}`` of the whole class before any sharding;
  - ``shard``: ``{index, count}`` (``1``/``1`` for a whole class, also after a merge);
  - ``runs``: one per batch run that wrote these results (several after a merge):
    ``{source, shard, jobs, wall_seconds, submissions, skipped}`` (``skipped`` of ``submissions``
    were up to date and not graded again);
  - ``counts``: ``{submissions, graded, unusable, grader-error, skipped}``;
  - ``max_score``; ``score``: ``{mean, median, min, max}`` over graded submissions (null if none);
  - ``parts``: ``[{part, max_score, mean}]``;
  - ``tests``: ``[{number, name, part, visibility, max_score, graded, pass_rate, mean_score}]``,
    rates and means over graded submissions;
  - ``timings``: ``{seconds_per_submission: {mean, median, min, max}}`` over the submissions
    that were graded (not the unusable ones), whether in this run or a skipped earlier one;
  - ``submissions``: ``[{id, submitters, status, reason, score, max_score, seed, seconds,
    skipped, results}]`` sorted by id, ``results`` being the path of its ``results.json``
    relative to ``DIR`` (null when unusable);
  - ``leaderboard``: ``[{name, order, values, spread}]``, one per leaderboard entry of the
    results, ``values`` the numeric values of the graded submissions and ``spread`` their
    ``{mean, median, min, max}``;
  - ``similarity``: ``{threshold, compared, skipped, flagged}`` from ``similarity.json``, or null.
- ``DIR/similarity.json``: written by ``autograder.classroom.similarity`` (its ``as_json``): ``settings``,
  ``compared`` (ids), ``skipped`` and ``notes`` (id -> reasons), ``candidates``, ``seconds``,
  ``closest`` (id -> ``{similarity, partner}``), ``flagged`` (pairs at or above the threshold) and
  ``pairs``: the first ``pairs_listed`` flagged pairs ``{a, b, similarity, functions}``, each
  function ``{unit, similarity, code: [a, b], line: [a, b], spans: [a, b]}``, spans being
  ``[start, end]`` character ranges of the shared code. A file that does not name exactly the
  submissions of the summary is stale and is removed when the gradebook is written.

Every file is written atomically (a reader never sees half a file).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from pathlib import Path

from autograder.classroom.roster import Submitter
from autograder.grading.atomic import write_atomically, write_json
from autograder.grading.results_model import Results, ResultsError, TestResult

GRADED, UNUSABLE, GRADER_ERROR = "graded", "unusable", "grader-error"
STATUSES = (GRADED, UNUSABLE, GRADER_ERROR)
SUBMISSIONS = "submissions"
RESULTS = "results.json"
RECORD = "record.json"
FILES = "files"
SIMILARITY = "similarity.json"
SIMILARITY_COLUMNS = ("similarity", "similar_to")
GRADEBOOK = "gradebook.csv"
SUMMARY = "summary.json"
IDENTITY_COLUMNS = ("id", "names", "sids", "emails")
TRAILING_COLUMNS = ("score", "max_score", "status", "seed", "reason")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUMMARY_KEYS = ("assignment", "engine", "suite", "class", "shard", "runs", "submissions")


class GradebookError(Exception):
    """A folder is not a usable batch output; the one-line message says why."""


@dataclass
class Record:
    """What the batch knows of one submission (``record.json``)."""

    id: str
    status: str
    submitters: list[Submitter] = field(default_factory=list)
    reason: str = ""
    seed: int | None = None
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    fingerprint: str = ""
    """Digest of everything the grade depends on; equal fingerprints give the same results."""

    @classmethod
    def from_json(cls, data: dict) -> Record:
        people = [Submitter(**person) for person in data.get("submitters", [])]
        return cls(**{**data, "submitters": people})


def submission_folder(out: Path, submission_id: str) -> Path:
    """``DIR/submissions/<id>``."""
    return out / SUBMISSIONS / submission_id


def write_record(out: Path, record: Record) -> None:
    """Store ``record`` as ``DIR/submissions/<id>/record.json``."""
    write_json(submission_folder(out, record.id) / RECORD, asdict(record))


def remove_files(out: Path, submission_id: str) -> None:
    """Forget the kept files of a submission (it could not be read this time)."""
    shutil.rmtree(submission_folder(out, submission_id) / FILES, ignore_errors=True)


def write_files(out: Path, submission_id: str, files: dict[str, bytes]) -> None:
    """Keep the files intake took from a submission in ``DIR/submissions/<id>/files/``."""
    remove_files(out, submission_id)
    folder = submission_folder(out, submission_id) / FILES
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def read_files(out: Path, submission_id: str) -> dict[str, bytes] | None:
    """The kept files of a submission (file name -> content), or None when none were kept."""
    folder = submission_folder(out, submission_id) / FILES
    if not folder.is_dir():
        return None
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_record(out: Path, submission_id: str) -> Record | None:
    """The stored record of a submission, or None when there is none (or it is unreadable)."""
    data = read_json(submission_folder(out, submission_id) / RECORD)
    try:
        return Record.from_json(data) if data else None
    except TypeError:
        return None


def read_results(out: Path, submission_id: str) -> Results:
    """The stored ``results.json`` of a submission; ``GradebookError`` (one line naming the file
    and, for a file that is not one of ours, the wrong field) when it is missing or unusable."""
    try:
        return Results.read(submission_folder(out, submission_id) / RESULTS)
    except ResultsError as err:
        raise GradebookError(f"{err}; grade the submission again with autograder batch") from None


def read_summary(out: Path) -> dict:
    """The ``summary.json`` of a batch output, with the keys a merge needs."""
    summary = read_json(out / SUMMARY)
    if summary is None:
        raise GradebookError(f"{out} is not the output of autograder batch (no readable {SUMMARY})")
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        raise GradebookError(f"{out / SUMMARY} lacks {', '.join(missing)}; was it written by autograder batch?")
    return summary


def prune(out: Path, keep: set[str]) -> None:
    """Remove the submission folders of an earlier run that are not part of this one, so that
    ``DIR/submissions/`` holds exactly the submissions of the summary (only folders with a
    ``record.json``, i.e. written by a batch, are removed)."""
    folder = out / SUBMISSIONS
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name not in keep and (child / RECORD).is_file():
            shutil.rmtree(child)


def points(value: float | None) -> str:
    """A number of points for the CSV: at most 4 decimals, no trailing zeros; empty for None."""
    return "" if value is None else f"{round(value, 4):.10g}"


def as_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (a student may
    name themselves ``=HYPERLINK(...)``) gets a leading apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


SCORE, MAX_SCORE = attrgetter("score"), attrgetter("max_score")


def by_part(results: Results, points: Callable[[TestResult], float]) -> dict[str, float]:
    """The sum of ``points`` (``SCORE`` or ``MAX_SCORE``) over the tests of each part (its test
    file), in the order of the suite (public files first)."""
    totals: dict[str, float] = {}
    for test in results.tests:
        totals[test.file] = totals.get(test.file, 0.0) + points(test)
    return totals


def part_maxima(all_results: list[Results]) -> dict[str, float]:
    """Part -> its points, from the first results that have tests (all share the suite)."""
    return next((by_part(results, MAX_SCORE) for results in all_results if results.tests), {})


def leaderboard_values(results: Results) -> dict[str, float | str]:
    """Leaderboard entry name -> the submission's value, from its results.json."""
    return {entry.name: entry.value for entry in results.leaderboard}


def leaderboard_orders(all_results: list[Results]) -> dict[str, str]:
    """Every leaderboard entry of the results -> its order, first seen first."""
    orders: dict[str, str] = {}
    for results in all_results:
        for entry in results.leaderboard:
            orders.setdefault(entry.name, entry.order)
    return orders


def similarity_cells(closest: dict | None) -> tuple[str, str]:
    """The ``similarity`` and ``similar_to`` cells of a submission (empty when it shares nothing)."""
    return (f"{closest['similarity']:.4g}", as_text(closest["partner"])) if closest else ("", "")


def gradebook_csv(records: list[Record], results_by_id: dict[str, Results], similarity: dict | None = None) -> str:
    """The text of ``gradebook.csv`` (see the module doc); ``similarity`` is ``similarity.json``."""
    maxima = part_maxima(list(results_by_id.values()))
    part_columns = [f"{part} ({points(top)} pts)" for part, top in maxima.items()]
    boards = list(leaderboard_orders(list(results_by_id.values())))
    similarity_columns = SIMILARITY_COLUMNS if similarity is not None else ()
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([*IDENTITY_COLUMNS, *part_columns, *TRAILING_COLUMNS, *map(as_text, boards), *similarity_columns])
    for record in records:
        earned = by_part(results_by_id[record.id], SCORE) if record.id in results_by_id else {}
        values = leaderboard_values(results_by_id[record.id]) if record.id in results_by_id else {}
        closest = (similarity or {}).get("closest", {}).get(record.id)
        people = record.submitters
        writer.writerow(
            [
                as_text(record.id),
                as_text("; ".join(p.name for p in people)),
                as_text("; ".join(p.sid for p in people)),
                as_text("; ".join(p.email for p in people)),
                *(points(earned.get(part)) for part in maxima),
                points(record.score),
                points(record.max_score),
                record.status,
                "" if record.seed is None else record.seed,
                as_text(record.reason),
                *(as_text(str(values.get(board, ""))) for board in boards),
                *(similarity_cells(closest) if similarity is not None else ()),
            ]
        )
    return stream.getvalue()


def spread(values: list[float]) -> dict | None:
    """Mean, median, min and max of ``values`` (None when there are none)."""
    if not values:
        return None
    return {
        "mean": round(statistics.fmean(values), 4),
        "median": round(statistics.median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def per_test_statistics(graded: list[Results]) -> list[dict]:
    """Per test of the suite: pass rate and mean score over the graded submissions."""
    runs: dict[str, list[TestResult]] = {}
    for results in graded:
        for test in results.tests:
            runs.setdefault(test.number, []).append(test)
    return [
        {
            "number": number,
            "name": tests[0].name,
            "part": tests[0].file,
            "visibility": tests[0].visibility,
            "max_score": tests[0].max_score,
            "graded": len(tests),
            "pass_rate": round(sum(t.passed for t in tests) / len(tests), 4),
            "mean_score": round(statistics.fmean(t.score for t in tests), 4),
        }
        for number, tests in runs.items()
    ]


def per_part_statistics(maxima: dict[str, float], graded: list[Results]) -> list[dict]:
    """Per part: its points and the mean earned over the graded submissions."""
    earned = [by_part(results, SCORE) for results in graded]

    def mean(part: str) -> float | None:
        return round(statistics.fmean(e.get(part, 0.0) for e in earned), 4) if earned else None

    return [{"part": part, "max_score": top, "mean": mean(part)} for part, top in maxima.items()]


def leaderboard_statistics(graded: list[Results]) -> list[dict]:
    """Per leaderboard entry: its order and the numeric values of the graded submissions, spread."""
    statistics_by_name = []
    for name, order in leaderboard_orders(graded).items():
        values = [v for v in (leaderboard_values(r).get(name) for r in graded) if isinstance(v, (int, float))]
        statistics_by_name.append({"name": name, "order": order, "values": values, "spread": spread(values)})
    return statistics_by_name


def similarity_overview(similarity: dict | None) -> dict | None:
    """The few figures of ``similarity.json`` the summary repeats."""
    if similarity is None:
        return None
    return {
        "threshold": similarity["settings"]["threshold"],
        "compared": len(similarity["compared"]),
        "skipped": len(similarity["skipped"]),
        "flagged": similarity["flagged"],
    }


def read_similarity(out: Path, ids: set[str]) -> dict | None:
    """``similarity.json`` when it names exactly the submissions ``ids``; a stale one is removed."""
    found = read_json(out / SIMILARITY)
    if found is None:
        return None
    try:
        if set(found["compared"]) | set(found["skipped"]) == ids:
            return found
    except (KeyError, TypeError):
        pass
    (out / SIMILARITY).unlink()
    return None


def summary(
    records: list[Record],
    results_by_id: dict[str, Results],
    about: dict,
    skipped: set[str],
    similarity: dict | None = None,
) -> dict:
    """The content of ``summary.json`` (see the module doc); ``about`` gives its first keys
    (``assignment``, ``engine``, ``suite``, ``class``, ``shard``, ``runs``)."""
    graded = [r for r in records if r.status == GRADED]
    graded_results = [results_by_id[r.id] for r in graded]
    maxima = part_maxima(list(results_by_id.values()))
    return {
        **about,
        "counts": {
            "submissions": len(records),
            **{status: sum(r.status == status for r in records) for status in STATUSES},
            "skipped": len(skipped),
        },
        "max_score": round(sum(maxima.values()), 4) if maxima else None,
        "score": spread([r.score for r in graded]),
        "parts": per_part_statistics(maxima, graded_results),
        "tests": per_test_statistics(graded_results),
        "timings": {"seconds_per_submission": spread([r.seconds for r in records if r.status != UNUSABLE])},
        "submissions": [
            {
                "id": r.id,
                "submitters": [asdict(p) for p in r.submitters],
                "status": r.status,
                "reason": r.reason,
                "score": r.score,
                "max_score": r.max_score,
                "seed": r.seed,
                "seconds": r.seconds,
                "skipped": r.id in skipped,
                "results": f"{SUBMISSIONS}/{r.id}/{RESULTS}" if r.id in results_by_id else None,
            }
            for r in records
        ],
        "leaderboard": leaderboard_statistics(graded_results),
        "similarity": similarity_overview(similarity),
    }


def write(out: Path, records: list[Record], about: dict, skipped: set[str]) -> dict:
    """Write ``gradebook.csv`` and ``summary.json`` for ``records`` (whose ``results.json`` files
    are already in ``out``), remove submission folders of earlier runs, return the summary."""
    records = sorted(records, key=lambda r: r.id)
    prune(out, {r.id for r in records})
    results_by_id = {record.id: read_results(out, record.id) for record in records if record.status != UNUSABLE}
    similarity = read_similarity(out, {r.id for r in records})
    document = summary(records, results_by_id, about, skipped, similarity)
    write_atomically(out / GRADEBOOK, gradebook_csv(records, results_by_id, similarity))
    write_json(out / SUMMARY, document)
    return document


def rewrite(out: Path) -> dict:
    """Write ``gradebook.csv`` and ``summary.json`` of the batch output ``out`` again from what it
    holds (e.g. after ``similarity.json`` changed); return the summary."""
    earlier = read_summary(out)
    records = []
    for listed in earlier["submissions"]:
        record = read_record(out, listed["id"])
        if record is None:
            raise GradebookError(f"{submission_folder(out, listed['id'])} has no readable record")
        records.append(record)
    about = {key: earlier[key] for key in SUMMARY_KEYS if key != "submissions"}
    return write(out, records, about, {listed["id"] for listed in earlier["submissions"] if listed["skipped"]})
