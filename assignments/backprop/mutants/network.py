"""Single-bug versions of functions of ``solutions/backprop/network.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``special``, ``layers`` and the other functions).
"""

import numpy as np
from scipy import special


def sigmoid_bce_loss__missing_negative_term(scores, y):
    """sigmoid_bce_loss drops the (1 − y)·log(1 − σ(s)) term of the loss: examples with y = 0 cost nothing."""
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    labels = y.astype(np.float64)
    losses = labels * np.logaddexp(0.0, -scores)
    dscores = ((1.0 - labels) * special.expit(scores) - labels * special.expit(-scores)) / len(scores)
    return float(np.mean(losses)), dscores


def sigmoid_bce_loss__bce_summed(scores, y):
    """sigmoid_bce_loss sums over the batch instead of averaging: loss and dscores N times too large."""
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    labels = y.astype(np.float64)
    losses = labels * np.logaddexp(0.0, -scores) + (1.0 - labels) * np.logaddexp(0.0, scores)
    dscores = (1.0 - labels) * special.expit(scores) - labels * special.expit(-scores)
    return float(np.sum(losses)), dscores


def sigmoid_bce_loss__log_of_probabilities(scores, y):
    """sigmoid_bce_loss takes log σ(s) and log(1 − σ(s)) literally: log(0) = −inf (with a warning) for large |s|."""
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    labels = y.astype(np.float64)
    probs = special.expit(scores)
    losses = -(labels * np.log(probs) + (1.0 - labels) * np.log(1.0 - probs))
    dscores = ((1.0 - labels) * special.expit(scores) - labels * special.expit(-scores)) / len(scores)
    return float(np.mean(losses)), dscores


def sigmoid_bce_loss__dscores_not_averaged(scores, y):
    """sigmoid_bce_loss returns dscores = σ(s) − y without the 1/N of the mean."""
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    labels = y.astype(np.float64)
    losses = labels * np.logaddexp(0.0, -scores) + (1.0 - labels) * np.logaddexp(0.0, scores)
    dscores = (1.0 - labels) * special.expit(scores) - labels * special.expit(-scores)
    return float(np.mean(losses)), dscores


def softmax_cross_entropy_loss__softmax_summed(scores, y):
    """softmax_cross_entropy_loss sums over the batch instead of averaging: loss and dscores N times too large."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n_examples)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return float(-np.sum(log_probs[rows, y])), dscores


def softmax_cross_entropy_loss__no_max_shift(scores, y):
    """softmax_cross_entropy_loss exponentiates the raw scores: overflow (inf/nan, warnings) for scores ≳ 710."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    rows = np.arange(n_examples)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return float(-np.mean(log_probs[rows, y])), dscores / n_examples


def softmax_cross_entropy_loss__missing_one_hot(scores, y):
    """softmax_cross_entropy_loss returns dscores = softmax / N: the 1 of the true class is not subtracted."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n_examples)
    return float(-np.mean(log_probs[rows, y])), np.exp(log_probs) / n_examples


def softmax_cross_entropy_loss__shifts_in_place(scores, y):
    """softmax_cross_entropy_loss subtracts the row maximum in place (scores -= ...): the argument changes."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    rows = np.arange(n_examples)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return float(-np.mean(log_probs[rows, y])), dscores / n_examples


def window_classifier_loss__fancy_index_add(params, windows, labels, activation="tanh"):
    """window_classifier_loss accumulates dE with dE[windows] += ...: a repeated word id keeps only one gradient."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, activation_cache = layers.activation_forward(z, activation)
    scores = h @ params["u"]
    loss, dscores = sigmoid_bce_loss(scores, labels)

    du = h.T @ dscores
    dh = np.outer(dscores, params["u"])
    dz = layers.activation_backward(dh, activation_cache)
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    dE = np.zeros_like(E)
    dE[windows] += dx.reshape(windows.shape + E.shape[1:])
    return loss, {"E": dE, "W": dW, "b": db, "u": du}


def window_classifier_loss__reversed_concatenation(params, windows, labels, activation="tanh"):
    """window_classifier_loss concatenates the word vectors in reverse window order (consistently in the backward)."""
    E = params["E"]
    reversed_windows = windows[:, ::-1]
    x = E[reversed_windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, activation_cache = layers.activation_forward(z, activation)
    scores = h @ params["u"]
    loss, dscores = sigmoid_bce_loss(scores, labels)

    du = h.T @ dscores
    dh = np.outer(dscores, params["u"])
    dz = layers.activation_backward(dh, activation_cache)
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    dE = np.zeros_like(E)
    np.add.at(dE, reversed_windows, dx.reshape(windows.shape + E.shape[1:]))
    return loss, {"E": dE, "W": dW, "b": db, "u": du}


def window_classifier_loss__du_from_pre_activation(params, windows, labels, activation="tanh"):
    """window_classifier_loss computes du from the pre-activation z instead of h = f(z)."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, activation_cache = layers.activation_forward(z, activation)
    scores = h @ params["u"]
    loss, dscores = sigmoid_bce_loss(scores, labels)

    du = z.T @ dscores
    dh = np.outer(dscores, params["u"])
    dz = layers.activation_backward(dh, activation_cache)
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    dE = np.zeros_like(E)
    np.add.at(dE, windows, dx.reshape(windows.shape + E.shape[1:]))
    return loss, {"E": dE, "W": dW, "b": db, "u": du}


def window_classifier_predict__no_sigmoid(params, windows, activation="tanh"):
    """window_classifier_predict returns the scores s instead of the probabilities σ(s)."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, _ = layers.affine_forward(x, params["W"], params["b"])
    h, _ = layers.activation_forward(z, activation)
    return h @ params["u"]


def mlp_loss__activation_after_last_layer(params, X, y, activation="relu"):
    """mlp_loss applies the activation after the last affine layer too (scores = f(affine))."""
    n_layers = len(params) // 2
    expected_keys = {f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"}
    if n_layers < 1 or set(params) != expected_keys:
        raise ValueError(f"params must have keys W1, b1, …, WL, bL; got {sorted(params)}")

    hidden = X
    caches = []
    for layer in range(1, n_layers + 1):
        z, affine_cache = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, activation_cache = layers.activation_forward(z, activation)
        caches.append((affine_cache, activation_cache))
    loss, dhidden = softmax_cross_entropy_loss(hidden, y)

    grads = {}
    for layer in range(n_layers, 0, -1):
        affine_cache, activation_cache = caches[layer - 1]
        dz = layers.activation_backward(dhidden, activation_cache)
        dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = layers.affine_backward(dz, affine_cache)
    return loss, {key: grads[key] for key in params}


def mlp_loss__backward_skips_activation(params, X, y, activation="relu"):
    """mlp_loss backpropagates through the hidden layers without the activation's derivative."""
    n_layers = len(params) // 2
    expected_keys = {f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"}
    if n_layers < 1 or set(params) != expected_keys:
        raise ValueError(f"params must have keys W1, b1, …, WL, bL; got {sorted(params)}")

    hidden = X
    caches = []
    for layer in range(1, n_layers):
        z, affine_cache = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, _ = layers.activation_forward(z, activation)
        caches.append(affine_cache)
    scores, last_cache = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
    loss, dscores = softmax_cross_entropy_loss(scores, y)

    grads = {}
    dhidden, grads[f"W{n_layers}"], grads[f"b{n_layers}"] = layers.affine_backward(dscores, last_cache)
    for layer in range(n_layers - 1, 0, -1):
        dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = layers.affine_backward(dhidden, caches[layer - 1])
    return loss, {key: grads[key] for key in params}


def mlp_predict__returns_scores(params, X, activation="relu"):
    """mlp_predict returns the class scores (N, C) instead of the predicted class ids."""
    n_layers = len(params) // 2
    hidden = X
    for layer in range(1, n_layers):
        z, _ = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, _ = layers.activation_forward(z, activation)
    scores, _ = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
    return scores


def mlp_predict__returns_probabilities(params, X, activation="relu"):
    """mlp_predict returns the softmax probabilities (N, C) instead of the predicted class ids."""
    n_layers = len(params) // 2
    hidden = X
    for layer in range(1, n_layers):
        z, _ = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, _ = layers.activation_forward(z, activation)
    scores, _ = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
    return special.softmax(scores, axis=1)


def collapse_linear__reversed_product(weights, biases):
    """collapse_linear multiplies the weights in the wrong order: W_1 W_2 ⋯ W_L instead of W_L ⋯ W_1."""
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty lists of the same length")
    W, b = weights[0].copy(), biases[0].copy()
    for next_W, next_b in zip(weights[1:], biases[1:]):
        W, b = W @ next_W, next_W @ b + next_b
    return W, b


def collapse_linear__later_biases_dropped(weights, biases):
    """collapse_linear drops the biases of the later layers: b = W_L ⋯ W_2 b_1 without + b_l."""
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty lists of the same length")
    W, b = weights[0].copy(), biases[0].copy()
    for next_W in weights[1:]:
        W, b = next_W @ W, next_W @ b
    return W, b


def collapse_linear__returns_input_arrays(weights, biases):
    """collapse_linear starts from weights[0] and biases[0] themselves: with one layer it returns its input arrays."""
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty lists of the same length")
    W, b = weights[0], biases[0]
    for next_W, next_b in zip(weights[1:], biases[1:]):
        W, b = next_W @ W, next_W @ b + next_b
    return W, b


def mlp_predict__memoised_by_shape(params, X, activation="relu", _memo={}):
    """mlp_predict remembers its labels by the shapes of its arguments, so a second call with other values of the same shapes gets the first call's labels."""
    key = (X.shape, tuple(value.shape for value in params.values()))
    if key not in _memo:
        n_layers = len(params) // 2
        hidden = X
        for layer in range(1, n_layers):
            z, _ = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
            hidden, _ = layers.activation_forward(z, activation)
        scores, _ = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
        _memo[key] = np.argmax(scores, axis=1).astype(np.int64)
    return _memo[key].copy()


def softmax_cross_entropy_loss__wrong_axis(scores, y):
    """softmax_cross_entropy_loss normalises over the batch (axis 0) instead of over the classes (axis 1)."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    shifted = scores - scores.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    rows = np.arange(n_examples)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return float(-np.mean(log_probs[rows, y])), dscores / n_examples


def window_classifier_loss__skips_activation_derivative(params, windows, labels, activation="tanh"):
    """window_classifier_loss backpropagates dh to dz without the activation's derivative (dz = dh)."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, _ = layers.activation_forward(z, activation)
    scores = h @ params["u"]
    loss, dscores = sigmoid_bce_loss(scores, labels)
    du = h.T @ dscores
    dz = np.outer(dscores, params["u"])
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    dE = np.zeros_like(E)
    np.add.at(dE, windows, dx.reshape(windows.shape + E.shape[1:]))
    return loss, {"E": dE, "W": dW, "b": db, "u": du}
