"""What the suites see: ``student.<module>.<function>``, the same through a worker and in process."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from test_worker import HOSTILE_SOURCE, STUDENT_SOURCES, make_worker, raises, write_modules

from autograder.grading.test_runner import RemoteStudent
from autograder.suite.codec import FunctionRef, Handle
from autograder.suite.errors import StudentError
from autograder.suite.proxy import LocalStudent

MODULES = ["activations", "layers", "network", "optim", "data", "returns", "broken_syntax", "broken_name", "hostile"]


@pytest.fixture
def scratch(tmp_path):
    return write_modules(tmp_path / "scratch", {**STUDENT_SOURCES, "hostile.py": HOSTILE_SOURCE})


@pytest.fixture(params=["remote", "local"])
def student(request, scratch):
    if request.param == "remote":
        student = RemoteStudent(
            make_worker(scratch), MODULES, missing={"convolution": "convolution.py was not submitted"}
        )
    else:
        student = LocalStudent(scratch, [*MODULES, "convolution"])
    with student:
        yield student


def test_functions_are_called_through_module_attributes(student):
    result = student.activations.sigmoid.call(np.array([0.0, -1000.0]))
    np.testing.assert_array_equal(result.value, [0.5, 0.0])
    assert result.warnings == ["RuntimeWarning: overflow encountered in exp (activations.py:5)"]
    assert result.seconds > 0 and result.args_after is None
    assert student.activations.sigmoid(0.0) == 0.5


def test_a_function_proxy_knows_its_reference(student):
    assert student.network.square_loss.ref == FunctionRef("network", "square_loss")
    assert repr(student.network.square_loss) == "<student function network.square_loss>"
    assert repr(student.layers) == "<student module layers>"


def test_function_proxies_and_refs_cross_as_arguments(student):
    w = student.optim.descend(student.network.square_loss, np.array([8.0, -4.0]))
    np.testing.assert_allclose(w, [1.0, -0.5])
    np.testing.assert_array_equal(student.optim.apply(FunctionRef("data", "make_data"), 2), [0.0, 1.0])
    nested = student.optim.apply(student.optim.apply, student.data.make_data, 1)
    np.testing.assert_array_equal(nested, [0.0])


def test_caches_come_back_as_handles_and_go_back_in(student):
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), np.zeros(4)
    out, cache = student.layers.affine_forward(x, W, b)
    assert type(cache) is Handle and cache.describe() == "a function"
    dx, dW, db = student.layers.affine_backward(np.ones((3, 4)), cache)
    np.testing.assert_allclose(dx, np.ones((3, 4)) @ W)
    np.testing.assert_allclose(out, x @ W.T)


@pytest.mark.parametrize(
    ("function", "description"),
    [
        ("my_array", "a MyArray (an ndarray subclass)"),
        ("object_array", "an ndarray[object] (a numpy array of dtype object, not a numeric one)"),
        ("a_set", "a set"),
    ],
)
def test_values_that_are_not_plain_are_described_the_same_way(student, function, description):
    value = getattr(student.returns, function)()
    assert type(value) is Handle and value.describe() == description


def test_map_gives_the_values_of_many_calls(student):
    assert student.activations.scale_in_place.map([((np.ones(2),), {"factor": 2.0})]) == [None]
    assert student.activations.inverse.map([((1.0,), {}), ((4.0,), {})]) == [1.0, 0.25]
    assert student.activations.inverse.map([]) == []
    with raises("exception", "inverse raised ZeroDivisionError"):
        student.activations.inverse.map([((1.0,), {}), ((0.0,), {})])
    with raises("missing", "convolution.py was not submitted"):
        student.convolution.conv.map([((1.0,), {})])


def test_return_args_gives_the_arguments_after_the_call(student):
    x = np.array([1.0, 2.0])
    result = student.activations.scale_in_place.call(x, return_args=True, factor=3.0)
    np.testing.assert_array_equal(result.args_after[0], [3.0, 6.0])
    assert result.kwargs_after == {"factor": 3.0}
    if isinstance(student, LocalStudent):
        assert result.args_after[0] is x  # the very objects that were passed


def test_student_exceptions_give_the_same_message(student):
    with raises("exception") as info:
        student.activations.fail(5)
    assert str(info.value) == (
        "fail raised ValueError: cannot handle 5\n"
        "Traceback (your files only, most recent call last):\n"
        "  activations.py line 18: return helper(x)\n"
        '  activations.py line 22: raise ValueError(f"cannot handle {x}")'
    )


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("exit_soft", r"^exit_soft raised SystemExit: 3 \(your code called sys.exit"),
        ("pytest_exit", "^pytest_exit raised Exit: stop everything"),
        ("huge_array", "^huge_array raised MemoryError"),
    ],
)
def test_exits_are_reported_as_exceptions(student, function, message):
    with raises("exception", message):
        getattr(student.hostile, function)()


def test_import_errors_give_the_same_message(student):
    with raises("import", r"^broken_syntax.py line 3: SyntaxError: invalid syntax\n    def broken\(:\n"):
        student.broken_syntax.fine()
    with raises("import", "^broken_name.py line 2: NameError: name 'undefined_thing' is not defined"):
        student.broken_name.value()


def test_missing_modules_and_functions_give_the_same_message(student):
    with raises("missing", "^convolution.py was not submitted$"):
        student.convolution.conv_forward(1)
    with raises("missing", "^layers.py has no function relu_forward$"):
        student.layers.relu_forward(1)


def test_unknown_modules_are_attribute_errors_naming_the_known_ones(student):
    with pytest.raises(AttributeError, match="'convolutions' is not one of the student's modules .*activations, lay"):
        _ = student.convolutions
    with pytest.raises(AttributeError):
        _ = student.layers.__wrapped__


def test_values_too_deep_to_cross_are_refused_the_same_way(student):
    with raises("bad-reply", "^deep returned a value that cannot be sent back: .*nested more than"):
        student.returns.deep()


def test_arguments_that_are_not_plain_are_refused_the_same_way(student):
    with pytest.raises(TypeError, match="cannot pass a set to student code"):
        student.activations.sigmoid({1, 2})


def test_unknown_handles_are_refused_the_same_way(student):
    with raises("bad-reply", "no longer exists"):
        student.layers.affine_backward(np.ones((1, 1)), Handle(999, "function", 1))
    with raises("bad-reply", "earlier worker process"):
        student.layers.affine_backward(np.ones((1, 1)), Handle(1, "function", 7))


def test_remote_output_is_captured_and_local_output_goes_to_the_terminal(student, capfd):
    student.activations.noisy(3)
    if isinstance(student, RemoteStudent):
        assert student.take_output() == "computing 3\n"
        assert capfd.readouterr().out == ""
    else:
        assert student.take_output() == ""
        assert capfd.readouterr().out == "computing 3\n"


def test_a_remote_student_survives_a_crash(scratch):
    with RemoteStudent(make_worker(scratch), MODULES) as student:
        with raises("crash"):
            student.hostile.exit_hard()
        assert student.activations.sigmoid(0.0) == 0.5
        assert student.worker.generation == 2


def test_ctrl_c_stops_a_local_run(scratch):
    with LocalStudent(scratch, MODULES) as student:
        with pytest.raises(KeyboardInterrupt):
            student.hostile.interrupt()


def test_local_exceptions_keep_the_original_as_cause_for_debugging(scratch):
    with LocalStudent(scratch, MODULES) as student:
        with pytest.raises(StudentError) as info:
            student.activations.fail(1)
    assert type(info.value.__cause__) is ValueError


def test_local_students_of_different_folders_do_not_mix(tmp_path):
    first = write_modules(
        tmp_path / "first",
        {"activations.py": "def which():\n    return 'first'\n", "layers.py": "from activations import which\n"},
    )
    second = write_modules(
        tmp_path / "second",
        {"activations.py": "def which():\n    return 'second'\n", "layers.py": "from activations import which\n"},
    )
    with LocalStudent(first, ["layers"]) as student:
        assert student.layers.which() == "first"
    assert "activations" not in sys.modules and str(first) not in sys.path
    with LocalStudent(second, ["layers"]) as student:
        assert student.layers.which() == "second"
    leftover = LocalStudent(first, ["layers"])
    assert leftover.layers.which() == "first"
    with LocalStudent(second, ["layers"]) as student:  # the first was not closed
        assert student.layers.which() == "second"
    leftover.close()


def test_a_flat_module_of_the_same_name_imported_from_elsewhere_gives_way(tmp_path, monkeypatch):
    elsewhere = write_modules(tmp_path / "solutions", {"activations.py": "def which():\n    return 'solution'\n"})
    mine = write_modules(tmp_path / "mine", {"activations.py": "def which():\n    return 'mine'\n"})
    monkeypatch.syspath_prepend(str(elsewhere))
    monkeypatch.delitem(sys.modules, "activations", raising=False)
    import activations

    assert activations.which() == "solution"
    with LocalStudent(mine, ["activations"]) as student:
        assert student.activations.which() == "mine"
    write_modules(mine, {"json.py": "def dumps(value):\n    return 'mine'\n"})
    with LocalStudent(mine, ["json"]) as student:  # a module of Python itself is never replaced
        with raises("import", "^json.py cannot be imported: Python already has a module named json$"):
            student.json.dumps(1)
    assert json.dumps(1) == "1"
