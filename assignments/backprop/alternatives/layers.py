"""Alternative correct versions of functions of ``solutions/backprop/layers.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``ACTIVATIONS``, ``prelu``, ``prelu_grad``).
"""

import numpy as np


def affine_forward__dict_cache(x, W, b):
    """affine layer whose cache is a dict {"x": ..., "W": ...} instead of a tuple."""
    return x @ W.T + b, {"x": x.copy(), "W": W.copy()}


def affine_backward__dict_cache(dout, cache):
    """affine layer whose cache is a dict {"x": ..., "W": ...} instead of a tuple."""
    return dout @ cache["W"], dout.T @ cache["x"], dout.sum(axis=0)


def affine_backward__einsum(dout, cache):
    """affine_backward with np.einsum for the three gradients."""
    x, W = cache
    return np.einsum("nm,md->nd", dout, W), np.einsum("nm,nd->md", dout, x), np.einsum("nm->m", dout)


def affine_forward__cs231n_input_cache(x, W, b):
    """affine layer in CS231n's style: the cache holds the inputs themselves, cache = (x, W, b)."""
    out = x.reshape(x.shape[0], -1).dot(W.T) + b
    cache = (x, W, b)
    return out, cache


def affine_backward__cs231n_input_cache(dout, cache):
    """affine layer in CS231n's style: the cache holds the inputs themselves, cache = (x, W, b)."""
    x, W, b = cache
    dx = dout.dot(W).reshape(x.shape)
    dW = dout.T.dot(x.reshape(x.shape[0], -1))
    db = np.sum(dout, axis=0)
    return dx, dW, db


def affine_forward__column_major(x, W, b):
    """affine layer written for column vectors (z = W x + b on x of shape (D, N)) and adapted with transposes."""
    columns = x.T
    z = W @ columns + b[:, None]
    return z.T, (columns, W)


def affine_backward__column_major(dout, cache):
    """affine layer written for column vectors (z = W x + b on x of shape (D, N)) and adapted with transposes."""
    columns, W = cache
    dz = dout.T
    return (W.T @ dz).T, dz @ columns.T, dz.sum(axis=1)


def affine_forward__layer_object(x, W, b):
    """affine layer as a "Neural Networks from Scratch" Layer_Dense object; the object is the cache."""

    class LayerDense:
        def __init__(self, weights, biases):
            self.weights, self.biases = weights, biases

        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.dot(inputs, self.weights.T) + self.biases
            return self.output

        def backward(self, dvalues):
            self.dweights = np.dot(dvalues.T, self.inputs)
            self.dbiases = np.sum(dvalues, axis=0)
            self.dinputs = np.dot(dvalues, self.weights)
            return self.dinputs, self.dweights, self.dbiases

    layer = LayerDense(W, b)
    return layer.forward(x), layer


def affine_backward__layer_object(dout, cache):
    """affine layer as a "Neural Networks from Scratch" Layer_Dense object; the object is the cache."""
    return cache.backward(dout)


def affine_forward__loops(x, W, b):
    """affine layer with an explicit loop over the examples of the batch (z = W x + b for each)."""
    out = np.zeros((x.shape[0], W.shape[0]))
    for i in range(x.shape[0]):
        out[i] = W @ x[i] + b
    return out, (x, W)


def affine_backward__loops(dout, cache):
    """affine layer with an explicit loop over the examples of the batch (z = W x + b for each)."""
    x, W = cache
    dx, dW = np.zeros(x.shape), np.zeros(W.shape)
    for i in range(x.shape[0]):
        dx[i] = W.T @ dout[i]
        dW += np.outer(dout[i], x[i])
    return dx, dW, dout.sum(axis=0)


def activation_forward__input_cache(z, name, **params):
    """activation layer whose cache is (z, name, params) with z itself; the backward looks the derivative up."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}")
    return ACTIVATIONS[name][0](z, **params), (z, name, params)


def activation_backward__input_cache(dh, cache):
    """activation layer whose cache is (z, name, params) with z itself; the backward looks the derivative up."""
    z, name, params = cache
    return dh * ACTIVATIONS[name][1](z, **params)


def activation_forward__activation_object(z, name, **params):
    """activation layer as an object with forward() and backward() methods, kept as the cache."""

    class Activation:
        def __init__(self, forward, derivative, settings):
            self.f, self.df, self.settings = forward, derivative, settings

        def forward(self, inputs):
            self.inputs = inputs
            return self.f(inputs, **self.settings)

        def backward(self, dvalues):
            return dvalues * self.df(self.inputs, **self.settings)

    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}")
    layer = Activation(*ACTIVATIONS[name], params)
    return layer.forward(z), layer


def activation_backward__activation_object(dh, cache):
    """activation layer as an object with forward() and backward() methods, kept as the cache."""
    return cache.backward(dh)


def activation_backward__cs231n_relu_mask(dh, cache):
    """activation_backward with CS231n's ReLU mask on a copy of dh (dx = dout.copy(); dx[x <= 0] = 0)."""
    z, derivative, params = cache
    if derivative is ACTIVATIONS["relu"][1]:
        dz = dh.copy()
        dz[z <= 0] = 0
        return dz
    return dh * derivative(z, **params)


def prelu_forward__prelu_input_cache(z, alpha):
    """PReLU layer whose cache is (z, alpha) themselves."""
    return np.where(z > 0, z, alpha * z), (z, alpha)


def prelu_backward__prelu_input_cache(dh, cache):
    """PReLU layer whose cache is (z, alpha) themselves."""
    z, alpha = cache
    negative = z <= 0
    return np.where(negative, alpha * dh, dh), np.sum(np.where(negative, z * dh, 0.0), axis=0)
