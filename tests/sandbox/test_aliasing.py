"""Returned arrays that share memory with an argument, and items of the arguments' dicts and lists
assigned anew, are reported through a worker and in process."""

import numpy as np
import pytest
from test_worker import make_worker, write_modules

from autograder.grading.test_runner import RemoteStudent
from autograder.suite.aliasing import Contents, arrays_in, container_items, shared_memory
from autograder.suite.proxy import LocalStudent

SOURCE = """
import numpy as np

def same(x):
    return x

def view(params):
    return {"first": params["W"][0], "copy": params["W"].copy()}

def fresh(x, scale=1.0):
    return (x * scale, x.copy())

def step(params, weights):
    params["W"] = params["W"] - 1.0
    params["b"] -= 1.0
    weights.append(0.0)
    return None
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
    result = student.pure.same.call(np.arange(3.0))
    assert result.aliases is None and result.replaced is None


def test_container_items_are_the_items_of_dicts_and_lists_only():
    a, b = np.zeros(2), np.ones(3)
    value = ({"W": a}, [b, (1.0,)])
    assert [path for path, _ in container_items(value)] == ["[0]['W']", "[1][0]", "[1][1]"]


def test_contents_tell_items_assigned_anew_from_arrays_changed_in_place():
    params, weights = {"W": np.ones(2), "b": np.zeros(2)}, [np.ones(1)]
    contents = Contents((params,), {"weights": weights})
    params["W"] = params["W"] - 1.0  # assigned anew
    params["b"] -= 1.0  # the same array, changed in place
    params["extra"] = 0.0  # a key added
    weights[0] = np.zeros(1)
    assert contents.replaced((params,), {"weights": weights}) == [[0, "['W']"], ["weights", "[0]"], [0, "['extra']"]]
    assert Contents((params,), {}).replaced((params,), {}) == []


def test_replaced_items_are_reported_with_the_arguments(student):
    params, weights = {"W": np.ones(2), "b": np.zeros(2)}, [1.0]
    result = student.pure.step.call(params, weights=weights, return_args=True)
    assert result.replaced == [[0, "['W']"], ["weights", "[1]"]]
    assert student.pure.fresh.call(np.ones(2), return_args=True).replaced == []
