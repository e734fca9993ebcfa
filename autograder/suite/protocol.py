"""What the grading process and the test-runner process tell each other, through files in a
private run folder.

The grading process writes ``plan.json`` (what to grade and how); the test runner (pytest with
the engine's plugin) writes ``manifest.json`` (every collected test and its points, written before
any test runs) and appends one line per finished test to ``verdicts.jsonl``. The grading process
trusts the manifest for the maximum score: a test of the manifest without a verdict scores 0.
At its end the runner writes ``timings.json``: when each of its phases ended, for profiles.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

PLAN = "plan.json"
MANIFEST = "manifest.json"
VERDICTS = "verdicts.jsonl"
COLLECTION_ERRORS = "collection-errors.jsonl"
SETUP_PROBLEM = "setup-problem.txt"
"""Written by the test runner when no worker can start: one line that names the fix."""
TIMINGS = "timings.json"
"""Written by the test runner at its end: ``{event: time.monotonic() when it happened}`` and the
worker's counts (see ``autograder.grading.test_runner.GradingRun.timings``)."""


@dataclass(frozen=True)
class RunPlan:
    """What one test-runner process grades."""

    project: str
    """The project folder (holds ``assignments/`` and ``solutions/``)."""
    assignment: str
    scratch: str
    """The folder with the student's files and the provided files; the worker's working folder."""
    seed: int
    modules: list[str]
    """Importable student modules, e.g. ``["activations", "layers"]``."""
    missing: dict[str, str] = field(default_factory=dict)
    """Module -> student-facing message, for files that were not submitted."""
    uid: int | None = None
    """The unprivileged uid student code runs as (root only), else None."""
    hidden_paths: list[str] = field(default_factory=list)
    """Paths the worker must not be able to read."""
    concealed_paths: list[str] = field(default_factory=list)
    """Folders the worker sees empty but for what it needs inside them (under bubblewrap)."""
    confinement: str = "none"
    """The ``autograder.sandbox.isolation.Confinement`` level the grading process chose."""
    stop_at_first_failure: bool = False
    """End the run at its first failed test (pytest's ``--maxfail=1``), the rest without a verdict."""

    def write(self, run_dir: Path) -> None:
        (run_dir / PLAN).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, run_dir: Path) -> "RunPlan":
        return cls(**json.loads((run_dir / PLAN).read_text()))


@dataclass(frozen=True)
class ManifestEntry:
    """One collected test."""

    nodeid: str
    name: str
    number: str
    max_score: float
    visibility: str
    partial: bool = False


@dataclass(frozen=True)
class Verdict:
    """How one test ended.

    ``status`` is ``passed`` or ``failed``; ``fraction`` is the share of the points earned (1 for
    a pass, the declared partial credit or 0 for a failure); ``grader_error`` marks a failure that
    is the grader's fault, not the student's. ``findings`` say what failed, as data: one
    ``{"kind": ..., "diagnosis": {...}}`` per failed check (``errors.Finding.as_data``), the
    diagnosis only where a known mistake explains the failure; a student error gives its kind
    (``{"kind": "exception"}``).
    """

    nodeid: str
    status: str
    fraction: float
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    grader_error: bool = False
    leaderboard: dict | None = None
    findings: list[dict] = field(default_factory=list)


def write_manifest(run_dir: Path, entries: list[ManifestEntry]) -> None:
    (run_dir / MANIFEST).write_text(json.dumps([vars(e) for e in entries], indent=1))  # flat records


def read_manifest(run_dir: Path) -> list[ManifestEntry] | None:
    """The manifest, or None when the runner never got as far as writing it."""
    path = run_dir / MANIFEST
    if not path.exists():
        return None
    return [ManifestEntry(**e) for e in json.loads(path.read_text())]


def append_line(path: Path, record: dict) -> None:
    """Append one JSON record as a line and flush it to disk at once, so that it survives a
    crash of the process that writes it."""
    with path.open("a") as stream:
        stream.write(json.dumps(record) + "\n")


def read_lines(path: Path) -> list[dict]:
    """Records appended with ``append_line``; a truncated last line (a crash mid-write) is dropped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def read_verdicts(run_dir: Path) -> dict[str, Verdict]:
    """Verdicts by node id (the last one wins if a test reported twice)."""
    return {v["nodeid"]: Verdict(**v) for v in read_lines(run_dir / VERDICTS)}


def write_timings(run_dir: Path, timings: dict[str, float]) -> None:
    (run_dir / TIMINGS).write_text(json.dumps(timings))


def read_timings(run_dir: Path) -> dict[str, float]:
    """The runner's timings, or ``{}`` when it ended before writing them (or wrote nonsense)."""
    try:
        timings = json.loads((run_dir / TIMINGS).read_text())
    except (OSError, ValueError):
        return {}
    if type(timings) is not dict:
        return {}
    return {key: value for key, value in timings.items() if type(key) is str and type(value) in (int, float)}
