"""The tests of an assignment's suites as plain data, for graders that cannot run pytest.

``collect(assignment)`` runs pytest's collection (no test runs) on the suites with the grading
configuration, so node ids, display names, points and visibility are exactly those of
``autograder grade``, and returns one ``SuiteItem`` per test: its file, test function, the
indices of its parameter sets (``parametrize.parameter_values`` turns them back into the values,
which is checked here for every test) and the fixtures it asks for. This module is also the
pytest plugin that does the collecting (``-p suite_items``).
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from parametrize import parameter_values

from autograder.grading import runner_command
from autograder.suite.assignment import Assignment
from autograder.suite.plugin import manifest_entries

OUTPUT_OPTION = "--suite-items"


@dataclass(frozen=True)
class SuiteItem:
    """One collected test: ``nodeid`` (``hidden/test_hidden_layers.py::test_x[W]``), ``file``
    (relative to the tests folder), ``function``, ``indices`` (argument name -> index of its
    parameter set), ``fixtures`` (its other arguments), and the manifest's ``name``, ``points``
    and ``visibility``."""

    nodeid: str
    file: str
    function: str
    indices: dict
    fixtures: tuple[str, ...]
    name: str
    points: float
    visibility: str


class UnportableTest(ValueError):
    """A test's parameters cannot be found again from its ``parametrize`` marks."""


def portable_indices(item: pytest.Item) -> dict[str, int]:
    """The parameter-set indices of ``item``, checked to give back the very values pytest passes."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    found = parameter_values(item.function, callspec.indices)
    if found.keys() != callspec.params.keys() or any(found[k] is not v for k, v in callspec.params.items()):
        raise UnportableTest(
            f"{item.nodeid}: its parameters do not all come from the test function's parametrize marks"
        )
    return dict(callspec.indices)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OUTPUT_OPTION, metavar="FILE", help="write the collected tests as JSON to FILE")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    output = config.getoption(OUTPUT_OPTION)
    if not output:
        return
    records = []
    for item, entry in zip(items, manifest_entries(items, "hidden")):
        indices = portable_indices(item)
        records.append(
            SuiteItem(
                nodeid=item.nodeid,
                file=item.nodeid.split("::", 1)[0],
                function=item.originalname,
                indices=indices,
                fixtures=tuple(name for name in inspect.signature(item.function).parameters if name not in indices),
                name=entry.name,
                points=entry.max_score,
                visibility=entry.visibility,
            )
        )
    Path(output).write_text(json.dumps([asdict(record) for record in records]))


def collect(assignment: Assignment) -> list[SuiteItem]:
    """Every test of the assignment's suites, in the grading run's order."""
    tests = assignment.tests
    with tempfile.TemporaryDirectory(prefix="suite-items-") as tmp:
        output = Path(tmp) / "items.json"
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
            Path(__file__).stem,
            f"{OUTPUT_OPTION}={output}",
        ]
        paths = [str(Path(__file__).parent), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not output.exists():
            raise RuntimeError(f"collecting {tests} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return [
            SuiteItem(**{**record, "fixtures": tuple(record["fixtures"])}) for record in json.loads(output.read_text())
        ]
