"""Purity and repeatability: bitwise comparison of nested values, with the first change named."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from autograder.suite.checks import Difference, assert_same_bits, assert_unchanged, first_difference
from autograder.suite.errors import CheckFailure


def failure_message(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as failure:
        check(*args, **kwargs)
    return str(failure.value)


def test_unchanged_passes_on_an_untouched_argument():
    x = np.random.default_rng(0).standard_normal((3, 2))
    before = copy.deepcopy(x)
    assert_unchanged(before, x, function="affine_forward", name="x")


def test_unchanged_names_the_function_argument_and_first_changed_entry():
    x = np.full((3, 2), 0.5)
    before = copy.deepcopy(x)
    x[2, 1] = 0.0
    message = failure_message(assert_unchanged, before, x, function="affine_forward", name="x")
    assert message.startswith("affine_forward modified its argument x in place (x[2, 1] was 0.5, is now 0.0).")
    x[1, 0] = 0.25
    assert "(x[1, 0] was 0.5, is now 0.25)" in failure_message(
        assert_unchanged, before, x, function="affine_forward", name="x"
    )


def test_unchanged_follows_dicts_lists_and_tuples():
    params = {"W": np.zeros((2, 2)), "layers": [np.ones(3), (1.0, np.arange(4))]}
    before = copy.deepcopy(params)
    params["layers"][1][1][3] = 7
    message = failure_message(assert_unchanged, before, params, function="sgd_step", name="params")
    assert "(params['layers'][1][1][3] was 3, is now 7)" in message


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda p: p.update(extra=1), "params was a dict with 2 keys ('W', 'b'), is now a dict with 3 keys"),
        (lambda p: p.pop("b"), "is now a dict with 1 key ('W')"),
        (
            lambda p: p.update(W=p["W"].astype(np.float32)),
            "params['W'] was a numpy array of shape (2,) and dtype float64",
        ),
        (lambda p: p.update(W=p["W"].reshape(2, 1)), "is now a numpy array of shape (2, 1)"),
        (lambda p: p.update(W=[1.0, 2.0]), "is now a list of 2 items"),
        (lambda p: p.update(b=0.30000000000000004), "params['b'] was 0.3, is now 0.30000000000000004"),
    ],
)
def test_unchanged_reports_structural_and_tiny_changes(change, text):
    params = {"W": np.array([1.0, 2.0]), "b": 0.3}
    before = copy.deepcopy(params)
    change(params)
    assert text in failure_message(assert_unchanged, before, params, function="f", name="params")


def test_unchanged_is_bitwise_for_arrays():
    x = np.array([0.0, 0.1, np.nan])
    before = copy.deepcopy(x)
    assert_unchanged(before, x, function="f", name="x")  # the same NaN is unchanged
    x[0] = -0.0
    message = failure_message(assert_unchanged, before, x, function="f", name="x")
    assert "(x[0] was 0.0, is now -0.0)" in message
    x[0] = 0.0
    x[1] = np.nextafter(0.1, 1.0)
    assert "(x[1] was 0.1, is now 0.10000000000000002)" in failure_message(
        assert_unchanged, before, x, function="f", name="x"
    )


def test_unchanged_reports_a_changed_zero_dimensional_array_without_an_index():
    before, after = np.array(1.5), np.array(2.5)
    message = failure_message(assert_unchanged, before, after, function="f", name="s")
    assert "(s was 1.5, is now 2.5)" in message


def test_same_bits_passes_on_identical_results():
    result = (np.arange(3.0), {"W": np.ones(2)}, 0.25)
    assert_same_bits(result, copy.deepcopy(result), function="affine_backward")


def test_same_bits_names_the_first_differing_part():
    first = (np.zeros(2), np.array([[0.1, 0.2]]))
    second = (np.zeros(2), np.array([[0.1, np.nextafter(0.2, 1.0)]]))
    message = failure_message(assert_same_bits, first, second, function="affine_backward")
    assert message.startswith(
        "affine_backward is not repeatable: called twice with the same arguments, it gave "
        "result[1][0, 1] = 0.2 the first time and 0.20000000000000004 the second time."
    )


def test_first_difference_of_scalars_and_equal_values():
    assert first_difference([1, "a", None], [1, "a", None]) is None
    assert first_difference(1, 1.0) == Difference("", "a Python int", "a Python float")
    assert first_difference({"a": 1}, {"a": 2}) == Difference("['a']", "1", "2")
    assert first_difference(np.zeros((0, 3)), np.zeros((0, 3))) is None


def test_unchanged_names_round_off_when_a_step_is_undone_by_arithmetic():
    x = np.array([[0.1, -1.1602842469796460], [2.7, 0.3]])
    before = copy.deepcopy(x)
    h = 1e-5
    for index in np.ndindex(x.shape):  # the steps of a central difference, undone by arithmetic
        x[index] += h
        x[index] -= 2 * h
        x[index] += h
    assert first_difference(before, x) is not None
    message = failure_message(assert_unchanged, before, x, function="numerical_gradient", name="x")
    assert message.startswith("numerical_gradient did not give its argument x back bitwise (x[")
    assert "changed only in their last digits" in message and "Save the original value" in message
    assert "in place" not in message  # the contract lets numerical_gradient perturb x in place


def test_unchanged_does_not_call_a_real_change_round_off():
    x = np.array([0.5, 1.5])
    before = copy.deepcopy(x)
    x[0] += 1e-5  # a step never undone
    message = failure_message(assert_unchanged, before, x, function="numerical_gradient", name="x")
    assert "last digits" not in message and "work on new arrays" in message
    params = {"W": np.array([1.0]), "n": 3}
    before = copy.deepcopy(params)
    params["n"] = 4  # a changed integer is never round-off
    assert "last digits" not in failure_message(assert_unchanged, before, params, function="f", name="params")


def test_unchanged_tells_an_assignment_into_a_container_from_a_change_in_place():
    params = {"W": np.array([1.0, 2.0]), "b": np.array([0.5])}
    before = copy.deepcopy(params)
    params["W"] = params["W"] - 1.0
    message = failure_message(assert_unchanged, before, params, function="sgd_step", name="params", replaced=["['W']"])
    assert message.startswith("sgd_step assigned into its argument params: params['W'] holds another object")
    assert "(params['W'][0] was 1.0, is now 0.0)" in message and "x.copy()" not in message
    params = copy.deepcopy(before)
    params["b"] -= 1.0  # in place, while another key was assigned anew
    message = failure_message(assert_unchanged, before, params, function="sgd_step", name="params", replaced=["['W']"])
    assert message.startswith("sgd_step modified its argument params in place (params['b'][0] was 0.5")
    params = copy.deepcopy(before)
    params["extra"] = np.zeros(1)  # a key added: an assignment into the dict
    message = failure_message(
        assert_unchanged, before, params, function="sgd_step", name="params", replaced=["['extra']"]
    )
    assert message.startswith("sgd_step assigned into its argument params: params['extra'] holds another object")


def test_each_purity_failure_carries_its_kind_as_data():
    x = np.full(3, 0.5)
    before = copy.deepcopy(x)
    x[0] = 0.0
    params = {"W": np.zeros(2)}
    params_before = copy.deepcopy(params)
    params["W"] = np.ones(2)
    failures = {
        "in place": (assert_unchanged, (before, x), {"function": "f", "name": "x"}),
        "assigned": (assert_unchanged, (params_before, params), {"function": "f", "name": "p", "replaced": ("['W']",)}),
        "not repeatable": (assert_same_bits, (np.zeros(2), np.ones(2)), {"function": "f"}),
    }
    kinds = {}
    for case, (check, args, kwargs) in failures.items():
        with pytest.raises(CheckFailure) as failure:
            check(*args, **kwargs)
        kinds[case] = [finding.kind for finding in failure.value.findings]
    assert kinds == {"in place": ["modified"], "assigned": ["modified"], "not repeatable": ["not-repeatable"]}
