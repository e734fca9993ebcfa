"""Elementwise activation functions and their derivatives.

Every activation ``f`` comes as a pair: the forward ``f(x, ...)`` and the derivative
``f_grad(x, ...)``, which returns f'(x) elementwise, evaluated at the *input* ``x``.

Conventions shared by every function of this module:

- ``x`` is a float64 ``numpy.ndarray`` of any shape with at least one dimension; the result is a
  new float64 ``numpy.ndarray`` of exactly the same shape (never ``x`` itself, never a view of it).
- ``x`` is never modified, and calling a function twice with the same arguments gives bitwise the
  same result.
- At a kink (``x == 0`` for the ReLU family, ``x == theta`` for the threshold) the ``x <= 0``
  (resp. ``x <= theta``) branch applies.
- ``sigmoid``, ``tanh``, ``swish``, ``gelu``, ``elu`` and their derivatives are numerically stable:
  for |x| up to 1e4 they return finite, accurate values and emit no overflow, divide-by-zero or
  invalid-value warning (an underflow to 0 is fine). Evaluating ``np.exp`` of a large positive
  number overflows, so never do it, not even in a branch of ``np.where`` that is discarded later:
  ``np.where`` evaluates both branches on every element.

Allowed imports: ``numpy``, ``scipy.special`` and the Python standard library.
"""

import math

import numpy as np


def threshold(x, theta=0.0):
    """The threshold (step) unit of the first artificial neurons.

    f(x) = 1.0 where x > theta, else 0.0 (so f(theta) = 0.0).

    Args:
        x: float64 array of any shape.
        theta: the threshold, a float.

    Returns:
        float64 array shaped like ``x`` holding 0.0 and 1.0.
    """
    raise NotImplementedError("threshold (activations.py) is not implemented yet")


def threshold_grad(x, theta=0.0):
    """Derivative of ``threshold``: 0.0 everywhere.

    The step is flat on both sides of theta; at theta itself it has no derivative, and by the
    convention of this course the derivative there is 0.0 too. This is why a threshold network
    cannot be trained by gradient descent.

    Args:
        x: float64 array of any shape.
        theta: the threshold, a float (it does not change the result).

    Returns:
        float64 array of zeros shaped like ``x``.
    """
    raise NotImplementedError("threshold_grad (activations.py) is not implemented yet")


def sigmoid(x):
    """The logistic sigmoid.

    σ(x) = 1 / (1 + e^(-x)), with values in [0, 1].

    Stability: the formula as written overflows for x < -709 (e^(-x) = inf) and the equivalent
    e^x / (1 + e^x) overflows for x > 709. Use ``scipy.special.expit``, or evaluate each form only
    on the side where its exponent is not positive.

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("sigmoid (activations.py) is not implemented yet")


def sigmoid_grad(x):
    """Derivative of ``sigmoid``.

    σ'(x) = σ(x)·(1 − σ(x)), which equals σ(x)·σ(−x) (because 1 − σ(x) = σ(−x)).
    The second form stays accurate for large x, where 1 − σ(x) would round to 0.

    Args:
        x: float64 array of any shape (the input of the sigmoid, not its output).

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("sigmoid_grad (activations.py) is not implemented yet")


def tanh(x):
    """The hyperbolic tangent.

    tanh(x) = (e^x − e^(-x)) / (e^x + e^(-x)) = 2σ(2x) − 1, with values in [−1, 1].

    Stability: evaluating the exponentials of the formula overflows for |x| > 709; ``np.tanh`` is
    stable.

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("tanh (activations.py) is not implemented yet")


def tanh_grad(x):
    """Derivative of ``tanh``.

    tanh'(x) = 1 − tanh²(x), which equals 4·σ(2x)·σ(−2x).

    Args:
        x: float64 array of any shape (the input of tanh, not its output).

    Returns:
        float64 array shaped like ``x``, values in [0, 1].
    """
    raise NotImplementedError("tanh_grad (activations.py) is not implemented yet")


def relu(x):
    """The rectified linear unit.

    relu(x) = max(0, x): x where x > 0, else 0.0.

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("relu (activations.py) is not implemented yet")


def relu_grad(x):
    """Derivative of ``relu``.

    relu'(x) = 1.0 where x > 0, else 0.0; in particular relu'(0) = 0.0 (the kink belongs to the
    x <= 0 branch).

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x`` holding 0.0 and 1.0.
    """
    raise NotImplementedError("relu_grad (activations.py) is not implemented yet")


def leaky_relu(x, slope=0.01):
    """The leaky ReLU: a small fixed slope instead of 0 for negative inputs.

    f(x) = x where x > 0, else slope·x.

    Args:
        x: float64 array of any shape.
        slope: the slope of the negative side, a float in (0, 1).

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("leaky_relu (activations.py) is not implemented yet")


def leaky_relu_grad(x, slope=0.01):
    """Derivative of ``leaky_relu``.

    f'(x) = 1.0 where x > 0, else slope; in particular f'(0) = slope.

    Args:
        x: float64 array of any shape.
        slope: the slope of the negative side, a float in (0, 1).

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("leaky_relu_grad (activations.py) is not implemented yet")


def prelu(x, alpha):
    """The parametric ReLU: a leaky ReLU whose negative slope ``alpha`` is learned.

    f(x, α) = x where x > 0, else α·x.

    Args:
        x: float64 array of any shape.
        alpha: the slope of the negative side, values in (0, 1): a float, or a float64 array that
            broadcasts to the shape of ``x`` (e.g. one slope per feature, shape ``(D,)`` for
            ``x`` of shape ``(N, D)``).

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("prelu (activations.py) is not implemented yet")


def prelu_grad(x, alpha):
    """Partial derivatives of ``prelu`` with respect to its input and to its slope.

    ∂f/∂x = 1.0 where x > 0, else α (so α at x = 0);
    ∂f/∂α = 0.0 where x > 0, else x (so 0.0 at x = 0).

    Args:
        x: float64 array of any shape.
        alpha: a float or a float64 array that broadcasts to the shape of ``x``, as in ``prelu``.

    Returns:
        A tuple ``(dfdx, dfdalpha)`` of two float64 arrays, both shaped like ``x``, holding the
        elementwise partial derivatives (not summed over anything).
    """
    raise NotImplementedError("prelu_grad (activations.py) is not implemented yet")


def elu(x, alpha=1.0):
    """The exponential linear unit.

    f(x) = x where x > 0, else α·(e^x − 1).

    Stability: e^x overflows for x > 709 even where that value is thrown away afterwards, so
    exponentiate only non-positive numbers, e.g. ``np.minimum(x, 0)``. ``np.expm1(t)`` computes
    e^t − 1 accurately for t close to 0.

    Args:
        x: float64 array of any shape.
        alpha: the saturation value of the negative side (f → −α as x → −∞), a positive float.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("elu (activations.py) is not implemented yet")


def elu_grad(x, alpha=1.0):
    """Derivative of ``elu``.

    f'(x) = 1.0 where x > 0, else α·e^x; in particular f'(0) = α·e^0 = α.

    Stability: as in ``elu``, exponentiate only non-positive numbers.

    Args:
        x: float64 array of any shape.
        alpha: a positive float, as in ``elu``.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("elu_grad (activations.py) is not implemented yet")


def swish(x, beta=1.0):
    """The swish (SiLU when beta = 1).

    f(x) = x·σ(βx), with σ the logistic sigmoid.

    Stability: compute σ(βx) in a stable way (see ``sigmoid``).

    Args:
        x: float64 array of any shape.
        beta: a positive float.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("swish (activations.py) is not implemented yet")


def swish_grad(x, beta=1.0):
    """Derivative of ``swish``.

    f'(x) = σ(βx) + βx·σ(βx)·(1 − σ(βx)), where 1 − σ(βx) = σ(−βx).

    Args:
        x: float64 array of any shape.
        beta: a positive float.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("swish_grad (activations.py) is not implemented yet")


def gelu(x):
    """The Gaussian error linear unit, exact form.

    f(x) = x·Φ(x), where Φ(x) = (1 + erf(x/√2)) / 2 is the standard normal cumulative
    distribution function. The tanh approximation of GELU is a different function and is wrong
    here.

    Accuracy: for very negative x, 1 + erf(x/√2) cancels to 0 (x = −10 would give −0.0 instead
    of about −7.6e-23). ``scipy.special.ndtr`` computes Φ accurately everywhere; so does
    erfc(−x/√2) / 2 (numpy has no erfc: apply ``math.erfc`` to each entry with ``np.vectorize``).

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("gelu (activations.py) is not implemented yet")


def gelu_grad(x):
    """Derivative of ``gelu``.

    f'(x) = Φ(x) + x·φ(x), where φ(x) = e^(−x²/2) / √(2π) is the standard normal density.

    Args:
        x: float64 array of any shape.

    Returns:
        float64 array shaped like ``x``.
    """
    raise NotImplementedError("gelu_grad (activations.py) is not implemented yet")


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "swish": (swish, swish_grad),
    "gelu": (gelu, gelu_grad),
}
"""Activations by name: ``ACTIVATIONS[name] == (forward, derivative)`` (provided, not graded)."""
