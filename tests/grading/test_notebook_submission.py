"""Notebook submissions: the assignment's modules rebuilt from the functions written in a notebook,
without running it; magics, exploring cells and broken cells do not get in the way."""

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat import v4

from autograder.classroom import roster
from autograder.cli import cli
from autograder.grading import pipeline
from autograder.grading.intake import MAX_FILE_BYTES, IntakeError, collect
from autograder.grading.notebook_submission import extract
from autograder.suite import assignment

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
FULL = 14.0
APPLY_TWICE_TESTS = {"apply_twice: with a provided function"}


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


def function_sources(path: Path) -> dict[str, str]:
    """Name -> source text of every top-level function of a module."""
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    return {
        node.name: "".join(lines[node.lineno - 1 : node.end_lineno])
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
    }


def reference_functions(task: assignment.Assignment) -> dict[str, str]:
    return {name: text for f in task.files for name, text in function_sources(task.solution / f).items()}


def notebook(*cells: str, handout: nbformat.NotebookNode | None = None) -> bytes:
    """A notebook (the handout's cells first, if given) with one code cell per string; a string
    starting with ``# md`` is a markdown cell."""
    nb = handout or v4.new_notebook(cells=[v4.new_markdown_cell("# Homework")])
    for cell in cells:
        nb.cells.append(v4.new_markdown_cell(cell) if cell.startswith("# md") else v4.new_code_cell(cell))
    return nbformat.writes(nb).encode()


def grade_notebook(task, content: bytes, tmp_path: Path, name: str = "homework.ipynb") -> pipeline.Grade:
    path = tmp_path / name
    path.write_bytes(content)
    return pipeline.grade(task, path, tmp_path / "results.json", seed=7)


def scores(outcome: pipeline.Grade) -> dict[str, float]:
    return {t.name: t.score for t in outcome.results.tests}


def test_a_notebook_with_every_function_grades_like_the_reference(arith, tmp_path):
    functions = reference_functions(arith)
    content = notebook(
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt",
        "# md ## Scalars",
        functions["add"] + "\n\n" + functions["apply_twice"],
        "print(add(2, 3))\nplt.plot([1, 2], [add(1, 1), 3])\nplt.show()",
        "\n\n".join(functions[name] for name in ("double", "scaler", "apply_scaler")),
    )
    reference = pipeline.grade(arith, arith.solution, tmp_path / "reference.json", seed=7)
    outcome = grade_notebook(arith, content, tmp_path)
    assert outcome.problems == []
    assert outcome.results.score == FULL
    assert scores(outcome) == scores(reference)
    assert set(outcome.submission.files) == {"arith.py", "vectors.py"} and outcome.submission.missing == []
    summary = outcome.results.output
    assert "`arith.py`: found `add` (cell 4, line 1), `apply_twice` (cell 4, line 7)." in summary
    assert "`vectors.py`: found `double` (cell 6, line 1)" in summary


def test_a_notebook_with_some_functions_fails_exactly_the_tests_of_the_others(arith, tmp_path):
    functions = reference_functions(arith)
    content = notebook("import numpy as np", *(functions[n] for n in ("add", "double", "scaler", "apply_scaler")))
    outcome = grade_notebook(arith, content, tmp_path)
    assert outcome.problems == []
    failed = {t.name for t in outcome.results.tests if t.score < t.max_score}
    assert failed == APPLY_TWICE_TESTS
    assert outcome.results.score == FULL - 2
    apply_twice = next(t for t in outcome.results.tests if t.name in APPLY_TWICE_TESTS)
    assert "apply_twice (arith.py) is not implemented yet" in apply_twice.output
    assert "`arith.py`: found `add` (cell 3, line 1); not found, so their tests fail: `apply_twice`." in (
        outcome.results.output
    )


def test_a_notebook_without_functions_keeps_every_stub_and_scores_zero(arith, tmp_path):
    outcome = grade_notebook(arith, notebook("x = 1\nprint(x)"), tmp_path)
    assert outcome.problems == [] and outcome.results.score == 0
    expected = "`vectors.py`: none of its functions was found (`double`, `scaler`, `apply_scaler`); their tests fail."
    assert expected in outcome.results.output


def test_magics_shell_lines_and_plotting_cells_are_ignored(arith):
    content = notebook(
        "%matplotlib inline\n!pip install numpy\nfiles = !ls\nadd?\n"
        "import numpy as np\nimport matplotlib.pyplot as plt",
        '%%time\ndef add(a, b):\n    """Sum.\n% of nothing, ! neither: text in a string is kept\n"""\n    return a + b',
        "%%bash\necho def double(x): nonsense",
        "def double(x):\n    %time y = 1\n    return 2.0 * np.asarray(x, dtype=np.float64)",
        "fig, ax = plt.subplots()\nax.plot(double(np.arange(3)))\nplt.show()",
    )
    rebuilt = extract(content, arith)
    arith_py = rebuilt.files["arith.py"].decode()
    vectors_py = rebuilt.files["vectors.py"].decode()
    assert "% of nothing, ! neither: text in a string is kept\n" in arith_py
    assert "    pass\n    return 2.0 * np.asarray" in vectors_py
    assert "matplotlib" not in vectors_py + arith_py and "plt" not in vectors_py + arith_py
    assert rebuilt.found == {"arith.py": {"add": (3, 2)}, "vectors.py": {"double": (5, 1)}}
    assert rebuilt.skipped_cells == ["Cell 4 was not read: a %%bash cell holds no Python code."]
    for source in rebuilt.files.values():
        compile(source, "module", "exec")


def test_a_cell_that_does_not_parse_is_reported_and_skipped(arith):
    content = notebook(
        "def add(a, b):\n    return a + b",
        "def apply_twice(f, x):\n    return f(f(x))",
        "def add(a, b):\n    return a +\n",
    )
    rebuilt = extract(content, arith)
    assert rebuilt.skipped_cells == ["Cell 4 was not read: line 2: SyntaxError: invalid syntax."]
    assert rebuilt.found["arith.py"] == {"add": (2, 1), "apply_twice": (3, 1)}
    assert "return a + b" in rebuilt.files["arith.py"].decode()


def test_the_last_definition_of_a_function_wins(arith):
    content = notebook("def add(a, b):\n    return a - b", "def add(a, b):\n    return b + a")
    rebuilt = extract(content, arith)
    assert rebuilt.found["arith.py"] == {"add": (3, 1)}
    source = rebuilt.files["arith.py"].decode()
    assert "return b + a" in source and "return a - b" not in source


def run_modules(folder: Path, files: dict[str, bytes], code: str) -> str:
    """Run ``code`` in a fresh interpreter that imports the rebuilt modules from ``folder``."""
    for name, content in files.items():
        (folder / name).write_bytes(content)
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_helpers_constants_and_imports_used_by_the_functions_are_taken_and_nothing_else(arith, tmp_path):
    content = notebook(
        "import math\nimport json, os\nfrom functools import reduce as fold",
        "SCALE = 2.0\nx = math.factorial(5)\nunused = os.getcwd()",
        "def _twice(v):\n    return SCALE * v",
        "def add(a, b):\n    x = a\n    return fold(lambda s, t: s + t, [x, b])",
        "def double(x):\n    return _twice(np.asarray(x, dtype=np.float64))",
        "def apply_twice(f, x):\n    return f(f(x))",
        "print(json.dumps(add(1, 2)))",
    )
    rebuilt = extract(content, arith)
    arith_py = rebuilt.files["arith.py"].decode()
    vectors_py = rebuilt.files["vectors.py"].decode()
    assert arith_py.startswith('"""Scalar arithmetic."""\nfrom functools import reduce as fold\n')
    assert "SCALE = 2.0" in vectors_py and "def _twice(v):" in vectors_py
    for absent in ("import math", "import json", "import os", "factorial", "unused"):
        assert absent not in arith_py + vectors_py, absent
    assert vectors_py.index("import numpy as np") < vectors_py.index("SCALE = 2.0") < vectors_py.index("def double(")
    out = run_modules(tmp_path, rebuilt.files, "import arith, vectors; print(arith.add(2, 3), vectors.double([1.5]))")
    assert out.split() == ["5", "[3.]"]


def test_a_function_of_another_module_is_imported_from_it(arith, tmp_path):
    content = notebook(
        "def add(a, b):\n    return a + b",
        "def double(x):\n    return add(x, x)",
        "def apply_twice(f, x):\n    return f(f(x))",
    )
    rebuilt = extract(content, arith)
    assert "import numpy as np\nfrom arith import add\n" in rebuilt.files["vectors.py"].decode()
    assert "import" not in rebuilt.files["arith.py"].decode() and rebuilt.not_imported == []
    out = run_modules(tmp_path, rebuilt.files, "import vectors, arith; print(vectors.double(4))")
    assert out.split() == ["8"]


def test_no_import_is_added_that_would_make_two_modules_import_each_other(arith, tmp_path):
    content = notebook(
        "def add(a, b):\n    return a + b",
        "def double(x):\n    return add(x, x)",
        "def apply_twice(f, x):\n    return double(f(f(x)))",
    )
    rebuilt = extract(content, arith)
    assert "from vectors import double\n" in rebuilt.files["arith.py"].decode()
    assert "from arith" not in rebuilt.files["vectors.py"].decode()
    assert rebuilt.not_imported == [
        "`vectors.py` uses `add` but cannot import it from `arith.py`: "
        "the files would then import each other in a circle."
    ]
    assert rebuilt.not_imported[0] in rebuilt.notes("hw.ipynb")
    for order in ("arith, vectors", "vectors, arith"):
        assert run_modules(tmp_path, rebuilt.files, f"import {order}; print(arith.add(2, 2))").split() == ["4"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not json", "not a Jupyter notebook: the file is not valid JSON"),
        (b"\xff\xfe not utf-8", "not a Jupyter notebook: the file is not valid JSON"),
        (b"[1, 2]", "not a Jupyter notebook: the JSON has no 'nbformat' version"),
        (
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode(),
            "the notebook is in format version 3; open it in Jupyter and save it",
        ),
        (
            json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
            "not a valid Jupyter notebook: top level: 'cells' is a required property",
        ),
        (
            notebook("x = 1").replace(b'"cell_type": "code"', b'"cell_type": "weird"'),
            "not a valid Jupyter notebook: cell 2: it matches none of the allowed forms",
        ),
    ],
)
def test_malformed_notebooks_are_one_line_intake_errors(arith, tmp_path, content, message):
    path = tmp_path / "homework.ipynb"
    path.write_bytes(content)
    with pytest.raises(IntakeError) as raised:
        collect(path, arith)
    assert str(raised.value).startswith(f"homework.ipynb: {message}")
    assert "\n" not in str(raised.value)


def test_a_notebook_in_a_zip_stands_in_for_missing_py_files(arith, tmp_path):
    functions = reference_functions(arith)
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hw/homework.ipynb", notebook(functions["add"], functions["apply_twice"]))
        z.writestr("hw/old/draft.ipynb", notebook("def add(a, b):\n    return 0"))
        z.writestr("__MACOSX/hw/._homework.ipynb", "junk")
        z.writestr("hw/.ipynb_checkpoints/homework-checkpoint.ipynb", "junk")
    sub = collect(archive, arith)
    assert set(sub.files) == {"arith.py", "vectors.py"} and sub.missing == []
    assert "return a + b" in sub.files["arith.py"].decode()
    assert sub.notes[0] == (
        "Graded the functions defined in the notebook `hw/homework.ipynb` (the notebook itself was not run)."
    )
    assert sub.ignored == ["hw/old/draft.ipynb (the notebook hw/homework.ipynb was read)"]
    outcome = pipeline.grade(arith, archive, tmp_path / "results.json", seed=7)
    assert {t.name for t in outcome.results.tests if t.score == t.max_score} >= {"add: small integers"}


def test_py_files_win_over_a_notebook(arith, tmp_path):
    (tmp_path / "arith.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "homework.ipynb").write_bytes(notebook("def double(x):\n    return 2 * x"))
    sub = collect(tmp_path, arith)
    assert set(sub.files) == {"arith.py"} and sub.missing == ["vectors.py"] and sub.notes == []
    assert "homework.ipynb (the .py files were submitted, so notebooks are not read)" in sub.ignored


def test_an_oversized_notebook_in_a_folder_is_ignored(arith, tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.grading.notebook_submission.MAX_NOTEBOOK_BYTES", 100)
    (tmp_path / "homework.ipynb").write_bytes(notebook("def add(a, b):\n    return a + b"))
    sub = collect(tmp_path, arith)
    assert sub.files == {} and sub.ignored == ["homework.ipynb (larger than 0 MB)"]


def test_a_module_without_functions_to_write_is_taken_as_provided_and_not_mentioned(arith, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    (project / "solutions" / "arith" / "constants.py").write_text("TAU = 6.28\n")
    toml = project / "assignments" / "arith" / "assignment.toml"
    listed = 'files = ["arith.py", "vectors.py"'
    toml.write_text(toml.read_text().replace(listed, listed + ', "constants.py"'))
    rebuilt = extract(notebook("def add(a, b):\n    return a + b"), assignment.load("arith", project))
    assert rebuilt.files["constants.py"] == b"TAU = 6.28\n"
    assert not any("constants.py" in note for note in rebuilt.notes("hw.ipynb"))


def test_a_notebook_with_large_outputs_in_a_gradescope_export_is_read_whole(arith, tmp_path):
    plot = v4.new_output("display_data", data={"image/png": "A" * (2 * MAX_FILE_BYTES)})
    nb = v4.new_notebook(cells=[v4.new_code_cell("def add(a, b):\n    return a + b", outputs=[plot])])
    metadata = "submission_1:\n  :submitters:\n  - :name: Ada\n    :sid: '1'\n    :email: ada@example.org\n"
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("submission_metadata.yml", metadata)
        z.writestr("submission_1/homework.ipynb", nbformat.writes(nb))
    with roster.open_roster(export) as found:
        sub = collect(found.entries[0].path, arith)
    assert sub.ignored == [] and "return a + b" in sub.files["arith.py"].decode()


BACKPROP = ROOT / "assignments" / "backprop"


@pytest.fixture(scope="module")
def backprop():
    if not (BACKPROP / "tests" / "hidden").is_dir():
        pytest.skip("the backprop assignment's hidden suites are not present")
    return assignment.load("backprop", ROOT)


def test_the_handout_notebook_alone_defines_no_function_and_every_cell_reads(backprop):
    rebuilt = extract((BACKPROP / "backprop.ipynb").read_bytes(), backprop)
    assert rebuilt.skipped_cells == [] and rebuilt.not_imported == []
    assert all(found == {} for found in rebuilt.found.values())
    assert set(rebuilt.files) == set(backprop.files)
    for filename, source in rebuilt.files.items():
        assert source == (backprop.template / filename).read_bytes(), filename


def test_the_handout_notebook_with_the_reference_functions_gets_full_marks(backprop, tmp_path):
    handout = nbformat.read(BACKPROP / "backprop.ipynb", as_version=4)
    cells = ["import numpy as np\nfrom scipy import special"]
    cells += ["\n\n".join(function_sources(backprop.solution / f).values()) for f in backprop.files]
    outcome = grade_notebook(backprop, notebook(*cells, handout=handout), tmp_path, "backprop.ipynb")
    assert outcome.problems == []
    failed = [t.name for t in outcome.results.tests if t.score < t.max_score]
    assert failed == []
    assert outcome.results.score == sum(t.max_score for t in outcome.results.tests) > 0


def test_the_grade_command_takes_a_notebook_and_prints_what_it_found(arith, tmp_path):
    path = tmp_path / "homework.ipynb"
    path.write_bytes(notebook(*reference_functions(arith).values()))
    args = ["grade", str(path), "--results", str(tmp_path / "results.json")]
    result = CliRunner().invoke(cli, args, env={"AUTOGRADER_PROJECT": str(FIXTURE), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "`arith.py`: found `add` (cell 2, line 1), `apply_twice` (cell 3, line 1)." in result.output
    assert json.loads((tmp_path / "results.json").read_text())["score"] == FULL
