"""Learning targets of the backprop assignment, measured with the reference solution.

Trains, with ``optim.train`` and the provided data and initialisers:

1. a ReLU MLP (``network.mlp_loss``) on the two spirals of ``data.make_spirals``: its training
   accuracy must reach at least 95 %;
2. a linear model (``mlp_loss`` with a single layer) on the same spirals, with the same training
   budget: its training accuracy must stay near chance (at most 65 % for two balanced classes),
   because no straight line separates the spirals;
3. the window classifier (``network.window_classifier_loss``) on ``data.make_location_task``:
   its accuracy on the held-out sentences must reach at least 90 %. Only about one word in nine
   is a location, so the report also gives the accuracy of always answering "not a location"
   and the share of held-out location words recognised.

Run from the repository root::

    .venv/bin/python benchmarks/learning_targets.py          # a readable report
    .venv/bin/python benchmarks/learning_targets.py --json   # the same figures as JSON

The exit status is 1 when a target is missed.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "solutions" / "backprop"), str(ROOT / "assignments" / "backprop")]

import data  # noqa: E402
import network  # noqa: E402
import numpy as np  # noqa: E402
import optim  # noqa: E402

SPIRALS = {"n_per_class": 100, "n_classes": 2, "noise": 0.2, "seed": 0}
SPIRAL_TRAINING = {"lr": 0.3, "epochs": 300, "batch_size": 32, "seed": 0}
MLP_LAYER_SIZES = (2, 64, 64, 2)
LINEAR_LAYER_SIZES = (2, 2)

LOCATION_TASK = {"n_sentences": 400, "test_fraction": 0.25, "half_width": 2, "seed": 0}
WINDOW_MODEL = {"dim": 8, "hidden": 16, "seed": 0}
WINDOW_TRAINING = {"lr": 0.5, "epochs": 20, "batch_size": 32, "seed": 0}

TARGETS = {
    "mlp_spirals_train_accuracy": (">=", 0.95),
    "linear_spirals_train_accuracy": ("<=", 0.65),
    "window_classifier_test_accuracy": (">=", 0.90),
}


def spiral_train_accuracy(layer_sizes):
    """Train ``mlp_loss`` (ReLU) with the given layer sizes on the spirals.

    Args:
        layer_sizes: (2, hidden sizes…, 2), as in ``data.init_mlp_params``.

    Returns:
        ``(accuracy, seconds)``: the training accuracy (a float in [0, 1]) and the training time.
    """
    X, y = data.make_spirals(**SPIRALS)
    initial = data.init_mlp_params(layer_sizes, seed=0)
    start = time.perf_counter()
    params, _ = optim.train(network.mlp_loss, initial, X, y, **SPIRAL_TRAINING)
    seconds = time.perf_counter() - start
    return float(np.mean(network.mlp_predict(params, X) == y)), seconds


def window_classifier_figures():
    """Train the window classifier (tanh) on the training sentences and score the held-out ones.

    Returns:
        A dict: ``test_accuracy`` (threshold 0.5 on the probabilities), ``majority_accuracy``
        (answering 0 everywhere), ``test_location_recall`` (share of held-out location words
        classified 1), ``seconds`` (training time) and the data sizes.
    """
    task = data.make_location_task(**LOCATION_TASK)
    window = task.train_windows.shape[1]
    initial = data.init_window_params(len(task.vocabulary), window=window, **WINDOW_MODEL)
    start = time.perf_counter()
    params, _ = optim.train(
        network.window_classifier_loss, initial, task.train_windows, task.train_labels, **WINDOW_TRAINING
    )
    seconds = time.perf_counter() - start
    predicted = (network.window_classifier_predict(params, task.test_windows) > 0.5).astype(np.int64)
    is_location = task.test_labels == 1
    return {
        "test_accuracy": float(np.mean(predicted == task.test_labels)),
        "majority_accuracy": float(np.mean(~is_location)),
        "test_location_recall": float(np.mean(predicted[is_location] == 1)),
        "seconds": seconds,
        "vocabulary_size": len(task.vocabulary),
        "train_windows": len(task.train_windows),
        "test_windows": len(task.test_windows),
    }


def measure():
    """Run the three trainings.

    Returns:
        A dict of the figures: the three targeted accuracies under the keys of ``TARGETS``,
        training times in seconds, the window classifier's extra figures and the
        hyperparameters.
    """
    mlp_accuracy, mlp_seconds = spiral_train_accuracy(MLP_LAYER_SIZES)
    linear_accuracy, linear_seconds = spiral_train_accuracy(LINEAR_LAYER_SIZES)
    window = window_classifier_figures()
    return {
        "mlp_spirals_train_accuracy": mlp_accuracy,
        "mlp_spirals_seconds": mlp_seconds,
        "linear_spirals_train_accuracy": linear_accuracy,
        "linear_spirals_seconds": linear_seconds,
        "window_classifier_test_accuracy": window.pop("test_accuracy"),
        "window_classifier_seconds": window.pop("seconds"),
        "window_classifier": window,
        "hyperparameters": {
            "spirals": SPIRALS,
            "spiral_training": SPIRAL_TRAINING,
            "mlp_layer_sizes": MLP_LAYER_SIZES,
            "linear_layer_sizes": LINEAR_LAYER_SIZES,
            "location_task": LOCATION_TASK,
            "window_model": WINDOW_MODEL,
            "window_training": WINDOW_TRAINING,
        },
    }


def target_met(figures, name):
    """Whether the figure ``name`` meets its entry of ``TARGETS``."""
    comparison, bound = TARGETS[name]
    value = figures[name]
    return value >= bound if comparison == ">=" else value <= bound


def report(figures):
    """The figures as readable lines of text."""
    window = figures["window_classifier"]
    lines = []
    for name, seconds_key in (
        ("mlp_spirals_train_accuracy", "mlp_spirals_seconds"),
        ("linear_spirals_train_accuracy", "linear_spirals_seconds"),
        ("window_classifier_test_accuracy", "window_classifier_seconds"),
    ):
        comparison, bound = TARGETS[name]
        verdict = "met" if target_met(figures, name) else "MISSED"
        lines.append(
            f"{name:34s} {figures[name]:7.2%}  (target {comparison} {bound:.0%}: {verdict}; "
            f"trained in {figures[seconds_key]:.2f} s)"
        )
    lines.append(
        f"{'  always answering 0 would score':34s} {window['majority_accuracy']:7.2%}; "
        f"held-out locations recognised: {window['test_location_recall']:.2%}"
    )
    lines.append(f"hyperparameters: {json.dumps(figures['hyperparameters'])}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    arguments = parser.parse_args(argv)
    figures = measure()
    print(json.dumps(figures, indent=2) if arguments.json else report(figures))
    return 0 if all(target_met(figures, name) for name in TARGETS) else 1


if __name__ == "__main__":
    sys.exit(main())
