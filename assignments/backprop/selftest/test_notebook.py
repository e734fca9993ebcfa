"""The handout notebook ``assignments/backprop/backprop.ipynb``.

The committed notebook must be clean (valid nbformat v4, no stored outputs) and must run top to
bottom against the reference solution, producing its figures and a fully passing gradient-check
table. When a student function is missing, execution must stop with that function's
``NotImplementedError`` so that students see the real cause.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.grading.stubs import generate_template

ROOT = Path(__file__).resolve().parents[3]
HANDOUT = ROOT / "assignments" / "backprop"
NOTEBOOK = HANDOUT / "backprop.ipynb"
SOLUTION = ROOT / "solutions" / "backprop"
PROVIDED = ("data.py",)

KERNEL = "python3"
CELL_TIMEOUT_SECONDS = 120

# Code cells (by id) that must each draw one figure.
FIGURE_CELLS = ("activation-plots", "training-curves", "decision-boundaries")
EXPECTED_FIGURES = 4  # the three above and the scatter plot of the 2-D data set
TOLERANCE = 1e-7  # of the notebook's gradient-check table
MIN_GRADIENT_CHECKS = 30

TABLE_ROW = re.compile(r"^(?P<name>\S.*?)\s+(?P<error>\S+)\s+(?P<verdict>pass|FAIL)$")
ACCURACY_ROW = re.compile(
    r"^(?P<model>\S.*?)\s+training accuracy\s+[\d.]+%\s+held-out accuracy\s+(?P<test>[\d.]+)%$", re.M
)
TANH_GAP = re.compile(r"max \|tanh\(x\) - \(2 sigmoid\(2x\) - 1\)\|\s*=\s*(?P<gap>\S+)")

EXECUTION_MISSING = [name for name in ("nbclient", "ipykernel") if importlib.util.find_spec(name) is None]
needs_kernel = pytest.mark.skipif(
    bool(EXECUTION_MISSING),
    reason=f"executing the notebook needs {' and '.join(EXECUTION_MISSING)} (pip install -e '.[notebook]')",
)


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def stored_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Ids of the code cells that hold outputs or an execution count."""
    return [
        cell.get("id", f"cell {index}")
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]


def cell_by_id(notebook: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    matches = [cell for cell in notebook.cells if cell.get("id") == cell_id]
    assert len(matches) == 1, f"expected exactly one cell with id {cell_id!r}, found {len(matches)}"
    return matches[0]


def printed_text(cell: nbformat.NotebookNode) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream")


def figure_count(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for output in cell.outputs)


def gradient_check_rows(text: str) -> list[re.Match]:
    return [match for line in text.splitlines() if (match := TABLE_ROW.match(line))]


def provide(folder: Path, notebook: nbformat.NotebookNode) -> Path:
    """Add the provided files and ``notebook`` to a folder that holds the student files."""
    for name in PROVIDED:
        shutil.copy(HANDOUT / name, folder / name)
    nbformat.write(notebook, folder / NOTEBOOK.name)
    return folder


def handout_folder(folder: Path, notebook: nbformat.NotebookNode) -> Path:
    """``folder`` set up as a student's handout folder with the reference solution in it."""
    for source in sorted(SOLUTION.glob("*.py")):
        shutil.copy(source, folder / source.name)
    return provide(folder, notebook)


def execute(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in a fresh kernel whose working directory is ``folder``."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook


# --- the committed file -----------------------------------------------------------------------


def test_notebook_is_valid_nbformat_v4():
    notebook = read_notebook()
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.kernelspec.name == KERNEL


def test_notebook_is_committed_without_outputs():
    assert stored_outputs(read_notebook()) == []


def test_output_check_notices_stored_outputs():
    notebook = read_notebook()
    cell = cell_by_id(notebook, "setup")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    assert stored_outputs(notebook) == ["setup"]


def test_notebook_has_the_cells_the_execution_checks_rely_on():
    notebook = read_notebook()
    for cell_id in (*FIGURE_CELLS, "setup", "tanh-identity", "gradient-check-table"):
        assert cell_by_id(notebook, cell_id).cell_type == "code"


def test_table_parser_tells_pass_from_fail():
    rows = gradient_check_rows("gradient  relative error  result\nrelu  3.10e-11  pass\naffine, d/dW  4.20e-01  FAIL\n")
    assert [(row["name"], row["verdict"]) for row in rows] == [("relu", "pass"), ("affine, d/dW", "FAIL")]


# --- executed against the reference solution ---------------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    folder = handout_folder(tmp_path_factory.mktemp("handout"), read_notebook())
    return execute(read_notebook(folder / NOTEBOOK.name), folder)


@needs_kernel
def test_every_cell_runs_without_error(executed):
    errors = [
        (cell.get("id"), output.ename)
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    assert all(cell.execution_count is not None for cell in executed.cells if cell.cell_type == "code")


@needs_kernel
def test_plot_sections_draw_their_figures(executed):
    for cell_id in FIGURE_CELLS:
        assert figure_count(cell_by_id(executed, cell_id)) == 1, cell_id
    assert sum(figure_count(cell) for cell in executed.cells if cell.cell_type == "code") == EXPECTED_FIGURES


@needs_kernel
def test_gradient_check_table_passes_every_row(executed):
    text = printed_text(cell_by_id(executed, "gradient-check-table"))
    rows = gradient_check_rows(text)
    assert len(rows) >= MIN_GRADIENT_CHECKS, text
    failed = [row["name"] for row in rows if row["verdict"] != "pass" or float(row["error"]) >= TOLERANCE]
    assert failed == [], text
    assert f"{len(rows)} of {len(rows)} checks pass" in text


@needs_kernel
def test_tanh_identity_gap_is_rounding_error(executed):
    text = printed_text(cell_by_id(executed, "tanh-identity"))
    match = TANH_GAP.search(text)
    assert match, text
    assert float(match["gap"]) < 1e-12


@needs_kernel
def test_accuracies_tell_the_story_of_the_text(executed):
    text = "".join(printed_text(cell) for cell in executed.cells if cell.cell_type == "code")
    held_out = {row["model"].split()[0]: float(row["test"]) for row in ACCURACY_ROW.finditer(text)}
    assert set(held_out) == {"MLP", "linear", "window"}, text
    assert held_out["MLP"] >= 90, text
    assert held_out["linear"] <= 70, text  # two classes: chance is 50%
    assert held_out["window"] >= 95, text


# --- unhappy paths -------------------------------------------------------------------------------


def replace_function(path: Path, source: str) -> None:
    """Redefine a function at the end of a module, as a student's broken version of it."""
    path.write_text(path.read_text() + "\n\n" + source)


@needs_kernel
def test_missing_function_stops_execution_with_not_implemented_error(tmp_path):
    from nbclient.exceptions import CellExecutionError

    folder = handout_folder(tmp_path, read_notebook())
    replace_function(folder / "activations.py", "def sigmoid(x):\n    raise NotImplementedError\n")
    with pytest.raises(CellExecutionError, match="NotImplementedError") as failure:
        execute(read_notebook(folder / NOTEBOOK.name), folder)
    assert failure.value.ename == "NotImplementedError"


@needs_kernel
def test_untouched_student_template_stops_at_its_first_stub(tmp_path):
    from nbclient.exceptions import CellExecutionError

    generate_template(SOLUTION, tmp_path)
    provide(tmp_path, read_notebook())
    with pytest.raises(CellExecutionError, match="NotImplementedError") as failure:
        execute(read_notebook(tmp_path / NOTEBOOK.name), tmp_path)
    assert failure.value.ename == "NotImplementedError"
    assert "threshold" in failure.value.evalue  # the first student function the notebook calls


@needs_kernel
def test_wrong_derivative_fails_its_gradient_check_row(tmp_path):
    notebook = read_notebook()
    table = [cell.get("id") for cell in notebook.cells].index("gradient-check-table")
    notebook.cells = notebook.cells[: table + 1]
    folder = handout_folder(tmp_path, notebook)
    replace_function(folder / "activations.py", "def sigmoid_grad(x):\n    return sigmoid(x) * sigmoid(x)\n")

    text = printed_text(cell_by_id(execute(notebook, folder), "gradient-check-table"))
    failed = [row["name"] for row in gradient_check_rows(text) if row["verdict"] == "FAIL"]
    assert failed == ["sigmoid"], text
