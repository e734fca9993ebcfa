"""Single-bug versions of functions of ``solutions/backprop/gradcheck.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``numerical_gradient``, ``relative_error``).
"""

import numpy as np


def numerical_gradient__not_restored(f, x, h=1e-5):
    """numerical_gradient never writes the saved value back: x is left holding x − h in every entry."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient__undone_with_steps(f, x, h=1e-5):
    """numerical_gradient undoes its steps with x[i] -= 2h and x[i] += h, which does not restore x bitwise."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f(x)
        x[index] -= 2.0 * h
        f_minus = f(x)
        x[index] += h
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient__forward_differences(f, x, h=1e-5):
    """numerical_gradient uses forward differences (f(x + h·e_i) − f(x)) / h: O(h) error instead of O(h²)."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    f_x = f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_x) / h
    return grad


def numerical_gradient__float32_result(f, x, h=1e-5):
    """numerical_gradient stores the differences in a float32 array."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float32)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error__no_floor(a, b):
    """relative_error divides by |a| + |b| without the 1e-8 floor: 0/0 = nan, with a warning, where both are 0."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def relative_error__sum_of_entries(a, b):
    """relative_error sums the elementwise relative errors instead of taking their maximum."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    difference = np.abs(a - b)
    scale = np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.sum(difference / scale))


def relative_error__norm_ratio(a, b):
    """relative_error as ‖a − b‖ / max(1e-8, ‖a‖ + ‖b‖) of whole arrays instead of the largest entry error."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))


def gradient_check__default_step(f, grad_f, x, h=1e-5):
    """gradient_check ignores its h argument: the numerical gradient always uses the default step."""
    return relative_error(grad_f(x), numerical_gradient(f, x))


def gradient_check__functions_swapped(f, grad_f, x, h=1e-5):
    """gradient_check swaps f and grad_f: it differentiates grad_f numerically and compares with f(x)."""
    return relative_error(f(x), numerical_gradient(grad_f, x, h))


def numerical_gradient__divides_by_h(f, x, h=1e-5):
    """numerical_gradient divides the central difference by h instead of 2h: every entry twice too large."""
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got dtype {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / h
    return grad
