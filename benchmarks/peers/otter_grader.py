"""The otter-grader peer: the assignment's suites as otter-grader 7 exception-based test files,
packed by ``otter generate`` and graded by otter.

``build`` writes one test file per suite file (``OK_FORMAT = False``), whose ``@test_case``
functions, one per collected test with its points and visibility, call that test in otter's kernel
through ``otter_bridge`` (see there), so otter makes the very checks of our suites on the same
inputs. ``otter generate`` packs them with the bridge folder (the bridge, a copy of the suites,
the reference solution and the provided files) into ``autograder.zip``.

otter grades one ``.py`` file, so a submission is first turned into one script
(``single_file``). Two ways to grade it, both writing ``ROOT/results/results.json``:

- ``otter run`` (``run_command``): otter's local grading, in a temporary copy of the Gradescope
  layout that it deletes afterwards (only its ``results.json`` is copied out);
- the zip's own Gradescope entry point (``gradescope_command``: what its ``run_otter.py`` does,
  with ``ROOT`` for ``/autograder``, on the zip unpacked into ``ROOT/source``): how it runs on
  Gradescope, where a file the student's code leaves in ``results/`` is what Gradescope reads.

The Python that runs otter must have the grading library installed (the test files import it);
on Gradescope that means adding it to the zip's requirements.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import otter_bridge
import single_file
import submissions
import suite_items

from autograder.suite.assignment import Assignment

HERE = Path(__file__).resolve().parent
BRIDGE_FOLDER = "suite_bridge"
BRIDGE_FILES = ("otter_bridge.py", "parametrize.py", "reference_import.py")


class UnsupportedTest(ValueError):
    """A test asks for a fixture the bridge cannot give."""


def test_file_name(file: str) -> str:
    """``public/test_public_layers.py`` -> ``public-test_public_layers.py``."""
    return file.replace("/", "-")


def test_file_source(file: str, items: list[suite_items.SuiteItem]) -> str:
    """The otter test file of the suite file ``file``: one test case per test."""
    lines = [
        f'"""otter-grader test file of the suite file {file}: each test case runs one of its tests."""',
        "",
        "import os",
        "import sys",
        "",
        "from otter.test_files import test_case",
        "",
        f"sys.path.insert(0, os.path.abspath({BRIDGE_FOLDER!r}))",
        "from otter_bridge import run_suite_test  # noqa: E402",
        "",
        "OK_FORMAT = False",
        f"name = {file.removesuffix('.py')!r}",
    ]
    for number, item in enumerate(items, start=1):
        hidden = item.visibility != "visible"
        lines += [
            "",
            "",
            f"@test_case(name={item.name!r}, points={item.points!r}, hidden={hidden!r})",
            f"def case_{number}(env):",
            (
                f"    run_suite_test(env, {item.nodeid!r}, {item.file!r}, {item.function!r}, {item.indices!r}, "
                f"{list(item.fixtures)!r})"
            ),
        ]
    return "\n".join(lines) + "\n"


def write_bridge(assignment: Assignment, folder: Path) -> None:
    """The bridge folder: the bridge's modules, the suites, the reference and the provided files."""
    folder.mkdir(parents=True)
    for name in BRIDGE_FILES:
        shutil.copy(HERE / name, folder / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(assignment.tests, folder / "suites", ignore=ignore)
    submissions.reference(assignment, folder / "reference")
    (folder / "provided").mkdir()
    for name in assignment.provided:
        shutil.copy(assignment.folder / name, folder / "provided" / name)
    names = {"modules": list(assignment.modules), "provided": list(assignment.provided_modules)}
    (folder / "assignment.json").write_text(json.dumps(names))


def build(assignment: Assignment, folder: Path) -> Path:
    """Write otter's test files and bridge into ``folder`` and return the ``autograder.zip``
    that ``otter generate`` makes of them."""
    items = suite_items.collect(assignment)
    unsupported = sorted({f for item in items for f in item.fixtures} - set(otter_bridge.FIXTURES))
    if unsupported:
        raise UnsupportedTest(f"the suites use fixtures the otter bridge does not give: {', '.join(unsupported)}")
    by_file = defaultdict(list)
    for item in items:
        by_file[item.file].append(item)
    (folder / "tests").mkdir(parents=True)
    for file, tests in by_file.items():
        (folder / "tests" / test_file_name(file)).write_text(test_file_source(file, tests))
    write_bridge(assignment, folder / BRIDGE_FOLDER)
    command = [
        sys.executable,
        "-m",
        "otter",
        "generate",
        "--no-config",
        "--no-requirements",
        "--no-environment",
        BRIDGE_FOLDER,
    ]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"otter generate failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return folder / "autograder.zip"


def script_name(assignment: Assignment) -> str:
    """The name of the one file otter grades: ``backprop.py``."""
    return f"{assignment.name}.py"


def lay_out(assignment: Assignment, submission: Path, root: Path) -> None:
    """``ROOT/submission`` holds the submission as one script; ``ROOT/results`` is empty."""
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    script = single_file.single_script(submission, assignment.modules)
    (root / "submission" / script_name(assignment)).write_text(script)


def lay_out_gradescope(assignment: Assignment, autograder_zip: Path, submission: Path, root: Path) -> None:
    """``lay_out``, plus the zip unpacked into ``ROOT/source`` and an empty submission metadata
    file, as Gradescope prepares ``/autograder``."""
    lay_out(assignment, submission, root)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission_metadata.json").write_text("{}")


def run_command(assignment: Assignment, autograder_zip: Path, root: Path) -> list[str]:
    """``otter run`` of the laid-out submission, its results copied to ``ROOT/results``."""
    return [
        sys.executable,
        "-m",
        "otter",
        "run",
        "--no-logo",
        "-a",
        str(autograder_zip),
        "-o",
        str(root / "results"),
        str(root / "submission" / script_name(assignment)),
    ]


def gradescope_command(root: Path) -> list[str]:
    """The zip's Gradescope entry point on ``ROOT`` (laid out by ``lay_out_gradescope``)."""
    entry = "import sys; from otter.run.run_autograder import main; main(sys.argv[1])"
    return [sys.executable, "-c", entry, str(root)]
