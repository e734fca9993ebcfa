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


def sigmoid__class_based(x):
    """sigmoid through a class-based activation (forward() remembers the output) wrapped by the function."""

    class Sigmoid:
        def forward(self, inputs):
            self.output = special.expit(inputs)
            return self.output

        def derivative(self):
            return self.output * (1.0 - self.output)

    return Sigmoid().forward(x)


def sigmoid_grad__class_based(x):
    """sigmoid through a class-based activation (forward() remembers the output) wrapped by the function."""

    class Sigmoid:
        def forward(self, inputs):
            self.output = special.expit(inputs)
            return self.output

        def derivative(self):
            return self.output * (1.0 - self.output)

    layer = Sigmoid()
    layer.forward(x)
    return layer.derivative()


def swish__scipy_expit(x, beta=1.0):
    """swish and its derivative with scipy.special.expit."""
    return x * special.expit(beta * x)


def swish_grad__scipy_expit(x, beta=1.0):
    """swish and its derivative with scipy.special.expit."""
    s = special.expit(beta * x)
    return s + beta * x * s * (1.0 - s)


def elu__expm1(x, alpha=1.0):
    """elu with np.expm1 on the clipped negative side."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def leaky_relu__loop(x, slope=0.01):
    """leaky_relu and its derivative looping over the entries."""
    out = np.empty(x.shape)
    for index, value in np.ndenumerate(x):
        out[index] = value if value > 0 else slope * value
    return out


def leaky_relu_grad__loop(x, slope=0.01):
    """leaky_relu and its derivative looping over the entries."""
    out = np.empty(x.shape)
    for index, value in np.ndenumerate(x):
        out[index] = 1.0 if value > 0 else slope
    return out


def threshold__boolean_mask(x, theta=0.0):
    """threshold as a boolean mask converted to float64."""
    return (x > theta).astype(np.float64)


def threshold_grad__zeros(x, theta=0.0):
    """threshold_grad as np.zeros of the input's shape."""
    return np.zeros(np.shape(x))


def relu__activation_object(x):
    """relu and its derivative through an Activation_ReLU object ("Neural Networks from Scratch") whose forward() the functions call."""

    class ActivationReLU:
        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.maximum(0.0, inputs)
            return self.output

        def backward(self, dvalues):
            dinputs = dvalues.copy()
            dinputs[self.inputs <= 0] = 0
            return dinputs

    return ActivationReLU().forward(x)


def relu_grad__activation_object(x):
    """relu and its derivative through an Activation_ReLU object ("Neural Networks from Scratch") whose forward() the functions call."""

    class ActivationReLU:
        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.maximum(0.0, inputs)
            return self.output

        def backward(self, dvalues):
            dinputs = dvalues.copy()
            dinputs[self.inputs <= 0] = 0
            return dinputs

    layer = ActivationReLU()
    layer.forward(x)
    return layer.backward(np.ones(x.shape))


def gelu__math_erf_loop(x):
    """gelu and its derivative looping over the entries with math.erf and math.exp."""
    out = np.empty(x.shape)
    for index, value in np.ndenumerate(x):
        out[index] = 0.5 * value * (1.0 + math.erf(value / math.sqrt(2.0)))
    return out


def gelu_grad__math_erf_loop(x):
    """gelu and its derivative looping over the entries with math.erf and math.exp."""
    out = np.empty(x.shape)
    for index, value in np.ndenumerate(x):
        cdf = 0.5 * (1.0 + math.erf(value / math.sqrt(2.0)))
        out[index] = cdf + value * math.exp(-0.5 * value * value) / math.sqrt(2.0 * math.pi)
    return out
