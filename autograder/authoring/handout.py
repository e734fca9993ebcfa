"""The students' handout (``student.zip``), and the proof that it gives nothing away.

The handout is one folder, ``NAME/``, holding:

- the stubs of ``student_template/NAME/`` and the assignment's provided files (``data.py``);
- its notebooks (``assignments/NAME/*.ipynb``) without outputs or execution counts;
- the public tests (``tests/public/``) and the modules next to the suites that they import
  (``tests/suite_support.py``), plus ``tests/conftest.py`` if there is one;
- the engine's student side only (``autograder/suite/``: the pytest plugin, the proxies and the
  in-process runtime, the checks; portable, see ``autograder.suite``), loaded by a
  ``conftest.py``, and a ``pytest.ini`` that makes ``pytest`` run the public tests in process
  (the plugin's local mode) and print the points, the hidden tests' included;
- ``requirements.txt`` (the student side's dependencies, ``STUDENT_SIDE_PACKAGES``, plus
  ``assignments/NAME/requirements.txt`` if the assignment needs more, e.g. for its notebook) and
  a ``README.md`` for students.

``secret_lines`` and ``leaks`` check the handout by content: no line of a solution region and no
line of a hidden test may occur in any of its files.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

import autograder
from autograder.authoring.archive import Archive, folder_files
from autograder.grading import stubs
from autograder.suite.assignment import Assignment
from autograder.suite.plugin import PUBLIC_FOLDER
from autograder.suite.protocol import ManifestEntry

EXTRA_REQUIREMENTS = "requirements.txt"
"""An assignment's own file of further packages for the handout (e.g. what its notebook plots with)."""
MIN_SECRET_TOKENS = 4
"""Lines of fewer tokens (``return x``, ``else:``, ``finally:``) identify nothing: never secrets."""
IGNORED_LINE = re.compile(r"#|import\s|from\s+\S+\s+import\s")
MAX_LEAKS_SHOWN = 10
STUDENT_SIDE_PACKAGES = ("numpy", "scipy", "pytest", "tomli")
"""The engine's dependencies a handout asks for: what ``autograder.suite`` imports (numpy, pytest,
tomli on Python 3.10) and scipy, which student code may use; not the instructor's tools (click,
rich, pyyaml, ...)."""

CONFTEST = '''"""Loads the pytest plugin of the grading library (the autograder folder) for the public tests."""

pytest_plugins = ["autograder.suite.plugin"]
'''


@dataclass(frozen=True)
class SuitePoints:
    """The points of the public tests and of the hidden tests."""

    public: float
    hidden: float

    @classmethod
    def of(cls, manifest: list[ManifestEntry]) -> SuitePoints:
        public = [e.max_score for e in manifest if PUBLIC_FOLDER in PurePosixPath(e.nodeid.split("::")[0]).parts]
        return cls(public=sum(public), hidden=sum(e.max_score for e in manifest) - sum(public))


# --------------------------------------------------------------------------- contents


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the modules that the Python file ``path`` imports (absolute imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def public_support(tests: Path) -> list[Path]:
    """The files next to the suites that the public tests need: ``conftest.py`` and every
    module of ``tests/`` that the public tests import, directly or through each other."""
    local = {path.stem: path for path in tests.glob("*.py")}
    needed = {local["conftest"]} if "conftest" in local else set()
    todo = [*sorted((tests / PUBLIC_FOLDER).rglob("*.py")), *needed]
    while todo:
        for name in imported_modules(todo.pop()):
            if name in local and local[name] not in needed:
                needed.add(local[name])
                todo.append(local[name])
    return sorted(needed)


def without_outputs(notebook: Path) -> str:
    """The notebook with every code cell's outputs and execution count removed."""
    content = nbformat.read(notebook, as_version=4)
    for cell in content.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nbformat.writes(content) + "\n"


def engine_files() -> dict[str, bytes]:
    """The engine's files a handout ships, by path in the handout: the package's ``__init__.py``
    and the student side, ``autograder/suite/``."""
    package = Path(autograder.__file__).parent
    files = {"autograder/__init__.py": (package / "__init__.py").read_bytes()}
    files.update({f"autograder/suite/{name}": content for name, content in folder_files(package / "suite").items()})
    return files


def requirement_name(requirement: str) -> str:
    """The distribution a requirement names: ``"tomli>=2.0; python_version < '3.11'"`` -> ``"tomli"``."""
    return re.match(r"[A-Za-z0-9._-]+", requirement).group().lower()


def requirements(assignment: Assignment) -> str:
    """The handout's ``requirements.txt``: the engine's dependencies that the student side needs
    (with the engine's version bounds), then the assignment's own."""
    declared = [r for r in importlib.metadata.requires("autograder") or () if "extra ==" not in r]
    engine = [r for r in declared if requirement_name(r) in STUDENT_SIDE_PACKAGES]
    lines = ["# pip install -r requirements.txt", "# The grading library's needs (the public tests use it):", *engine]
    extra = assignment.folder / EXTRA_REQUIREMENTS
    if extra.is_file():
        lines += ["# What this assignment needs besides:", *extra.read_text().strip().splitlines()]
    return "\n".join(lines) + "\n"


def pytest_ini(assignment: Assignment, points: SuitePoints) -> str:
    modules = [*assignment.modules, *assignment.provided_modules]
    return "\n".join(
        [
            "# Makes `pytest` in this folder run the public tests on your files (do not edit).",
            "[pytest]",
            f"testpaths = tests/{PUBLIC_FOLDER}",
            "pythonpath = . tests",
            f"autograder_modules = {' '.join(modules)}",
            f"autograder_provided = {' '.join(assignment.provided_modules)}",
            f"autograder_hidden_points = {points.hidden:g}",
            "",
        ]
    )


def readme(assignment: Assignment, points: SuitePoints, notebooks: list[str], support: list[str]) -> str:
    """The students' README: what to implement, how to run the public tests, what to upload."""
    functions = {}
    for name in assignment.files:
        source = assignment.solution / name
        if name.endswith(".py") and source.is_file():
            functions[name] = stubs.solution_functions(source.read_text(), name)
    example = next((found[0] for found in functions.values() if found), assignment.modules[0])
    uploads = ", ".join(f"`{name}`" for name in assignment.files)
    limits = assignment.limits
    public, hidden, total = (f"{p:g}" for p in (points.public, points.hidden, points.public + points.hidden))
    lines = [
        f"# {assignment.title}",
        "",
        "Implement the missing functions, check them with the public tests, then upload your files to Gradescope.",
        "",
        "## What to implement",
        "",
        "Each of these functions raises `NotImplementedError` until you write its body; keep their names "
        "and signatures, and read their docstrings for what they take and return:",
        "",
        *(f"- `{name}`: " + ", ".join(f"`{f}`" for f in found) for name, found in functions.items()),
        "",
    ]
    if assignment.provided:
        provided = ", ".join(f"`{name}`" for name in assignment.provided)
        lines += [f"Provided, use but do not edit (the grader uses its own copy): {provided}.", ""]
    for notebook in notebooks:
        lines += [
            f"`{notebook}` runs your code so you can explore and plot it; it is not graded. To open it: "
            f"`pip install notebook`, then `jupyter notebook {notebook}` (or open it in VS Code).",
            "",
        ]
    lines += [
        "## Set up, once",
        "",
        "You need Python 3.10 or newer, on Linux, macOS or Windows. In this folder:",
        "",
        "    python3 -m venv .venv",
        "    source .venv/bin/activate      # on Windows: .venv\\Scripts\\activate",
        "    pip install -r requirements.txt",
        "",
        "## Run the public tests",
        "",
        "    pytest                # every public test, then your points",
        "    pytest -x             # stop at the first failure",
        f"    pytest -k {example}{' ' * max(1, 14 - len(example))}# only the tests whose name contains '{example}'",
        "",
        "Near the end, a line such as `public tests: 0/"
        f"{public} points; hidden tests worth {hidden} more run on Gradescope` gives your points. "
        f"The assignment is worth {total} points: {public} for the public tests, {hidden} for hidden tests that "
        "check the same functions more thoroughly (other inputs, gradients, edge cases), so passing every public "
        "test does not guarantee full marks.",
        "",
        "## Submit",
        "",
        f"Upload these files to Gradescope, as they are or in one zip: {uploads}. Every other file is "
        "ignored: the grader uses its own copies of the tests and of the provided files.",
        "",
        f"There, each call of one of your functions may take {limits.call_timeout_seconds:g} s (a test that "
        f"trains a model may allow more) and importing one of your files {limits.import_timeout_seconds:g} s; "
        'a call that takes longer fails its test (it says it "did not return"), and only the tests that call '
        "that function lose their points.",
        "",
        "## What else is here",
        "",
        f"- `tests/{PUBLIC_FOLDER}/`: the public tests"
        + (", and " + ", ".join(f"`{name}`" for name in support) + " which they use." if support else "."),
        "- `autograder/`: the grading library the tests use; `pytest.ini` and `conftest.py` make `pytest` "
        "run the public tests on your files. Do not edit them.",
        "",
    ]
    return "\n".join(lines)


def handout_archive(assignment: Assignment, points: SuitePoints) -> Archive:
    """The files of ``student.zip`` (see the module docstring); the template must be up to date."""
    folder = assignment.name
    archive = Archive()
    for stub in sorted(assignment.template.glob("*.py")):
        archive.add(f"{folder}/{stub.name}", stub.read_bytes())
    for name in assignment.provided:
        archive.add(f"{folder}/{name}", (assignment.folder / name).read_bytes())
    notebooks = sorted(assignment.folder.glob("*.ipynb"))
    for notebook in notebooks:
        archive.add(f"{folder}/{notebook.name}", without_outputs(notebook))
    archive.add_folder(assignment.tests / PUBLIC_FOLDER, f"{folder}/tests/{PUBLIC_FOLDER}")
    support = public_support(assignment.tests)
    for path in support:
        archive.add(f"{folder}/tests/{path.name}", path.read_bytes())
    for name, content in engine_files().items():
        archive.add(f"{folder}/{name}", content)
    archive.add(f"{folder}/conftest.py", CONFTEST)
    archive.add(f"{folder}/pytest.ini", pytest_ini(assignment, points))
    archive.add(f"{folder}/requirements.txt", requirements(assignment))
    support_names = [f"tests/{path.name}" for path in support]
    archive.add(f"{folder}/README.md", readme(assignment, points, [n.name for n in notebooks], support_names))
    return archive


# --------------------------------------------------------------------------- what must not leak


def meaningful_lines(lines) -> set[str]:
    """The stripped lines that can identify code: at least ``MIN_SECRET_TOKENS`` tokens, and not
    a comment or an import (which name modules, not what a solution or a test does)."""
    stripped = (line.strip() for line in lines)
    return {
        line
        for line in stripped
        if len(re.findall(r"\w+|[^\w\s]", line)) >= MIN_SECRET_TOKENS and not IGNORED_LINE.match(line)
    }


def file_lines(name: str, content: bytes) -> set[str]:
    """The meaningful lines of a file; for JSON (notebooks), those of every string in it."""
    text = content.decode("utf-8", errors="replace")
    if name.endswith((".ipynb", ".json")):
        strings = []

        def collect(value) -> None:
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)
            elif isinstance(value, list):
                for item in value:
                    collect(item)

        try:
            collect(json.loads(text))
        except ValueError:
            pass
        text += "\n" + "\n".join(strings)
    return meaningful_lines(text.splitlines())


def secret_lines(assignment: Assignment) -> set[str]:
    """The lines no handout file may contain: the meaningful lines inside the solution regions
    and those of the hidden tests (every file of ``tests/`` outside ``public/`` that the public
    tests do not use), except the lines that are public anyway: those of the solution outside its
    regions, of the public tests and what they use (e.g. a formula the contract gives), and of
    the engine. The notebooks and provided files are not exempt: a solution line pasted there is
    a leak."""
    secret: set[str] = set()
    shared: set[str] = set()
    for path in sorted(assignment.solution.glob("*.py")):
        source = path.read_text()
        inside = Counter(line.strip() for line in stubs.solution_lines(source, path.name))
        every = Counter(line.strip() for line in source.splitlines())
        secret |= meaningful_lines(inside)
        shared |= meaningful_lines(every - inside)
    public = {assignment.tests / PUBLIC_FOLDER / name for name in folder_files(assignment.tests / PUBLIC_FOLDER)}
    public |= set(public_support(assignment.tests))
    for path in public:
        shared |= file_lines(path.name, path.read_bytes())
    for content in engine_files().values():
        shared |= meaningful_lines(content.decode("utf-8", errors="replace").splitlines())
    for name, content in folder_files(assignment.tests).items():
        if assignment.tests / name not in public:
            secret |= file_lines(name, content)
    return secret - shared


def leaks(archive: Archive, secrets: set[str]) -> list[str]:
    """``file: line`` for every secret line found in a file of ``archive``."""
    return [
        f"{name}: {line}"
        for name in sorted(archive.files)
        for line in sorted(file_lines(name, archive.files[name]) & secrets)
    ]
