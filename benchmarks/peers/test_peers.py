"""The side-by-side benchmarks' peers (benchmarks/peers) are valid graders of the backprop suites.

The in-process runner gives the reference full marks and the wrong solution the same score as
``autograder grade``; a tampering submission fools it into full marks (the vulnerability the
comparison reports is real) but not ``autograder grade``. The otter-grader peer gives the
reference full marks with ``otter run`` and is fooled through ``sys.modules``; those tests skip
when otter-grader or ipykernel (benchmarks/peers/requirements.txt) are missing.
"""

import ast
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))  # the peers are scripts' modules, not a package

import graders
import inprocess_grader
import otter_grader
import single_file
import submissions
import suite_items
import tampering

from autograder.grading import pipeline
from autograder.suite import assignment as assignments

TASK = assignments.load("backprop", ROOT)


def trick(tampering_id: str) -> tampering.Tampering:
    return next(t for t in tampering.tamperings(TASK.modules) if t.id == tampering_id)


@pytest.fixture(scope="module")
def manifest() -> list:
    """The tests and points of ``autograder grade``."""
    return pipeline.collect_manifest(TASK)


@pytest.fixture(scope="module")
def full_marks(manifest) -> float:
    return sum(entry.max_score for entry in manifest)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("peers")


@pytest.fixture(scope="module")
def wrong_solution(work) -> Path:
    return submissions.wrong_solution(TASK, work / "wrong")


def tampered(work: Path, wrong: Path, tampering_id: str, full_marks: float) -> Path:
    folder = work / tampering_id.replace(" ", "-")
    shutil.copytree(wrong, folder)
    trick(tampering_id).apply(folder, full_marks)
    return folder


def score(grader: graders.Grader, submission: Path, root: Path) -> float | None:
    """Grade ``submission`` with ``grader`` in ``root``; the score Gradescope would show."""
    grader.lay_out(submission, root)
    subprocess.run(
        grader.command(root), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False
    )
    return graders.gradescope_score(root)


def test_the_suites_are_collected_as_autograder_grade_collects_them(manifest):
    items = suite_items.collect(TASK)
    assert [(item.nodeid, item.points) for item in items] == [(entry.nodeid, entry.max_score) for entry in manifest]
    assert any(item.indices for item in items)


def test_the_reference_as_one_script_defines_every_function_without_flat_imports(tmp_path):
    script = single_file.single_script(TASK.solution, TASK.modules)
    tree = ast.parse(script)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & set(TASK.modules)
    (tmp_path / "backprop.py").write_text(script)
    namespace = runpy.run_path(str(tmp_path / "backprop.py"))
    assert callable(namespace["affine_backward"]) and callable(namespace["mlp_loss"])


def test_a_function_call_of_another_module_is_unqualified():
    source = "import numpy as np\nimport layers\n\ndef f(x):\n    return layers.relu(x) + np.ones(1)\n"
    assert single_file.without_flat_imports(source, {"layers"}) == (
        "import numpy as np\npass\n\ndef f(x):\n    return relu(x) + np.ones(1)\n"
    )


def test_the_in_process_runner_is_valid_and_fooled_by_a_conftest_while_ours_is_not(work, wrong_solution, full_marks):
    in_process = graders.in_process(inprocess_grader.build(TASK, work / "in-process"))
    ours = graders.ours(TASK)
    cheat = tampered(work, wrong_solution, "conftest.py forcing passes", full_marks)
    reference = submissions.reference(TASK, work / "reference")
    assert score(in_process, reference, work / "runs" / "in-process-reference") == pytest.approx(full_marks)
    plain = score(in_process, wrong_solution, work / "runs" / "in-process-wrong")
    ours_plain = score(ours, wrong_solution, work / "runs" / "ours-wrong")
    assert plain == pytest.approx(ours_plain) and plain < full_marks  # same checks, same inputs
    assert score(in_process, cheat, work / "runs" / "in-process-cheat") == pytest.approx(full_marks)
    assert score(ours, cheat, work / "runs" / "ours-cheat") == ours_plain


def test_the_otter_grader_is_valid_and_fooled_through_sys_modules(work, wrong_solution, full_marks):
    pytest.importorskip("otter", reason="otter-grader is a peer requirement (benchmarks/peers/requirements.txt)")
    pytest.importorskip("ipykernel", reason="otter run needs ipykernel (benchmarks/peers/requirements.txt)")
    autograder_zip = otter_grader.build(TASK, work / "otter")
    reference = submissions.reference(TASK, work / "otter-reference")
    assert score(
        graders.otter_run(TASK, autograder_zip), reference, work / "runs" / "otter-reference"
    ) == pytest.approx(full_marks)
    deployed = graders.otter_gradescope(TASK, autograder_zip)
    plain = score(deployed, wrong_solution, work / "runs" / "otter-wrong")
    cheat = tampered(work, wrong_solution, "checks replaced via sys.modules", full_marks)
    assert score(deployed, cheat, work / "runs" / "otter-cheat") > plain
