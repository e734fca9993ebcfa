"""Gradescope: the autograder zip, and grading one submission in Gradescope's ``/autograder`` layout.

Gradescope unpacks the autograder zip into ``/autograder/source`` and runs its ``setup.sh`` once,
as root, when it builds the image (Ubuntu 22.04, Python 3.10). For every submission it fills
``/autograder/submission`` (an uploaded zip arrives unpacked) and
``/autograder/submission_metadata.json``, then runs ``run_autograder`` as root, which must leave
``/autograder/results/results.json``. ``$AUTOGRADER_ROOT`` moves ``/autograder`` (for tests).

The zip holds ``setup.sh`` and ``run_autograder`` at its root, pinned ``requirements.txt``, the
engine's source under ``engine/``, and the assignment as a project (``assignments/NAME/`` with
its config, suites and provided files, ``solutions/NAME/``). ``setup.sh`` makes one virtual
environment, ``/autograder/venv``, readable by every user; ``run_autograder`` runs
``python -m autograder.integrations.gradescope`` from it, which hides the grader's files from the student's
uid (``chmod o=`` plus ``hidden_paths``) and grades with ``pipeline.grade``.

The seed of the random test inputs is the submission id from ``submission_metadata.json``;
when that file is missing or holds no usable id, grading derives the seed from the submitted
files instead (``pipeline.default_seed``), and the output says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

import autograder
from autograder import console
from autograder.authoring.archive import Archive
from autograder.grading import pipeline, results
from autograder.suite.assignment import Assignment, load, tomllib

ROOT_ENV = "AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")
ENGINE_FOLDER = "engine"
GRADER_PROBLEM = 1

REQUIREMENTS = (
    # Every package the engine needs, with its dependencies, resolved with Python 3.10 against
    # PyPI (binary wheels only): numpy 2.2 and scipy 1.15 are the last releases for Python 3.10.
    "attrs==26.1.0",
    "click==8.5.1",
    'exceptiongroup==1.3.2; python_version < "3.11"',
    "fastjsonschema==2.22.3",
    "iniconfig==2.3.1",
    "jsonschema==4.26.0",
    "jsonschema-specifications==2025.9.1",
    "jupyter_core==5.9.1",
    "markdown-it-py==4.3.0",
    "mdurl==0.1.2",
    "nbformat==5.11.1",
    "numpy==2.2.6",
    "packaging==26.4",
    "platformdirs==4.12.4",
    "pluggy==1.7.0",
    "Pygments==2.21.0",
    "pytest==9.2.0",
    "PyYAML==6.0.4",
    "referencing==0.37.0",
    "rich==15.0.0",
    "rpds-py==0.30.0",
    "scipy==1.15.3",
    'tomli==2.5.0; python_version < "3.11"',
    "traitlets==5.16.1",
    "typing_extensions==4.16.0",
)

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. It creates one thing:
# a Python virtual environment in $ROOT/venv with the pinned packages and the grading engine,
# readable by every user (student code runs as an unprivileged user and needs the interpreter).
#   AUTOGRADER_ROOT    moves /autograder (for tests)
#   AUTOGRADER_PYTHON  the interpreter (default: the system's, Python 3.10 on Ubuntu 22.04)
set -euo pipefail
umask 022
ROOT="${{{ROOT_ENV}:-{DEFAULT_ROOT}}}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
PYTHON="${{AUTOGRADER_PYTHON:-/usr/bin/python3}}"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-cache-dir)

rm -rf "$VENV"
if ! "$PYTHON" -m venv "$VENV"; then
    # Ubuntu ships the venv module's pip bootstrap as a package of its own.
    rm -rf "$VENV"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    "$PYTHON" -m venv "$VENV"
fi
"${{PIP[@]}}" install --only-binary=:all: -r "$SOURCE/requirements.txt"

# Build the engine from a copy, so the source folder stays as it was unpacked.
engine=$(mktemp -d)
trap 'rm -rf "$engine"' EXIT
cp -R "$SOURCE/{ENGINE_FOLDER}/." "$engine"
"${{PIP[@]}}" install --no-deps "$engine"
"${{PIP[@]}}" check

chmod -R o+rX "$VENV"
chmod o+x "$ROOT"  # others may pass through $ROOT to the venv (not list it)
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission, as root: it grades $ROOT/submission into
# $ROOT/results/results.json. AUTOGRADER_ROOT moves /autograder (for tests).
ROOT="${{{ROOT_ENV}:-{DEFAULT_ROOT}}}"
RESULTS="$ROOT/results/results.json"
rm -f "$RESULTS"
"$ROOT/venv/bin/python" -I -m autograder.integrations.gradescope
status=$?
if [ ! -s "$RESULTS" ]; then
    # The engine could not even start; still leave a valid results.json that says so.
    mkdir -p "$ROOT/results"
    why="The autograder could not start (exit status $status). This is not a problem with your code;"
    printf '{{"score": 0.0, "execution_time": 0, "output": "%s please tell your instructor.", "tests": []}}\\n' \\
        "$why" > "$RESULTS"
fi
exit "$status"
"""


@dataclass(frozen=True)
class Layout:
    """Gradescope's folders under one root: ``/autograder``, or ``$AUTOGRADER_ROOT``."""

    root: Path

    @classmethod
    def from_environment(cls) -> Layout:
        return cls(Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT))

    @property
    def source(self) -> Path:
        """The unpacked autograder zip: the project with the hidden tests and the solution."""
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def results_file(self) -> Path:
        return self.results_dir / "results.json"

    @property
    def venv(self) -> Path:
        """The Python environment ``setup.sh`` makes, which ``run_autograder`` runs."""
        return self.root / "venv"


# --------------------------------------------------------------------------- the autograder zip


def engine_checkout() -> Path:
    """The source checkout of the running engine (the folder holding its ``pyproject.toml``),
    which the autograder zip ships so that ``setup.sh`` can install it."""
    checkout = Path(autograder.__file__).resolve().parent.parent
    pyproject = checkout / "pyproject.toml"
    if not pyproject.is_file() or tomllib.loads(pyproject.read_text()).get("project", {}).get("name") != "autograder":
        raise FileNotFoundError(
            f"no pyproject.toml of the autograder package in {checkout}; building the autograder zip needs "
            "the engine's source checkout (install it with pip install -e)"
        )
    return checkout


INSTRUCTOR_ONLY = ("matplotlib", "copydetect")
"""Dependencies of the engine that only instructors' commands use (the report's charts, the
class's similarity): left out
of the Gradescope runtime, which must stay small (half a CPU, 768 MB)."""


def runtime_pyproject(text: str) -> str:
    """The engine's ``pyproject.toml`` without the ``INSTRUCTOR_ONLY`` dependencies, so that the
    runtime's ``pip check`` holds with ``requirements.txt`` alone."""
    wanted = re.compile(r'^\s*"(' + "|".join(map(re.escape, INSTRUCTOR_ONLY)) + r')\b[^"]*",\s*$')
    return "".join(line for line in text.splitlines(keepends=True) if not wanted.match(line))


def autograder_archive(assignment: Assignment) -> Archive:
    """The files of the autograder zip for ``assignment`` (see the module docstring)."""
    archive = Archive()
    archive.add("setup.sh", SETUP_SH, executable=True)
    archive.add("run_autograder", RUN_AUTOGRADER, executable=True)
    archive.add("requirements.txt", "\n".join(REQUIREMENTS) + "\n")
    checkout = engine_checkout()
    pyproject = checkout / "pyproject.toml"
    archive.add(f"{ENGINE_FOLDER}/pyproject.toml", runtime_pyproject(pyproject.read_text()))
    readme = tomllib.loads(pyproject.read_text())["project"].get("readme")
    if isinstance(readme, str):
        archive.add(f"{ENGINE_FOLDER}/{readme}", (checkout / readme).read_bytes())
    archive.add_folder(Path(autograder.__file__).resolve().parent, f"{ENGINE_FOLDER}/autograder")
    project = f"assignments/{assignment.name}"
    archive.add(f"{project}/assignment.toml", (assignment.folder / "assignment.toml").read_bytes())
    archive.add_folder(assignment.tests, f"{project}/tests")
    for name in assignment.provided:
        archive.add(f"{project}/{name}", (assignment.folder / name).read_bytes())
    for path in sorted(assignment.solution.glob("*.py")):
        archive.add(f"solutions/{assignment.name}/{path.name}", path.read_bytes())
    return archive


def unpack(autograder_zip: Path, layout: Layout) -> None:
    """Lay out ``layout.root`` as Gradescope's image has it before ``setup.sh`` runs: the zip
    unpacked into ``source``, ``run_autograder`` copied to the root (executable), and empty
    ``submission`` and ``results`` folders. For trying an autograder zip locally."""
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(layout.source)
    runner = layout.root / "run_autograder"
    shutil.copyfile(layout.source / "run_autograder", runner)
    runner.chmod(0o755)
    for folder in (layout.submission, layout.results_dir):
        folder.mkdir(exist_ok=True)


# --------------------------------------------------------------------------- grading one submission


def submission_seed(metadata: Path) -> tuple[int | None, str]:
    """The seed of the test inputs, and a line saying where it comes from.

    The seed is the submission id of ``submission_metadata.json``, so a regrade repeats the
    inputs and ``autograder grade --seed ID`` reproduces them. A missing or garbled file, or an
    id that is not a plain number, gives None: grading then derives the seed from the files.
    """
    fallback = "; the seed is derived from the submitted files"
    try:
        raw = json.loads(metadata.read_text())
    except (OSError, ValueError) as err:
        return None, f"no usable {metadata} ({type(err).__name__}: {err}){fallback}"
    submission_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(submission_id, bool) or not re.fullmatch(r"[0-9]{1,18}", str(submission_id)):
        return None, f"{metadata} has no usable submission id ({submission_id!r:.40}){fallback}"
    return int(submission_id), f"the seed is the submission id, {int(submission_id)}"


def protect(layout: Layout) -> tuple[Path, ...]:
    """Take every permission of other users from the autograder source (hidden tests and
    solution), the results folder and the submission metadata, and return them: the paths the
    student's code must not read (hidden in a mount namespace where possible)."""
    layout.results_dir.mkdir(mode=0o700, exist_ok=True)
    hidden = (layout.source, layout.results_dir, layout.metadata)
    for path in hidden:
        if path.exists():
            os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~0o007)
    return hidden


def run(layout: Layout, out: Console) -> int:
    """Grade the submission of ``layout``, print the table, and always leave a valid
    ``results.json`` (a grader failure says so). Returns 0 when grading completed, whatever the
    score, and 1 when the grader had a problem."""
    started = time.perf_counter()
    try:
        hidden = protect(layout)
        chosen = load(root=layout.source)
        seed, origin = submission_seed(layout.metadata)
        out.print(origin, highlight=False)
        outcome = pipeline.grade(chosen, layout.submission, layout.results_file, seed=seed, hidden_paths=hidden)
    except Exception as err:  # whatever breaks, Gradescope must get a results.json that says so
        out.print(traceback.format_exc(), highlight=False, markup=False)
        reason = f"{type(err).__name__}: {err}"
        results.grader_failure(reason, execution_time=time.perf_counter() - started).write(layout.results_file)
        return GRADER_PROBLEM
    console.print_results(outcome.results, f"{chosen.name}: {layout.submission}", out)
    out.print(f"student code ran with confinement {outcome.confinement}", highlight=False, markup=False)
    for problem in outcome.problems:
        out.print(f"grader problem: {problem}", highlight=False, markup=False)
    return GRADER_PROBLEM if outcome.problems else 0


def main() -> None:
    sys.exit(run(Layout.from_environment(), Console(width=120)))


if __name__ == "__main__":
    main()
