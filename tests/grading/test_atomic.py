"""Files written whole or not at all."""

import pytest

from autograder.grading.atomic import write_atomically


def test_text_and_bytes_replace_the_file_and_leave_no_partial_file(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_atomically(path, "première\n")
    assert path.read_bytes() == "première\n".encode("utf-8")
    write_atomically(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]


def test_a_write_that_fails_leaves_the_previous_version(tmp_path):
    path = tmp_path / "gradebook.csv"
    write_atomically(path, "id,score\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "\udcff")  # a lone surrogate cannot be stored as UTF-8
    assert path.read_text() == "id,score\n"
