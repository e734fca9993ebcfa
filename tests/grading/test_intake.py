"""Submission intake: only the assignment's files are taken, from folders, zips or single files."""

import os
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.grading.intake import MAX_FILE_BYTES, IntakeError, collect
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_folder_takes_listed_files_and_ignores_the_rest(tmp_path, arith):
    write(
        tmp_path,
        {
            "arith.py": "x = 1\n",
            "vectors.py": "y = 2\n",
            "conftest.py": "",
            "numpy.py": "",
            "pytest.ini": "",
            "sitecustomize.py": "",
            "evil.pth": "",
        },
    )
    sub = collect(tmp_path, arith)
    assert sub.files == {"arith.py": b"x = 1\n", "vectors.py": b"y = 2\n"}
    assert sub.missing == []
    ignored = " ".join(sub.ignored)
    for name in ("conftest.py", "numpy.py", "pytest.ini", "sitecustomize.py", "evil.pth"):
        assert name in ignored


def test_files_in_a_subfolder_are_found_and_the_shallowest_copy_wins(tmp_path, arith):
    write(tmp_path, {"hw/arith.py": "a = 1\n", "hw/old/arith.py": "a = 2\n"})
    sub = collect(tmp_path, arith)
    assert sub.files["arith.py"] == b"a = 1\n"
    assert any("hw/old/arith.py" in note and "another" in note for note in sub.ignored)
    assert sub.missing == ["vectors.py"]


def test_symlinks_are_not_followed(tmp_path, arith):
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    folder = tmp_path / "sub"
    folder.mkdir()
    os.symlink(secret, folder / "arith.py")
    sub = collect(folder, arith)
    assert "arith.py" not in sub.files
    assert any("symbolic link" in note for note in sub.ignored)


def test_zip_with_a_folder_inside(tmp_path, arith):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("homework/arith.py", "def add(a, b):\n    return a + b\n")
        z.writestr("homework/vectors.py", "")
        z.writestr("__MACOSX/homework/._arith.py", "junk")
    sub = collect(archive, arith)
    assert set(sub.files) == {"arith.py", "vectors.py"}
    assert not any("MACOSX" in note for note in sub.ignored)


def test_zip_refuses_absolute_and_parent_paths_and_symlinks(tmp_path, arith):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../arith.py", "bad = 1\n")
        z.writestr("/abs/vectors.py", "bad = 2\n")
        link = zipfile.ZipInfo("vectors.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        z.writestr("arith.py", "good = 1\n")
    sub = collect(archive, arith)
    assert sub.files == {"arith.py": b"good = 1\n"}
    notes = " ".join(sub.ignored)
    assert "../arith.py (refused" in notes and "/abs/vectors.py (refused" in notes
    assert "symbolic link" in notes
    assert sub.missing == ["vectors.py"]


def test_unreadable_zip_is_an_intake_error(tmp_path, arith):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(IntakeError, match="not a readable zip"):
        collect(archive, arith)


def test_missing_path_and_notebook_and_unknown_file_are_intake_errors(tmp_path, arith):
    with pytest.raises(IntakeError, match="does not exist"):
        collect(tmp_path / "nope", arith)
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text("{}")
    with pytest.raises(IntakeError, match="hw.ipynb: not a Jupyter notebook"):
        collect(notebook, arith)
    other = tmp_path / "other.py"
    other.write_text("")
    with pytest.raises(IntakeError, match="not a folder, a zip, a notebook or one of"):
        collect(other, arith)


def test_a_single_file_of_the_assignment(tmp_path, arith):
    write(tmp_path, {"arith.py": "z = 3\n"})
    sub = collect(tmp_path / "arith.py", arith)
    assert sub.files == {"arith.py": b"z = 3\n"}
    assert sub.missing == ["vectors.py"]


def test_syntax_errors_are_reported_with_the_line(tmp_path, arith):
    write(tmp_path, {"arith.py": "def add(a, b):\n    return a +\n", "vectors.py": "ok = 1\n"})
    sub = collect(tmp_path, arith)
    assert list(sub.syntax_errors) == ["arith.py"]
    assert sub.syntax_errors["arith.py"].startswith("arith.py line 2: SyntaxError")


def test_oversized_files_are_ignored(tmp_path, arith):
    (tmp_path / "arith.py").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    sub = collect(tmp_path, arith)
    assert "arith.py" not in sub.files
    assert any("larger than" in note for note in sub.ignored)
