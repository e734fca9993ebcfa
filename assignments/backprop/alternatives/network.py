"""Alternative correct versions of functions of ``solutions/backprop/network.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``special``, ``layers`` and the other functions).
"""

import numpy as np
from scipy import special


def sigmoid_bce_loss__log_expit(scores, y):
    """sigmoid_bce_loss with scipy.special.log_expit for log σ(s) and log(1 − σ(s)) = log σ(−s)."""
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    losses = -np.where(y == 1, special.log_expit(scores), special.log_expit(-scores))
    return float(np.mean(losses)), (special.expit(scores) - y) / len(scores)


def softmax_cross_entropy_loss__logsumexp(scores, y):
    """softmax_cross_entropy_loss with scipy.special.logsumexp and scipy.special.softmax."""
    n_examples, n_classes = scores.shape
    if y.shape != (n_examples,):
        raise ValueError(f"labels {y.shape} must have shape ({n_examples},)")
    if np.any((y < 0) | (y >= n_classes)):
        raise ValueError(f"class ids must lie in 0 … {n_classes - 1}")
    rows = np.arange(n_examples)
    losses = special.logsumexp(scores, axis=1) - scores[rows, y]
    one_hot = np.zeros_like(scores)
    one_hot[rows, y] = 1.0
    return float(np.mean(losses)), (special.softmax(scores, axis=1) - one_hot) / n_examples


def window_classifier_loss__loop_over_windows(params, windows, labels, activation="tanh"):
    """window_classifier_loss adding each window's word-vector gradients to dE in a Python loop."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, activation_cache = layers.activation_forward(z, activation)
    loss, dscores = sigmoid_bce_loss(h @ params["u"], labels)

    dz = layers.activation_backward(np.outer(dscores, params["u"]), activation_cache)
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    dE = np.zeros_like(E)
    dimension = E.shape[1]
    for window, dwindow in zip(windows, dx):
        for position, word in enumerate(window):
            dE[word] += dwindow[position * dimension:(position + 1) * dimension]
    return loss, {"E": dE, "W": dW, "b": db, "u": h.T @ dscores}


def window_classifier_loss__bincount(params, windows, labels, activation="tanh"):
    """window_classifier_loss accumulating dE with np.bincount, one embedding dimension at a time."""
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, affine_cache = layers.affine_forward(x, params["W"], params["b"])
    h, activation_cache = layers.activation_forward(z, activation)
    loss, dscores = sigmoid_bce_loss(h @ params["u"], labels)

    dz = layers.activation_backward(np.outer(dscores, params["u"]), activation_cache)
    dx, dW, db = layers.affine_backward(dz, affine_cache)
    words = windows.ravel()
    word_grads = dx.reshape(words.size, E.shape[1])
    columns = [np.bincount(words, weights=word_grads[:, j], minlength=len(E)) for j in range(E.shape[1])]
    return loss, {"E": np.stack(columns, axis=1), "W": dW, "b": db, "u": h.T @ dscores}


def mlp_loss__layer_objects(params, X, y, activation="relu"):
    """mlp_loss in the style of "Neural Networks from Scratch": dense and activation objects with forward() and backward()."""
    class Dense:
        def __init__(self, weights, biases):
            self.weights, self.biases = weights, biases

        def forward(self, inputs):
            self.inputs = inputs
            return inputs @ self.weights.T + self.biases

        def backward(self, dvalues):
            self.dweights, self.dbiases = dvalues.T @ self.inputs, dvalues.sum(axis=0)
            return dvalues @ self.weights

    class Activation:
        def __init__(self, name):
            self.f, self.df = activations.ACTIVATIONS[name]

        def forward(self, inputs):
            self.inputs = inputs
            return self.f(inputs)

        def backward(self, dvalues):
            return dvalues * self.df(self.inputs)

    n_layers = len(params) // 2
    dense = [Dense(params[f"W{layer}"], params[f"b{layer}"]) for layer in range(1, n_layers + 1)]
    steps = [step for layer in dense[:-1] for step in (layer, Activation(activation))] + [dense[-1]]
    values = X
    for step in steps:
        values = step.forward(values)
    loss, dvalues = softmax_cross_entropy_loss(values, y)
    for step in reversed(steps):
        dvalues = step.backward(dvalues)
    grads = {}
    for layer, step in enumerate(dense, start=1):
        grads[f"W{layer}"], grads[f"b{layer}"] = step.dweights, step.dbiases
    return loss, grads


def window_classifier_loss__cs224n_column_vectors(params, windows, labels, activation="tanh"):
    """window_classifier_loss in CS224N's style: one window at a time with column vectors, the gradients accumulated in a loop."""
    E, W, b, u = params["E"], params["W"], params["b"], params["u"]
    f, df = activations.ACTIVATIONS[activation]
    grads = {"E": np.zeros_like(E), "W": np.zeros_like(W), "b": np.zeros_like(b), "u": np.zeros_like(u)}
    total, n = 0.0, len(windows)
    for window, label in zip(windows, labels):
        x = np.concatenate([E[word] for word in window])[:, None]
        z = W @ x + b[:, None]
        h = f(z)
        s = float(u @ h[:, 0])
        loss, ds = sigmoid_bce_loss(np.array([s]), np.array([label]))
        total += loss
        ds = ds[0] / n
        grads["u"] += ds * h[:, 0]
        dz = ds * u[:, None] * df(z)
        grads["W"] += dz @ x.T
        grads["b"] += dz[:, 0]
        dx = (W.T @ dz)[:, 0].reshape(len(window), -1)
        for position, word in enumerate(window):
            grads["E"][word] += dx[position]
    return total / n, grads


def softmax_cross_entropy_loss__cs224n_softmax(scores, y):
    """softmax_cross_entropy_loss with CS224N's softmax (subtract the row maximum, exponentiate, normalise)."""
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exps = np.exp(shifted)
    probabilities = exps / np.sum(exps, axis=1, keepdims=True)
    n = scores.shape[0]
    log_probabilities = shifted - np.log(np.sum(exps, axis=1, keepdims=True))
    loss = -float(np.mean(log_probabilities[np.arange(n), y]))
    dscores = probabilities.copy()
    dscores[np.arange(n), y] -= 1.0
    return loss, dscores / n
