"""Submission intake: from a folder, a zip or single files to the few files an assignment lists.

Only the files the assignment names are taken, wherever they sit in the submission (the
shallowest copy wins); everything else is listed as ignored and never copied, so a student's
``conftest.py``, ``pytest.ini``, ``sitecustomize.py``, ``*.pth`` or ``numpy.py`` has no effect.
Zip entries with absolute or ``..`` paths and symbolic links are refused; files are read with a
size cap. Syntax errors are found here (``compile`` runs no code) so the results can name them.

A Jupyter notebook stands in for the ``.py`` files (``notebook_submission``): given as the path
itself, or found in a folder or zip that holds none of the assignment's ``.py`` files (then the
shallowest notebook is read, the first by name among equals). When a ``.py`` file of the
assignment is there, the ``.py`` files win and notebooks are listed as ignored.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.grading import notebook_submission
from autograder.suite.assignment import Assignment

MAX_FILE_BYTES = 1 << 20
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}


Candidate = tuple[PurePosixPath, Callable[[], bytes] | None, int]
"""A file found in a submission: its relative path, a reader of its bytes (None for a symbolic
link, which is never followed) and its size."""


class IntakeError(Exception):
    """The submission cannot be used at all; the one-line message says what to do."""


@dataclass
class Submission:
    """The files taken from a submission, and what was left out and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    """File name (as the assignment lists it) -> content."""
    ignored: list[str] = field(default_factory=list)
    """Human-readable notes on what was not taken, e.g. ``conftest.py (not part of the assignment)``."""
    missing: list[str] = field(default_factory=list)
    syntax_errors: dict[str, str] = field(default_factory=dict)
    """File name -> student-facing message with the line."""
    notes: list[str] = field(default_factory=list)
    """Student-facing Markdown lines on how the files were obtained, e.g. which functions were
    found in a notebook and where."""

    def digest_files(self, digest: hashlib._Hash) -> hashlib._Hash:
        """``digest`` (e.g. ``hashlib.sha256()``) updated with the files taken, name and content, in
        name order: what a grade's seed and a batch's fingerprint are derived from."""
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name] + b"\0")
        return digest


def syntax_error(name: str, source: bytes) -> str | None:
    """A one-line message if ``source`` does not compile, else None. Runs no student code."""
    try:
        compile(source, name, "exec", dont_inherit=True)
    except SyntaxError as err:
        text = (err.text or "").strip()
        where = f"{name} line {err.lineno}" if err.lineno else name
        return f"{where}: {type(err).__name__}: {err.msg}" + (f" -> {text}" if text else "")
    except (ValueError, MemoryError, RecursionError) as err:
        return f"{name}: cannot be compiled ({type(err).__name__}: {err})"
    return None


def candidates_from_folder(folder: Path) -> list[Candidate]:
    """(relative path, reader, size) of every regular file under ``folder``; symlinks are not followed."""
    found = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        for name in sorted(names):
            path = Path(current) / name
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found.append((relative, None, -1))
            elif stat.S_ISREG(info.st_mode):
                found.append((relative, path.read_bytes, info.st_size))
    return found


def candidates_from_zip(archive: zipfile.ZipFile) -> tuple[list[Candidate], list[str]]:
    """Like ``candidates_from_folder`` for a zip; also the refused entries."""
    found, refused = [], []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.filename.replace("\\", "/")
        relative = PurePosixPath(name)
        if name.startswith("/") or relative.is_absolute() or ".." in relative.parts or ":" in relative.parts[0]:
            refused.append(f"{info.filename} (refused: absolute or '..' path)")
            continue
        if any(part in SKIPPED_FOLDERS for part in relative.parts):
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            found.append((relative, None, -1))
            continue
        found.append((relative, lambda info=info: archive.read(info), info.file_size))
    return found, refused


def size_limit(relative: PurePosixPath) -> int:
    """The most bytes read of a file: a notebook carries its outputs (plots), so it may be larger."""
    return notebook_submission.MAX_NOTEBOOK_BYTES if relative.suffix.lower() == ".ipynb" else MAX_FILE_BYTES


def read_candidate(relative: PurePosixPath, reader, size: int, submission: Submission) -> bytes | None:
    """The content of one candidate file, or None (and a note in ``submission.ignored``) when it
    is a symbolic link or larger than its ``size_limit``."""
    limit = size_limit(relative)
    if reader is None:
        submission.ignored.append(f"{relative} (a symbolic link; submit the file itself)")
        return None
    if size <= limit:
        content = reader()
        if len(content) <= limit:
            return content
    submission.ignored.append(f"{relative} (larger than {limit >> 20} MB)")
    return None


def take(name: str, content: bytes, submission: Submission) -> None:
    """Keep one of the assignment's files, noting a syntax error of a Python file."""
    submission.files[name] = content
    if name.endswith(".py") and (message := syntax_error(name, content)):
        submission.syntax_errors[name] = message


def take_notebook(label: str, content: bytes, assignment: Assignment, submission: Submission) -> None:
    """Take the assignment's modules rebuilt from a notebook; IntakeError if it is not a notebook."""
    try:
        rebuilt = notebook_submission.extract(content, assignment)
    except notebook_submission.NotebookError as err:
        raise IntakeError(f"{label}: {err}") from None
    for name, source in rebuilt.files.items():
        take(name, source, submission)
    submission.notes.extend(rebuilt.notes(label))


def is_notebook(relative: PurePosixPath, assignment: Assignment) -> bool:
    """A Jupyter notebook that is not itself one of the files the assignment lists."""
    return relative.suffix.lower() == ".ipynb" and relative.name not in assignment.files


def select(candidates: list[Candidate], assignment: Assignment, submission: Submission) -> None:
    """Take the assignment's files from ``candidates``, the shallowest copy of each name; a
    notebook stands in for the ``.py`` files when none of them is there."""
    wanted = set(assignment.files)
    ordered = sorted(candidates, key=lambda c: (len(c[0].parts), str(c[0])))
    notebooks = [c for c in ordered if is_notebook(c[0], assignment)]
    for relative, reader, size in (c for c in ordered if not is_notebook(c[0], assignment)):
        name = relative.name
        if name not in wanted:
            submission.ignored.append(f"{relative} (not part of the assignment)")
        elif name in submission.files:
            submission.ignored.append(f"{relative} (another {name} was taken)")
        elif (content := read_candidate(relative, reader, size, submission)) is not None:
            take(name, content, submission)
    if any(name.endswith(".py") for name in submission.files):
        reason = "the .py files were submitted, so notebooks are not read"
        submission.ignored.extend(f"{relative} ({reason})" for relative, _, _ in notebooks)
        return
    chosen = None
    for relative, reader, size in notebooks:
        if chosen is not None:
            submission.ignored.append(f"{relative} (the notebook {chosen} was read)")
        elif (content := read_candidate(relative, reader, size, submission)) is not None:
            take_notebook(str(relative), content, assignment, submission)
            chosen = relative


def collect(path: Path, assignment: Assignment) -> Submission:
    """Read a submission: a folder, a zip, a notebook, or one of the assignment's files.

    Raises IntakeError when the path cannot be used at all (missing, unreadable zip, not a notebook).
    """
    submission = Submission()
    if not path.exists():
        raise IntakeError(f"{path} does not exist; give a folder, a zip or a file of the submission")
    if path.is_dir():
        select(candidates_from_folder(path), assignment, submission)
    elif path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                candidates, submission.ignored = candidates_from_zip(archive)
                select(candidates, assignment, submission)
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise IntakeError(f"{path} is not a readable zip file ({err}); zip the files again") from None
    elif is_notebook(PurePosixPath(path.name), assignment):
        if path.stat().st_size > notebook_submission.MAX_NOTEBOOK_BYTES:
            raise IntakeError(f"{path} is larger than {notebook_submission.MAX_NOTEBOOK_BYTES >> 20} MB")
        take_notebook(path.name, path.read_bytes(), assignment, submission)
    elif path.name in assignment.files:
        select([(PurePosixPath(path.name), path.read_bytes, path.stat().st_size)], assignment, submission)
    else:
        raise IntakeError(
            f"{path} is not a folder, a zip, a notebook or one of the assignment's files "
            f"({', '.join(assignment.files)})"
        )
    submission.missing = [f for f in assignment.files if f not in submission.files]
    return submission
