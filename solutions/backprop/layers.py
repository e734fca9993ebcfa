"""Layers with a forward and a backward pass.

A layer's ``*_forward(...)`` returns ``(out, cache)``; its ``*_backward(dout, cache)`` receives
dL/dout, the gradient of a scalar loss L with respect to ``out`` (same shape as ``out``), and the
cache of the matching forward call, and returns the gradients of L with respect to the forward's
inputs (each shaped like that input). A cache is opaque: only the matching backward reads it, so
store in it whatever the backward needs.

Conventions: batch first (a batch of N inputs of size D has shape ``(N, D)``); float64 arrays;
no function modifies its arguments, and every returned array is a new array.
"""

import numpy as np

from activations import ACTIVATIONS, prelu, prelu_grad


def affine_forward(x, W, b):
    """Forward pass of an affine (fully connected) layer.

    The lecture's z = W x + b, applied to every row of the batch: out = x Wᵀ + b, i.e.
    out[n, m] = Σ_d x[n, d]·W[m, d] + b[m].

    Args:
        x: float64 array ``(N, D)``, a batch of N inputs.
        W: float64 array ``(M, D)``, the weights (out, in).
        b: float64 array ``(M,)``, the biases.

    Returns:
        ``(out, cache)``: ``out`` a float64 array ``(N, M)``; ``cache`` whatever
        ``affine_backward`` needs.
    """
    # BEGIN SOLUTION
    return x @ W.T + b, (x.copy(), W.copy())
    # END SOLUTION


def affine_backward(dout, cache):
    """Backward pass of an affine layer.

    With out = x Wᵀ + b and G = dL/dout:
    dL/dx = G W, dL/dW = Gᵀ x, dL/db = Σ_n G[n, :] (the bias is added to every row of the batch).

    Args:
        dout: float64 array ``(N, M)``, the upstream gradient dL/dout.
        cache: the cache returned by ``affine_forward``.

    Returns:
        ``(dx, dW, db)``: float64 arrays shaped like x ``(N, D)``, W ``(M, D)`` and b ``(M,)``.
    """
    # BEGIN SOLUTION
    x, W = cache
    return dout @ W, dout.T @ x, dout.sum(axis=0)
    # END SOLUTION


def activation_forward(z, name, **params):
    """Forward pass of an elementwise activation layer: h = f(z).

    ``f`` is ``ACTIVATIONS[name][0]`` from ``activations.py``, called with the keyword arguments
    ``params`` (e.g. ``slope`` for ``"leaky_relu"``, ``alpha`` for ``"elu"``, ``beta`` for
    ``"swish"``; none for the others).

    Args:
        z: float64 array of any shape, e.g. ``(N, M)``.
        name: a key of ``ACTIVATIONS``: ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``,
            ``"elu"``, ``"swish"`` or ``"gelu"``.
        **params: keyword arguments of that activation.

    Returns:
        ``(h, cache)``: ``h`` a float64 array shaped like ``z``; ``cache`` whatever
        ``activation_backward`` needs.

    Raises:
        ValueError: ``name`` is not a key of ``ACTIVATIONS``.
    """
    # BEGIN SOLUTION
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    forward, derivative = ACTIVATIONS[name]
    return forward(z, **params), (z.copy(), derivative, params)
    # END SOLUTION


def activation_backward(dh, cache):
    """Backward pass of an elementwise activation layer.

    With h = f(z) elementwise, the chain rule gives dL/dz = dL/dh ⊙ f'(z) (elementwise product),
    where f' is the activation's derivative evaluated at the input z, with the same ``params``
    as the forward pass.

    Args:
        dh: float64 array shaped like z, the upstream gradient dL/dh.
        cache: the cache returned by ``activation_forward``.

    Returns:
        ``dz``: float64 array shaped like z.
    """
    # BEGIN SOLUTION
    z, derivative, params = cache
    return dh * derivative(z, **params)
    # END SOLUTION


def prelu_forward(z, alpha):
    """Forward pass of a PReLU layer with one learned slope per unit.

    h[n, m] = z[n, m] where z[n, m] > 0, else alpha[m]·z[n, m].

    Args:
        z: float64 array ``(N, M)``.
        alpha: float64 array ``(M,)``, the negative-side slope of each unit, values in (0, 1).

    Returns:
        ``(h, cache)``: ``h`` a float64 array ``(N, M)``; ``cache`` whatever ``prelu_backward``
        needs.
    """
    # BEGIN SOLUTION
    return prelu(z, alpha), (z.copy(), np.array(alpha, copy=True))
    # END SOLUTION


def prelu_backward(dh, cache):
    """Backward pass of a PReLU layer.

    dL/dz[n, m] = dL/dh[n, m]·∂h/∂z[n, m], with ∂h/∂z = 1 where z > 0, else alpha[m]
    (alpha[m] at z = 0). Every example of the batch uses the same slope alpha[m], so its gradient
    sums over the batch: dL/dalpha[m] = Σ_n dL/dh[n, m]·∂h/∂alpha[n, m], with ∂h/∂alpha = 0 where
    z > 0, else z.

    Args:
        dh: float64 array ``(N, M)``, the upstream gradient dL/dh.
        cache: the cache returned by ``prelu_forward``.

    Returns:
        ``(dz, dalpha)``: float64 arrays ``(N, M)`` and ``(M,)``.
    """
    # BEGIN SOLUTION
    z, alpha = cache
    dhdz, dhdalpha = prelu_grad(z, alpha)
    return dh * dhdz, (dh * dhdalpha).sum(axis=0)
    # END SOLUTION
