"""Returned arrays that share memory with an argument are reported, through a worker and in process."""

import numpy as np
import pytest

from autograder.suite.aliasing import arrays_in, shared_memory
from autograder.grading.test_runner import RemoteStudent
from autograder.suite.proxy import LocalStudent
from test_worker import make_worker, write_modules

SOURCE = """
import numpy as np

def same(x):
    return x

def view(params):
    return {"first": params["W"][0], "copy": params["W"].copy()}

def fresh(x, scale=1.0):
    return (x * scale, x.copy())
"""


def test_arrays_in_walks_nested_containers():
    a, b = np.zeros(2), np.ones(3)
    assert [path for path, _ in arrays_in(({"W": a}, [b]))] == ["[0]['W']", "[1][0]"]


def test_shared_memory_names_result_and_argument_paths():
    x = np.arange(6.0).reshape(2, 3)
    assert shared_memory(x, (x,), {}) == [["", 0, ""]]
    assert shared_memory({"v": x[1]}, (), {"params": {"W": x}}) == [["['v']", "params", "['W']"]]
    assert shared_memory((x + 1, x.copy()), (x,), {}) == []
    assert shared_memory(np.zeros(0), (np.zeros(0),), {}) == []


@pytest.fixture(params=["remote", "local"])
def student(request, tmp_path):
    scratch = write_modules(tmp_path / "scratch", {"pure.py": SOURCE})
    if request.param == "remote":
        student = RemoteStudent(make_worker(scratch), ["pure"])
    else:
        student = LocalStudent(scratch, ["pure"])
    with student:
        yield student


def test_aliases_are_reported_with_the_arguments(student):
    x = np.arange(4.0)
    assert student.pure.same.call(x, return_args=True).aliases == [["", 0, ""]]
    params = {"W": np.ones((2, 2))}
    assert student.pure.view.call(params=params, return_args=True).aliases == [["['first']", "params", "['W']"]]
    assert student.pure.fresh.call(x, scale=2.0, return_args=True).aliases == []


def test_no_report_without_return_args(student):
    assert student.pure.same.call(np.arange(3.0)).aliases is None
