"""Where assignments live and what their ``assignment.toml`` says.

An assignment ``NAME`` is defined by three folders of a project:

- ``assignments/NAME/``: ``assignment.toml``, the pytest suites under ``tests/`` (``public/`` and
  ``hidden/``), provided files such as ``data.py``, and the handout notebook;
- ``solutions/NAME/``: the reference solution, with ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers;
- ``student_template/NAME/``: the stubs generated from the solution.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROJECT_ENV = "AUTOGRADER_PROJECT"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class AssignmentError(Exception):
    """The assignment cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed worker process."""

    call_timeout_seconds: float = 10.0
    """Wall time of one call of a student function (a test's ``call_timeout`` marker may allow more)."""
    import_timeout_seconds: float = 20.0
    """Wall time of one import of a student module, its top level included (which may import
    matplotlib or scipy, seconds at half a CPU)."""
    cpu_seconds: int = 120
    memory_mb: int = 1024
    file_size_mb: int = 16
    processes: int = 16
    suite_timeout_seconds: int = 600
    """Wall time of a whole grading run; tests without a verdict by then score 0."""


LEADERBOARD_ORDERS = ("desc", "asc")


@dataclass(frozen=True)
class LeaderboardEntry:
    """One column of Gradescope's leaderboard (``[[leaderboard]]`` in ``assignment.toml``): the
    value the test ``test`` records through the ``leaderboard`` fixture of the engine's plugin."""

    name: str
    test: str
    """The node id of the test, relative to the suite folder: ``hidden/test_x.py::test_y``."""
    order: str = "desc"
    """``desc``: higher is better (Gradescope's default); ``asc``: lower is better."""


@dataclass(frozen=True)
class SimilaritySettings:
    """How ``autograder.classroom.similarity`` compares the submissions of a class (``[similarity]``)."""

    threshold: float = 0.6
    """Pairs at least this similar (0 to 1) are listed in the report."""
    noise_tokens: int = 25
    """Matches shorter than this many characters of normalised code are ignored (copydetect's k)."""
    guarantee_tokens: int = 30
    """Matches at least this long are always found (sets the winnowing window)."""
    common_submissions: int = 10
    """A fingerprint found in more submissions than this is code everyone writes, not a copy."""
    pairs_listed: int = 20
    """At most this many pairs are shown side by side in the report."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be within (0, 1], got {self.threshold}")
        if not 1 <= self.noise_tokens <= self.guarantee_tokens:
            raise ValueError("noise_tokens and guarantee_tokens must satisfy 1 <= noise_tokens <= guarantee_tokens")
        if self.common_submissions < 2 or self.pairs_listed < 0:
            raise ValueError("common_submissions must be at least 2 and pairs_listed at least 0")


@dataclass(frozen=True)
class Assignment:
    """One assignment of a project, as read from ``assignments/NAME/assignment.toml``."""

    name: str
    title: str
    root: Path
    """The project folder holding ``assignments/``, ``solutions/`` and ``student_template/``."""
    files: tuple[str, ...]
    """The files a student submits, e.g. ``("activations.py", ...)``."""
    provided: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    hidden_visibility: str = "after_published"
    demo_mutant: str | None = None
    """The mutant (``module.variant``) ``autograder demo`` grades as its buggy sample."""
    leaderboard: tuple[LeaderboardEntry, ...] = ()
    similarity: SimilaritySettings = field(default_factory=SimilaritySettings)

    @property
    def folder(self) -> Path:
        return self.root / "assignments" / self.name

    @property
    def tests(self) -> Path:
        return self.folder / "tests"

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / self.name

    @property
    def template(self) -> Path:
        return self.root / "student_template" / self.name

    @property
    def modules(self) -> tuple[str, ...]:
        """Importable module names of the submitted Python files (``activations``, ...)."""
        return tuple(f[:-3] for f in self.files if f.endswith(".py"))

    @property
    def provided_modules(self) -> tuple[str, ...]:
        """Importable module names of the provided Python files (``data``, ...)."""
        return tuple(f[:-3] for f in self.provided if f.endswith(".py"))


def find_project(start: Path | None = None) -> Path:
    """The project folder: ``$AUTOGRADER_PROJECT``, else the nearest ancestor of ``start`` (default
    the working directory) that has an ``assignments/`` folder."""
    if os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir():
            return folder
    raise AssignmentError(f"no assignments/ folder in {here} or above; run from a project folder or set {PROJECT_ENV}")


def list_assignments(root: Path) -> list[str]:
    """Names of the assignments of a project, sorted."""
    return sorted(p.parent.name for p in (root / "assignments").glob("*/assignment.toml"))


def load(name: str | None = None, root: Path | None = None) -> Assignment:
    """Read assignment ``name`` of the project at ``root``; ``name`` may be omitted when the project
    has exactly one assignment. A relative ``root`` is taken from the working directory now: the
    test runner and the worker run elsewhere."""
    root = root.resolve() if root else find_project()
    names = list_assignments(root)
    if name is None:
        if len(names) != 1:
            raise AssignmentError(
                f"choose an assignment with --assignment; this project has {', '.join(names) or 'none'}"
            )
        name = names[0]
    if name not in names:
        raise AssignmentError(f"unknown assignment {name!r}; this project has {', '.join(names) or 'none'}")
    path = root / "assignments" / name / "assignment.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise AssignmentError(f"{path}: {err}") from None
    try:
        limits = Limits(**raw.get("limits", {}))
    except TypeError as err:
        raise AssignmentError(f"{path} [limits]: {err}") from None
    visibility = raw.get("grading", {}).get("hidden_visibility", "after_published")
    if visibility not in VISIBILITIES:
        raise AssignmentError(f"{path}: hidden_visibility must be one of {', '.join(VISIBILITIES)}")
    files = tuple(raw.get("files", ()))
    if not files or any("/" in f or f.startswith(".") for f in files):
        raise AssignmentError(f"{path}: 'files' must list plain file names a student submits")
    try:
        similarity = SimilaritySettings(**raw.get("similarity", {}))
    except (TypeError, ValueError) as err:
        raise AssignmentError(f"{path} [similarity]: {err}") from None
    return Assignment(
        name=name,
        title=raw.get("title", name),
        root=root,
        files=files,
        provided=tuple(raw.get("provided", ())),
        limits=limits,
        hidden_visibility=visibility,
        demo_mutant=raw.get("demo", {}).get("buggy_sample"),
        leaderboard=leaderboard_entries(raw.get("leaderboard", []), path),
        similarity=similarity,
    )


def leaderboard_entries(raw: object, path: Path) -> tuple[LeaderboardEntry, ...]:
    """The ``[[leaderboard]]`` tables of ``assignment.toml``, checked: a name, a test and an order each."""
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise AssignmentError(f"{path}: leaderboard must be a list of [[leaderboard]] tables")
    entries = []
    for number, table in enumerate(raw, start=1):
        where = f"{path} [[leaderboard]] {number}"
        try:
            entry = LeaderboardEntry(**table)
        except TypeError as err:
            raise AssignmentError(f"{where}: {err}; give name, test and optionally order") from None
        if not isinstance(entry.name, str) or not entry.name.strip():
            raise AssignmentError(f"{where}: name must be non-empty text")
        if not isinstance(entry.test, str) or "::" not in entry.test:
            raise AssignmentError(f"{where}: test must be a node id such as hidden/test_x.py::test_y")
        if entry.order not in LEADERBOARD_ORDERS:
            raise AssignmentError(f"{where}: order must be {' or '.join(LEADERBOARD_ORDERS)}, got {entry.order!r}")
        entries.append(entry)
    for key in ("name", "test"):
        values = [getattr(entry, key) for entry in entries]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise AssignmentError(f"{path}: two leaderboard entries have the {key} {repeated[0]!r}")
    return tuple(entries)
