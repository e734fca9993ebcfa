"""Public tests of optim.py: one SGD step by hand, the minibatches of an epoch, and a short
training run on the provided XOR data."""

import numpy as np
import pytest
from suite_support import (
    Cases,
    assert_batches,
    assert_history,
    batch_sizes,
    blame_train_helpers,
    call_unchanged,
    parts,
    permutation_mistakes,
    repeated_indices,
)

from autograder.suite.checks import assert_array, assert_int_array, assert_structure, sampling
from autograder.suite.errors import CheckFailure


@pytest.mark.points(1.0)
@pytest.mark.partial_credit
def test_sgd_step_by_hand(student, credit):
    """sgd_step: one step θ − lr·∇θ on every parameter, by hand"""
    params = {"W": np.linspace(-1.0, 1.0, 6).reshape(2, 3), "b": np.array([0.5, -0.5])}
    grads = {"W": np.linspace(2.0, -3.0, 6).reshape(2, 3), "b": np.array([1.0, 4.0])}
    expected = {"W": np.array([[-1.2, -0.7, -0.2], [0.3, 0.8, 1.3]]), "b": np.array([0.4, -0.9])}
    got = student.optim.sgd_step(params, grads, 0.1)
    assert_structure(got, params.keys(), what="the result of sgd_step")
    cases = Cases(credit, len(params))
    for name in params:
        with cases.case(name):
            assert_array(
                got[name],
                expected[name],
                what=f"the new {name} returned by sgd_step",
                show_inputs={name: params[name], f"grads[{name!r}]": grads[name], "lr": 0.1},
            )
    cases.finish()


@pytest.mark.points(0.5)
def test_sgd_step_leaves_its_arguments_unchanged(student, rng):
    """sgd_step: params and grads unchanged (the step returns new arrays)"""
    params = {"W": sampling.normal(rng, (3, 2)), "b": sampling.normal(rng, 3)}
    grads = {"W": sampling.normal(rng, (3, 2)), "b": sampling.normal(rng, 3)}
    call_unchanged(student.optim.sgd_step, {"params": params, "grads": grads, "lr": 0.5})


@pytest.mark.points(1.0)
def test_minibatch_indices_cut_the_seeded_permutation(student, rng):
    """minibatch_indices: default_rng(seed).permutation(n) cut into batches of batch_size"""
    n, batch_size, seed = 11, 4, int(rng.integers(1000))
    permutation = np.random.default_rng(seed).permutation(n)
    expected = [permutation[:4], permutation[4:8], permutation[8:]]
    got = student.optim.minibatch_indices(n, batch_size, seed)
    assert_batches(got, expected, f"minibatch_indices({n}, {batch_size}, {seed})", orders=permutation_mistakes(n, seed))


@pytest.mark.points(0.5)
@pytest.mark.partial_credit
def test_minibatch_indices_sizes(student, rng, credit):
    """minibatch_indices: batch sizes, each index once (also when batch_size > n)"""
    settings = [(7, 3), (6, 2), (4, 10), (5, 1)]
    cases = Cases(credit, len(settings))
    for n, batch_size in settings:
        got = student.optim.minibatch_indices(n, batch_size, int(rng.integers(1000)))
        what = f"minibatch_indices({n}, {batch_size}, seed)"
        sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
        with cases.case(f"n = {n}, batch_size = {batch_size}"):
            if batch_sizes(got, what) != sizes:
                raise CheckFailure(f"{what} must return batches of sizes {sizes}; got sizes {batch_sizes(got, what)}.")
            indices = np.sort(np.concatenate(got))
            assert_int_array(
                indices,
                np.arange(n),
                what=f"the sorted indices of all batches of {what}",
                candidates=lambda: repeated_indices(indices, n),
            )
    cases.finish()


@pytest.mark.points(0.5)
def test_minibatch_indices_change_with_the_seed(student, rng):
    """minibatch_indices: another seed (the next epoch) gives another order"""
    seed = int(rng.integers(1000))
    orders = []
    for each in (seed, seed + 1):
        got = student.optim.minibatch_indices(20, 20, each)
        if batch_sizes(got, f"minibatch_indices(20, 20, {each})") != [20]:
            raise CheckFailure(f"minibatch_indices(20, 20, {each}) must return one batch of 20 indices.")
        orders.append(got[0])
    if np.array_equal(*orders):
        raise CheckFailure(
            f"minibatch_indices(20, 20, seed) gives the same order for seed = {seed} and {seed + 1}: "
            "each seed must give its own shuffle (use numpy.random.default_rng(seed))."
        )


@pytest.mark.points(1.5)
@pytest.mark.partial_credit
def test_train_a_linear_model(student, provided, rng, credit):
    """train: a short run of data.least_squares_loss, history of epoch losses going down, arguments unchanged"""
    seed = int(rng.integers(1000))
    X, _ = provided.data.make_xor(n=48, seed=seed)
    y = X @ rng.normal(size=2) + rng.normal()
    epochs = 6
    arguments = {
        "loss_fn": student.data.least_squares_loss,
        "params": {"w": np.zeros(2), "b": np.zeros(1)},
        "X": X,
        "y": y,
        "lr": 0.5,
        "epochs": epochs,
        "batch_size": 16,
        "seed": seed,
    }
    _, history = parts(student.optim.train(*arguments.values()), ("params", "history"), "train")
    cases = Cases(credit, 3)
    with cases.case("history"):
        assert_history(history, epochs)
    with cases.case("loss goes down"):
        assert_history(history, epochs)
        if not history[-1] < history[0]:
            raise CheckFailure(
                f"the loss of the last epoch ({history[-1]:.6g}) is not below that of the first "
                f"({history[0]:.6g}) with lr = 0.5; history = {list(history)}."
            )
    with cases.case("arguments unchanged"):
        call_unchanged(student.optim.train, arguments)
    with blame_train_helpers(student, arguments):
        cases.finish()
