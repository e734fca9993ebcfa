"""Gradient descent: one SGD step, reproducible minibatches and a minibatch training loop.

Parameters and gradients are dicts of float64 arrays with the same keys. No function modifies
its arguments: updates build new dicts of new arrays.
"""

import numpy as np


def sgd_step(params, grads, lr):
    """One step of gradient descent on every parameter.

    θ ← θ − lr·∇θ, for every key of ``params``.

    Args:
        params: dict name -> float64 array.
        grads: dict with (at least) the keys of ``params``; ``grads[name]`` has the shape of
            ``params[name]``.
        lr: the learning rate, a positive float.

    Returns:
        A new dict with the keys of ``params``, holding new float64 arrays; ``params`` and
        ``grads`` are unchanged.
    """
    # BEGIN SOLUTION
    return {name: value - lr * grads[name] for name, value in params.items()}
    # END SOLUTION


def minibatch_indices(n, batch_size, seed):
    """The example indices of one epoch, shuffled and cut into minibatches.

    Take exactly the permutation ``numpy.random.default_rng(seed).permutation(n)`` and cut it into
    consecutive pieces of ``batch_size`` indices; the last piece holds the remaining
    ``n % batch_size`` indices when that is not 0. (Pinned exactly so that every correct solution
    trains identically.)

    Args:
        n: the number of examples, an int ≥ 0.
        batch_size: the number of indices per batch, an int ≥ 1 (it may exceed ``n``).
        seed: the seed of the generator, an int.

    Returns:
        A list of ceil(n / batch_size) int64 arrays; their concatenation is the permutation.

    Raises:
        ValueError: ``batch_size`` < 1.
    """
    # BEGIN SOLUTION
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(seed).permutation(n)
    return [permutation[start:start + batch_size] for start in range(0, n, batch_size)]
    # END SOLUTION


def train(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """Minibatch stochastic gradient descent.

    For epoch k = 0, 1, …, epochs − 1: for each ``idx`` of
    ``minibatch_indices(N, batch_size, seed + k)``, in order, compute
    ``loss, grads = loss_fn(current_params, X[idx], y[idx])`` and update the parameters with
    ``sgd_step(current_params, grads, lr)``. The loss of epoch k is the mean of its batch losses
    (each computed before that batch's update).

    Args:
        loss_fn: a function ``(params, X_batch, y_batch) -> (loss, grads)``, e.g.
            ``network.mlp_loss`` or ``network.window_classifier_loss``.
        params: dict name -> float64 array, the initial parameters (left unchanged).
        X: array whose first axis indexes the N examples, e.g. ``(N, D)`` inputs or ``(N, C)``
            word windows.
        y: array ``(N,)`` of labels.
        lr: the learning rate, a positive float.
        epochs: the number of passes over the data, an int ≥ 1.
        batch_size: the minibatch size, an int ≥ 1 (one batch per epoch when it exceeds N).
        seed: an int; epoch k shuffles with seed + k.

    Returns:
        ``(trained_params, history)``: a new dict of the final parameters, and a list of
        ``epochs`` Python floats, ``history[k]`` the loss of epoch k.

    Raises:
        ValueError: ``epochs`` < 1, ``batch_size`` < 1, no examples, or X and y of different
            lengths.
    """
    # BEGIN SOLUTION
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same positive number of examples, got {len(X)} and {len(y)}")
    current = params
    history = []
    for epoch in range(epochs):
        batch_losses = []
        for idx in minibatch_indices(len(X), batch_size, seed + epoch):
            loss, grads = loss_fn(current, X[idx], y[idx])
            batch_losses.append(float(loss))
            current = sgd_step(current, grads, lr)
        history.append(float(np.mean(batch_losses)))
    return current, history
    # END SOLUTION
