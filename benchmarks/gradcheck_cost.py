"""Cost of the gradient check: directional + sampled entries against a full finite-difference check.

The function is an affine layer ``f(x, W, b) = x @ W.T + b`` with a batch of N = 64, x (N, D),
W (M, D), b (M,), checked with a random upstream gradient. For each size it prints the function
evaluations and seconds of

- the default check of ``autograder.suite.checks.check_gradient`` (every entry up to 400 entries, else
  4 random directions + 8 sampled entries, per tensor), for x, W and b;
- a full check (every entry) of x, W and b when its estimated time fits the budget; otherwise of
  W only, measured when that fits the budget, else extrapolated from a timed run over a sample
  of entries. Estimates come from that timed sample; evaluation counts are exact (2 per entry).

Run: ``python benchmarks/gradcheck_cost.py [--budget SECONDS] [--sizes 64 128 ...]``
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from autograder.suite.checks import check_gradient, numerical_vjp

BATCH = 64
NAMES = ("x", "W", "b")
TIMED_ENTRIES = 200  # entries timed to estimate (or extrapolate) a full check


def affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) = x (N, D) @ W.T (D, M) + b (M,)."""
    return x @ W.T + b


def layer(m: int, d: int, seed: int = 0):
    """Inputs x (N, D), W (M, D), b (M,); upstream gradient (N, M); the analytic gradients."""
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((BATCH, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
    upstream = rng.standard_normal((BATCH, m))
    gradients = {"x": upstream @ W, "W": upstream.T @ x, "b": upstream.sum(axis=0)}
    return {"x": x, "W": W, "b": b}, upstream, gradients


def timed_check(case, name: str, **options) -> tuple[int, float]:
    """(evaluations, seconds) of one passing check_gradient of tensor ``name``."""
    inputs, upstream, gradients = case
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    probe = check_gradient(affine, gradients[name], inputs, upstream, name, what=name, rng=rng, **options)
    return probe.evaluations, time.perf_counter() - start


def full_check_estimate(case, name: str) -> float:
    """Seconds of a full check of ``name``, extrapolated from TIMED_ENTRIES timed entries."""
    inputs, upstream, _ = case
    start = time.perf_counter()
    probe = numerical_vjp(affine, inputs, upstream, name, entries=TIMED_ENTRIES, rng=np.random.default_rng(2))
    return (time.perf_counter() - start) / probe.evaluations * 2 * inputs[name].size


def compare(m: int, d: int, budget: float) -> None:
    """One row: the default check of x, W and b, and full checks, for an M x D layer."""
    case = layer(m, d)
    default = {name: timed_check(case, name) for name in NAMES}
    estimate = {name: full_check_estimate(case, name) for name in NAMES}
    full_evaluations = {name: 2 * case[0][name].size for name in NAMES}
    if sum(estimate.values()) <= budget:
        full_seconds = {name: timed_check(case, name, full_threshold=math.inf)[1] for name in NAMES}
        how = "measured"
        everything = f"{sum(full_evaluations.values()):>9} {sum(full_seconds.values()):9.2f} s"
    else:
        everything = f"{'W only (too long)':>21}"
        if estimate["W"] <= budget:
            full_seconds, how = {"W": timed_check(case, "W", full_threshold=math.inf)[1]}, "measured"
        else:
            full_seconds, how = {"W": estimate["W"]}, "extrapol."
    print(
        f"{m:>5} x {d:<5}"
        f" {sum(e for e, _ in default.values()):>6} {sum(s for _, s in default.values()):7.3f} s"
        f" {default['W'][0]:>6} {default['W'][1]:7.3f} s"
        f" {full_evaluations['W']:>9} {full_seconds['W']:9.2f} s {how:>9}"
        f" {everything}"
        f" {full_evaluations['W'] / default['W'][0]:>9,.0f}x {full_seconds['W'] / default['W'][1]:>9,.0f}x"
    )


def header(budget: float) -> None:
    print(
        f"affine layer, batch N = {BATCH}; default = check_gradient defaults (every entry up to 400 "
        "entries, else 4 directions + 8 entries, per tensor)\nfull = every entry: x, W and b when "
        f"estimated <= {budget:g} s, else W only (measured when <= {budget:g} s, else extrapolated "
        f"from {TIMED_ENTRIES} timed entries; evaluation counts are exact)"
    )
    print(
        f"{'M x D':>13}{'default x,W,b':>17}{'default W':>17}{'full W':>32}{'full x,W,b':>22}"
        f"{'evals':>11}{'time':>11}   (last two: ratios full W / default W)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds allowed per measured full check")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    arguments = parser.parse_args()
    header(arguments.budget)
    compare(512, 1024, arguments.budget)
    for size in arguments.sizes:
        compare(size, size, arguments.budget)


if __name__ == "__main__":
    main()
