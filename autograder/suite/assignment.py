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
    cpu_seconds: int = 120
    memory_mb: int = 1024
    file_size_mb: int = 16
    processes: int = 16
    suite_timeout_seconds: int = 600
    """Wall time of a whole grading run; tests without a verdict by then score 0."""


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
    raise AssignmentError(
        f"no assignments/ folder in {here} or above; run from a project folder or set {PROJECT_ENV}"
    )


def list_assignments(root: Path) -> list[str]:
    """Names of the assignments of a project, sorted."""
    return sorted(p.parent.name for p in (root / "assignments").glob("*/assignment.toml"))


def load(name: str | None = None, root: Path | None = None) -> Assignment:
    """Read assignment ``name`` of the project at ``root``; ``name`` may be omitted when the project
    has exactly one assignment."""
    root = root or find_project()
    names = list_assignments(root)
    if name is None:
        if len(names) != 1:
            raise AssignmentError(
                f"choose an assignment with --assignment; this project has {', '.join(names) or 'none'}"
            )
        name = names[0]
    if name not in names:
        raise AssignmentError(
            f"unknown assignment {name!r}; this project has {', '.join(names) or 'none'}"
        )
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
    return Assignment(
        name=name,
        title=raw.get("title", name),
        root=root,
        files=files,
        provided=tuple(raw.get("provided", ())),
        limits=limits,
        hidden_visibility=visibility,
        demo_mutant=raw.get("demo", {}).get("buggy_sample"),
    )
