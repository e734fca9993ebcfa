"""The submissions of a whole class, and who made each: the input of ``autograder batch``.

Two kinds of input are understood:

- **A folder of submissions**: every sub-folder and every ``*.zip`` directly inside it is one
  submission, whose id is the folder's name or the zip's name without ``.zip``. Hidden entries are
  skipped; other files are listed as ignored. Nobody's name is known.
- **A Gradescope "Export Submissions" zip, or its unzipped folder**: ``submission_metadata.yml``
  (at the top, or in the one folder at the top, ``assignment_<id>_export/``) maps each
  ``submission_<id>`` to its ``:submitters`` (``:name``, ``:sid``, ``:email``; a group submission
  lists several), and the folder ``submission_<id>/`` next to it holds the submitted files. The id
  of a submission is ``submission_<id>``; a numeric ``<id>`` is Gradescope's submission id. A submission the metadata lists but whose folder is
  missing is kept, with the problem noted; a ``submission_<id>/`` folder the metadata does not
  list is kept without names. A zipped export is extracted into a temporary folder first: only
  regular files with safe paths (as ``intake`` reads zips), and a file over intake's size cap is
  stood in for by an empty file just over the cap, so that grading reports it as too large.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from autograder.grading import intake

METADATA = "submission_metadata.yml"
SUBMISSION_FOLDER = re.compile(r"submission_[0-9A-Za-z_-]+")
GRADESCOPE_ID = re.compile(r"submission_([0-9]{1,18})")
IDENTITY_FIELDS = ("name", "sid", "email")


class RosterError(Exception):
    """The class's submissions cannot be read at all; the one-line message says what to fix."""


@dataclass(frozen=True)
class Submitter:
    """One student of a submission, as the Gradescope export names them ("" when unknown)."""

    name: str = ""
    sid: str = ""
    email: str = ""


@dataclass(frozen=True)
class Entry:
    """One submission of the class."""

    id: str
    """Unique in the class; also the name of its folder in the batch output."""
    path: Path
    """The submission's folder or zip."""
    submitters: tuple[Submitter, ...] = ()
    problem: str = ""
    """Why the submission cannot be graded although it is listed (e.g. its folder is missing)."""
    gradescope_id: int | None = None
    """The Gradescope submission id (from ``submission_<id>`` in an export), else None."""


@dataclass
class Roster:
    """Every submission found, sorted by id, and what was not taken."""

    root: Path
    """The folder holding the submissions (for a zipped export, the temporary extraction)."""
    entries: list[Entry] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    export: bool = False
    """Whether the input is a Gradescope export."""


def identity_text(value: object, where: str) -> str:
    """A name, SID or email as text: YAML may give a number for an unquoted SID, or null."""
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise RosterError(f"{where} should be text, not {type(value).__name__}")


def read_metadata(path: Path) -> dict[str, tuple[Submitter, ...]]:
    """``submission_<id>`` -> its submitters, from Gradescope's ``submission_metadata.yml``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RosterError(f"{path.name} is not readable YAML ({first})") from None
    if not isinstance(data, dict):
        raise RosterError(f"{path.name} should map submission_<id> to its metadata")
    found = {}
    for key, value in data.items():
        if not isinstance(key, str) or not SUBMISSION_FOLDER.fullmatch(key):
            raise RosterError(f"{path.name}: unexpected top-level key {key!r}; expected submission_<id>")
        people = value.get(":submitters") if isinstance(value, dict) else None
        if not isinstance(people, list):
            raise RosterError(f"{path.name}: {key} has no :submitters list")
        submitters = []
        for number, person in enumerate(people, start=1):
            where = f"{path.name}: {key}, submitter {number}"
            if not isinstance(person, dict):
                raise RosterError(f"{where} should have :name, :sid and :email")
            fields = {name: identity_text(person.get(f":{name}"), f"{where} :{name}") for name in IDENTITY_FIELDS}
            submitters.append(Submitter(**fields))
        found[key] = tuple(submitters)
    return found


def visible_children(folder: Path) -> list[Path]:
    """The entries of ``folder`` a person put there: no hidden names, no ``__MACOSX`` and the like."""
    return sorted(
        child
        for child in folder.iterdir()
        if not child.name.startswith(".") and child.name not in intake.SKIPPED_FOLDERS
    )


def export_root(folder: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml``: ``folder`` itself or its one sub-folder."""
    if (folder / METADATA).is_file():
        return folder
    children = visible_children(folder)
    if len(children) == 1 and (children[0] / METADATA).is_file():
        return children[0]
    return None


def read_export(root: Path) -> Roster:
    """The submissions of an unzipped export whose metadata is in ``root``."""
    metadata = read_metadata(root / METADATA)
    roster = Roster(root=root, export=True)
    folders = {}
    for child in visible_children(root):
        if child.is_dir() and SUBMISSION_FOLDER.fullmatch(child.name):
            folders[child.name] = child
        elif child.name != METADATA:
            roster.ignored.append(f"{child.name} (not a submission_<id> folder)")
    for key in sorted(set(metadata) | set(folders)):
        problem = "" if key in folders else f"listed in {METADATA} but the export has no folder {key}"
        number = GRADESCOPE_ID.fullmatch(key)
        gradescope_id = int(number[1]) if number else None
        roster.entries.append(Entry(key, root / key, metadata.get(key, ()), problem, gradescope_id))
    return roster


def read_folder(folder: Path) -> Roster:
    """The submissions of a folder with one sub-folder or zip per student."""
    roster = Roster(root=folder)
    taken: dict[str, Path] = {}
    for child in visible_children(folder):
        if child.is_dir() or child.suffix.lower() == ".zip":
            key = child.name if child.is_dir() else child.stem
            if key in taken:
                raise RosterError(f"two submissions have the id {key!r}: {taken[key].name} and {child.name}")
            taken[key] = child
            roster.entries.append(Entry(key, child))
        else:
            roster.ignored.append(f"{child.name} (neither a folder nor a zip)")
    roster.entries.sort(key=lambda entry: entry.id)
    return roster


def extract(archive: zipfile.ZipFile, target: Path) -> None:
    """Write the regular files of ``archive`` with safe paths under ``target``; see the module doc."""
    candidates, _refused = intake.candidates_from_zip(archive)
    for relative, reader, size in candidates:
        if reader is None:  # a symbolic link
            continue
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        if size > intake.size_limit(relative):
            with path.open("wb") as stream:
                stream.truncate(intake.size_limit(relative) + 1)
        else:
            path.write_bytes(reader())


def metadata_member(archive: zipfile.ZipFile) -> PurePosixPath | None:
    """Where ``submission_metadata.yml`` sits in the zip: at the top or one folder down."""
    for info in archive.infolist():
        member = PurePosixPath(info.filename)
        unsafe = member.is_absolute() or {"..", *intake.SKIPPED_FOLDERS} & set(member.parts)
        if member.name == METADATA and len(member.parts) <= 2 and not unsafe:
            return member
    return None


@contextlib.contextmanager
def open_roster(path: Path) -> Iterator[Roster]:
    """The class at ``path`` (see the module doc); a zipped export is extracted for the duration
    of the ``with`` block. Raises ``RosterError`` when ``path`` cannot be used."""
    if not path.exists():
        raise RosterError(f"{path} does not exist; give a folder of submissions or a Gradescope export")
    if path.is_dir():
        root = export_root(path)
        roster = read_export(root) if root else read_folder(path)
        if not roster.entries:
            raise RosterError(
                f"no submissions in {path}: expected one sub-folder or zip per student, or a Gradescope export"
            )
        yield roster
        return
    if path.suffix.lower() != ".zip":
        raise RosterError(f"{path} is neither a folder nor a zip; give a folder of submissions or a Gradescope export")
    with tempfile.TemporaryDirectory(prefix="autograder-export-") as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                member = metadata_member(archive)
                if member is None:
                    raise RosterError(
                        f"{path} has no {METADATA}, so it is not a Gradescope export; unzip it and give the folder"
                    )
                extract(archive, Path(tmp))
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise RosterError(f"{path} is not a readable zip file ({err})") from None
        roster = read_export(Path(tmp).joinpath(*member.parent.parts))
        if not roster.entries:
            raise RosterError(f"{path} is a Gradescope export without submissions")
        yield roster
