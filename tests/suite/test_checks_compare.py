"""Value checks: each kind of wrong value gets its own message, and correct values pass."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from autograder.suite.checks import (
    assert_array,
    assert_array_form,
    assert_int_array,
    assert_scalar,
    assert_structure,
)
from autograder.suite.checks.diagnosis import SIGN_FLIPPED, TRANSPOSED
from autograder.suite.codec import Handle
from autograder.suite.errors import CheckFailure


class MyArray(np.ndarray):
    pass


def failure_message(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as failure:
        check(*args, **kwargs)
    return str(failure.value)


@pytest.fixture
def expected() -> np.ndarray:
    return np.arange(1.0, 13.0).reshape(3, 4) / 7.0


# assert_array


def test_array_passes_on_equal_and_on_tiny_rounding_differences(expected):
    assert_array(expected.copy(), expected, what="y")
    assert_array(expected * (1 + 1e-12), expected, what="y")


def test_array_rejects_a_list_naming_what_came_back(expected):
    message = failure_message(assert_array, expected.tolist(), expected, what="sigmoid(x)")
    assert message.startswith("sigmoid(x) must be a numpy array")
    assert "got a list of 3 items" in message


def test_array_rejects_an_ndarray_subclass(expected):
    message = failure_message(assert_array, expected.view(MyArray), expected, what="y")
    assert "a MyArray (an ndarray subclass)" in message
    assert "np.asarray" in message


def test_array_describes_an_object_kept_by_student_code(expected):
    handle = Handle(id=1, type_name="matrix", generation=0, note="an ndarray subclass")
    message = failure_message(assert_array, handle, expected, what="y")
    assert "got a matrix (an ndarray subclass)" in message


@pytest.mark.parametrize(
    ("value", "description"),
    [(np.float64(0.5), "a numpy float64 scalar"), (0.5, "a Python float"), (None, "got None")],
)
def test_array_rejects_scalars_and_none(expected, value, description):
    assert description in failure_message(assert_array, value, expected, what="y")


def test_array_rejects_a_column_where_a_vector_is_expected():
    message = failure_message(assert_array, np.ones((5, 1)), np.ones(5), what="y")
    assert "has shape (5, 1) but must have shape (5,)" in message
    assert "extra axis of length 1" in message and "keepdims" in message


def test_array_rejects_a_vector_where_a_column_is_expected():
    message = failure_message(assert_array, np.ones(5), np.ones((5, 1)), what="y")
    assert "has shape (5,) but must have shape (5, 1)" in message
    assert "axis of length 1 is missing" in message


def test_array_shape_failure_says_transposed_shape_from_shapes_alone(expected):
    unrelated = np.random.default_rng(0).standard_normal((4, 3))
    message = failure_message(assert_array, unrelated, expected, what="y")
    assert "shape is the transpose" in message


def test_array_shape_failure_prefers_the_diagnosis_of_the_values(expected):
    message = failure_message(assert_array, expected.T.copy(), expected, what="y")
    assert TRANSPOSED in message


def test_array_shape_failure_diagnoses_a_missing_sum_over_the_batch():
    per_example = np.random.default_rng(1).standard_normal((6, 3))
    message = failure_message(assert_array, per_example, per_example.sum(axis=0), what="db")
    assert "summed over the batch" in message


def test_array_rejects_float32_and_says_to_compute_in_float64(expected):
    message = failure_message(assert_array, expected.astype(np.float32), expected, what="y")
    assert "has dtype float32 but must have dtype float64" in message
    assert "compute in float64" in message


def test_array_rejects_integers_where_floats_are_expected():
    message = failure_message(assert_array, np.ones(3, dtype=np.int64), np.ones(3), what="y")
    assert "dtype int64" in message and "compute with floats" in message


def test_array_reports_the_first_non_finite_entry(expected):
    got = expected.copy()
    got[1, 2] = np.nan
    got[2, 3] = np.inf
    message = failure_message(assert_array, got, expected, what="y")
    assert "not finite at index [1, 2]" in message
    assert "nan" in message and "2 of 12 entries" in message


def test_array_reports_first_wrong_entry_with_errors_and_count_only():
    expected = np.arange(12.0).reshape(3, 4) + 10.5
    got = expected.copy()
    got[1, 3] += 0.25
    got[2, 0] -= 1.0
    message = failure_message(assert_array, got, expected, what="dW returned by affine_backward")
    assert message.startswith("dW returned by affine_backward is wrong at index [1, 3]")
    assert "expected 17.5, got 17.75" in message
    assert "absolute error 0.25" in message and "relative error 0.0142857" in message
    assert "2 of 12 entries are wrong" in message
    other_entries = [f"{value:.6g}" for position, value in np.ndenumerate(expected) if position != (1, 3)]
    assert not any(text in message for text in other_entries)  # no dump of the hidden array


def test_array_fails_just_outside_the_tolerance():
    expected = np.array([1.0, 2.0])
    assert_array(expected * (1 + 0.9e-7), expected, what="y")
    message = failure_message(assert_array, expected * (1 + 1e-6), expected, what="y")
    assert "at index [0]" in message
    assert_array(expected * (1 + 1e-6), expected, what="y", rtol=1e-5)


def test_array_atol_governs_entries_that_should_be_zero():
    expected = np.array([0.0, 1.0])
    assert_array(np.array([1e-13, 1.0]), expected, what="y")
    assert "at index [0]" in failure_message(assert_array, np.array([1e-9, 1.0]), expected, what="y")


def test_array_shows_inputs_only_when_asked(expected):
    got = -expected
    hidden = failure_message(assert_array, got, expected, what="y")
    shown = failure_message(assert_array, got, expected, what="y", show_inputs={"x": np.array([0.5, -2.0])})
    assert "Inputs" not in hidden
    assert "Inputs: x = [ 0.5, -2. ]." in shown


def test_array_appends_the_likely_cause(expected):
    assert f"Likely cause: {SIGN_FLIPPED}." in failure_message(assert_array, -expected, expected, what="y")
    message = failure_message(assert_array, expected * 3, expected, what="y", batch_size=3)
    assert "3 times too large" in message
    candidates = {"the derivative is evaluated at the output": expected + 1}
    message = failure_message(assert_array, expected + 1, expected, what="y", candidates=candidates)
    assert (
        "Likely cause: the derivative is evaluated at the output (all 12 entries agree with that formula)." in message
    )


def test_array_has_no_likely_cause_for_an_unrelated_error(expected):
    got = expected + np.random.default_rng(2).standard_normal(expected.shape)
    assert "Likely cause" not in failure_message(assert_array, got, expected, what="y")


def test_array_refuses_a_malformed_expected_value_as_a_grader_error():
    with pytest.raises(TypeError):
        assert_array(np.ones(2), [1.0, 1.0], what="y")
    with pytest.raises(ValueError):
        assert_array(np.ones(2), np.array([1.0, np.nan]), what="y")


def test_array_form_checks_without_values():
    assert_array_form(np.zeros((2, 3)), what="dx", shape=(2, 3))
    assert "(3, 2)" in failure_message(assert_array_form, np.zeros((3, 2)), what="dx", shape=(2, 3))


# assert_scalar


@pytest.mark.parametrize("good", [0.6931471805599453, np.float64(0.6931471805599453)])
def test_scalar_accepts_python_and_numpy_float64(good):
    assert_scalar(good, np.log(2.0), what="loss")


@pytest.mark.parametrize(
    ("value", "description"),
    [
        (1, "a Python int"),
        (True, "a bool"),
        (np.float32(0.69314718), "a numpy float32 scalar"),
        (np.array(0.6931471805599453), "a numpy array of shape ()"),
        (np.array([0.6931471805599453]), "a numpy array of shape (1,)"),
        ([0.69], "a list of 1 item"),
        (None, "None"),
    ],
)
def test_scalar_rejects_everything_but_a_float64_number(value, description):
    message = failure_message(assert_scalar, value, np.log(2.0), what="loss returned by sigmoid_bce_loss")
    assert message.startswith("loss returned by sigmoid_bce_loss must be a float")
    assert f"got {description}" in message


def test_scalar_advises_on_arrays_and_ints():
    assert "float(value)" in failure_message(assert_scalar, np.array([0.5]), 0.5, what="loss")
    assert "reduction" in failure_message(assert_scalar, np.array([0.5, 0.5]), 0.5, what="loss")
    assert "floating point" in failure_message(assert_scalar, 0, 0.5, what="loss")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float64(-np.inf)])
def test_scalar_rejects_non_finite(value):
    assert "not a finite number" in failure_message(assert_scalar, value, 0.5, what="loss")


def test_scalar_reports_the_wrong_value_and_its_likely_cause():
    message = failure_message(assert_scalar, 4 * 0.25, 0.25, what="loss", batch_size=4)
    assert "loss is wrong: expected 0.25, got 1" in message
    assert "4 times too large" in message


def test_scalar_refuses_a_malformed_expected_value():
    with pytest.raises(TypeError):
        assert_scalar(0.5, np.array([0.5]), what="loss")


# assert_int_array


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_int_array_accepts_signed_integers(dtype):
    assert_int_array(np.array([2, 0, 1], dtype=dtype), np.array([2, 0, 1]), what="labels")


@pytest.mark.parametrize(
    ("got", "text"),
    [
        (np.array([2.0, 0.0, 1.0]), "has dtype float64"),
        (np.array([True, False, True]), "has dtype bool"),
        (np.array([2, 0, 1], dtype=np.uint8), "has dtype uint8"),
        (np.array([[2, 0, 1]]), "has shape (1, 3)"),
        ([2, 0, 1], "got a list of 3 items"),
    ],
)
def test_int_array_rejects_wrong_kinds(got, text):
    assert text in failure_message(assert_int_array, got, np.array([2, 0, 1]), what="labels")


def test_int_array_reports_the_first_wrong_entry():
    message = failure_message(assert_int_array, np.array([2, 1, 0, 3]), np.array([2, 0, 1, 3]), what="labels")
    assert "labels is wrong at index [1]: expected 0, got 1; 2 of 4 entries are wrong." in message


# assert_structure


def test_structure_accepts_the_right_tuple_and_dict():
    assert_structure((1, 2, 3), ("dx", "dW", "db"), what="the result of affine_backward")
    assert_structure((1, 2), 2, what="the result")
    assert_structure({"W": 1, "b": 2}, {"W", "b"}, what="grads")
    assert_structure({"W": 1, "b": 2}, {"b": 0, "W": 0}.keys(), what="grads")


def test_structure_accepts_tuple_and_dict_subclasses():
    Pair = collections.namedtuple("Pair", "out cache")
    assert_structure(Pair(1, 2), ("out", "cache"), what="the result")
    assert_structure(collections.OrderedDict(W=1), {"W"}, what="grads")


def test_structure_rejects_a_list_of_the_wrong_length():
    what = "the result of affine_backward"
    message = failure_message(assert_structure, [1, 2], ("dx", "dW", "db"), what=what)
    assert message == ("the result of affine_backward must be a tuple (dx, dW, db) of 3 items; got a list of 2 items.")


def test_structure_rejects_a_tuple_of_the_wrong_length_and_none():
    assert "got a tuple of 2 items" in failure_message(assert_structure, (1, 2), 3, what="r")
    assert "return statement" in failure_message(assert_structure, None, 3, what="r")


def test_structure_names_missing_and_unexpected_keys():
    message = failure_message(assert_structure, {"W": 1, "B": 2}, {"W", "b"}, what="grads")
    assert "it lacks 'b' and it has the unexpected 'B'" in message
    assert "got a list of 1 item" in failure_message(assert_structure, [1], {"W"}, what="grads")


def test_structure_refuses_a_malformed_expectation():
    with pytest.raises(TypeError):
        assert_structure((1,), 1.5, what="r")
    with pytest.raises(TypeError):
        assert_structure((1,), "abc", what="r")
