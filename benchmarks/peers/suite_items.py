"""The tests of an assignment's suites as plain data, for graders that cannot run pytest.

``collect(assignment)`` runs pytest's collection (no test runs) on the suites with the grading
configuration, so node ids, display names, points and visibility are exactly those of
``autograder grade``, and returns one ``SuiteItem`` per test: its file, test function, parameter
values (only literals that survive ``repr``, so a generated file can hold them) and the fixtures it
asks for. This module is also the pytest plugin that does the collecting (``-p suite_items``).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from autograder import grading
from autograder.assignment import Assignment
from autograder.plugin import manifest_entries

OUTPUT_OPTION = "--suite-items"


@dataclass(frozen=True)
class SuiteItem:
    """One collected test: ``nodeid`` (``hidden/test_hidden_layers.py::test_x[W]``), ``file``
    (relative to the tests folder), ``function``, ``params`` (argument name -> value),
    ``fixtures`` (the other arguments), and the manifest's ``name``, ``points``, ``visibility``."""

    nodeid: str
    file: str
    function: str
    params: dict
    fixtures: tuple[str, ...]
    name: str
    points: float
    visibility: str


class UnportableParameter(ValueError):
    """A parametrized value is not a literal that ``repr`` writes back exactly."""


def literal(value, nodeid: str):
    """``value`` itself when ``repr`` gives a literal that evaluates back to it."""
    try:
        if ast.literal_eval(repr(value)) == value:
            return value
    except (ValueError, SyntaxError):
        pass
    raise UnportableParameter(f"{nodeid}: parameter {value!r} is not a literal a generated test file can hold")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OUTPUT_OPTION, metavar="FILE", help="write the collected tests as JSON to FILE")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    output = config.getoption(OUTPUT_OPTION)
    if not output:
        return
    records = []
    for item, entry in zip(items, manifest_entries(items, "hidden")):
        params = getattr(getattr(item, "callspec", None), "params", {})
        records.append(
            SuiteItem(
                nodeid=item.nodeid,
                file=item.nodeid.split("::", 1)[0],
                function=item.originalname,
                params={name: literal(value, item.nodeid) for name, value in params.items()},
                fixtures=tuple(name for name in item.fixturenames if name not in params and name != "request"),
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
            sys.executable, "-m", "pytest", str(tests), "--collect-only", "-q",
            "-c", str(grading.RUNNER_CONFIG), "--rootdir", str(tests), "--confcutdir", str(tests),
            "-o", f"pythonpath={tests}", "-p", "no:cacheprovider", "-p", Path(__file__).stem,
            f"{OUTPUT_OPTION}={output}",
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not output.exists():
            raise RuntimeError(f"collecting {tests} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return [SuiteItem(**{**record, "fixtures": tuple(record["fixtures"])}) for record in json.loads(output.read_text())]
