"""Alternative correct versions of functions of ``solutions/backprop/optim.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``sgd_step``, ``minibatch_indices``).
"""

import numpy as np


def sgd_step__update_copies(params, grads, lr):
    """sgd_step copying every array first and updating the copies in place."""
    new_params = {name: value.copy() for name, value in params.items()}
    for name, value in new_params.items():
        value -= lr * grads[name]
    return new_params


def minibatch_indices__array_split(n, batch_size, seed):
    """minibatch_indices cutting the permutation with np.array_split at multiples of batch_size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(seed).permutation(n)
    return np.array_split(permutation, np.arange(batch_size, n, batch_size)) if n else []


def train__running_total(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train rebinding params and keeping a running total of each epoch's batch losses."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same positive number of examples, got {len(X)} and {len(y)}")
    history = []
    for epoch in range(epochs):
        batches = minibatch_indices(len(X), batch_size, seed + epoch)
        total = 0.0
        for idx in batches:
            loss, grads = loss_fn(params, X[idx], y[idx])
            total += float(loss)
            params = sgd_step(params, grads, lr)
        history.append(total / len(batches))
    return params, history


def train__history_array(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train returning history as a float64 array (np.mean over the batch losses of each epoch)."""
    history = np.zeros(epochs)
    for epoch in range(epochs):
        losses = []
        for idx in minibatch_indices(len(X), batch_size, seed + epoch):
            loss, grads = loss_fn(params, X[idx], y[idx])
            losses.append(loss)
            params = sgd_step(params, grads, lr)
        history[epoch] = np.mean(losses)
    return params, history


def train__history_tuple(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train returning history as a tuple of floats."""
    history = []
    for epoch in range(epochs):
        losses = []
        for idx in minibatch_indices(len(X), batch_size, seed + epoch):
            loss, grads = loss_fn(params, X[idx], y[idx])
            losses.append(float(loss))
            params = sgd_step(params, grads, lr)
        history.append(sum(losses) / len(losses))
    return params, tuple(history)


def sgd_step__comprehension(params, grads, lr):
    """sgd_step as a dict comprehension."""
    return {key: value - lr * grads[key] for key, value in params.items()}


def train__optimizer_object(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train with a "Neural Networks from Scratch" optimizer object whose update_params() calls sgd_step."""

    class OptimizerSGD:
        def __init__(self, learning_rate):
            self.learning_rate = learning_rate

        def update_params(self, current, gradients):
            return sgd_step(current, gradients, self.learning_rate)

    optimizer = OptimizerSGD(lr)
    history = []
    for epoch in range(epochs):
        losses = []
        for idx in minibatch_indices(X.shape[0], batch_size, seed + epoch):
            loss, grads = loss_fn(params, X[idx], y[idx])
            losses.append(loss)
            params = optimizer.update_params(params, grads)
        history.append(float(np.mean(losses)))
    return params, history


def minibatch_indices__loop(n, batch_size, seed):
    """minibatch_indices slicing the permutation in a loop over the batch starts."""
    order = np.random.default_rng(seed).permutation(n)
    batches = []
    start = 0
    while start < n:
        batches.append(order[start : start + batch_size])
        start += batch_size
    return batches
