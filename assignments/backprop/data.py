"""Small data sets and parameter initialisers for the backprop assignment (provided, not graded).

Everything is generated locally from a seed, so the same call always returns the same data:

- ``make_spirals`` and ``make_xor``: 2-D point sets that no linear classifier separates, for
  ``network.mlp_loss``;
- ``make_location_task``: a toy corpus of short English sentences, cut into word windows labelled
  1 where the centre word is a location (a city or a country), for
  ``network.window_classifier_loss``; built from ``make_sentences``, ``split_sentences``,
  ``build_vocabulary`` and ``make_windows``;
- ``init_mlp_params`` and ``init_window_params``: random initial parameters of both networks;
- ``ripple_bowl`` and its gradient ``ripple_bowl_grad``: a scalar function of an array with a
  known gradient, to try ``gradcheck.numerical_gradient`` and ``gradcheck.gradient_check`` on;
- ``least_squares_loss``: the loss of a linear regression, with the signature ``optim.train``
  expects of a loss function, to try ``optim.train`` on.
"""

from typing import NamedTuple

import numpy as np

PAD = "<pad>"
"""The padding token; it has id 0 in every vocabulary and fills windows beyond a sentence's edges."""

CITIES = (
    "paris",
    "london",
    "tokyo",
    "berlin",
    "madrid",
    "rome",
    "cairo",
    "lima",
    "sydney",
    "boston",
    "vienna",
    "dublin",
    "oslo",
    "chicago",
)
COUNTRIES = (
    "france",
    "japan",
    "spain",
    "italy",
    "egypt",
    "peru",
    "canada",
    "kenya",
    "brazil",
    "india",
    "norway",
    "germany",
    "mexico",
    "china",
)
LOCATIONS = frozenset(CITIES + COUNTRIES)
"""The words labelled 1 (location) wherever they occur."""

_PEOPLE = ("anna", "tom", "maria", "james", "sara", "david", "lucy", "omar")
_PLACES = ("market", "park", "office", "station", "library", "cinema", "beach", "school")
_TIMES = ("yesterday", "last week", "last year", "in june", "every summer", "on monday", "next month")

_TEMPLATES = (
    # Sentences with locations.
    "we flew to {loc} {time}",
    "{person} lives in {loc}",
    "{person} was born in {loc}",
    "{person} moved to {loc} {time}",
    "the museum in {loc} was closed",
    "they drove from {loc} to {loc}",
    "i love the food in {loc}",
    "the train to {loc} was late {time}",
    "{person} and {person} went to {loc}",
    "{loc} is lovely {time}",
    "my friend from {loc} called {time}",
    # Sentences without locations, with the same context words.
    "{person} went to the {place} {time}",
    "we met {person} in the {place}",
    "the {place} was closed {time}",
    "{person} lives in a small flat near the {place}",
    "the train to the {place} was late",
    "{person} and {person} love the {place}",
)
_SLOTS = {"loc": tuple(sorted(LOCATIONS)), "person": _PEOPLE, "place": _PLACES, "time": _TIMES}


def make_spirals(n_per_class=100, n_classes=2, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class.

    Point i of class c lies at radius r_i and angle θ_i:
        r_i = (i + 1) / n_per_class, for i = 0 … n_per_class − 1 (evenly spaced in (0, 1]),
        θ_i = 4π·r_i + 2π·c / n_classes + noise·ε_i, with ε_i ~ N(0, 1),
        x_i = (r_i·cos θ_i, r_i·sin θ_i).
    Each arm winds twice around the origin, so no straight line separates the classes.

    Args:
        n_per_class: the number of points of each class, an int ≥ 1.
        n_classes: the number of classes (arms), an int ≥ 2.
        noise: the standard deviation of the angular noise, in radians.
        seed: the seed of the random generator.

    Returns:
        ``(X, y)``: ``X`` a float64 array ``(N, 2)`` and ``y`` an int64 array ``(N,)`` of class ids
        in 0 … n_classes−1, with N = n_per_class·n_classes; the points are grouped by class.
    """
    rng = np.random.default_rng(seed)
    radius = np.arange(1, n_per_class + 1) / n_per_class
    points, labels = [], []
    for label in range(n_classes):
        angle = 4.0 * np.pi * radius + 2.0 * np.pi * label / n_classes
        angle = angle + noise * rng.standard_normal(n_per_class)
        points.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        labels.append(np.full(n_per_class, label, dtype=np.int64))
    return np.concatenate(points), np.concatenate(labels)


def make_xor(n=200, noise=0.3, seed=0):
    """The XOR problem: four Gaussian clusters at the corners (±1, ±1).

    A point near (a, b) has label 1 when a and b have opposite signs and 0 otherwise, so the
    diagonal corners share a class and no straight line separates the classes. The clusters
    receive n // 4 points each, the first n % 4 clusters one more.

    Args:
        n: the number of points, an int ≥ 4.
        noise: the standard deviation of each cluster around its corner.
        seed: the seed of the random generator.

    Returns:
        ``(X, y)``: ``X`` a float64 array ``(n, 2)`` and ``y`` an int64 array ``(n,)`` of 0/1, in
        random order.
    """
    rng = np.random.default_rng(seed)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    cluster = rng.permutation(np.arange(n) % len(corners))
    X = corners[cluster] + noise * rng.standard_normal((n, 2))
    y = (corners[cluster, 0] != corners[cluster, 1]).astype(np.int64)
    return X, y


def make_sentences(n_sentences=400, seed=0):
    """Short English sentences, some of which mention cities and countries.

    Each sentence fills a randomly chosen template (e.g. "we flew to {loc} {time}") with random
    words; about two thirds of the templates mention a location. Templates without a location
    reuse the same context words ("lives in", "went to", "the train to"), so a classifier has to
    look at the words themselves and not only at their neighbours. Words repeat across sentences
    and sometimes within one.

    Args:
        n_sentences: the number of sentences, an int ≥ 0.
        seed: the seed of the random generator.

    Returns:
        A list of ``n_sentences`` sentences, each a list of lower-case words (str).
    """
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n_sentences):
        template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
        words = []
        for token in template.split():
            if token.startswith("{"):
                choices = _SLOTS[token[1:-1]]
                words.extend(choices[rng.integers(len(choices))].split())
            else:
                words.append(token)
        sentences.append(words)
    return sentences


def split_sentences(sentences, test_fraction=0.25, seed=0):
    """A random split of whole sentences into a training and a test part.

    Splitting sentences (not windows) keeps the windows of one sentence on the same side.

    Args:
        sentences: a list of sentences (lists of words).
        test_fraction: the fraction of sentences put into the test part, in [0, 1]; the test
            part holds round(test_fraction · len(sentences)) sentences.
        seed: the seed of the random generator.

    Returns:
        ``(train_sentences, test_sentences)``: two lists that together hold every sentence once,
        each in the original order.
    """
    order = np.random.default_rng(seed).permutation(len(sentences))
    is_test = np.zeros(len(sentences), dtype=bool)
    is_test[order[: round(test_fraction * len(sentences))]] = True
    train = [sentence for sentence, test in zip(sentences, is_test) if not test]
    test = [sentence for sentence, test in zip(sentences, is_test) if test]
    return train, test


def build_vocabulary(sentences):
    """Word ids for every word of the sentences, with the padding token ``PAD`` at id 0.

    Args:
        sentences: a list of sentences (lists of words).

    Returns:
        A dict word -> id: ``PAD`` -> 0, then the distinct words in alphabetical order -> 1, 2, …
    """
    words = sorted({word for sentence in sentences for word in sentence} - {PAD})
    return {PAD: 0, **{word: index for index, word in enumerate(words, start=1)}}


def make_windows(sentences, vocabulary, half_width=2):
    """One window of word ids around every word of every sentence, labelled by ``LOCATIONS``.

    The window of word i of a sentence holds the ids of words i − half_width … i + half_width
    in order; positions before the first or after the last word of the sentence hold the id of
    ``PAD`` (0). With the default half_width = 2, a window has C = 5 ids and its centre word is
    at column 2. The label is 1 when the centre word is in ``LOCATIONS``, else 0.

    Args:
        sentences: a list of sentences (lists of words), every word a key of ``vocabulary``.
        vocabulary: a dict word -> id with ``PAD`` -> 0, e.g. from ``build_vocabulary``.
        half_width: the number of context words on each side, an int ≥ 0.

    Returns:
        ``(windows, labels)``: ``windows`` an int64 array ``(N, 2·half_width + 1)`` and ``labels``
        an int64 array ``(N,)`` of 0/1, N the total number of words; windows follow the
        sentences and the words within each sentence in order.

    Raises:
        KeyError: a word is missing from ``vocabulary``.
    """
    padding = [vocabulary[PAD]] * half_width
    windows, labels = [], []
    for sentence in sentences:
        ids = padding + [vocabulary[word] for word in sentence] + padding
        for position, word in enumerate(sentence):
            windows.append(ids[position : position + 2 * half_width + 1])
            labels.append(word in LOCATIONS)
    width = 2 * half_width + 1
    return (
        np.array(windows, dtype=np.int64).reshape(len(windows), width),
        np.array(labels, dtype=np.int64).reshape(len(labels)),
    )


class LocationTask(NamedTuple):
    """The location-classification data: a vocabulary and labelled training and test windows."""

    vocabulary: dict
    """word -> id, ``PAD`` -> 0; V = len(vocabulary)."""
    train_windows: np.ndarray
    """int64 ``(N_train, C)``."""
    train_labels: np.ndarray
    """int64 ``(N_train,)`` of 0/1."""
    test_windows: np.ndarray
    """int64 ``(N_test, C)``."""
    test_labels: np.ndarray
    """int64 ``(N_test,)`` of 0/1."""


def make_location_task(n_sentences=400, test_fraction=0.25, half_width=2, seed=0):
    """The toy corpus of ``make_sentences``, split into training and test windows.

    The vocabulary covers the words of both parts (a word seen only in test sentences keeps the
    untrained vector it was initialised with).

    Args:
        n_sentences: the number of sentences, an int ≥ 1.
        test_fraction: the fraction of sentences held out for testing.
        half_width: the number of context words on each side of the centre word (C = 2·half_width + 1).
        seed: the seed of both the sentence generator and the split.

    Returns:
        A ``LocationTask``.
    """
    sentences = make_sentences(n_sentences, seed)
    train_sentences, test_sentences = split_sentences(sentences, test_fraction, seed)
    vocabulary = build_vocabulary(sentences)
    train_windows, train_labels = make_windows(train_sentences, vocabulary, half_width)
    test_windows, test_labels = make_windows(test_sentences, vocabulary, half_width)
    return LocationTask(vocabulary, train_windows, train_labels, test_windows, test_labels)


def init_mlp_params(layer_sizes, seed=0):
    """Random initial parameters of a multi-layer perceptron (``network.mlp_loss``).

    Layer l maps M_{l−1} inputs to M_l outputs: W_l has entries drawn from
    N(0, 2 / M_{l−1}) (He initialisation, suited to ReLU) and b_l is 0.

    Args:
        layer_sizes: a sequence (M_0, M_1, …, M_L) of L + 1 ≥ 2 ints: the input size D, the
            hidden sizes and the number of classes C.
        seed: the seed of the random generator.

    Returns:
        A dict with keys ``"W1"``, ``"b1"``, …, ``"WL"``, ``"bL"``: ``W_l`` float64
        ``(M_l, M_{l−1})`` and ``b_l`` float64 ``(M_l,)``.

    Raises:
        ValueError: fewer than two sizes.
    """
    if len(layer_sizes) < 2:
        raise ValueError(f"need at least an input and an output size, got {list(layer_sizes)}")
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        params[f"b{layer}"] = np.zeros(n_out)
    return params


def init_window_params(vocab_size, dim, window, hidden, seed=0):
    """Random initial parameters of the window classifier (``network.window_classifier_loss``).

    E ~ N(0, 1/d) entrywise, W ~ N(0, 1/(C·d)), u ~ N(0, 1/H) (variance 1 over the number of
    inputs of each unit, suited to tanh), b = 0.

    Args:
        vocab_size: V, the number of words (including ``PAD``).
        dim: d, the size of a word vector.
        window: C, the number of words in a window.
        hidden: H, the number of hidden units.
        seed: the seed of the random generator.

    Returns:
        A dict: ``"E"`` float64 ``(V, d)``, ``"W"`` ``(H, C·d)``, ``"b"`` ``(H,)``, ``"u"`` ``(H,)``.
    """
    rng = np.random.default_rng(seed)
    return {
        "E": rng.standard_normal((vocab_size, dim)) / np.sqrt(dim),
        "W": rng.standard_normal((hidden, window * dim)) / np.sqrt(window * dim),
        "b": np.zeros(hidden),
        "u": rng.standard_normal(hidden) / np.sqrt(hidden),
    }


def ripple_bowl(x):
    """A smooth scalar function of an array whose gradient is known, to try gradient checks on.

    f(x) = Σ_i (x_i² / 2 + sin(2·x_i)) over every entry of x; its gradient is
    ``ripple_bowl_grad``. Its third derivative is not 0, so the error of a central difference
    grows with the step h (about (4/3)·h²·|cos 2x_i| per entry).

    Args:
        x: float64 array of any shape.

    Returns:
        A Python float.
    """
    return float(np.sum(0.5 * x * x + np.sin(2.0 * x)))


def ripple_bowl_grad(x):
    """The gradient of ``ripple_bowl``: x + 2·cos(2x), elementwise.

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    return x + 2.0 * np.cos(2.0 * x)


def least_squares_loss(params, X, y):
    """Loss and gradients of a linear least-squares model, in the form ``optim.train`` expects.

    prediction_n = X_n · w + b; loss = (1/N) Σ_n (prediction_n − y_n)² / 2.

    Args:
        params: dict of float64 arrays ``"w"`` ``(D,)`` and ``"b"`` ``(1,)``.
        X: float64 array ``(N, D)``.
        y: array ``(N,)`` of targets (float64, or int64 labels).

    Returns:
        ``(loss, grads)``: ``loss`` a Python float; ``grads`` a dict with the keys and shapes of
        ``params``.
    """
    residual = X @ params["w"] + params["b"][0] - y
    grads = {"w": X.T @ residual / len(y), "b": np.array([np.mean(residual)])}
    return float(np.mean(residual**2) / 2), grads
