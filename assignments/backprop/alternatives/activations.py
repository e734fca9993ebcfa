"""Alternative correct versions of functions of ``solutions/backprop/activations.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``special`` and the other activations).
"""

import math

import numpy as np
from scipy import special


def sigmoid__expit(x):
    """sigmoid as scipy.special.expit (the reference exponentiates only -|x| on two branches)."""
    return special.expit(x)


def sigmoid__via_tanh(x):
    """sigmoid and its derivative through tanh: σ(x) = (1 + tanh(x/2))/2 and σ'(x) = (1 − tanh²(x/2))/4."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_grad__via_tanh(x):
    """σ'(x) = (1 − tanh²(x/2))/4."""
    return 0.25 * (1.0 - np.tanh(0.5 * x) ** 2)


def tanh__via_sigmoid(x):
    """tanh as 2σ(2x) − 1 with the stable expit, and its derivative as 1 − tanh²(x)."""
    return 2.0 * special.expit(2.0 * x) - 1.0


def tanh_grad__via_sigmoid(x):
    """tanh'(x) = 1 − tanh²(x), with the tanh of this variant."""
    return 1.0 - tanh(x) ** 2


def relu__maximum(x):
    """relu as np.maximum(x, 0) and its derivative as the float64 mask (x > 0)."""
    return np.maximum(x, 0.0)


def relu_grad__maximum(x):
    """relu'(x) as the boolean mask x > 0 converted to float64."""
    return (x > 0).astype(np.float64)


def leaky_relu__leaky_maximum(x, slope=0.01):
    """leaky_relu as np.maximum(x, slope·x), equal to the definition for slopes in (0, 1)."""
    return np.maximum(x, slope * x)


def gelu__ndtr(x):
    """gelu and its derivative with Φ(x) = scipy.special.ndtr(x) instead of math.erfc entry by entry."""
    return x * special.ndtr(x)


def gelu_grad__ndtr(x):
    """Φ(x) + x·φ(x) with Φ(x) = scipy.special.ndtr(x)."""
    return special.ndtr(x) + x * np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)


def gelu__erf_with_erfc_tail(x):
    """gelu with Φ(x) = (1 + erf(x/√2))/2 for x >= 0 and the erfc form for the negative tail."""
    scaled = x / np.sqrt(2.0)
    cdf = np.where(x >= 0, 0.5 * (1.0 + special.erf(scaled)), 0.5 * special.erfc(-scaled))
    return x * cdf
