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
    raise NotImplementedError("sigmoid_bce_loss (network.py) is not implemented yet")


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
    raise NotImplementedError("softmax_cross_entropy_loss (network.py) is not implemented yet")


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
    raise NotImplementedError("window_classifier_loss (network.py) is not implemented yet")


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
    raise NotImplementedError("window_classifier_predict (network.py) is not implemented yet")


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
    raise NotImplementedError("mlp_loss (network.py) is not implemented yet")


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
    raise NotImplementedError("mlp_predict (network.py) is not implemented yet")


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
    raise NotImplementedError("collapse_linear (network.py) is not implemented yet")
