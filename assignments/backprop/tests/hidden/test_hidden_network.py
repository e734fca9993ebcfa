"""Hidden tests of network.py: losses and predictions against the reference, every gradient
against central differences of the exact loss, stability at extreme scores, other activations and
depths, arguments left unchanged (also at extreme scores), results repeatable and nothing remembered
between calls."""

import numpy as np
import pytest
from suite_support import (
    EXTREME_POINTS,
    MISSING_ONE_HOT,
    REPEATED_IDS_IGNORED,
    SOFTMAX_OVER_BATCH,
    Again,
    Cases,
    assert_no_warnings,
    bce_inputs,
    bce_mistakes,
    call_unchanged,
    check_gradients,
    check_parameter_gradients,
    loss_value,
    mlp_problem,
    name_of,
    named_cases,
    network_gradients,
    parts,
    pure_and_repeatable,
    repeated_ids_ignored,
    softmax_inputs,
    softmax_over_batch,
    window_problem,
)

from autograder.suite.checks import assert_array, assert_int_array, assert_scalar, sampling

MLP_SHAPES = {"1 layer": (4, 3), "2 layers": (3, 5, 2), "3 layers": (2, 6, 4, 3)}
"""(D, hidden sizes…, C) of the MLPs, with a batch of N = 7."""
BATCH = 7


# --------------------------------------------------------------------------- the two losses


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_sigmoid_bce_loss_value(student, reference, rng, credit):
    """sigmoid_bce_loss: loss vs reference (int64 and float64 labels)"""
    cases = Cases(credit, 2)
    for dtype in (np.int64, np.float64):
        inputs = bce_inputs(rng, dtype)
        expected, _ = reference.network.sigmoid_bce_loss(*inputs.values())
        loss = loss_value(student.network.sigmoid_bce_loss)(*inputs.values())
        with cases.case(f"{np.dtype(dtype).name} labels"):
            assert_scalar(
                loss,
                expected,
                what="the loss returned by sigmoid_bce_loss",
                batch_size=len(inputs["y"]),
                candidates=bce_mistakes(*inputs.values()),
            )
    cases.finish()


@pytest.mark.points(1.0)
def test_softmax_cross_entropy_loss_value(student, reference, rng):
    """softmax_cross_entropy_loss: loss vs reference"""
    inputs = softmax_inputs(rng)
    expected, _ = reference.network.softmax_cross_entropy_loss(*inputs.values())
    loss = loss_value(student.network.softmax_cross_entropy_loss)(*inputs.values())
    assert_scalar(
        loss,
        expected,
        what="the loss returned by softmax_cross_entropy_loss",
        batch_size=len(inputs["y"]),
        candidates={SOFTMAX_OVER_BATCH: lambda: softmax_over_batch(*inputs.values())[0]},
    )


@pytest.mark.parametrize(
    ("function", "draw"),
    [
        pytest.param(
            "sigmoid_bce_loss",
            bce_inputs,
            marks=[pytest.mark.points(1.0), pytest.mark.name("sigmoid_bce_loss: dscores of the exact loss")],
        ),
        pytest.param(
            "softmax_cross_entropy_loss",
            softmax_inputs,
            marks=[pytest.mark.points(1.0), pytest.mark.name("softmax_cross_entropy_loss: dscores of the exact loss")],
        ),
    ],
)
@pytest.mark.partial_credit
def test_loss_gradient(student, reference, rng, credit, function, draw):
    inputs = draw(rng)
    _, dscores = parts(getattr(student.network, function)(*inputs.values()), ("loss", "dscores"), function)
    exact = getattr(reference.network, function)
    cases = Cases(credit, 1)
    check_gradients(
        cases,
        loss_value(exact),
        {"scores": dscores},
        inputs,
        1.0,
        function=function,
        compared_with=f"the exact {function}",
        rng=rng,
        batch_size=len(inputs["y"]),
        candidates={"scores": loss_gradient_mistakes(function, exact, *inputs.values())},
    )
    cases.finish()


def loss_gradient_mistakes(function, exact, scores, y):
    """Known wrong dscores of the two losses."""
    if function != "softmax_cross_entropy_loss":
        return {}
    n, classes = scores.shape
    probabilities = exact(scores, y)[1] + np.eye(classes)[y] / n
    return {MISSING_ONE_HOT: probabilities, SOFTMAX_OVER_BATCH: lambda: softmax_over_batch(scores, y)[1]}


def extreme_inputs(function, rng):
    """Scores of magnitude up to 1e4 (where log σ(s) or exp(s) evaluated literally fail) with labels."""
    if function == "sigmoid_bce_loss":
        scores = rng.permutation(EXTREME_POINTS)
        return {"scores": scores, "y": rng.permutation(np.arange(len(scores)) % 2)}
    scores = rng.permutation(EXTREME_POINTS).reshape(5, 2) @ np.array([[1.0, 0.5, -1.0], [0.0, 1.0, 0.2]])
    return {"scores": scores, "y": rng.integers(0, 3, len(scores))}


LOSSES = ["sigmoid_bce_loss", "softmax_cross_entropy_loss"]


@pytest.mark.partial_credit
@pytest.mark.parametrize("function", named_cases("finite, accurate, no warnings for scores up to 1e4", LOSSES, 1.0))
def test_loss_stable_at_extreme_scores(student, reference, rng, credit, function):
    inputs = extreme_inputs(function, rng)
    result = call_unchanged(getattr(student.network, function), inputs)
    assert_no_warnings(result, function, "scores of magnitude up to 1e4")
    loss, dscores = parts(result.value, ("loss", "dscores"), function)
    expected_loss, expected_dscores = getattr(reference.network, function)(*inputs.values())
    cases = Cases(credit, 2)
    with cases.case("loss"):
        assert_scalar(loss, expected_loss, what=f"the loss returned by {function} for scores up to 1e4")
    with cases.case("dscores"):
        assert_array(dscores, expected_dscores, what=f"dscores returned by {function} for scores up to 1e4")
    cases.finish()


# --------------------------------------------------------------------------- the window classifier


def window_loss_mistakes(ref, problem):
    """Known wrong losses of the window classifier."""
    reversed_windows = problem.windows[:, ::-1]
    return {
        "the word vectors are concatenated in reverse window order": ref.network.window_classifier_loss(
            problem.params, reversed_windows, problem.labels
        )[0]
    }


REVERSED_CONCATENATION = "the word vectors are concatenated in reverse window order"
SKIPPED_DERIVATIVE = "the activation's derivative is left out of the backward pass (dz = dh instead of dh·f'(z))"


def window_gradient_mistakes(ref, problem, activation="tanh"):
    """Known wrong gradients of the window classifier, by parameter name (each computed only when
    a check needs it), from the reference's pieces: the gradients of the reversed concatenation,
    du from the pre-activation z, the activation's derivative left out, and repeated word ids
    counted once (``repeated_ids_ignored``)."""
    params, windows, labels = problem.params, problem.windows, problem.labels
    forward, derivative = ref.activations.ACTIVATIONS[activation]

    def pieces():
        x = params["E"][windows].reshape(len(windows), -1)
        z = x @ params["W"].T + params["b"]
        _, dscores = ref.network.sigmoid_bce_loss(forward(z) @ params["u"], labels)
        return x, z, dscores, np.outer(dscores, params["u"])

    def reversed_gradient(name):
        return lambda: ref.network.window_classifier_loss(params, windows[:, ::-1], labels, activation)[1][name]

    def without_derivative(name):
        def gradient():
            x, _, _, dh = pieces()
            dE = np.zeros_like(params["E"])
            np.add.at(dE, windows, (dh @ params["W"]).reshape(windows.shape + params["E"].shape[1:]))
            return {"E": dE, "W": dh.T @ x, "b": dh.sum(axis=0)}[name]

        return gradient

    def du_from_z():
        _, z, dscores, _ = pieces()
        return z.T @ dscores

    mistakes = {name: {REVERSED_CONCATENATION: reversed_gradient(name)} for name in params}
    for name in ("E", "W", "b"):
        mistakes[name][SKIPPED_DERIVATIVE] = without_derivative(name)
    mistakes["u"]["du is computed from the pre-activation z instead of h = f(z): du = zᵀ·dscores"] = du_from_z
    mistakes["E"][REPEATED_IDS_IGNORED] = lambda: repeated_ids_ignored(ref.network.window_classifier_loss, problem)[
        "E"
    ][REPEATED_IDS_IGNORED]
    return mistakes


def mlp_gradient_mistakes(ref, problem, activation):
    """Known wrong gradients of an MLP, by parameter name (computed only when a check needs them):
    the activation's derivative left out of the backward pass."""

    def without_derivative():
        forward = ref.activations.ACTIVATIONS[activation][0]
        layers = len(problem.params) // 2
        hidden = [problem.X]
        for layer in range(1, layers):
            hidden.append(forward(hidden[-1] @ problem.params[f"W{layer}"].T + problem.params[f"b{layer}"]))
        scores = hidden[-1] @ problem.params[f"W{layers}"].T + problem.params[f"b{layers}"]
        upstream = ref.network.softmax_cross_entropy_loss(scores, problem.y)[1]
        grads = {}
        for layer in range(layers, 0, -1):
            grads[f"W{layer}"], grads[f"b{layer}"] = upstream.T @ hidden[layer - 1], upstream.sum(axis=0)
            upstream = upstream @ problem.params[f"W{layer}"]
        return grads

    if len(problem.params) == 2:
        return {}
    return {name: {SKIPPED_DERIVATIVE: lambda name=name: without_derivative()[name]} for name in problem.params}


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_window_classifier_loss_value(student, reference, rng, credit):
    """window_classifier_loss: loss vs reference (int64 and float64 labels)"""
    cases = Cases(credit, 2)
    for dtype in (np.int64, np.float64):
        problem = window_problem(rng, dtype)
        data = (problem.params, problem.windows, problem.labels)
        expected, _ = reference.network.window_classifier_loss(*data)
        loss = loss_value(student.network.window_classifier_loss)(*data)
        with cases.case(f"{np.dtype(dtype).name} labels"):
            assert_scalar(
                loss,
                expected,
                what="the loss returned by window_classifier_loss",
                candidates=window_loss_mistakes(reference, problem),
            )
    cases.finish()


def check_exact_network_gradients(
    cases, rng, student_loss, exact, params, data, names, *, label="", candidates=None, **options
):
    """The student's gradients of the parameters ``names`` against central differences of the exact
    loss ``exact(params, *data, **options)``, one case each."""
    grads = network_gradients(student_loss, params, *data, **options)
    settings = "".join(f" with {key}={value!r}" for key, value in options.items())
    check_parameter_gradients(
        cases,
        loss_value(exact, **options),
        data,
        grads,
        params,
        names,
        function=name_of(student_loss),
        compared_with=f"the exact {name_of(student_loss)}{settings}",
        rng=rng,
        label=label,
        candidates=candidates,
    )


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(
            ("E",),
            marks=[
                pytest.mark.points(1.5),
                pytest.mark.name("window_classifier_loss: dE of the exact loss (repeated word ids)"),
            ],
        ),
        pytest.param(
            ("W", "b", "u"),
            marks=[pytest.mark.points(1.5), pytest.mark.name("window_classifier_loss: dW, db, du of the exact loss")],
        ),
    ],
)
@pytest.mark.partial_credit
def test_window_classifier_gradients(student, reference, rng, credit, names):
    problem = window_problem(rng)
    exact = reference.network.window_classifier_loss
    candidates = window_gradient_mistakes(reference, problem)
    cases = Cases(credit, len(names))
    check_exact_network_gradients(
        cases,
        rng,
        student.network.window_classifier_loss,
        exact,
        problem.params,
        (problem.windows, problem.labels),
        names,
        candidates=candidates,
    )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_window_classifier_with_sigmoid(student, reference, rng, credit):
    """window_classifier_loss: loss and gradients with activation="sigmoid\""""
    problem = window_problem(rng)
    data = (problem.params, problem.windows, problem.labels)
    exact = reference.network.window_classifier_loss
    cases = Cases(credit, 1 + len(problem.params))
    loss = loss_value(student.network.window_classifier_loss)(*data, activation="sigmoid")
    with cases.case("loss"):
        assert_scalar(
            loss,
            exact(*data, activation="sigmoid")[0],
            what='the loss returned by window_classifier_loss with activation="sigmoid"',
        )
    check_exact_network_gradients(
        cases,
        rng,
        student.network.window_classifier_loss,
        exact,
        problem.params,
        data[1:],
        problem.params,
        candidates=window_gradient_mistakes(reference, problem, "sigmoid"),
        activation="sigmoid",
    )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_window_classifier_predict_values(student, reference, rng, credit):
    """window_classifier_predict: probabilities vs reference (tanh and sigmoid)"""
    problem = window_problem(rng)
    cases = Cases(credit, 2)
    for activation in ("tanh", "sigmoid"):
        expected = reference.network.window_classifier_predict(problem.params, problem.windows, activation)
        scores = np.log(expected) - np.log1p(-expected)
        got = student.network.window_classifier_predict(problem.params, problem.windows, activation=activation)
        with cases.case(activation):
            assert_array(
                got,
                expected,
                what=f"the probabilities returned by window_classifier_predict ({activation})",
                candidates={"the scores s are returned instead of the probabilities σ(s)": scores},
            )
    cases.finish()


# --------------------------------------------------------------------------- the MLP


def mlp_scores(ref, params, X, activation):
    """The scores of the reference MLP."""
    layers = len(params) // 2
    hidden = X
    for layer in range(1, layers):
        hidden = ref.layers.activation_forward(
            ref.layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])[0], activation
        )[0]
    return ref.layers.affine_forward(hidden, params[f"W{layers}"], params[f"b{layers}"])[0]


def mlp_loss_mistakes(ref, problem, activation):
    """Known wrong losses of an MLP."""
    forward = ref.activations.ACTIVATIONS[activation][0]
    scores = mlp_scores(ref, problem.params, problem.X, activation)
    return {
        "the activation is also applied after the last layer (to the scores)": ref.network.softmax_cross_entropy_loss(
            forward(scores), problem.y
        )[0]
    }


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_mlp_loss_value(student, reference, rng, credit):
    """mlp_loss: loss vs reference with 1, 2 and 3 layers"""
    cases = Cases(credit, len(MLP_SHAPES))
    for label, sizes in MLP_SHAPES.items():
        problem = mlp_problem(rng, sizes, BATCH)
        expected, _ = reference.network.mlp_loss(problem.params, problem.X, problem.y)
        loss = loss_value(student.network.mlp_loss)(problem.params, problem.X, problem.y)
        with cases.case(label):
            assert_scalar(
                loss,
                expected,
                what=f"the loss returned by mlp_loss ({label})",
                candidates=mlp_loss_mistakes(reference, problem, "relu"),
            )
    cases.finish()


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_mlp_gradients(student, reference, rng, credit):
    """mlp_loss: every gradient of the exact loss, with 1, 2 and 3 layers (ReLU)"""
    problems = {label: mlp_problem(rng, sizes, BATCH) for label, sizes in MLP_SHAPES.items()}
    cases = Cases(credit, sum(len(problem.params) for problem in problems.values()))
    for label, problem in problems.items():
        check_exact_network_gradients(
            cases,
            rng,
            student.network.mlp_loss,
            reference.network.mlp_loss,
            problem.params,
            (problem.X, problem.y),
            problem.params,
            label=f"{label}: ",
            candidates=mlp_gradient_mistakes(reference, problem, "relu"),
        )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_mlp_with_tanh(student, reference, rng, credit):
    """mlp_loss: loss and gradients with activation="tanh\""""
    problem = mlp_problem(rng, MLP_SHAPES["3 layers"], BATCH)
    data = (problem.params, problem.X, problem.y)
    cases = Cases(credit, 1 + len(problem.params))
    loss = loss_value(student.network.mlp_loss)(*data, activation="tanh")
    with cases.case("loss"):
        assert_scalar(
            loss,
            reference.network.mlp_loss(*data, activation="tanh")[0],
            what='the loss returned by mlp_loss with activation="tanh"',
            candidates=mlp_loss_mistakes(reference, problem, "tanh"),
        )
    check_exact_network_gradients(
        cases,
        rng,
        student.network.mlp_loss,
        reference.network.mlp_loss,
        problem.params,
        data[1:],
        problem.params,
        candidates=mlp_gradient_mistakes(reference, problem, "tanh"),
        activation="tanh",
    )
    cases.finish()


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_mlp_predict_values(student, reference, rng, credit):
    """mlp_predict: labels vs reference with 1, 2 and 3 layers"""
    cases = Cases(credit, len(MLP_SHAPES))
    for label, sizes in MLP_SHAPES.items():
        problem = mlp_problem(rng, sizes, BATCH)
        expected = reference.network.mlp_predict(problem.params, problem.X)
        got = student.network.mlp_predict(problem.params, problem.X)
        with cases.case(label):
            assert_int_array(got, expected, what=f"the labels returned by mlp_predict ({label})")
    cases.finish()


# --------------------------------------------------------------------------- collapse_linear


@pytest.mark.points(1.75)
@pytest.mark.partial_credit
def test_collapse_linear_values(student, reference, rng, credit):
    """collapse_linear: W and b vs reference with 1, 2 and 4 layers"""
    depths = (1, 2, 4)
    cases = Cases(credit, 2 * len(depths))
    for depth in depths:
        sizes = sampling.distinct_sizes(rng, depth + 1, low=2, high=7)
        weights = [sampling.normal(rng, (m, d)) for d, m in zip(sizes[:-1], sizes[1:])]
        biases = [sampling.normal(rng, m) for m in sizes[1:]]
        expected = reference.network.collapse_linear(weights, biases)
        got = parts(student.network.collapse_linear(weights, biases), ("W", "b"), "collapse_linear")
        layers = f"{depth} layer" + ("s" if depth > 1 else "")
        first_bias_only = biases[0]
        for weight in weights[1:]:
            first_bias_only = weight @ first_bias_only
        mistakes = {"W": {}, "b": {"the biases of the later layers are missing: b = W_L⋯W_2·b_1": first_bias_only}}
        for name, got_part, expected_part in zip("Wb", got, expected):
            with cases.case(f"{layers}: {name}"):
                assert_array(
                    got_part,
                    expected_part,
                    what=f"{name} returned by collapse_linear ({layers})",
                    candidates=mistakes[name],
                )
    cases.finish()


# --------------------------------------------------------------------------- purity


def network_arguments(rng, function):
    """The arguments of a network.py function, by name."""
    if function in ("sigmoid_bce_loss", "softmax_cross_entropy_loss"):
        return (bce_inputs if function == "sigmoid_bce_loss" else softmax_inputs)(rng)
    if function.startswith("window"):
        problem = window_problem(rng)
        arguments = {"params": problem.params, "windows": problem.windows}
        return dict(arguments, labels=problem.labels) if function.endswith("loss") else arguments
    if function == "collapse_linear":  # one layer: the collapsed map is that layer, as a new pair of arrays
        return {"weights": [sampling.normal(rng, (3, 2))], "biases": [sampling.normal(rng, 3)]}
    problem = mlp_problem(rng, MLP_SHAPES["1 layer" if function == "mlp_predict" else "2 layers"], BATCH)
    arguments = {"params": problem.params, "X": problem.X}
    return dict(arguments, y=problem.y) if function.endswith("loss") else arguments


NETWORK_FUNCTIONS = [
    "sigmoid_bce_loss",
    "softmax_cross_entropy_loss",
    "window_classifier_loss",
    "window_classifier_predict",
    "mlp_loss",
    "mlp_predict",
    "collapse_linear",
]


@pytest.mark.partial_credit
@pytest.mark.parametrize(
    "function", named_cases("arguments unchanged, results repeatable, nothing remembered", NETWORK_FUNCTIONS, 0.25)
)
def test_pure_and_repeatable(student, reference, rng, credit, function):
    exact = getattr(reference.network, function)
    arguments = network_arguments(rng, function)
    for _ in range(sampling.MAX_REJECTION_ROUNDS):  # labels differ from the first call's, so a stale result shows
        other = network_arguments(rng, function)
        if function != "mlp_predict" or not np.array_equal(exact(*other.values()), exact(*arguments.values())):
            break
    again = Again(other, exact(*other.values()))
    cases = Cases(credit, 3)
    pure_and_repeatable(cases, getattr(student.network, function), arguments, again)
    cases.finish()
