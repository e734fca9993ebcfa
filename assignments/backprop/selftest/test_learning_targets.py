"""The reference solution learns: the figures of ``benchmarks/learning_targets.py`` meet the targets.

The script runs in its own interpreter, as it does from the command line, so that its flat module
names (``network``, ``data``, …) do not meet other modules of those names in this test session.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "benchmarks" / "learning_targets.py"


@pytest.fixture(scope="module")
def benchmark_run():
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def figures(benchmark_run):
    assert benchmark_run.returncode in (0, 1), benchmark_run.stderr
    return json.loads(benchmark_run.stdout)


def test_mlp_fits_the_spirals(figures):
    assert figures["mlp_spirals_train_accuracy"] >= 0.95


def test_linear_model_stays_near_chance_on_the_spirals(figures):
    """The spirals are not linearly separable: a single affine layer does little better than 50 %."""
    assert figures["linear_spirals_train_accuracy"] <= 0.65


def test_window_classifier_generalises_to_held_out_sentences(figures):
    assert figures["window_classifier_test_accuracy"] >= 0.90


def test_window_classifier_beats_answering_no_location_everywhere(figures):
    window = figures["window_classifier"]
    assert figures["window_classifier_test_accuracy"] > window["majority_accuracy"] + 0.05
    assert window["test_location_recall"] >= 0.90


def test_each_training_run_takes_a_few_seconds(figures):
    for key in ("mlp_spirals_seconds", "linear_spirals_seconds", "window_classifier_seconds"):
        assert figures[key] < 5.0, f"{key} = {figures[key]:.1f} s"


def test_script_reports_success_through_its_exit_status(benchmark_run):
    assert benchmark_run.returncode == 0, benchmark_run.stdout


def test_script_prints_a_readable_report():
    run = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for name in ("mlp_spirals_train_accuracy", "linear_spirals_train_accuracy", "window_classifier_test_accuracy"):
        assert any(line.startswith(name) and "met" in line for line in lines), run.stdout
