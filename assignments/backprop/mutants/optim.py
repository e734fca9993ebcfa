"""Single-bug versions of functions of ``solutions/backprop/optim.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``sgd_step``, ``minibatch_indices``).
"""

import numpy as np


def sgd_step__ascent(params, grads, lr):
    """sgd_step adds the gradient: θ + lr·∇θ (gradient ascent)."""
    return {name: value + lr * grads[name] for name, value in params.items()}


def sgd_step__updates_arrays_in_place(params, grads, lr):
    """sgd_step copies the dict but updates its arrays in place (-=): the caller's parameters change."""
    new_params = dict(params)
    for name in new_params:
        new_params[name] -= lr * grads[name]
    return new_params


def sgd_step__keys_of_grads(params, grads, lr):
    """sgd_step iterates over the keys of grads: a gradient without a parameter raises KeyError."""
    return {name: params[name] - lr * grad for name, grad in grads.items()}


def minibatch_indices__legacy_seed(n, batch_size, seed):
    """minibatch_indices shuffles with np.random.seed(seed) and np.random.permutation(n), not default_rng(seed)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    np.random.seed(seed)
    permutation = np.random.permutation(n)
    return [permutation[start:start + batch_size] for start in range(0, n, batch_size)]


def minibatch_indices__with_replacement(n, batch_size, seed):
    """minibatch_indices draws n indices with replacement (rng.choice(n, n)) instead of a permutation."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(seed).choice(n, n)
    return [permutation[start:start + batch_size] for start in range(0, n, batch_size)]


def minibatch_indices__drops_last_partial_batch(n, batch_size, seed):
    """minibatch_indices drops the last batch when it is smaller than batch_size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(seed).permutation(n)
    return [permutation[start:start + batch_size] for start in range(0, n - batch_size + 1, batch_size)]


def minibatch_indices__batch_size_as_count(n, batch_size, seed):
    """minibatch_indices cuts the permutation into batch_size pieces (np.array_split(p, batch_size))."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(seed).permutation(n)
    return np.array_split(permutation, batch_size)


def train__same_seed_every_epoch(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train shuffles every epoch with seed instead of seed + k: all epochs visit the same batches."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same positive number of examples, got {len(X)} and {len(y)}")
    current = params
    history = []
    for _ in range(epochs):
        batch_losses = []
        for idx in minibatch_indices(len(X), batch_size, seed):
            loss, grads = loss_fn(current, X[idx], y[idx])
            batch_losses.append(float(loss))
            current = sgd_step(current, grads, lr)
        history.append(float(np.mean(batch_losses)))
    return current, history


def train__epoch_seeds_from_one(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train counts epochs from 1 when seeding: epoch k shuffles with seed + k + 1."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same positive number of examples, got {len(X)} and {len(y)}")
    current = params
    history = []
    for epoch in range(1, epochs + 1):
        batch_losses = []
        for idx in minibatch_indices(len(X), batch_size, seed + epoch):
            loss, grads = loss_fn(current, X[idx], y[idx])
            batch_losses.append(float(loss))
            current = sgd_step(current, grads, lr)
        history.append(float(np.mean(batch_losses)))
    return current, history


def train__history_sums(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train records the sum of an epoch's batch losses in history instead of their mean."""
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
        history.append(float(np.sum(batch_losses)))
    return current, history


def train__steps_from_initial_params(loss_fn, params, X, y, lr, epochs, batch_size, seed):
    """train applies every step to the initial params instead of the current ones: only the last step survives."""
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
            current = sgd_step(params, grads, lr)
        history.append(float(np.mean(batch_losses)))
    return current, history


def sgd_step__assigns_into_params(params, grads, lr):
    """sgd_step assigns the new arrays into the params dict it was given and returns that dict."""
    for name in params:
        params[name] = params[name] - lr * grads[name]
    return params


def sgd_step__lr_ignored(params, grads, lr):
    """sgd_step leaves out the learning rate: θ − ∇θ."""
    return {name: value - grads[name] for name, value in params.items()}


def minibatch_indices__not_shuffled(n, batch_size, seed):
    """minibatch_indices cuts np.arange(n) into batches without shuffling."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = np.arange(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def minibatch_indices__fixed_seed(n, batch_size, seed):
    """minibatch_indices ignores its seed argument and always shuffles with default_rng(0)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    permutation = np.random.default_rng(0).permutation(n)
    return [permutation[start:start + batch_size] for start in range(0, n, batch_size)]
