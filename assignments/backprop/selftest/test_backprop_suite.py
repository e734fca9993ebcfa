"""The grading suites of the backprop assignment (``assignments/backprop/tests``).

The reference solution earns full marks for any seed and the blank template earns 0 with a
NotImplementedError message per test, both without a grader problem; the points add up to 100 with
the required split per module and between public and hidden tests; public tests never use the
reference solution; and a few targeted bugs lose exactly the tests that check what they break,
with messages that name the likely cause.
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.authoring import variants
from autograder.grading import pipeline, results_model, runner_command
from autograder.suite import assignment

ROOT = Path(__file__).resolve().parents[3]
BACKPROP = assignment.load("backprop", ROOT)
SEEDS = (0, 1, 7, 2024, 99991)
MODULE_POINTS = {"activations": 30, "layers": 15, "network": 30, "optim": 15, "gradcheck": 10}
PUBLIC_POINTS = (30, 36)


def grade(folder: Path, results: Path, seed: int) -> pipeline.Grade:
    return pipeline.grade(BACKPROP, folder, results, seed=seed)


def grade_all(jobs: list[tuple[Path, Path, int]]) -> list[pipeline.Grade]:
    """Grade several submissions, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: grade(*job), jobs))


def module_of(test: results_model.TestResult) -> str:
    """The module a test grades, from its file name (``test_hidden_layers.py`` -> ``layers``)."""
    return Path(test.file).stem.split("_", 2)[2]


def failed(outcome: pipeline.Grade) -> dict[str, str]:
    """Name -> output of every test that did not earn its full points."""
    return {t.name: t.output for t in outcome.results.tests if t.score < t.max_score}


@pytest.fixture(scope="module")
def reference_grades(tmp_path_factory) -> list[pipeline.Grade]:
    folder = tmp_path_factory.mktemp("reference")
    return grade_all([(BACKPROP.solution, folder / f"results-{seed}.json", seed) for seed in SEEDS])


def test_reference_earns_full_marks_for_any_seed(reference_grades):
    for seed, outcome in zip(SEEDS, reference_grades):
        assert outcome.problems == [], (seed, outcome.problems)
        assert failed(outcome) == {}, seed
        assert outcome.results.score == 100, seed


def test_points_add_up_with_the_required_split(reference_grades):
    tests = reference_grades[0].results.tests
    per_module = {module: 0.0 for module in MODULE_POINTS}
    public = 0.0
    for test in tests:
        per_module[module_of(test)] += test.max_score
        if test.visibility == "visible":
            public += test.max_score
            assert test.file.startswith("public/"), test.name
    assert per_module == MODULE_POINTS
    assert PUBLIC_POINTS[0] <= public <= PUBLIC_POINTS[1]
    assert len({test.name for test in tests}) == len(tests), "every test has its own display name"


def test_template_earns_zero_with_a_not_implemented_message_per_test(tmp_path):
    outcome = grade(BACKPROP.template, tmp_path / "results.json", seed=3)
    assert outcome.problems == []
    assert outcome.results.score == 0
    tests = outcome.results.tests
    assert [t.name for t in tests if "NotImplementedError" not in t.output] == []


RECORDER = """
import json, os


def pytest_collection_finish(session):
    with open(os.environ["COLLECTED_FIXTURES"], "w") as stream:
        json.dump({item.nodeid: list(item.fixturenames) for item in session.items}, stream)
"""


def test_public_tests_never_use_the_reference(tmp_path):
    (tmp_path / "fixture_recorder.py").write_text(RECORDER)
    output = tmp_path / "fixtures.json"
    tests = BACKPROP.tests
    env = dict(os.environ, PYTHONPATH=str(tmp_path), COLLECTED_FIXTURES=str(output), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [
        sys.executable,
        "-m",
        "pytest",
        *runner_command.suite_options(tests),
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "autograder.suite.plugin",
        "-p",
        "fixture_recorder",
        "--strict-markers",
    ]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    fixtures = json.loads(output.read_text())
    files = {
        folder: {Path(nodeid.split("::")[0]).name for nodeid in fixtures if nodeid.startswith(f"{folder}/")}
        for folder in ("public", "hidden")
    }
    assert files["public"] and files["hidden"] and not files["public"] & files["hidden"]
    users = [nodeid for nodeid, names in fixtures.items() if "reference" in names]
    assert users and [nodeid for nodeid in users if not nodeid.startswith("hidden/")] == []


# --------------------------------------------------------------------------- targeted bugs

BUGS = {
    "activations.sigma_of_output": (
        {
            "sigmoid_grad: values from the formula",
            "sigmoid_grad: agrees with central differences of your own forward",
            "sigmoid_grad: values vs reference",
            "sigmoid_grad: derivative of the exact forward (central differences)",
            "sigmoid_grad: finite, accurate, no warnings for |x| up to 1e4",
            "activation_backward: dz agrees with central differences of your activation_forward, for every name",
            "activation_backward: dz of the exact layer, for every name, with parameters",
            'window_classifier_loss: loss and gradients with activation="sigmoid"',
        },
        ("sigmoid_grad: values vs reference", "the derivative is evaluated at the output σ(x) instead of the input x"),
    ),
    "network.fancy_index_add": (
        {
            "window_classifier_loss: dE, dW, db, du agree with central differences of your loss (repeated word ids)",
            "window_classifier_loss: dE of the exact loss (repeated word ids)",
            'window_classifier_loss: loss and gradients with activation="sigmoid"',
        },
        ("window_classifier_loss: dE of the exact loss (repeated word ids)", "(fancy-index +=)"),
    ),
    "optim.same_seed_every_epoch": (
        {
            "train: history and trained parameters vs reference (data.least_squares_loss, 3 epochs, last batch smaller)",
            "train: history and trained parameters vs reference (your window_classifier_loss, int word windows)",
        },
        (
            "train: history and trained parameters vs reference (data.least_squares_loss, 3 epochs, last batch smaller)",
            "every epoch shuffles with the same seed instead of seed + k",
        ),
    ),
    "gradcheck.undone_with_steps": (
        {
            "numerical_gradient: the gradient of data.ripple_bowl, and x unchanged afterwards",
            "numerical_gradient: x holds bitwise its original values afterwards",
            "numerical_gradient: arguments unchanged, results repeatable, nothing remembered",
            "gradient_check: arguments unchanged, results repeatable, nothing remembered",
        },
        ("numerical_gradient: x holds bitwise its original values afterwards", "because of round-off"),
    ),
    "activations.boolean_result": (  # threshold_grad's tests differentiate threshold and need only its numbers
        {
            "threshold: values from the formula",
            "threshold: value at the kink (the x <= 0 branch)",
            "threshold: values vs reference",
        },
        ("threshold: values vs reference", "dtype bool"),
    ),
    "layers.relu_modifies_dh": (
        {"activation_backward: arguments unchanged, results repeatable, nothing remembered"},
        (
            "activation_backward: arguments unchanged, results repeatable, nothing remembered",
            "[relu: activation_backward: arguments unchanged] activation_backward modified its argument dh in place",
        ),
    ),
    "layers.positive_branch_at_kink": (
        {"activation_backward, prelu_backward: the z <= 0 branch at z = 0"},
        ("activation_backward, prelu_backward: the z <= 0 branch at z = 0", "a mask z >= 0"),
    ),
    "network.memoised_by_shape": (
        {"mlp_predict: arguments unchanged, results repeatable, nothing remembered"},
        ("mlp_predict: arguments unchanged, results repeatable, nothing remembered", "memoised by shape"),
    ),
    "activations.clips_input_in_place": (
        {
            "sigmoid: finite, accurate, no warnings for |x| up to 1e4",
            "sigmoid_grad: finite, accurate, no warnings for |x| up to 1e4",
            "activation_forward: arguments unchanged, results repeatable, nothing remembered",
            "sigmoid_bce_loss: finite, accurate, no warnings for scores up to 1e4",
        },
        ("sigmoid: finite, accurate, no warnings for |x| up to 1e4", "modified its argument x in place (x["),
    ),
    "optim.updates_arrays_in_place": (
        {
            "sgd_step: params and grads unchanged (the step returns new arrays)",
            "sgd_step: arguments unchanged, results repeatable, nothing remembered",
            "train: a short run of data.least_squares_loss, history of epoch losses going down, arguments unchanged",
            "train: arguments unchanged, results repeatable, nothing remembered",
        },
        (
            "train: arguments unchanged, results repeatable, nothing remembered",
            "Likely cause: your sgd_step, which train relies on, is wrong when called alone: sgd_step modified",
        ),
    ),
    "activations.naive_formula": (
        {
            f"{function}: finite, accurate, no warnings for |x| up to 1e4"
            for function in ("sigmoid", "sigmoid_grad", "tanh_grad", "swish", "swish_grad")
        }
        | {"sigmoid_bce_loss: finite, accurate, no warnings for scores up to 1e4"},
        ("sigmoid: finite, accurate, no warnings for |x| up to 1e4", "RuntimeWarning: overflow encountered in exp"),
    ),
    "network.returns_input_arrays": (
        {"collapse_linear: arguments unchanged, results repeatable, nothing remembered"},
        (
            "collapse_linear: arguments unchanged, results repeatable, nothing remembered",
            "shares memory with its argument",
        ),
    ),
}
"""Mutant of the bug corpus -> (the tests it must fail, (a test, a text its message must contain))."""
FINDING_KINDS = {
    "activations.naive_formula": "warning",
    "network.returns_input_arrays": "aliased",
    "layers.relu_modifies_dh": "modified",
    "activations.boolean_result": "dtype",
}
"""Mutant -> the kind of finding (``extra_data.findings``) every test it fails must carry."""
MUTANTS = {variant.id: variant for variant in variants.discover(BACKPROP.folder / "mutants")}


def buggy_copy(folder: Path, mutant: str) -> Path:
    """The reference solution with the mutant's functions in place of its own."""
    variants.materialise(BACKPROP.solution, MUTANTS[mutant], folder)
    return folder


@pytest.fixture(scope="module")
def bug_grades(tmp_path_factory) -> dict[str, pipeline.Grade]:
    jobs = []
    for number, mutant in enumerate(BUGS):
        folder = tmp_path_factory.mktemp(f"bug{number}")
        jobs.append((buggy_copy(folder / "submission", mutant), folder / "results.json", 11 + number))
    return dict(zip(BUGS, grade_all(jobs)))


@pytest.mark.parametrize("bug", BUGS)
def test_a_bug_loses_exactly_the_tests_of_what_it_breaks(bug_grades, bug):
    expected, (test, diagnosis) = BUGS[bug]
    outcome = bug_grades[bug]
    assert outcome.problems == []
    lost = failed(outcome)
    assert set(lost) == expected
    assert diagnosis in lost[test]


@pytest.mark.parametrize("bug", FINDING_KINDS)
def test_a_failure_says_of_which_kind_it_is(bug_grades, bug):
    failures = [test for test in bug_grades[bug].results.tests if not test.passed]
    assert failures
    for test in failures:
        assert FINDING_KINDS[bug] in [finding.kind for finding in test.findings], test.name
