"""Deterministic zip files: the same files give the same bytes, whenever they are built.

Entries are sorted by name, carry a fixed timestamp and Unix permissions (0644, or 0755 for the
executables), and are compressed with a fixed level; folders are implied by the entry names.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.atomic import write_atomically

TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""The earliest time a zip entry can hold."""
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
BYTECODE_CACHE = "__pycache__"
_UNIX = 3
_REGULAR_FILE = 0o100000


@dataclass
class Archive:
    """The files of a zip: name (a relative POSIX path) -> content."""

    files: dict[str, bytes] = field(default_factory=dict)
    executables: set[str] = field(default_factory=set)

    def add(self, name: str, content: bytes | str, *, executable: bool = False) -> None:
        """Add one file (text is stored as UTF-8); a name can be added once only."""
        if name in self.files:
            raise ValueError(f"{name} is added to the archive twice")
        self.files[name] = content.encode() if isinstance(content, str) else content
        if executable:
            self.executables.add(name)

    def add_folder(self, folder: Path, prefix: str) -> None:
        """Every file under ``folder`` (as ``folder_files`` lists them) as ``prefix/<relative path>``."""
        for relative, content in folder_files(folder).items():
            self.add(f"{prefix}/{relative}", content)

    def write(self, path: Path) -> None:
        """Write the zip atomically (a reader never sees a half-written file)."""
        content = io.BytesIO()
        with zipfile.ZipFile(content, "w") as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=TIMESTAMP)
                info.create_system = _UNIX
                mode = EXECUTABLE_MODE if name in self.executables else FILE_MODE
                info.external_attr = (_REGULAR_FILE | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, self.files[name], compresslevel=9)
        write_atomically(path, content.getvalue())


def folder_files(folder: Path) -> dict[str, bytes]:
    """Relative POSIX path -> content of every regular file under ``folder``, sorted, skipping
    ``__pycache__``, hidden files and folders (``.ipynb_checkpoints``, ...) and ``*.pyc``."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part == BYTECODE_CACHE or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and not path.is_symlink() and path.suffix != ".pyc":
            found[relative.as_posix()] = path.read_bytes()
    return found
