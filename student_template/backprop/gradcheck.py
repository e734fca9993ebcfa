"""The numerical gradient check: compare an analytic gradient with central differences.

A gradient check proves only that a forward and a backward pass agree with each other; it
cannot catch a mistake made identically in both.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function estimated by central differences.

    grad[i] = (f(x + h·e_i) − f(x − h·e_i)) / (2h) for every entry i of x, where e_i is the array
    with 1 at entry i and 0 elsewhere. The error is O(h²) for a smooth f; h = 1e-5 balances it
    against rounding errors in float64.

    x may be perturbed in place while f is evaluated, but afterwards it must hold bitwise its
    original values: save each original entry and write the saved value back (undoing with
    ``x[i] -= h`` after ``x[i] += h`` does not always give the original number back), also when
    f raises an exception.

    Args:
        f: a function mapping a float64 array shaped like ``x`` to a float.
        x: float64 array of any shape, the point where the gradient is estimated.
        h: the step, a positive float.

    Returns:
        float64 array shaped like ``x``.

    Raises:
        TypeError: ``x`` is not of dtype float64 (perturbing an integer array in place would
            silently truncate the steps to 0).
    """
    raise NotImplementedError("numerical_gradient (gradcheck.py) is not implemented yet")


def relative_error(a, b):
    """The largest elementwise relative error between two arrays.

    max over entries i of |a_i − b_i| / max(1e-8, |a_i| + |b_i|). The floor 1e-8 keeps entries
    where both values are (nearly) 0 from dividing by 0; such entries then count by their
    absolute difference scaled by 1e8.

    Args:
        a: float64 array of any shape.
        b: float64 array of the same shape.

    Returns:
        A Python float ≥ 0 (NaN when an entry is NaN).

    Raises:
        ValueError: ``a`` and ``b`` have different shapes (no broadcasting).
    """
    raise NotImplementedError("relative_error (gradcheck.py) is not implemented yet")


def gradient_check(f, grad_f, x, h=1e-5):
    """The relative error between an analytic gradient and the numerical one.

    ``relative_error(grad_f(x), numerical_gradient(f, x, h))``. Values around 1e-7 or below mean
    that ``grad_f`` is consistent with ``f``; values close to 1 mean that it is not.

    Args:
        f: a function mapping a float64 array shaped like ``x`` to a float.
        grad_f: a function mapping such an array to the gradient of f there, a float64 array
            shaped like ``x``.
        x: float64 array of any shape (unchanged afterwards).
        h: the step of the central differences, a positive float.

    Returns:
        A Python float.
    """
    raise NotImplementedError("gradient_check (gradcheck.py) is not implemented yet")
