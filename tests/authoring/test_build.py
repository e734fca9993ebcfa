"""`autograder build`: deterministic zips, a build refused when verification fails, a handout that
works on a fresh machine and gives nothing away."""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from autograder.authoring import archive, build, demo, handout
from autograder.grading import stubs
from autograder.integrations import gradescope
from autograder.suite import assignment
from autograder.suite.assignment import tomllib

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
PROJECT = Path(__file__).parents[2]
ARITH_FILES = {"arith.py", "vectors.py"}


@pytest.fixture
def project(tmp_path):
    """A copy of the fixture project (building writes its template) with a notebook that has outputs."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import arith\narith.add(1, 2)", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3"}, execution_count=3)]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Arithmetic"), cell]
    nbformat.write(notebook, root / "assignments" / "arith" / "explore.ipynb")
    (root / "assignments" / "arith" / "requirements.txt").write_text("matplotlib>=3.7\n")
    return root


def arith_of(root: Path) -> assignment.Assignment:
    return assignment.load("arith", root)


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zipped:
        return zipped.namelist()


def read(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zipped:
        return zipped.read(name).decode()


def test_build_writes_both_zips_deterministically(project, tmp_path):
    task = arith_of(project)
    shutil.rmtree(task.template, ignore_errors=True)
    first = build.build(task, tmp_path / "one")
    assert sorted(p.name for p in task.template.iterdir()) == sorted(ARITH_FILES)  # regenerated
    second = build.build(task, tmp_path / "two")
    for made, again in ((first.student_zip, second.student_zip), (first.autograder_zip, second.autograder_zip)):
        assert made.read_bytes() == again.read_bytes()
        with zipfile.ZipFile(made) as zipped:
            entries = zipped.infolist()
        assert [e.filename for e in entries] == sorted(e.filename for e in entries)
        for entry in entries:
            assert entry.date_time == archive.TIMESTAMP
            executable = entry.filename in ("setup.sh", "run_autograder")
            assert entry.external_attr >> 16 == 0o100000 | (0o755 if executable else 0o644), entry.filename
    assert first.student_zip == tmp_path / "one" / "arith" / "student.zip"
    assert first.points == handout.SuitePoints(public=3, hidden=11)


def test_handout_holds_what_students_need(project, tmp_path):
    task = arith_of(project)
    zipped = build.build(task, tmp_path).student_zip
    own = {n for n in names(zipped) if not n.startswith("arith/autograder/")}
    assert own == {
        "arith/arith.py",
        "arith/vectors.py",
        "arith/helpers.py",
        "arith/explore.ipynb",
        "arith/tests/public/test_public.py",
        "arith/conftest.py",
        "arith/pytest.ini",
        "arith/requirements.txt",
        "arith/README.md",
    }
    assert {
        "arith/autograder/suite/plugin.py",
        "arith/autograder/suite/proxy.py",
        "arith/autograder/suite/checks/__init__.py",
    } <= set(names(zipped))
    assert read(zipped, "arith/arith.py") == (task.template / "arith.py").read_text()
    ini = read(zipped, "arith/pytest.ini")
    for line in (
        "autograder_modules = arith vectors helpers",
        "autograder_provided = helpers",
        "autograder_hidden_points = 11",
        "testpaths = tests/public",
    ):
        assert line in ini.splitlines()
    assert 'pytest_plugins = ["autograder.suite.plugin"]' in read(zipped, "arith/conftest.py")
    notebook = nbformat.reads(read(zipped, "arith/explore.ipynb"), as_version=4)
    code = notebook.cells[1]
    assert code.source == "import arith\narith.add(1, 2)" and code.outputs == [] and code.execution_count is None
    readme = read(zipped, "arith/README.md")
    for expected in (
        "`arith.py`: `add`, `apply_twice`",
        "pip install -r requirements.txt",
        "pytest -x",
        "hidden tests worth 11 more",
        "Upload these files",
        "`explore.ipynb`",
        "each call of one of your functions may take 5 s",  # the fixture's call_timeout_seconds
        "importing one of your files 20 s",
    ):
        assert expected in readme
    required = {
        Requirement(line).name
        for line in read(zipped, "arith/requirements.txt").splitlines()
        if line and not line.startswith("#")
    }
    assert {"numpy", "scipy", "pytest", "matplotlib"} <= required


def test_autograder_zip_holds_the_scripts_the_engine_and_the_project(project, tmp_path):
    zipped = build.build(arith_of(project), tmp_path).autograder_zip
    listed = set(names(zipped))
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "engine/pyproject.toml",
        "engine/autograder/integrations/gradescope.py",
        "assignments/arith/assignment.toml",
        "assignments/arith/helpers.py",
        "assignments/arith/tests/hidden/test_hidden.py",
        "assignments/arith/tests/public/test_public.py",
        "solutions/arith/arith.py",
        "solutions/arith/vectors.py",
    } <= listed
    assert not [n for n in listed if n.startswith(("student_template", "assignments/arith/explore.ipynb"))]
    assert not [n for n in listed if n == "assignments/arith/requirements.txt" or "__pycache__" in n]
    assert read(zipped, "setup.sh").startswith("#!/usr/bin/env bash") and "conda" not in read(zipped, "setup.sh")


def test_gradescope_requirements_pin_every_dependency_of_the_engine():
    pins = {Requirement(line).name.lower(): Requirement(line) for line in gradescope.REQUIREMENTS}
    assert all(len(pin.specifier) == 1 and next(iter(pin.specifier)).operator == "==" for pin in pins.values())
    for text in importlib.metadata.requires("autograder"):
        wanted = Requirement(text)
        if wanted.marker is not None and "extra" in str(wanted.marker):
            continue
        if wanted.name.lower() in gradescope.INSTRUCTOR_ONLY:  # the report's charts: not in the lean runtime
            assert wanted.name.lower() not in pins
            continue
        pinned = pins.get(wanted.name.lower())
        assert pinned is not None, f"{wanted.name} is a dependency of the engine but not pinned for Gradescope"
        version = next(iter(pinned.specifier)).version
        assert wanted.specifier.contains(version), f"{pinned} does not satisfy {wanted}"


def test_the_runtime_pyproject_leaves_out_only_the_instructor_dependencies():
    text = (gradescope.engine_checkout() / "pyproject.toml").read_text()
    shipped = tomllib.loads(gradescope.runtime_pyproject(text))["project"]["dependencies"]
    wanted = tomllib.loads(text)["project"]["dependencies"]
    assert "matplotlib" in gradescope.INSTRUCTOR_ONLY
    assert shipped == [d for d in wanted if Requirement(d).name.lower() not in gradescope.INSTRUCTOR_ONLY] != wanted


# --------------------------------------------------------------------------- refused builds

VARIANTS = {
    "a mutant survives": (
        "mutants",
        'def add__commuted(a, b):\n    """b + a: still right."""\n    return b + a\n',
        'arith.commuted: expected "loses points"',
    ),
    "an alternative loses points": (
        "alternatives",
        'def add__minus(a, b):\n    """a - b."""\n    return a - b\n',
        'arith.minus: expected "full marks"',
    ),
}


def break_reference(task: assignment.Assignment) -> str:
    source = task.solution / "arith.py"
    source.write_text(source.read_text().replace("return a + b", "return a - b"))
    return 'reference: expected "full marks"'


def leave_a_solution_in_the_template(task: assignment.Assignment) -> str:
    source = task.solution / "vectors.py"
    text = source.read_text()
    start = text.index("    # BEGIN SOLUTION", text.index("def double"))
    end = text.index("    # END SOLUTION\n", start) + len("    # END SOLUTION\n")
    source.write_text(text[:start] + text[start:end].splitlines(keepends=True)[1] + text[end:])
    return 'template: expected "zero"'


@pytest.mark.parametrize("case", [*VARIANTS, "the reference loses points", "the template earns points"])
def test_a_build_that_would_ship_a_broken_assignment_writes_nothing(project, tmp_path, case):
    task = arith_of(project)
    if case in VARIANTS:
        folder, code, expected = VARIANTS[case]
        (task.folder / folder).mkdir()
        (task.folder / folder / "arith.py").write_text(code)
    elif case == "the reference loses points":
        expected = break_reference(task)
    else:
        expected = leave_a_solution_in_the_template(task)
    with pytest.raises(build.BuildError) as refused:
        build.build(task, tmp_path / "dist")
    assert expected in str(refused.value)
    assert refused.value.outcomes and not all(o.ok for o in refused.value.outcomes)
    assert not (tmp_path / "dist").exists()


def cli(*args: str, root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_PROJECT": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_build_prints_the_verification_and_the_zips(project):
    done = cli("build", "arith", root=project)
    assert done.returncode == 0, done.stderr
    assert "reference" in done.stdout and "student.zip" in done.stdout and "autograder.zip" in done.stdout
    assert {p.name for p in (project / "dist" / "arith").iterdir()} == {"student.zip", "autograder.zip"}


def test_cli_build_refuses_a_broken_assignment_with_the_failing_cases(project):
    break_reference(arith_of(project))
    done = cli("build", "arith", "--out", "out", root=project)
    assert done.returncode == 1
    assert 'reference: expected "full marks", scored' in done.stderr and "no zip was written" in done.stderr
    assert not (project / "out").exists()


def test_a_stale_template_is_refused(project):
    task = arith_of(project)
    stubs.generate_template(task.solution, task.template)
    (task.template / "arith.py").write_text("# edited by hand\n")
    with pytest.raises(build.BuildError, match="arith.py: differs"):
        build.archives(task)


# --------------------------------------------------------------------------- nothing given away


def test_public_support_follows_imports_of_the_public_tests(tmp_path):
    tests = tmp_path / "tests"
    (tests / "public").mkdir(parents=True)
    (tests / "hidden").mkdir()
    (tests / "public" / "test_a.py").write_text("import numpy\nfrom helpers import x\n")
    (tests / "helpers.py").write_text("from deeper import y\nx = 1\n")
    (tests / "deeper.py").write_text("y = 2\n")
    (tests / "secret_support.py").write_text("z = 3\n")
    (tests / "hidden" / "test_b.py").write_text("import secret_support\n")
    (tests / "conftest.py").write_text("")
    assert [p.name for p in handout.public_support(tests)] == ["conftest.py", "deeper.py", "helpers.py"]


@pytest.fixture(scope="module")
def backprop():
    return assignment.load("backprop", PROJECT)


@pytest.fixture(scope="module")
def backprop_archives(backprop):
    return build.archives(backprop)


def test_backprop_handout_has_no_line_of_the_solution_or_of_the_hidden_tests(backprop, backprop_archives):
    student = backprop_archives.student
    secrets = handout.secret_lines(backprop)
    assert handout.leaks(student, secrets) == []
    for path in sorted(backprop.solution.glob("*.py")):  # each solution file gives secrets to look for
        region = handout.meaningful_lines(stubs.solution_lines(path.read_text(), path.name))
        assert len(region & secrets) >= 3, path.name
    for path in sorted((backprop.tests / "hidden").glob("test_*.py")):
        assert len(handout.file_lines(path.name, path.read_bytes()) & secrets) >= 10, path.name
    assert not [n for n in student.files if "/hidden/" in n or n.startswith("backprop/solutions")]
    assert "backprop/tests/suite_support.py" in student.files


def test_leaks_are_found_wherever_they_hide(backprop, backprop_archives):
    secrets = handout.secret_lines(backprop)
    solution = (backprop.solution / "layers.py").read_text()
    region_line = next(line for line in stubs.solution_lines(solution, "layers.py") if line.strip() in secrets)
    hidden_test = next((backprop.tests / "hidden").glob("test_*.py"))
    tampered = archive.Archive(dict(backprop_archives.student.files))
    tampered.files["backprop/layers.py"] += region_line.encode()  # a stub that kept a solution line
    tampered.add("backprop/tests/public/" + hidden_test.name, hidden_test.read_bytes())  # a hidden test shipped
    notebook = json.loads(tampered.files["backprop/backprop.ipynb"])
    notebook["cells"].append(nbformat.v4.new_code_cell(region_line))  # a solution pasted into the notebook
    tampered.files["backprop/backprop.ipynb"] = json.dumps(notebook).encode()
    found = handout.leaks(tampered, secrets)
    assert f"backprop/layers.py: {region_line.strip()}" in found
    assert f"backprop/backprop.ipynb: {region_line.strip()}" in found
    assert sum(name.startswith(f"backprop/tests/public/{hidden_test.name}:") for name in found) >= 10


def test_a_solution_line_in_a_provided_file_stops_the_build(project, tmp_path):
    task = arith_of(project)
    with (task.folder / "helpers.py").open("a") as stream:
        stream.write("\n\ndef twice(f, x):\n    return f(f(x))\n")
    with pytest.raises(build.BuildError, match=r"arith/helpers.py: return f\(f\(x\)\)"):
        build.build(task, tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


# --------------------------------------------------------------------------- on a fresh machine


def run_in(folder: Path, *command: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_the_handout_works_on_a_fresh_machine(backprop, backprop_archives, tmp_path):
    """Unzipped, `pip install -r requirements.txt` in a new virtual environment, then `pytest`:
    the template earns 0 with NotImplementedError messages, the reference every public point."""
    zipped = tmp_path / "student.zip"
    backprop_archives.student.write(zipped)
    shutil.unpack_archive(zipped, tmp_path)
    folder = tmp_path / "backprop"
    venv = tmp_path / "venv"
    made = run_in(folder, sys.executable, "-m", "venv", str(venv))
    assert made.returncode == 0, made.stderr
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    installed = run_in(folder, str(venv / "bin" / "pip"), "install", "-q", "-r", "requirements.txt")
    assert installed.returncode == 0, installed.stderr

    points = backprop_archives.points
    summary = (
        f"public tests: {{}}/{points.public:g} points; hidden tests worth {points.hidden:g} more run on Gradescope"
    )
    blank = run_in(folder, str(venv / "bin" / "pytest"))
    assert blank.returncode == 1, blank.stdout[-3000:]
    assert summary.format(0) in blank.stdout
    assert "NotImplementedError" in blank.stdout and "is not implemented yet" in blank.stdout
    assert " passed" not in blank.stdout.splitlines()[-1]

    for name in backprop.files:
        shutil.copy(backprop.solution / name, folder / name)
    solved = run_in(folder, str(venv / "bin" / "pytest"))
    assert solved.returncode == 0, solved.stdout[-3000:]
    assert summary.format(f"{points.public:g}") in solved.stdout
    assert "failed" not in solved.stdout.splitlines()[-1]


def test_cli_demo_builds_then_grades_three_samples(project):
    mutants = project / "assignments" / "arith" / "mutants"
    mutants.mkdir()
    (mutants / "arith.py").write_text('def add__minus(a, b):\n    """add subtracting."""\n    return a - b\n')
    done = cli("demo", "arith", root=project)
    assert done.returncode == 0, done.stderr
    for expected in (
        "reference 1/1 full marks, template 1/1 zero, mutant 1/1 loses points",
        "arith: the reference solution",
        "score 14 / 14",
        "arith: the blank student template",
        "score 0 / 14",
        "a buggy submission (arith.minus): add subtracting.",
        "score 10 / 14",
        "dist/arith/student.zip",
        "dist/arith/autograder.zip",
    ):
        assert expected in done.stdout
    assert (project / "dist" / "arith" / "autograder.zip").is_file()


def test_demo_grades_the_mutant_the_assignment_names(project, tmp_path):
    mutants = project / "assignments" / "arith" / "mutants"
    mutants.mkdir()
    (mutants / "arith.py").write_text(
        'def add__minus(a, b):\n    """add subtracting."""\n    return a - b\n\n\n'
        'def add__times(a, b):\n    """add multiplying."""\n    return a * b\n'
    )
    toml = project / "assignments" / "arith" / "assignment.toml"
    first = demo.sample_submissions(assignment.load("arith", project), tmp_path / "first")
    assert "arith.minus" in first[-1][0]
    toml.write_text(toml.read_text() + '\n[demo]\nbuggy_sample = "arith.times"\n')
    named = demo.sample_submissions(assignment.load("arith", project), tmp_path / "named")
    assert "a buggy submission (arith.times): add multiplying." == named[-1][0]
