"""A minimal JSONTestRunner for pytest: ``results.json`` from the reports of the tests that ran.

What gradescope-utils' ``JSONTestRunner`` and the pytest plugins modelled on it
(``pytest_utils``, ``pytest-gradescope``) do, with our suites' markers: each test that reports
is worth its ``points`` marker (``max_score``), passes when none of its phases failed, and earns
its points, or its partial credit (the ``credit`` fixture) when it failed. The top-level
``score`` is the sum. The file is written when the session finishes, at ``--results-json``.

Load it with ``-p json_results``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.suite.plugin import CREDIT_KEY, PUBLIC_FOLDER, display_name_of, points_of

RESULTS_OPTION = "--results-json"
ITEMS_KEY = pytest.StashKey[dict]()
OUTCOMES: dict[str, dict] = {}
"""Node id -> whether a phase of the test failed, and the failure texts, in reporting order."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(RESULTS_OPTION, metavar="FILE", help="write Gradescope's results.json to FILE")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    config.stash[ITEMS_KEY] = {item.nodeid: item for item in items}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = OUTCOMES.setdefault(report.nodeid, {"failed": False, "output": []})
    if report.failed:
        outcome["failed"] = True
        outcome["output"].append(report.longreprtext)


def gradescope_test(item: pytest.Item, outcome: dict) -> dict:
    """One entry of ``tests``."""
    points = points_of(item)
    credit = item.stash.get(CREDIT_KEY, None)
    fraction = 0.0 if outcome["failed"] else 1.0
    if outcome["failed"] and credit is not None and credit.fraction:
        fraction = credit.fraction
    return {
        "name": display_name_of(item),
        "score": points * fraction,
        "max_score": points,
        "status": "failed" if outcome["failed"] else "passed",
        "visibility": "visible" if PUBLIC_FOLDER in item.path.parts else "after_published",
        "output": "\n".join(outcome["output"])[-2000:],
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = session.config.getoption(RESULTS_OPTION)
    if not output:
        return
    items = session.config.stash.get(ITEMS_KEY, {})
    tests = [gradescope_test(items[nodeid], outcome) for nodeid, outcome in OUTCOMES.items() if nodeid in items]
    results = {"score": sum(test["score"] for test in tests), "tests": tests}
    Path(output).write_text(json.dumps(results, indent=2))
