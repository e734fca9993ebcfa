"""Gradient checks: right gradients of known functions pass, each classic wrong gradient fails with
a message naming the argument, the place and the likely cause, and caller arrays stay untouched."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from autograder.suite.checks import (
    assert_unchanged,
    check_gradient,
    check_loss_gradient,
    numerical_vjp,
    sampling,
)
from autograder.suite.checks.diagnosis import SIGN_FLIPPED, TIMES_BATCH, TRANSPOSED
from autograder.suite.checks.gradients import DEFAULT_DIRECTIONS, DEFAULT_SAMPLES, IGNORES_UPSTREAM
from autograder.suite.errors import CheckFailure


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) = x (N, D) @ W.T + b (M,)."""
    return x @ W.T + b


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def mean_logistic_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Mean over the batch of log(1 + exp(-y * X @ w)), y in {-1, 1}; X (N, D), w (D,)."""
    return float(np.mean(np.logaddexp(0.0, -y * (X @ w))))


def logistic_gradient(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(X.T @ (y * sigmoid(-y * (X @ w)))) / len(y)


def check(f, analytic, inputs, upstream, wrt, *, seed=0, **options):
    """check_gradient naming the gradient d<wrt>, with a seeded generator."""
    rng = np.random.default_rng(seed)
    return check_gradient(f, analytic, inputs, upstream, wrt, what=f"d{wrt}", rng=rng, **options)


def failure_message(f, analytic, inputs, upstream, wrt, **options) -> str:
    with pytest.raises(CheckFailure) as failure:
        check(f, analytic, inputs, upstream, wrt, **options)
    return str(failure.value)


def affine_case(n: int, d: int, m: int, seed: int = 0):
    """Inputs of an affine layer, a random upstream gradient and the right gradients."""
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.standard_normal((n, d)), "W": rng.standard_normal((m, d)), "b": rng.standard_normal(m)}
    upstream = rng.standard_normal((n, m))
    right = {"x": upstream @ inputs["W"], "W": upstream.T @ inputs["x"], "b": upstream.sum(axis=0)}
    return inputs, upstream, right


# right gradients pass


def test_elementwise_gradient_passes_at_every_entry():
    rng = np.random.default_rng(0)
    x, upstream = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    analytic = upstream * sigmoid(x) * (1 - sigmoid(x))
    probe = check_gradient(sigmoid, analytic, {"x": x}, upstream, "x", what="dx", rng=rng)
    assert probe.is_full and probe.evaluations == 2 * x.size


@pytest.mark.parametrize("name", ["x", "W", "b"])
def test_matrix_product_gradients_pass_with_a_random_upstream(name):
    inputs, upstream, right = affine_case(n=3, d=5, m=4)
    probe = check(affine, right[name], inputs, upstream, name, seed=1)
    assert probe.evaluations == 2 * inputs[name].size


@pytest.mark.parametrize("seed", range(5))
def test_large_tensors_pass_with_directions_and_samples(seed):
    inputs, upstream, right = affine_case(n=16, d=60, m=30, seed=seed)
    probe = check(affine, right["W"], inputs, upstream, "W", seed=seed)
    assert not probe.is_full
    assert probe.evaluations == 2 * (DEFAULT_DIRECTIONS + DEFAULT_SAMPLES)


def test_scalar_loss_gradient_passes():
    rng = np.random.default_rng(3)
    X, w, y = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.choice([-1.0, 1.0], size=6)
    analytic = logistic_gradient(w, X, y)
    inputs = {"w": w, "X": X, "y": y}
    probe = check_loss_gradient(mean_logistic_loss, analytic, inputs, "w", what="dw", rng=rng)
    assert probe.evaluations == 8


def test_loss_gradients_of_large_outputs_do_not_fail_on_rounding():
    """A big layer sums tens of thousands of terms into L, whose rounding alone moves a central
    difference by far more than atol: the rounding floor keeps right gradients passing."""
    inputs, upstream, right = affine_case(n=64, d=200, m=150, seed=11)
    inputs["x"] = inputs["x"] * 100.0
    right = {"W": upstream.T @ inputs["x"]}
    for seed in range(3):
        check(affine, right["W"], inputs, upstream, "W", seed=seed, full_threshold=0, samples=30)


# wrong gradients fail


def test_transposed_square_gradient_fails_with_its_cause():
    inputs, upstream, right = affine_case(n=3, d=4, m=4)
    message = failure_message(affine, right["W"].T.copy(), inputs, upstream, "W")
    assert message.startswith("dW disagrees with the numerical gradient at index [0, 1]")
    assert TRANSPOSED in message


def test_transposed_rectangular_gradient_fails_on_its_shape():
    inputs, upstream, right = affine_case(n=3, d=5, m=4)
    message = failure_message(affine, right["W"].T.copy(), inputs, upstream, "W")
    assert "has shape (5, 4) but must have shape (4, 5)" in message and "transpose" in message


def test_sign_flip_fails():
    inputs, upstream, right = affine_case(n=3, d=5, m=4)
    message = failure_message(affine, -right["x"], inputs, upstream, "x")
    assert "15 of 15 entries disagree" in message and SIGN_FLIPPED in message


def test_gradient_that_ignores_the_upstream_fails_with_a_random_upstream():
    rng = np.random.default_rng(4)
    x, upstream = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    local_derivative = sigmoid(x) * (1 - sigmoid(x))  # what a backward that ignores dout returns
    assert IGNORES_UPSTREAM in failure_message(sigmoid, local_derivative, {"x": x}, upstream, "x")
    # With an upstream of ones the same mistake would go unnoticed: hence random upstreams.
    check(sigmoid, local_derivative, {"x": x}, np.ones_like(x), "x")


def test_gradient_that_ignores_the_upstream_is_diagnosed_along_directions_too():
    inputs, upstream, right = affine_case(n=8, d=30, m=20)
    ignoring = np.ones_like(upstream).T @ inputs["x"]
    message = failure_message(affine, ignoring, inputs, upstream, "W")
    assert IGNORES_UPSTREAM in message


def test_bias_gradient_not_summed_over_the_batch_fails_on_its_shape():
    inputs, upstream, _ = affine_case(n=6, d=5, m=4)
    message = failure_message(affine, upstream, inputs, upstream, "b")
    assert "has shape (6, 4) but must have shape (4,)" in message
    assert "extra first axis of length 6" in message and "summed over the batch" in message


def test_gradient_missing_the_batch_average_fails_with_its_cause():
    rng = np.random.default_rng(5)
    X, w, y = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.choice([-1.0, 1.0], size=6)
    summed = 6 * logistic_gradient(w, X, y)
    with pytest.raises(CheckFailure) as failure:
        inputs = {"w": w, "X": X, "y": y}
        check_loss_gradient(mean_logistic_loss, summed, inputs, "w", what="dw", rng=rng, batch_size=6)
    assert TIMES_BATCH.format(n=6) in str(failure.value)


def test_suite_candidates_explain_a_failure():
    inputs, upstream, right = affine_case(n=3, d=5, m=4)
    wrong = upstream @ np.abs(inputs["W"])
    candidates = {"the absolute value of W is used": wrong}
    message = failure_message(affine, wrong, inputs, upstream, "x", candidates=candidates)
    assert "Likely cause: the absolute value of W is used (all 15 entries agree with that formula)." in message


def test_small_bias_error_in_a_large_layer_is_caught_by_directions_alone():
    """db (600 entries) is checked along 4 random unit directions u with no sampled entry. Adding
    0.001 to every entry moves <db, u> by 0.001 * sum(u), and sum(u) ~ N(0, 1), while a right
    db's projections agree to ~1e-5 * |<db, u>| + floor (~1e-4 here): a direction misses only
    when |sum(u)| < ~0.1 (8%), all four with probability ~4e-5. Checked per tensor, the error is
    weighed against db's own projections; in one unit direction over (W, b) its share would
    shrink by sqrt(600 / 120,600) = 0.07 while the allowed error would follow W's projections."""
    inputs, upstream, right = affine_case(n=16, d=200, m=600, seed=2)
    probe = check(affine, right["b"], inputs, upstream, "b", samples=0)
    assert probe.evaluations == 2 * DEFAULT_DIRECTIONS
    message = failure_message(affine, right["b"] + 1e-3, inputs, upstream, "b", samples=0)
    assert "along a random direction" in message and "random directions disagree" in message


@pytest.mark.parametrize("seed", range(10))
def test_single_wrong_entry_in_a_large_tensor_is_caught(seed):
    """W has 3,000 entries; one is off by 0.5 (the gradient's entries are of order 3). A unit
    direction u moves <dW, u> by 0.5 * u_j with u_j ~ N(0, 1) / sqrt(3000), i.e. by 0.009 |z|,
    against an allowed error of about 1e-4: a direction misses the entry only when |z| < 0.011
    (probability 0.9%), all 4 directions with probability ~7e-9; the 8 sampled entries add a
    3,000-to-8 chance of naming its index."""
    inputs, upstream, right = affine_case(n=8, d=50, m=60, seed=seed)
    wrong = right["W"].copy()
    position = tuple(np.random.default_rng(100 + seed).integers((60, 50)))
    wrong[position] += 0.5
    failure_message(affine, wrong, inputs, upstream, "W", seed=seed)


def test_sampled_entry_failure_names_a_consistent_index_and_values():
    inputs, upstream, right = affine_case(n=8, d=50, m=60)
    message = failure_message(affine, -right["W"], inputs, upstream, "W", seed=3)
    match = re.search(r"at index \[(\d+), (\d+)\]: numerical (\S+), yours (\S+) ", message)
    assert match, message
    row, column = int(match[1]), int(match[2])
    assert float(match[3]) == pytest.approx(right["W"][row, column], rel=1e-5)
    assert float(match[4]) == pytest.approx(-right["W"][row, column], rel=1e-5)
    assert f"{DEFAULT_SAMPLES} of {DEFAULT_SAMPLES} sampled entries disagree" in message


def test_direction_failure_says_the_sampled_entries_agreed():
    inputs, upstream, right = affine_case(n=8, d=50, m=60)
    sampled = set(np.random.default_rng(3).choice(3000, size=DEFAULT_SAMPLES, replace=False))
    wrong = right["W"].copy()
    unsampled = next(i for i in range(3000) if i not in sampled)
    wrong.flat[unsampled] += 5.0
    message = failure_message(affine, wrong, inputs, upstream, "W", seed=3)
    assert "along a random direction" in message
    assert f"while all {DEFAULT_SAMPLES} sampled entries agree" in message


@pytest.mark.parametrize(
    ("analytic", "text"),
    [
        ([[0.0] * 5] * 3, "got a list of 3 items"),
        (np.zeros((3, 5), dtype=np.float32), "dtype float32"),
        (np.full((3, 5), np.nan), "not finite at index [0, 0]"),
        (np.zeros((5,)), "has shape (5,) but must have shape (3, 5)"),
    ],
)
def test_analytic_gradient_form_is_checked_first(analytic, text):
    x = np.random.default_rng(0).standard_normal((3, 5))
    assert text in failure_message(sigmoid, analytic, {"x": x}, x, "x")


# the checker's own discipline


def test_caller_arrays_are_never_modified():
    inputs, upstream, right = affine_case(n=4, d=30, m=20)
    analytic = -right["W"]
    before = copy.deepcopy((inputs, upstream, analytic))
    for threshold in (0, 10_000):
        with pytest.raises(CheckFailure):
            check(affine, analytic, inputs, upstream, "W", full_threshold=threshold)
        assert_unchanged(before, (inputs, upstream, analytic), function="check_gradient", name="arguments")


def test_a_function_that_writes_into_its_inputs_cannot_corrupt_the_check():
    def scribbling_affine(x, W, b):
        out = affine(x, W, b)
        x[...] = 0.0
        W[...] = 0.0
        return out

    inputs, upstream, right = affine_case(n=3, d=4, m=5)
    before = copy.deepcopy(inputs)
    for name in ("x", "W", "b"):
        check(scribbling_affine, right[name], inputs, upstream, name)
    assert_unchanged(before, inputs, function="check_gradient", name="inputs")


def test_integer_inputs_are_differentiated_in_float64():
    x = np.array([[1, -2, 3]])
    check(lambda x: x**2, 2.0 * x, {"x": x}, np.ones((1, 3)), "x")


def test_a_function_returning_the_wrong_kind_of_output_fails_clearly():
    def loss_as_a_list(x):
        return [float(x.sum())]

    x = np.ones(3)
    message = failure_message(lambda x: x[:, None], np.ones(3), {"x": x}, np.ones(3), "x")
    assert "returned a numpy array of shape (3, 1)" in message
    message = failure_message(lambda x: np.where(x > 0, np.inf, 0.0), np.ones(3), {"x": x}, np.ones(3), "x")
    assert "non-finite value" in message
    with pytest.raises(CheckFailure, match="returned a list"):
        check_loss_gradient(loss_as_a_list, np.ones(3), {"x": x}, "x", what="dx", rng=np.random.default_rng(0))


# kinks


@pytest.mark.parametrize("seed", range(3))
def test_relu_gradient_passes_away_from_its_kink(seed):
    rng = np.random.default_rng(seed)
    x = sampling.away_from_kinks(rng, (30, 20))
    upstream = rng.standard_normal((30, 20))
    for threshold in (0, 10_000):  # directions + samples, then every entry
        analytic = upstream * (x > 0)
        check(relu, analytic, {"x": x}, upstream, "x", seed=seed, kinks=(0.0,), full_threshold=threshold)


def test_checker_refuses_a_point_within_h_of_a_kink():
    x = np.array([0.5, -0.7, 4e-7])
    with pytest.raises(ValueError, match="kink"):
        check(relu, (x > 0) * 1.0, {"x": x}, np.ones(3), "x", kinks=(0.0,))


def test_checker_refuses_a_step_larger_than_the_sampling_margin():
    rng = np.random.default_rng(0)
    x = sampling.away_from_kinks(rng, 50, margin=1e-3)
    upstream = rng.standard_normal(50)
    with pytest.raises(ValueError, match="kink"):
        check(relu, upstream * (x > 0), {"x": x}, upstream, "x", kinks=(0.0,), h=0.5)


def test_directions_move_every_entry_so_every_entry_must_clear_the_kinks():
    x = np.linspace(0.5, 1.5, 50)
    x[17] = 0.0
    probe_entries = [0, 1]  # the basis vectors alone never move x[17]
    numerical_vjp(relu, {"x": x}, np.ones(50), "x", entries=probe_entries, kinks=(0.0,))
    with pytest.raises(ValueError, match="kink"):
        rng = np.random.default_rng(0)
        numerical_vjp(relu, {"x": x}, np.ones(50), "x", entries=probe_entries, directions=1, rng=rng, kinks=[0])


# numerical_vjp


def test_numerical_vjp_probes_given_entries_and_directions():
    rng = np.random.default_rng(0)
    inputs, upstream, right = affine_case(n=3, d=4, m=5)
    directions = rng.standard_normal((2, 5, 4))
    probe = numerical_vjp(affine, inputs, upstream, "W", entries=[7, 2], directions=directions)
    assert probe.entries.tolist() == [2, 7] and probe.evaluations == 8
    expected = np.concatenate([right["W"].flat[[2, 7]], directions.reshape(2, -1) @ right["W"].reshape(-1)])
    np.testing.assert_allclose(probe.numerical, expected, rtol=1e-7)
    np.testing.assert_allclose(probe.project(right["W"]), expected, rtol=1e-12)


def test_numerical_vjp_draws_unit_directions_and_distinct_entries():
    inputs, upstream, _ = affine_case(n=3, d=4, m=5)
    rng = np.random.default_rng(0)
    probe = numerical_vjp(affine, inputs, upstream, "W", entries=6, directions=3, rng=rng)
    assert len(set(probe.entries.tolist())) == 6
    np.testing.assert_allclose(np.linalg.norm(probe.directions, axis=1), 1.0)


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"h": 0.0}, "step h"),
        ({"h": float("nan")}, "step h"),
        ({"entries": 3}, "Generator"),
        ({"directions": 2}, "Generator"),
        ({"entries": [99]}, "flat indices"),
        ({"entries": -1}, ">= 0"),
    ],
)
def test_numerical_vjp_refuses_bad_options(options, text):
    with pytest.raises(ValueError, match=text):
        numerical_vjp(sigmoid, {"x": np.ones(4)}, np.ones(4), "x", **options)


def test_unknown_argument_or_bad_candidate_is_a_grader_error():
    x = np.ones(3)
    with pytest.raises(ValueError, match="not one of the inputs"):
        check(sigmoid, x, {"x": x}, x, "y")
    with pytest.raises(ValueError, match="candidate"):
        check(sigmoid, -x, {"x": x}, x, "x", candidates={"c": np.ones(2)})


# many points at once


class CountingMany:
    """An f_many for ``affine`` that records how it was called."""

    def __init__(self, wrong_length: bool = False) -> None:
        self.batches: list[list[dict]] = []
        self.wrong_length = wrong_length

    def __call__(self, points: list[dict]) -> list:
        self.batches.append(points)
        outputs = [affine(**point) for point in points]
        return outputs[:-1] if self.wrong_length else outputs


def test_f_many_evaluates_every_point_of_a_probe_in_one_call_with_the_same_result():
    inputs, upstream, right = affine_case(n=3, d=4, m=5)
    many = CountingMany()
    one_by_one = numerical_vjp(affine, inputs, upstream, "W", entries=6, directions=2, rng=np.random.default_rng(4))
    batched = numerical_vjp(
        affine, inputs, upstream, "W", entries=6, directions=2, rng=np.random.default_rng(4), f_many=many
    )
    assert [len(points) for points in many.batches] == [16] and batched.evaluations == 16
    np.testing.assert_array_equal(batched.numerical, one_by_one.numerical)
    np.testing.assert_array_equal(batched.rounding_floor, one_by_one.rounding_floor)
    assert all(point["x"] is not inputs["x"] for point in many.batches[0])  # fresh copies for every point


def test_f_many_serves_the_check_and_its_diagnosis():
    inputs, upstream, right = affine_case(n=3, d=4, m=4)
    many = CountingMany()
    message = failure_message(affine, right["W"].T, inputs, upstream, "W", f_many=many)
    assert TRANSPOSED in message
    assert len(many.batches) == 2  # the check, then the gradient for an upstream of ones
    check(affine, right["x"], inputs, upstream, "x", f_many=CountingMany())


def test_an_f_many_giving_the_wrong_number_of_outputs_is_a_grader_error():
    inputs, upstream, right = affine_case(n=2, d=2, m=2)
    with pytest.raises(ValueError, match="f_many returned a list of 3 items for 4 points"):
        check(affine, right["b"], inputs, upstream, "b", f_many=CountingMany(wrong_length=True))
