"""Losses and whole networks: forward pass, loss and backpropagation to every parameter.

A network's parameters are a dict of float64 arrays; its ``*_loss`` function returns
``(loss, grads)`` where ``loss`` is a Python float (the mean over the batch) and ``grads`` is a
new dict with the same keys as the parameters, each gradient shaped like its parameter.
No function modifies its arguments.

Build the networks from the layers of ``layers.py`` (``import layers``).
"""

import numpy as np

import activations
import layers


def sigmoid_bce_loss(scores, y):
    """Binary cross-entropy of sigmoid probabilities, averaged over the batch.

    With p_n = σ(s_n): loss = (1/N) Σ_n −[y_n·log p_n + (1 − y_n)·log(1 − p_n)],
    and dloss/ds_n = (σ(s_n) − y_n) / N.

    Stability: log σ(s) = −log(1 + e^(−s)) and log(1 − σ(s)) = log σ(−s) = −log(1 + e^s);
    compute log(1 + e^t) as ``np.logaddexp(0, t)``, which is finite and accurate for |t| up to
    1e4 and beyond, whereas log(1 − σ(s)) evaluated literally gives log(0) = −inf from s ≈ 37 on.

    Args:
        scores: float64 array ``(N,)``, the scores s (logits).
        y: array ``(N,)`` of labels 0/1, int64 or float64.

    Returns:
        ``(loss, dscores)``: ``loss`` a Python float; ``dscores`` a float64 array ``(N,)``.

    Raises:
        ValueError: ``scores`` and ``y`` have different shapes.
    """
    # BEGIN SOLUTION
    if scores.shape != y.shape:
        raise ValueError(f"scores {scores.shape} and labels {y.shape} must have the same shape")
    labels = y.astype(np.float64)
    losses = labels * np.logaddexp(0.0, -scores) + (1.0 - labels) * np.logaddexp(0.0, scores)
    # σ(s) − y as (1 − y)·σ(s) − y·σ(−s): for y = 1 this is −σ(−s), which stays accurate
    # where σ(s) rounds to 1.
    dscores = ((1.0 - labels) * activations.sigmoid(scores) - labels * activations.sigmoid(-scores)) / len(scores)
    return float(np.mean(losses)), dscores
    # END SOLUTION


def softmax_cross_entropy_loss(scores, y):
    """Softmax cross-entropy over C classes, averaged over the batch.

    With p_n = softmax(s_n), p_n[c] = e^(s_n[c]) / Σ_k e^(s_n[k]):
    loss = (1/N) Σ_n −log p_n[y_n], and dloss/ds_n[c] = (p_n[c] − [c == y_n]) / N.

    Stability: subtract the row maximum from every row of scores first (softmax is unchanged
    by adding a constant to a row) so that no exponential overflows, and compute
    log p_n[c] = s_n[c] − max_k s_n[k] − log Σ_k e^(s_n[k] − max_k s_n[k]) rather than the log of
    a probability that may have underflowed to 0.

    Args:
        scores: float64 array ``(N, C)``, the class scores.
        y: int64 array ``(N,)``, the class ids in 0 … C−1.

    Returns:
        ``(loss, dscores)``: ``loss`` a Python float; ``dscores`` a float64 array ``(N, C)``.

    Raises:
        ValueError: ``y`` is not of shape ``(N,)`` or holds a class id outside 0 … C−1.
    """
    # BEGIN SOLUTION
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
    return float(-np.mean(log_probs[rows, y])), dscores / n_examples
    # END SOLUTION


def window_classifier_loss(params, windows, labels, activation="tanh"):
    """Loss and gradients of the lecture's window classifier (is the centre word a location?).

    For each window (w_1, …, w_C) of word ids:
        x = [E[w_1], E[w_2], …, E[w_C]]   concatenation in window order, shape (C·d,)
        z = W x + b                        shape (H,)
        h = f(z)                           f the activation named ``activation``
        s = u · h                          the score, a number
    loss = mean over the batch of the sigmoid binary cross-entropy of (s, label)
    (see ``sigmoid_bce_loss``).

    Backpropagation runs through the same steps in reverse. A row E[w] receives the gradient of
    every position where word w occurs, in the same window or in different windows: these
    contributions add up (beware: ``dE[ids] += g`` with repeated ids keeps only one of them;
    ``np.add.at`` adds them all).

    Args:
        params: dict of float64 arrays: ``"E"`` ``(V, d)`` word vectors, ``"W"`` ``(H, C·d)``,
            ``"b"`` ``(H,)``, ``"u"`` ``(H,)``.
        windows: int64 array ``(N, C)`` of word ids in 0 … V−1.
        labels: array ``(N,)`` of 0/1 (1 = the centre word is a location), int64 or float64.
        activation: the name of an activation of ``activations.ACTIVATIONS``, used with its
            default parameters.

    Returns:
        ``(loss, grads)``: ``loss`` a Python float; ``grads`` a dict with keys ``"E"``, ``"W"``,
        ``"b"``, ``"u"``, each a float64 array shaped like that parameter.
    """
    # BEGIN SOLUTION
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
    np.add.at(dE, windows, dx.reshape(windows.shape + E.shape[1:]))
    return loss, {"E": dE, "W": dW, "b": db, "u": du}
    # END SOLUTION


def window_classifier_predict(params, windows, activation="tanh"):
    """Probabilities that the centre word of each window is a location.

    probability = σ(s), with the score s of ``window_classifier_loss``.

    Args:
        params: dict ``"E"`` ``(V, d)``, ``"W"`` ``(H, C·d)``, ``"b"`` ``(H,)``, ``"u"`` ``(H,)``.
        windows: int64 array ``(N, C)`` of word ids.
        activation: the activation's name, as in ``window_classifier_loss``.

    Returns:
        float64 array ``(N,)`` of probabilities in [0, 1].
    """
    # BEGIN SOLUTION
    E = params["E"]
    x = E[windows].reshape(len(windows), -1)
    z, _ = layers.affine_forward(x, params["W"], params["b"])
    h, _ = layers.activation_forward(z, activation)
    return activations.sigmoid(h @ params["u"])
    # END SOLUTION


def mlp_loss(params, X, y, activation="relu"):
    """Loss and gradients of a multi-layer perceptron classifier with L layers (L ≥ 1).

    h_0 = X; for l = 1 … L−1: h_l = f(h_{l−1} W_lᵀ + b_l) (affine, then the activation);
    scores = h_{L−1} W_Lᵀ + b_L (the last layer is affine only), shape (N, C);
    loss = softmax cross-entropy of (scores, y), averaged over the batch.
    With L = 1 the model is a linear (softmax regression) classifier.

    Args:
        params: dict of float64 arrays ``"W1"``, ``"b1"``, …, ``"WL"``, ``"bL"``; ``W_l`` has
            shape ``(M_l, M_{l−1})`` with M_0 = D and M_L = C, ``b_l`` has shape ``(M_l,)``.
            L is the number of layers, read from the keys.
        X: float64 array ``(N, D)``.
        y: int64 array ``(N,)`` of class ids in 0 … C−1.
        activation: the name of an activation of ``activations.ACTIVATIONS``, used with its
            default parameters between layers.

    Returns:
        ``(loss, grads)``: ``loss`` a Python float; ``grads`` a dict with the same keys as
        ``params``, each a float64 array shaped like that parameter.

    Raises:
        ValueError: the keys of ``params`` are not exactly ``W1``, ``b1``, …, ``WL``, ``bL`` for
            some L ≥ 1.
    """
    # BEGIN SOLUTION
    n_layers = len(params) // 2
    expected_keys = {f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"}
    if n_layers < 1 or set(params) != expected_keys:
        raise ValueError(f"params must have keys W1, b1, …, WL, bL; got {sorted(params)}")

    hidden = X
    caches = []
    for layer in range(1, n_layers):
        z, affine_cache = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, activation_cache = layers.activation_forward(z, activation)
        caches.append((affine_cache, activation_cache))
    scores, last_cache = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
    loss, dscores = softmax_cross_entropy_loss(scores, y)

    grads = {}
    dhidden, grads[f"W{n_layers}"], grads[f"b{n_layers}"] = layers.affine_backward(dscores, last_cache)
    for layer in range(n_layers - 1, 0, -1):
        affine_cache, activation_cache = caches[layer - 1]
        dz = layers.activation_backward(dhidden, activation_cache)
        dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = layers.affine_backward(dz, affine_cache)
    return loss, {key: grads[key] for key in params}
    # END SOLUTION


def mlp_predict(params, X, activation="relu"):
    """Predicted classes of the multi-layer perceptron of ``mlp_loss``.

    The class with the highest score: argmax over c of scores[n, c] (the first one on a tie,
    as ``np.argmax`` does).

    Args:
        params: dict ``"W1"``, ``"b1"``, …, ``"WL"``, ``"bL"`` as in ``mlp_loss``.
        X: float64 array ``(N, D)``.
        activation: the activation's name, as in ``mlp_loss``.

    Returns:
        int64 array ``(N,)`` of class ids.
    """
    # BEGIN SOLUTION
    n_layers = len(params) // 2
    hidden = X
    for layer in range(1, n_layers):
        z, _ = layers.affine_forward(hidden, params[f"W{layer}"], params[f"b{layer}"])
        hidden, _ = layers.activation_forward(z, activation)
    scores, _ = layers.affine_forward(hidden, params[f"W{n_layers}"], params[f"b{n_layers}"])
    return np.argmax(scores, axis=1).astype(np.int64)
    # END SOLUTION


def collapse_linear(weights, biases):
    """The single affine map equal to a stack of affine layers without activations.

    Layers (W_1, b_1), …, (W_L, b_L) applied in that order compute
    x ↦ W_L(… W_2(W_1 x + b_1) + b_2 …) + b_L = W x + b, with
    W = W_L ⋯ W_2 W_1 and b = W_L ⋯ W_2 b_1 + … + W_L b_{L−1} + b_L.
    (Equivalently, start from (W, b) = (W_1, b_1) and for each next layer set
    (W, b) ← (W_l W, W_l b + b_l).) Stacking linear layers therefore adds no expressive power.

    Args:
        weights: list of L ≥ 1 float64 arrays, ``W_l`` of shape ``(M_l, M_{l−1})``.
        biases: list of L float64 arrays, ``b_l`` of shape ``(M_l,)``.

    Returns:
        ``(W, b)``: new float64 arrays of shapes ``(M_L, M_0)`` and ``(M_L,)``.

    Raises:
        ValueError: the lists are empty or of different lengths.
    """
    # BEGIN SOLUTION
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty lists of the same length")
    W, b = weights[0].copy(), biases[0].copy()
    for next_W, next_b in zip(weights[1:], biases[1:]):
        W, b = next_W @ W, next_W @ b + next_b
    return W, b
    # END SOLUTION
