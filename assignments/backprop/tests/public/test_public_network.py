"""Public tests of network.py: losses on hand-computed cases, every gradient against central
differences of your own loss, predictions and collapsed layers from their definitions."""

import numpy as np
import pytest
from suite_support import (
    MISSING_ONE_HOT,
    Cases,
    bce_inputs,
    bce_mistakes,
    call_unchanged,
    check_gradients,
    check_parameter_gradients,
    loss_value,
    mlp_problem,
    name_of,
    network_gradients,
    parts,
    repeated_ids_ignored,
    run_cases,
    softmax_inputs,
    window_problem,
)

from autograder.suite.checks import assert_array, assert_array_form, assert_int_array, assert_scalar, sampling
from autograder.suite.errors import CheckFailure


def loss_cases(got, loss, dscores, function, shown, mistakes=None):
    """The cases checking ``(loss, dscores)`` returned by a loss function; mistakes: known wrong
    values by "loss" and "dscores"."""
    mistakes = mistakes or {}
    return [
        (
            "loss",
            lambda: assert_scalar(
                parts(got, ("loss", "dscores"), function)[0],
                loss,
                what=f"the loss returned by {function}",
                show_inputs=shown,
                candidates=mistakes.get("loss"),
            ),
        ),
        (
            "dscores",
            lambda: assert_array(
                parts(got, ("loss", "dscores"), function)[1],
                dscores,
                what=f"dscores returned by {function}",
                show_inputs=shown,
                candidates=mistakes.get("dscores"),
            ),
        ),
    ]


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_sigmoid_bce_loss_by_hand(student, credit):
    """sigmoid_bce_loss: hand-computed loss and dscores"""
    scores = np.array([0.0, 0.0, 2.0, -1.0])
    y = np.array([1, 0, 1, 0])
    # −log σ(s) = log(1 + e^−s) for y = 1 and −log(1 − σ(s)) = log(1 + e^s) for y = 0
    loss = float(np.mean([np.log(2.0), np.log(2.0), np.log1p(np.exp(-2.0)), np.log1p(np.exp(-1.0))]))
    dscores = (1.0 / (1.0 + np.exp(-scores)) - y) / 4
    got = student.network.sigmoid_bce_loss(scores.copy(), y.copy())
    run_cases(
        credit,
        loss_cases(
            got, loss, dscores, "sigmoid_bce_loss", {"scores": scores, "y": y}, {"loss": bce_mistakes(scores, y)}
        ),
    )


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_softmax_cross_entropy_loss_by_hand(student, credit):
    """softmax_cross_entropy_loss: hand-computed loss and dscores"""
    scores = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [np.log(2.0), 0.0, 0.0], [0.0, np.log(3.0), np.log(4.0)]])
    y = np.array([0, 2, 0, 1])
    probabilities = np.array([[1, 1, 1], [1, 1, 1], [2, 1, 1], [1, 3, 4]]) / np.array([[3], [3], [4], [8]])
    loss = float(np.mean([np.log(3.0), np.log(3.0), np.log(2.0), np.log(8.0 / 3.0)]))
    dscores = (probabilities - np.eye(3)[y]) / 4
    got = student.network.softmax_cross_entropy_loss(scores.copy(), y.copy())
    run_cases(
        credit,
        loss_cases(
            got,
            loss,
            dscores,
            "softmax_cross_entropy_loss",
            {"scores": scores, "y": y},
            {"dscores": {MISSING_ONE_HOT: probabilities / 4}},
        ),
    )


@pytest.mark.partial_credit
@pytest.mark.parametrize(
    ("function", "draw"),
    [
        pytest.param(
            "sigmoid_bce_loss",
            bce_inputs,
            marks=[
                pytest.mark.points(1.0),
                pytest.mark.name("sigmoid_bce_loss: dscores agrees with central differences of your loss"),
            ],
        ),
        pytest.param(
            "softmax_cross_entropy_loss",
            softmax_inputs,
            marks=[
                pytest.mark.points(1.0),
                pytest.mark.name("softmax_cross_entropy_loss: dscores agrees with central differences of your loss"),
            ],
        ),
    ],
)
def test_loss_gradient(student, rng, credit, function, draw):
    inputs = draw(rng)
    loss = getattr(student.network, function)
    _, dscores = parts(loss(*inputs.values()), ("loss", "dscores"), function)
    cases = Cases(credit, 1)
    check_gradients(
        cases,
        loss_value(loss),
        {"scores": dscores},
        inputs,
        1.0,
        function=function,
        compared_with=f"your own {function}",
        rng=rng,
        batch_size=len(inputs["y"]),
    )
    cases.finish()


def check_own_network_gradients(credit, rng, loss, params, *data, **options):
    """Every gradient of a network loss ``loss(params, *data)`` against central differences of
    that same loss, one case per parameter."""
    grads = network_gradients(loss, params, *data)
    cases = Cases(credit, len(params))
    check_parameter_gradients(
        cases,
        loss_value(loss),
        data,
        grads,
        params,
        params,
        function=name_of(loss),
        compared_with=f"your own {name_of(loss)}",
        rng=rng,
        **options,
    )
    cases.finish()


@pytest.mark.points(2.0)
@pytest.mark.partial_credit
def test_window_classifier_gradients(student, rng, credit):
    """window_classifier_loss: dE, dW, db, du agree with central differences of your loss (repeated word ids)"""
    problem = window_problem(rng)
    loss = student.network.window_classifier_loss
    check_own_network_gradients(
        credit,
        rng,
        loss,
        problem.params,
        problem.windows,
        problem.labels,
        candidates=repeated_ids_ignored(loss, problem),
    )


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_mlp_gradients(student, rng, credit):
    """mlp_loss: every gradient agrees with central differences of your loss (2 layers, ReLU)"""
    problem = mlp_problem(rng, (3, 5, 2), batch=4)
    check_own_network_gradients(credit, rng, student.network.mlp_loss, problem.params, problem.X, problem.y)


@pytest.mark.points(0.5)
def test_window_classifier_predict_matches_the_loss(student, rng):
    """window_classifier_predict: consistent with your loss (loss = −mean log p when every label is 1)"""
    problem = window_problem(rng)
    probabilities = student.network.window_classifier_predict(problem.params, problem.windows)
    assert_array_form(probabilities, what="the result of window_classifier_predict", shape=problem.labels.shape)
    if not np.all((probabilities > 0) & (probabilities < 1)):
        raise CheckFailure(
            "window_classifier_predict must return probabilities σ(s), strictly between 0 and 1 "
            f"for these moderate scores; it returned {probabilities}."
        )
    ones = np.ones(len(problem.windows), dtype=np.int64)
    loss = loss_value(student.network.window_classifier_loss)(problem.params, problem.windows, ones)
    assert_scalar(
        loss,
        float(-np.mean(np.log(probabilities))),
        rtol=1e-6,
        what="window_classifier_loss with every label 1, compared with −mean(log p) of your window_classifier_predict,",
    )


@pytest.mark.points(0.5)
def test_mlp_predict_by_hand(student):
    """mlp_predict: labels of a hand-made one-layer model (argmax of the scores)"""
    params = {"W1": np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), "b1": np.array([0.0, 0.0, 0.5])}
    X = np.array([[2.0, 1.0], [0.5, 3.0], [-1.0, -2.0], [0.1, 0.1]])
    expected = np.array([0, 1, 2, 2])
    got = student.network.mlp_predict(params, X.copy())
    assert_int_array(got, expected, what="the labels returned by mlp_predict", show_inputs={"X": X, **params})


@pytest.mark.points(0.75)
@pytest.mark.partial_credit
def test_collapse_linear_by_definition(student, rng, credit):
    """collapse_linear: three layers, W = W3·W2·W1 and b = W3·W2·b1 + W3·b2 + b3"""
    sizes = (3, 5, 2, 4)
    weights = [sampling.normal(rng, (m, d)) for d, m in zip(sizes[:-1], sizes[1:])]
    biases = [sampling.normal(rng, m) for m in sizes[1:]]
    W1, W2, W3 = weights
    b1, b2, b3 = biases
    got = parts(student.network.collapse_linear(weights, biases), ("W", "b"), "collapse_linear")
    run_cases(
        credit,
        [
            ("W", lambda: assert_array(got[0], W3 @ W2 @ W1, what="W returned by collapse_linear")),
            ("b", lambda: assert_array(got[1], W3 @ W2 @ b1 + W3 @ b2 + b3, what="b returned by collapse_linear")),
        ],
    )


@pytest.mark.points(0.75)
def test_mlp_loss_leaves_its_arguments_unchanged(student, rng):
    """mlp_loss: params, X and y unchanged"""
    problem = mlp_problem(rng, (3, 5, 2), batch=4)
    call_unchanged(student.network.mlp_loss, {"params": problem.params, "X": problem.X, "y": problem.y})
