"""Do the directional gradient check and a full finite-difference check catch the same layer bugs?

The companion of ``benchmarks/gradcheck_cost.py`` (which measures what the directional check
saves): here, every mutant of ``assignments/backprop/mutants/layers.py`` (the bug corpus) has its
layer's backward checked, after its own forward, against central differences of the exact
(reference) layer, as the hidden tests do, on a mid-size layer (batch N = 32), three ways:

- **directional**: ``check_gradient`` as on any large tensor (``full_threshold=0``):
  ``DEFAULT_DIRECTIONS`` random unit directions plus ``DEFAULT_SAMPLES`` sampled entries;
- **directions only**: the random directions without the sampled entries (``samples=0``);
- **full**: every entry (``full_threshold=inf``), 2 evaluations each.

A bug is caught when the check of any gradient of the layer fails: by its shape (``shape``:
every method rejects a wrongly shaped gradient before comparing numbers) or by its values; or
when the layer raises before there is anything to check (``error``). Each layer is checked with
M ≠ D (transposition bugs then also change shapes) and with M = D (they change only values), on
``--seeds`` different draws of inputs, upstream gradients and directions: a cell says on how
many draws the method caught the bug.

Run from the repository root: ``.venv/bin/python benchmarks/peers/gradcheck_bugs.py [--seeds 3]``
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from reference_import import import_apart

from autograder.authoring import variants
from autograder.suite import assignment as assignments
from autograder.suite.checks import check_gradient, sampling
from autograder.suite.checks.gradients import DEFAULT_DIRECTIONS, DEFAULT_SAMPLES
from autograder.suite.errors import CheckFailure

BATCH = 32
SHAPES = {"M ≠ D": (96, 80), "M = D": (96, 96)}
"""Label -> (D inputs, M outputs) of the affine layer; activation layers have M units."""
METHODS = {
    "directional": {"full_threshold": 0},
    "directions only": {"full_threshold": 0, "samples": 0},
    "full": {"full_threshold": math.inf},
}
ELU_ALPHA = 1.7
"""An activation parameter away from its default, so a lost parameter shows."""


def layer_of(variant: variants.Variant) -> str:
    """``affine``, ``activation`` or ``prelu``: the layer whose functions the variant replaces."""
    (layer,) = {name.rsplit("_", 1)[0] for name in variant.functions}
    return layer


def layer_case(layer: str, d: int, m: int, rng: np.random.Generator) -> tuple[dict, dict, dict]:
    """(inputs by name, the forward's other keyword arguments, kinks by input)."""
    if layer == "affine":
        inputs = {
            "x": sampling.normal(rng, (BATCH, d)),
            "W": sampling.normal(rng, (m, d)),
            "b": sampling.normal(rng, m),
        }
        return inputs, {}, {}
    z = sampling.away_from_kinks(rng, (BATCH, m))
    if layer == "activation":
        return {"z": z}, {"name": "elu", "alpha": ELU_ALPHA}, {"z": (0.0,)}
    return {"z": z, "alpha": rng.uniform(0.05, 0.95, size=m)}, {}, {"z": (0.0,)}


def verdict(
    layers: SimpleNamespace, exact: SimpleNamespace, layer: str, d: int, m: int, seed: int, options: dict
) -> tuple[str, float]:
    """How the checks with ``options`` fare on ``layers``' ``layer`` ("values", "shape": caught
    that way, "error": the layer raised, "missed"), and the seconds they took."""
    rng = np.random.default_rng(seed)
    inputs, settings, kinks = layer_case(layer, d, m, rng)
    forward, backward = getattr(layers, f"{layer}_forward"), getattr(layers, f"{layer}_backward")
    exact_forward: Callable = getattr(exact, f"{layer}_forward")
    upstream = sampling.normal(rng, (BATCH, m))
    start = time.perf_counter()
    try:
        _, cache = forward(**{name: value.copy() for name, value in inputs.items()}, **settings)
        gradients = backward(upstream.copy(), cache)
    except Exception:  # noqa: BLE001 - whatever the buggy layer raises, it is caught before any check
        return "error", time.perf_counter() - start
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    if any(np.shape(gradient) != np.shape(inputs[name]) for name, gradient in zip(inputs, gradients)):
        return "shape", time.perf_counter() - start

    def output(**values):
        return exact_forward(**values, **settings)[0]

    found = "missed"
    for name, gradient in zip(inputs, gradients):
        try:
            check_gradient(
                output, gradient, inputs, upstream, name, what=f"d{name}", rng=rng, kinks=kinks.get(name, ()), **options
            )
        except CheckFailure:
            found = "values"
    return found, time.perf_counter() - start


def cell(verdicts: list[str]) -> str:
    """``3/3``, ``0/3``, ``3/3 (shape)`` or ``error`` for the verdicts of the draws."""
    if set(verdicts) == {"error"}:
        return "error"
    caught = sum(v != "missed" for v in verdicts)
    return f"{caught}/{len(verdicts)}" + (" (shape)" if "shape" in verdicts else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="draws of inputs and directions per check (default: 3)")
    arguments = parser.parse_args()
    task = assignments.load("backprop")
    exact = import_apart(task.solution).layers
    corpus = [v for v in variants.discover(task.folder / "mutants") if v.module == "layers"]
    print(
        f"layer bugs of {task.name}'s corpus, checked against the exact layer; batch N = {BATCH}; "
        f"directional = {DEFAULT_DIRECTIONS} directions + {DEFAULT_SAMPLES} sampled entries per tensor"
    )
    columns = [f"{method} ({label})" for label in SHAPES for method in METHODS]
    print("| bug | layer | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    seconds = dict.fromkeys(METHODS, 0.0)
    disagreements, missed = [], []
    for variant in corpus:
        with tempfile.TemporaryDirectory(prefix="gradcheck-bug-") as tmp:
            variants.materialise(task.solution, variant, Path(tmp))
            layers = import_apart(Path(tmp)).layers
        layer = layer_of(variant)
        cells = []
        for label, (d, m) in SHAPES.items():
            cells_of_shape = {}
            for method, options in METHODS.items():
                verdicts = []
                for seed in range(arguments.seeds):
                    found, spent = verdict(layers, exact, layer, d, m, seed, options)
                    verdicts.append(found)
                    seconds[method] += spent
                cells_of_shape[method] = cell(verdicts)
            if cells_of_shape["directional"] != cells_of_shape["full"]:
                disagreements.append(f"{variant.name} ({label})")
            if all(text.startswith("0/") for text in cells_of_shape.values()):
                missed.append((variant, label))
            cells += cells_of_shape.values()
        print(f"| {variant.name}: {variant.description} | {layer} | " + " | ".join(cells) + " |", flush=True)
    print("\nseconds over the corpus: " + ", ".join(f"{method} {spent:.2f} s" for method, spent in seconds.items()))
    print("directional and full disagree on: " + (", ".join(disagreements) or "none"))
    for variant, label in missed:
        only_forward = all(name.endswith("_forward") for name in variant.functions)
        why = (
            ": it changes only the forward, whose gradient stays right; the value tests catch it"
            if only_forward
            else ""
        )
        print(f"no gradient check catches {variant.name} ({label}){why}")


if __name__ == "__main__":
    main()
