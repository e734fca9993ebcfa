"""The instructor report of a graded class: one self-contained HTML page and its charts as PNGs.

``write_report(DIR)`` reads the output folder of ``autograder batch`` (see ``autograder.classroom.gradebook``)
and writes ``DIR/report.html`` and ``DIR/report/*.png``. The page holds:

- a header: the assignment, the submissions by status, the mean and median score;
- the score histogram of the graded submissions;
- the pass rate of every test, least passed first;
- the diagnosed mistakes: how often each mistake the checking library diagnosed (the data each
  failed test carries in ``extra_data.findings``) occurs in the failed tests of the graded
  submissions, in how many of them, and in which tests;
- the slowest submissions and the distribution of grading times;
- the submissions that were not graded (unusable, or a grader error), with their reasons;
- the leaderboard: the distribution of each entry's values over the graded submissions;
- the most similar pairs of submissions (from ``similarity.json``, see ``autograder.classroom.similarity``),
  with the code they share side by side and highlighted: a hint for a person to look at.

The page needs nothing but itself: the charts are embedded as PNG data URIs, the style is inline,
and it has no script. Every text from the batch is HTML-escaped (student names and messages are
the students' to choose), and a Content-Security-Policy forbids scripts and outside resources in
case anything ever slipped through. The charts need matplotlib (the ``report`` extra).
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from dataclasses import dataclass
from html import escape
from pathlib import Path

from autograder import __version__
from autograder.classroom import gradebook
from autograder.classroom.gradebook import GRADED, GRADER_ERROR, UNUSABLE, GradebookError
from autograder.grading.atomic import write_atomically
from autograder.grading.results_model import Results, TestResult
from autograder.suite.checks.diagnosis import Diagnosis

PAGE = "report.html"
CHART_FOLDER = "report"
SCORES_CHART = "score-histogram.png"
PASS_RATES_CHART = "pass-rates.png"
MISTAKES_CHART = "mistakes.png"
TIMES_CHART = "grading-times.png"
CHARTS = (SCORES_CHART, PASS_RATES_CHART, MISTAKES_CHART, TIMES_CHART)
LEADERBOARD_CHART = "leaderboard-{number}.png"  # one per leaderboard entry, numbered from 1
FUNCTIONS_SHOWN = 4  # per similar pair, the units sharing the most code
MISTAKES_CHARTED = 15  # the chart shows the most frequent ones; the table shows them all
SLOWEST_LISTED = 10
REPORT_KEYS = ("counts", "max_score", "score", "tests", "timings")  # besides gradebook.SUMMARY_KEYS

CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font-family: system-ui, sans-serif; color: #1d1d1f; max-width: 960px; margin: 2em auto; padding: 0 1em; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f2f5; }
td.number { text-align: right; white-space: nowrap; }
figure { margin: 1em 0; }
img { max-width: 100%; height: auto; }
.status-graded { color: #1e7b34; }
.status-unusable { color: #a15c00; }
.status-grader-error { color: #b3261e; }
.note { color: #555; }
pre { white-space: pre-wrap; font-size: 85%; margin: 0; }
mark { background: #ffe08a; }
"""


class ReportError(Exception):
    """The report cannot be made here (matplotlib is missing); the one-line message says why."""


@dataclass(frozen=True)
class Mistake:
    """One diagnosed mistake across the class."""

    explanation: str
    """The mistake in words that hold for every submission (a diagnosis' ``label``: ``N`` for a
    size that varies)."""
    kind: str
    """The pattern that diagnosed it (``Diagnosis.kind``: ``named``, ``factor``, ...)."""
    occurrences: int
    """Failed tests diagnosed with this mistake."""
    submissions: int
    """Submissions with at least one of these failed tests."""
    tests: list[tuple[str, int]]
    """(test, occurrences) in the tests where it occurs, most frequent first, then in the order of
    the suite; a test is named by its number and name (``numbered_name``)."""


def diagnoses_of(test: TestResult) -> list[Diagnosis]:
    """The diagnoses of one test of a results.json (``extra_data.findings``), in order; findings
    without a diagnosis, or not of the checking library's form, give none."""
    found = []
    for finding in test.findings:
        if finding.diagnosis is not None:
            try:
                found.append(Diagnosis.from_data(finding.diagnosis))
            except ValueError:
                continue
    return found


def diagnosed_mistakes(results_by_id: dict[str, Results]) -> list[Mistake]:
    """Every mistake diagnosed in the failed tests of ``results_by_id`` (submission id -> its
    results.json), counted once per failed test, most frequent first (ties alphabetically)."""
    per_test: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)  # (label, kind) -> tests
    submissions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for submission_id, graded in results_by_id.items():
        for test in graded.tests:
            if not test.passed:
                for mistake in dict.fromkeys((d.label, d.kind) for d in diagnoses_of(test)):
                    per_test[mistake][test.number, test.name] += 1
                    submissions[mistake].add(submission_id)
    mistakes = [
        Mistake(label, kind, sum(tests.values()), len(submissions[label, kind]), _most_frequent_first(tests))
        for (label, kind), tests in per_test.items()
    ]
    return sorted(mistakes, key=lambda m: (-m.occurrences, m.explanation))


def numbered_name(number: str, name: str) -> str:
    """A test's number and name, ``"2.1 layer: forward"``, as in results.json and the summary."""
    return f"{number} {name}"


def write_report(out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` and ``out_dir/report/*.png`` for the batch output in
    ``out_dir``; return the path of the page.

    Raises ``gradebook.GradebookError`` when ``out_dir`` is not a batch output and ``ReportError``
    when matplotlib is not installed.
    """
    summary = _read_summary(out_dir)
    mistakes = _mistakes_of(summary, out_dir)
    charts = _drawn_charts(summary, mistakes)
    chart_folder = out_dir / CHART_FOLDER
    chart_folder.mkdir(exist_ok=True)
    for stale in chart_folder.glob(LEADERBOARD_CHART.format(number="*")):
        stale.unlink()
    for name in (*CHARTS, *charts):
        if name in charts:
            (chart_folder / name).write_bytes(charts[name])
        else:  # not drawn for this batch: a chart of an earlier report would tell a wrong story
            (chart_folder / name).unlink(missing_ok=True)
    similarity = gradebook.read_similarity(out_dir, {row["id"] for row in summary["submissions"]})
    page = out_dir / PAGE
    write_atomically(page, render_page(summary, mistakes, charts, similarity))
    return page


def render_page(
    summary: dict, mistakes: list[Mistake], charts: dict[str, bytes], similarity: dict | None = None
) -> str:
    """The HTML of the report; ``charts`` maps the names in ``CHARTS`` (and the leaderboard's) to
    PNG bytes (those missing are left out); ``similarity`` is ``similarity.json``, if any."""
    title = f"Class report: {summary['assignment']}"
    if summary["counts"]["submissions"]:
        body = [
            _header(summary),
            _scores_section(charts),
            _tests_section(charts),
            _mistakes_section(mistakes, charts),
            _timings_section(summary, charts),
            _not_graded_section(summary),
            _leaderboard_section(summary, charts),
            _similarity_section(summary, similarity),
        ]
    else:
        body = ['<p class="note">No submissions: this batch output holds no submission to report on.</p>']
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f"<h1>{escape(title)}</h1>",
            *body,
            f'<p class="note">Made by autograder {escape(__version__)} from {gradebook.SUMMARY} and the '
            "results of each submission.</p>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _read_summary(out_dir: Path) -> dict:
    summary = gradebook.read_summary(out_dir)
    missing = [key for key in REPORT_KEYS if key not in summary]
    if missing:
        raise GradebookError(
            f"{out_dir / gradebook.SUMMARY} lacks {', '.join(missing)}; was it written by autograder batch?"
        )
    return summary


def _mistakes_of(summary: dict, out_dir: Path) -> list[Mistake]:
    """The diagnosed mistakes in the results.json of the graded submissions (those of a grader
    error are left out, as they are of the pass rates)."""
    graded = [row["id"] for row in summary["submissions"] if row["status"] == GRADED]
    return diagnosed_mistakes(
        {submission_id: gradebook.read_results(out_dir, submission_id) for submission_id in graded}
    )


def _drawn_charts(summary: dict, mistakes: list[Mistake]) -> dict[str, bytes]:
    """The charts that have something to show for this batch, by file name."""
    try:
        from autograder.classroom import charts
    except ImportError as err:
        raise ReportError(f"the report needs matplotlib ({err}); install it with: pip install matplotlib") from err
    drawn = {}
    graded = [row for row in summary["submissions"] if row["status"] == GRADED]
    if graded:
        spread = summary["score"]
        scores = [row["score"] for row in graded]
        drawn[SCORES_CHART] = charts.score_histogram(scores, summary["max_score"], spread["mean"], spread["median"])
    if summary["tests"]:
        rates = [(numbered_name(test["number"], test["name"]), test["pass_rate"]) for test in _hardest_first(summary)]
        drawn[PASS_RATES_CHART] = charts.pass_rates(rates)
    if mistakes:
        counts = [(mistake.explanation, mistake.occurrences) for mistake in mistakes[:MISTAKES_CHARTED]]
        drawn[MISTAKES_CHART] = charts.mistake_counts(counts)
    timed = _timed(summary)
    if timed:
        drawn[TIMES_CHART] = charts.grading_times([row["seconds"] for row in timed])
    for number, board in enumerate(summary.get("leaderboard", []), start=1):
        if board["values"]:
            chart = charts.value_histogram(board["values"], board["name"], board["spread"]["median"])
            drawn[LEADERBOARD_CHART.format(number=number)] = chart
    return drawn


def _hardest_first(summary: dict) -> list[dict]:
    return sorted(summary["tests"], key=lambda t: (t["pass_rate"], _number_key(t["number"])))


def _most_frequent_first(tests: Counter[tuple[str, str]]) -> list[tuple[str, int]]:
    ordered = sorted(tests.items(), key=lambda item: (-item[1], _number_key(item[0][0])))
    return [(numbered_name(number, name), count) for (number, name), count in ordered]


def _number_key(number: str) -> tuple:
    """``"2.10"`` after ``"2.9"``; a part that is not a number sorts before the numbers."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in str(number).split("."))


def _timed(summary: dict) -> list[dict]:
    """The submissions that were graded (or tried to be), slowest first."""
    ran = [row for row in summary["submissions"] if row["status"] != UNUSABLE]
    return sorted(ran, key=lambda row: (-row["seconds"], row["id"]))


def _names(row: dict) -> str:
    return "; ".join(person["name"] for person in row["submitters"] if person.get("name"))


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _status(status: str) -> str:
    return f'<span class="status-{escape(status)}">{escape(status)}</span>'


def _header(summary: dict) -> str:
    counts = summary["counts"]
    by_status = ", ".join(f"{int(counts[status])} {_status(status)}" for status in gradebook.STATUSES)
    lines = [f"<li>{int(counts['submissions'])} submissions: {by_status}.</li>"]
    if summary["score"]:
        spread = summary["score"]
        lines.append(
            f"<li>Score of the graded submissions, out of {_points(summary['max_score'])}: "
            f"mean {_points(round(spread['mean'], 2))}, median {_points(round(spread['median'], 2))} "
            f"(lowest {_points(spread['min'])}, highest {_points(spread['max'])}).</li>"
        )
    times = summary["timings"]["seconds_per_submission"]
    if times:
        lines.append(f"<li>Grading time per submission: mean {times['mean']:.1f} s, longest {times['max']:.1f} s.</li>")
    shard = summary["shard"]
    if shard["count"] > 1:
        lines.append(
            f"<li>Only shard {int(shard['index'])}/{int(shard['count'])} of a class of "
            f"{int(summary['class']['submissions'])} submissions; merge the shards (autograder merge) "
            "for the whole class.</li>"
        )
    return "<ul>\n" + "\n".join(lines) + "\n</ul>"


def _scores_section(charts: dict[str, bytes]) -> str:
    if SCORES_CHART not in charts:
        return _section("Scores", '<p class="note">No submission was graded: there are no scores to show.</p>')
    return _section("Scores", _figure(charts[SCORES_CHART], "Histogram of the scores of the graded submissions"))


def _tests_section(charts: dict[str, bytes]) -> str:
    if PASS_RATES_CHART not in charts:
        return _section("Tests", '<p class="note">No submission was graded: no test has a pass rate.</p>')
    caption = "Share of the graded submissions that passed each test, least passed first"
    return _section("Tests", _figure(charts[PASS_RATES_CHART], caption))


def _mistakes_section(mistakes: list[Mistake], charts: dict[str, bytes]) -> str:
    if not mistakes:
        return _section("Diagnosed mistakes", '<p class="note">No failed test was diagnosed with a likely cause.</p>')
    rows = [
        [
            _cell(m.explanation),
            _cell(m.kind),
            _number_cell(m.occurrences),
            _number_cell(m.submissions),
            _lines_cell([f"{test} ({count})" for test, count in m.tests]),
        ]
        for m in mistakes
    ]
    table = _table(["likely cause", "kind", "failed tests", "submissions", "in tests (failed tests)"], rows)
    caption = f"The {min(len(mistakes), MISTAKES_CHARTED)} most frequent likely causes of failed tests"
    intro = (
        '<p class="note">The mistakes diagnosed in failed tests (the "Likely cause" of their messages), '
        "most frequent first, each with the pattern that recognised it.</p>"
    )
    return _section("Diagnosed mistakes", intro + table + _figure(charts[MISTAKES_CHART], caption))


def _timings_section(summary: dict, charts: dict[str, bytes]) -> str:
    timed = _timed(summary)
    if not timed:
        return _section("Grading time", '<p class="note">No submission was graded: there are no grading times.</p>')
    rows = [
        [
            _cell(row["id"]),
            _cell(_names(row)),
            _status_cell(row["status"]),
            _number_cell(_points(row["score"])),
            _number_cell(f"{row['seconds']:.1f}"),
        ]
        for row in timed[:SLOWEST_LISTED]
    ]
    table = _table(["submission", "names", "status", "score", "seconds"], rows)
    heading = f"<h3>The {len(rows)} slowest submissions</h3>"
    chart = _figure(charts[TIMES_CHART], "Histogram of the grading time of each submission")
    return _section("Grading time", heading + table + chart)


def _not_graded_section(summary: dict) -> str:
    problems = [row for row in summary["submissions"] if row["status"] in (UNUSABLE, GRADER_ERROR)]
    if not problems:
        return _section("Not graded", '<p class="note">Every submission was graded.</p>')
    rows = [
        [_cell(row["id"]), _cell(_names(row)), _status_cell(row["status"]), _cell(row["reason"])] for row in problems
    ]
    return _section("Not graded", _table(["submission", "names", "status", "reason"], rows))


def _section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


def _figure(png: bytes, caption: str) -> str:
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f'<figure><img src="{source}" alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption></figure>'


def _table(headings: list[str], rows: list[list[str]]) -> str:
    """An HTML table; each row is a list of ``<td>`` elements (made by the ``_*cell`` helpers)."""
    head = "".join(f"<th>{escape(heading)}</th>" for heading in headings)
    body = "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _cell(text: str) -> str:
    return f"<td>{escape(text)}</td>"


def _lines_cell(lines: list[str]) -> str:
    return "<td>" + "<br>".join(escape(line) for line in lines) + "</td>"


def _number_cell(value: object) -> str:
    return f'<td class="number">{escape(str(value))}</td>'


def _status_cell(status: str) -> str:
    return f"<td>{_status(status)}</td>"


def _leaderboard_section(summary: dict, charts: dict[str, bytes]) -> str:
    boards = summary.get("leaderboard", [])
    if not boards:
        return _section(
            "Leaderboard", '<p class="note">The assignment has no leaderboard, or no submission measured one.</p>'
        )
    parts = []
    for number, board in enumerate(boards, start=1):
        better = "higher is better" if board["order"] == "desc" else "lower is better"
        spread = board["spread"]
        if spread is None:
            parts.append(f'<h3>{escape(board["name"])}</h3><p class="note">No numeric value measured ({better}).</p>')
            continue
        figures = (
            f"{len(board['values'])} submissions ({better}): median {spread['median']:.4g}, mean {spread['mean']:.4g}, "
            f"lowest {spread['min']:.4g}, highest {spread['max']:.4g}."
        )
        chart = _figure(charts[LEADERBOARD_CHART.format(number=number)], f"Histogram of {board['name']}")
        parts.append(f"<h3>{escape(board['name'])}</h3><p>{escape(figures)}</p>{chart}")
    return _section("Leaderboard", "\n".join(parts))


SIMILARITY_HINT = (
    "Similarity is a hint for a person to look at, not a verdict: short functions written alike, help "
    "from the same lecture notes or tutor, or an honest group can all look similar. Read both submissions "
    "before concluding anything. Code of the student template (stubs, docstrings, provided code) and "
    "code that many students wrote alike are left out of the comparison."
)


def _similarity_section(summary: dict, similarity: dict | None) -> str:
    heading = "Similar submissions"
    if similarity is None:
        return _section(heading, '<p class="note">No similarity was computed; run autograder similarity DIR.</p>')
    threshold = similarity["settings"]["threshold"]
    names = {row["id"]: _names(row) for row in summary["submissions"]}
    intro = (
        f'<p class="note">{escape(SIMILARITY_HINT)}</p>'
        f"<p>{len(similarity['compared'])} submissions compared function by function; "
        f"{int(similarity['flagged'])} pair(s) share at least {threshold:.0%} of their code.</p>"
    )
    blocks = [intro]
    if similarity["pairs"]:
        rows = [
            [
                _cell(pair["a"]),
                _cell(names.get(pair["a"], "")),
                _cell(pair["b"]),
                _cell(names.get(pair["b"], "")),
                _number_cell(f"{pair['similarity']:.0%}"),
            ]
            for pair in similarity["pairs"]
        ]
        blocks.append(_table(["submission", "names", "submission", "names", "similarity"], rows))
        blocks += [_pair_block(pair) for pair in similarity["pairs"]]
        if similarity["flagged"] > len(similarity["pairs"]):
            blocks.append(
                f'<p class="note">{int(similarity["flagged"]) - len(similarity["pairs"])} more pair(s) '
                "above the threshold are not shown (pairs_listed in assignment.toml).</p>"
            )
    if similarity["skipped"]:
        rows = [[_cell(i), _cell(reason)] for i, reason in sorted(similarity["skipped"].items())]
        blocks.append("<h3>Not compared</h3>" + _table(["submission", "reason"], rows))
    if similarity["notes"]:
        rows = [[_cell(i), _lines_cell(notes)] for i, notes in sorted(similarity["notes"].items())]
        blocks.append("<h3>Files left out of the comparison</h3>" + _table(["submission", "files"], rows))
    return _section(heading, "\n".join(blocks))


def _pair_block(pair: dict) -> str:
    """The units two submissions share the most code in, side by side, the shared code marked."""
    rows = []
    for function in pair["functions"][:FUNCTIONS_SHOWN]:
        sides = [
            f"<td><pre>{_highlighted(code, spans)}</pre></td>"
            for code, spans in zip(function["code"], function["spans"])
        ]
        label = (
            f"{function['unit']} ({function['similarity']:.0%}; lines {function['line'][0]} and {function['line'][1]})"
        )
        rows.append([_cell(label), *sides])
    heading = f"<h3>{escape(pair['a'])} and {escape(pair['b'])}: {pair['similarity']:.0%}</h3>"
    return heading + _table(["function", pair["a"], pair["b"]], rows)


def _highlighted(code: str, spans: list[list[int]]) -> str:
    """``code`` HTML-escaped, with the character ranges ``spans`` in ``<mark>``."""
    parts, cursor = [], 0
    for start, end in sorted(spans):
        start = max(start, cursor)
        if end <= start:
            continue
        parts += [escape(code[cursor:start]), f"<mark>{escape(code[start:end])}</mark>"]
        cursor = end
    parts.append(escape(code[cursor:]))
    return "".join(parts)
