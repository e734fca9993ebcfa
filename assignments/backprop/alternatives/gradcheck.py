"""Alternative correct versions of functions of ``solutions/backprop/gradcheck.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``numerical_gradient``, ``relative_error``).
"""

import numpy as np


def numerical_gradient__nditer(f, x, h=1e-5):
    """numerical_gradient walking the entries with np.nditer and its multi_index."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.empty_like(x)
    entries = np.nditer(x, flags=["multi_index"])
    for entry in entries:
        index = entries.multi_index
        original = float(entry)
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient__perturbed_copies(f, x, h=1e-5):
    """numerical_gradient evaluating f on perturbed copies of x (x itself is never written)."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        step = np.zeros(x.shape)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
