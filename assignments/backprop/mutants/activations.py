"""Single-bug versions of functions of ``solutions/backprop/activations.py``.

Each function takes the place of the reference function named before ``__`` inside that module,
so it uses the module's names (``np``, ``special`` and the other activations).
"""

import numpy as np
from scipy import special


def threshold__fires_at_theta(x, theta=0.0):
    """threshold uses the x >= theta branch at the kink: f(theta) = 1 instead of 0."""
    return np.where(x >= theta, 1.0, 0.0)


def threshold__ignores_theta(x, theta=0.0):
    """threshold compares x with 0 whatever theta is."""
    return np.where(x > 0, 1.0, 0.0)


def threshold_grad__length_only(x, theta=0.0):
    """threshold_grad returns np.zeros(len(x)): shape (N,) instead of the shape of x."""
    return np.zeros(len(x))


def sigmoid__naive_formula(x):
    """sigmoid as 1 / (1 + exp(-x)): exp overflows (with a warning) for x < -709."""
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad__sigma_of_output(x):
    """sigmoid_grad evaluated at the output: σ(σ(x))·(1 − σ(σ(x))) instead of σ(x)·(1 − σ(x))."""
    s = sigmoid(sigmoid(x))
    return s * (1.0 - s)


def sigmoid_grad__expects_output(x):
    """sigmoid_grad written for the output s = σ(x): returns x·(1 − x), applied to the input x."""
    return x * (1.0 - x)


def tanh__exp_formula(x):
    """tanh by (e^x − e^-x)/(e^x + e^-x): overflows to inf/inf = nan (with warnings) for |x| > 709."""
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def tanh_grad__tanh_of_output(x):
    """tanh_grad evaluated at the output: 1 − tanh²(tanh(x)) instead of 1 − tanh²(x)."""
    return 1.0 - np.tanh(np.tanh(x)) ** 2


def relu__in_place(x):
    """relu zeroes the negative entries of its argument in place (x[x < 0] = 0) and returns it."""
    x[x < 0] = 0.0
    return x


def relu_grad__one_at_kink(x):
    """relu_grad uses the x >= 0 branch at the kink: relu'(0) = 1 instead of 0."""
    return np.where(x >= 0, 1.0, 0.0)


def relu_grad__float32(x):
    """relu_grad returns (x > 0).astype(np.float32): float32 instead of float64."""
    return (x > 0).astype(np.float32)


def leaky_relu__default_slope(x, slope=0.1):
    """leaky_relu with the default slope 0.1 instead of 0.01."""
    return np.where(x > 0, x, slope * x)


def leaky_relu_grad__fixed_slope(x, slope=0.01):
    """leaky_relu_grad ignores its slope argument and always uses 0.01."""
    return np.where(x > 0, 1.0, 0.01)


def prelu__swapped_branches(x, alpha):
    """prelu scales the positive side: alpha·x where x > 0, x elsewhere."""
    return np.where(x > 0, alpha * x, x)


def prelu_grad__dfdalpha_swapped_branches(x, alpha):
    """prelu_grad returns dfdalpha = x where x > 0 and 0 elsewhere (the branches swapped)."""
    positive = x > 0
    dfdx = np.where(positive, 1.0, alpha)
    dfdalpha = np.where(positive, x, 0.0)
    return dfdx, dfdalpha


def prelu_grad__dfdalpha_summed(x, alpha):
    """prelu_grad sums dfdalpha over the first axis: shape (D,) instead of elementwise like x."""
    positive = x > 0
    dfdx = np.where(positive, 1.0, alpha)
    dfdalpha = np.where(positive, 0.0, x).sum(axis=0)
    return dfdx, dfdalpha


def elu__unscaled_negative_side(x, alpha=1.0):
    """elu ignores alpha: e^x − 1 instead of alpha·(e^x − 1) on the negative side."""
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def elu__exp_of_every_entry(x, alpha=1.0):
    """elu evaluates exp(x) on every entry inside np.where: overflow warning for x > 709."""
    return np.where(x > 0, x, alpha * (np.exp(x) - 1.0))


def elu_grad__unscaled_exponential(x, alpha=1.0):
    """elu_grad ignores alpha: e^x instead of alpha·e^x on the negative side."""
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))


def elu_grad__alpha_lost_at_kink(x, alpha=1.0):
    """elu_grad uses the x >= 0 branch at the kink: 1 instead of alpha at x = 0."""
    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def swish__ignores_beta(x, beta=1.0):
    """swish ignores beta: x·σ(x) instead of x·σ(βx)."""
    return x * special.expit(x)


def swish__naive_division(x, beta=1.0):
    """swish as x / (1 + exp(-βx)): exp overflows (with a warning) for βx < -709."""
    return x / (1.0 + np.exp(-beta * x))


def swish_grad__missing_beta(x, beta=1.0):
    """swish_grad drops the inner derivative β: σ(βx) + x·σ(βx)(1 − σ(βx))."""
    sigma = special.expit(beta * x)
    return sigma + x * sigma * special.expit(-beta * x)


def gelu__tanh_approximation(x):
    """gelu by the tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), not the exact erf form."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def gelu__erf_unscaled(x):
    """gelu with erf(x) instead of erf(x/√2): Φ(x) taken as (1 + erf(x)) / 2."""
    return 0.5 * x * (1.0 + special.erf(x))


def gelu_grad__missing_product_rule(x):
    """gelu_grad returns Φ(x) only: the x·φ(x) term of the product rule is missing."""
    return special.ndtr(x)


def sigmoid__clips_input_in_place(x):
    """sigmoid clips its input to [-500, 500] in place (np.clip(x, -500, 500, out=x)): x changes only at extreme values."""
    np.clip(x, -500.0, 500.0, out=x)
    return 1.0 / (1.0 + np.exp(-x))


def threshold__boolean_result(x, theta=0.0):
    """threshold returns the boolean mask x > theta instead of float64 values 1.0 and 0.0."""
    return x > theta


def sigmoid__negated_argument(x):
    """sigmoid with the sign of the exponent flipped: 1 / (1 + e^x) = σ(−x)."""
    return special.expit(-x)


def sigmoid_grad__missing_factor(x):
    """sigmoid_grad drops the factor (1 − σ(x)): returns σ(x)."""
    return special.expit(x)


def tanh_grad__missing_square(x):
    """tanh_grad forgets the square: 1 − tanh(x) instead of 1 − tanh²(x)."""
    return 1.0 - np.tanh(x)


def relu_grad__returns_forward(x):
    """relu_grad returns the forward max(x, 0) in place of the derivative."""
    return np.maximum(x, 0.0)


def leaky_relu_grad__swapped_branches(x, slope=0.01):
    """leaky_relu_grad puts 1 and the slope on the wrong sides of 0: slope for x > 0, 1 elsewhere."""
    return np.where(x > 0, slope, 1.0)


def elu_grad__forward_on_negative_side(x, alpha=1.0):
    """elu_grad returns the forward's negative branch α(e^x − 1) there instead of its derivative α·e^x."""
    return np.where(x > 0, 1.0, alpha * np.expm1(np.minimum(x, 0.0)))


def swish_grad__product_rule_dropped(x, beta=1.0):
    """swish_grad drops the product rule: σ(βx) only, without the x·βσ(βx)(1 − σ(βx)) term."""
    return special.expit(beta * x)


def gelu_grad__unnormalised_density(x):
    """gelu_grad forgets the normaliser 1/√(2π) of the density: Φ(x) + x·e^(−x²/2)."""
    return special.ndtr(x) + x * np.exp(-0.5 * x * x)
