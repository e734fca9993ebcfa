"""The checked-in ``student_template/`` of every assignment is exactly the stub generator's output,
imports cleanly, raises ``NotImplementedError`` from every solution function and leaks no solution."""

from __future__ import annotations

import json
import keyword
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.stubs import BEGIN_MARKER, END_MARKER, solution_functions, template_differences
from autograder.suite.assignment import Assignment, list_assignments, load

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENTS = list_assignments(ROOT)

BACKPROP_CONTRACT = {
    "activations": {
        "threshold",
        "threshold_grad",
        "sigmoid",
        "sigmoid_grad",
        "tanh",
        "tanh_grad",
        "relu",
        "relu_grad",
        "leaky_relu",
        "leaky_relu_grad",
        "prelu",
        "prelu_grad",
        "elu",
        "elu_grad",
        "swish",
        "swish_grad",
        "gelu",
        "gelu_grad",
    },
    "layers": {
        "affine_forward",
        "affine_backward",
        "activation_forward",
        "activation_backward",
        "prelu_forward",
        "prelu_backward",
    },
    "network": {
        "sigmoid_bce_loss",
        "softmax_cross_entropy_loss",
        "window_classifier_loss",
        "window_classifier_predict",
        "mlp_loss",
        "mlp_predict",
        "collapse_linear",
    },
    "optim": {"sgd_step", "minibatch_indices", "train"},
    "gradcheck": {"numerical_gradient", "relative_error", "gradient_check"},
}
"""The graded functions of ``backprop-contract.md``, by module."""

PROBE = r"""
import importlib, inspect, json, sys, traceback

template, provided, report_path, request = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sys.path[:0] = [template, provided]
report = {"imports": {}, "calls": {}}
for module_name, functions in json.loads(request).items():
    try:
        module = importlib.import_module(module_name)
    except BaseException:
        report["imports"][module_name] = traceback.format_exc()
        module = None
    else:
        report["imports"][module_name] = None
    for qualified_name in functions:
        target = module
        for part in qualified_name.split("."):
            if inspect.isfunction(target) or not hasattr(target, part):
                target = None
                break
            target = getattr(target, part)
        if module is None:
            outcome = "its module failed to import"
        elif not callable(target):
            outcome = "is not reachable from the module (a nested function cannot be called)"
        else:
            args, kwargs = [], {}
            for parameter in inspect.signature(target).parameters.values():
                if parameter.default is not parameter.empty:
                    continue
                if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                    args.append(None)
                elif parameter.kind == parameter.KEYWORD_ONLY:
                    kwargs[parameter.name] = None
            try:
                target(*args, **kwargs)
            except NotImplementedError:
                outcome = None
            except BaseException as error:
                outcome = f"raised {type(error).__name__}: {error}"
            else:
                outcome = "returned without raising"
        report["calls"][f"{module_name}.{qualified_name}"] = outcome
with open(report_path, "w") as handle:
    json.dump(report, handle)
"""
"""Run as ``python -I -B -c PROBE TEMPLATE PROVIDED REPORT REQUEST``: imports every module of
REQUEST (``{module: [solution function, ...]}``), calls each solution function with ``None`` for
every parameter without a default, and writes which imports and calls went wrong to REPORT."""


def requested_functions(assignment: Assignment) -> dict[str, list[str]]:
    """Module name -> solution functions, for every module of the solution."""
    return {
        path.stem: solution_functions(path.read_text(encoding="utf-8"), path.name)
        for path in sorted(assignment.solution.glob("*.py"))
    }


def region_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, stripped text)`` of every line strictly inside a solution region."""
    inside, found = False, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if text in (BEGIN_MARKER, END_MARKER):
            inside = text == BEGIN_MARKER
        elif inside:
            found.append((number, text))
    return found


def is_trivial(text: str) -> bool:
    """A line that carries no solution: blank, brackets only, or a lone keyword such as ``return``."""
    return not text.strip("()[]{},:; ") or keyword.iskeyword(text.rstrip(":"))


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def assignment(request) -> Assignment:
    return load(request.param, ROOT)


@pytest.fixture(scope="module")
def probe(assignment: Assignment, tmp_path_factory) -> dict:
    """The report of ``PROBE`` run on the assignment's template in a fresh, isolated interpreter."""
    report_path = tmp_path_factory.mktemp(assignment.name) / "report.json"
    command = [
        sys.executable,
        "-I",
        "-B",
        "-c",
        PROBE,
        str(assignment.template),
        str(assignment.folder),
        str(report_path),
        json.dumps(requested_functions(assignment)),
    ]
    result = subprocess.run(command, cwd=assignment.template, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and report_path.exists(), (
        f"the template probe of {assignment.name} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    )
    return json.loads(report_path.read_text())


def test_there_is_an_assignment():
    assert "backprop" in ASSIGNMENTS


def test_template_is_the_generated_stubs(assignment):
    differences = template_differences(assignment.solution, assignment.template)
    assert not differences, (
        f"{assignment.template.relative_to(ROOT)} is not what the stub generator makes from "
        f"{assignment.solution.relative_to(ROOT)}:\n  "
        + "\n  ".join(differences)
        + f"\nRun `autograder template {assignment.name}` to regenerate it."
    )


def test_template_modules_import_cleanly(assignment, probe):
    failed = {module: error for module, error in probe["imports"].items() if error is not None}
    assert probe["imports"], f"the template of {assignment.name} has no modules"
    assert not failed, "template modules that fail to import:\n" + "\n".join(
        f"{module}:\n{error}" for module, error in failed.items()
    )


def test_every_solution_function_of_the_template_raises_not_implemented(assignment, probe):
    assert probe["calls"], f"{assignment.name} has no solution regions, so no stubs to implement"
    wrong = {name: outcome for name, outcome in probe["calls"].items() if outcome is not None}
    assert not wrong, "template functions that do not raise NotImplementedError:\n" + "\n".join(
        f"  {name}: {outcome}" for name, outcome in wrong.items()
    )


def test_template_holds_no_solution_code(assignment):
    leaks = []
    for solution in sorted(assignment.solution.glob("*.py")):
        template = assignment.template / solution.name
        if not template.is_file():
            continue  # reported by test_template_is_the_generated_stubs
        template_lines = {line.strip() for line in template.read_text(encoding="utf-8").splitlines()}
        leaks += [
            f"  {solution.name}:{number}: {text}"
            for number, text in region_lines(solution)
            if not is_trivial(text) and text in template_lines
        ]
    assert not leaks, "solution lines found in the student template:\n" + "\n".join(leaks)


def test_backprop_solution_functions_are_the_contract():
    found = {
        module: set(functions) for module, functions in requested_functions(load("backprop", ROOT)).items() if functions
    }
    problems = []
    for module in sorted(BACKPROP_CONTRACT.keys() | found.keys()):
        wanted, got = BACKPROP_CONTRACT.get(module, set()), found.get(module, set())
        if got != wanted:
            problems.append(f"{module}: missing {sorted(wanted - got)}, not in the contract {sorted(got - wanted)}")
    assert not problems, "solution functions differ from backprop-contract.md:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "text, trivial",
    [
        ("", True),
        ("return", True),
        ("else:", True),
        ("),", True),
        ("]", True),
        ("pass", True),
        ("return out", False),
        ("x = 1", False),
        ("# stable form", False),
    ],
)
def test_trivial_lines_are_only_those_without_content(text, trivial):
    assert is_trivial(text) is trivial
