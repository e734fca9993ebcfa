"""Single-bug versions of functions of ``solutions/backprop/layers.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``ACTIVATIONS``, ``prelu``, ``prelu_grad``).
"""

import numpy as np


def affine_forward__untransposed_weights(x, W, b):
    """affine_forward computes x·W + b instead of x·Wᵀ + b (wrong values when M == D, an error otherwise)."""
    return x @ W + b, (x.copy(), W.copy())


def affine_backward__dW_transposed(dout, cache):
    """affine_backward returns dW = xᵀ·dout, the transpose: shape (D, M) instead of (M, D)."""
    x, W = cache
    return dout @ W, x.T @ dout, dout.sum(axis=0)


def affine_backward__dx_with_transposed_weights(dout, cache):
    """affine_backward computes dx = dout·Wᵀ instead of dout·W (wrong values when M == D, an error otherwise)."""
    x, W = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


def affine_backward__db_not_summed(dout, cache):
    """affine_backward returns db = dout, not summed over the batch: shape (N, M) instead of (M,)."""
    x, W = cache
    return dout @ W, dout.T @ x, dout


def affine_backward__db_averaged(dout, cache):
    """affine_backward averages db over the batch instead of summing: an extra factor 1/N."""
    x, W = cache
    return dout @ W, dout.T @ x, dout.mean(axis=0)


def affine_backward__db_is_ones(dout, cache):
    """affine_backward returns db = ∂z/∂b = ones(M), ignoring the upstream gradient."""
    x, W = cache
    return dout @ W, dout.T @ x, np.ones(W.shape[0])


def activation_forward__caches_output(z, name, **params):
    """activation_forward caches its output h instead of z, so the backward evaluates f' at the output."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    forward, derivative = ACTIVATIONS[name]
    h = forward(z, **params)
    return h, (h.copy(), derivative, params)


def activation_backward__ignores_upstream(dh, cache):
    """activation_backward returns f'(z) without multiplying by the upstream gradient dh."""
    z, derivative, params = cache
    return derivative(z, **params)


def activation_backward__default_params(dh, cache):
    """activation_backward calls the derivative without the forward's params (slope, alpha, beta)."""
    z, derivative, _ = cache
    return dh * derivative(z)


def prelu_forward__caches_prelu_output(z, alpha):
    """prelu_forward caches its output h instead of z, so the backward's dalpha uses alpha·z instead of z."""
    h = prelu(z, alpha)
    return h, (h.copy(), np.array(alpha, copy=True))


def prelu_backward__dalpha_not_summed(dh, cache):
    """prelu_backward returns dalpha per example, shape (N, M), not summed over the batch."""
    z, alpha = cache
    dhdz, dhdalpha = prelu_grad(z, alpha)
    return dh * dhdz, dh * dhdalpha


def prelu_backward__dalpha_summed_over_units(dh, cache):
    """prelu_backward sums dalpha over the units (axis 1) instead of the batch: shape (N,) instead of (M,)."""
    z, alpha = cache
    dhdz, dhdalpha = prelu_grad(z, alpha)
    return dh * dhdz, (dh * dhdalpha).sum(axis=1)


def activation_backward__relu_modifies_dh(dh, cache):
    """activation_backward for ReLU in CS231n's style without the copy: dx = dout; dx[x <= 0] = 0 writes into dh."""
    z, derivative, params = cache
    if derivative is ACTIVATIONS["relu"][1]:
        dz = dh
        dz[z <= 0] = 0
        return dz
    return dh * derivative(z, **params)


def prelu_backward__positive_branch_at_kink(dh, cache):
    """prelu_backward masks with z >= 0, so at z = 0 it takes the slope 1 instead of alpha."""
    z, alpha = cache
    return np.where(z >= 0, dh, alpha * dh), (dh * np.where(z > 0, 0.0, z)).sum(axis=0)


def activation_backward__mask_at_kink(dh, cache):
    """activation_backward for ReLU with the mask z >= 0, so dz = dh at z = 0 instead of 0."""
    z, derivative, params = cache
    if derivative is ACTIVATIONS["relu"][1]:
        return dh * (z >= 0)
    return dh * derivative(z, **params)
