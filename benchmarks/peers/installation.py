"""The peers' installation: ``benchmarks/peers/requirements.txt``, kept out of the project's
dependencies, installed with pip into the running Python on request."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

from autograder.integrations.otter_format import OTTER_VERSION

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"


def missing() -> list[str]:
    """What of the requirements is not importable (or, for otter-grader, not the pinned version)."""
    problems = []
    for module, package in (("otter", "otter-grader"), ("ipykernel", "ipykernel"), ("psutil", "psutil")):
        try:
            importlib.import_module(module)
        except ImportError:
            problems.append(package)
    if "otter-grader" not in problems and importlib.metadata.version("otter-grader") != OTTER_VERSION:
        problems.append(f"otter-grader=={OTTER_VERSION} (found {importlib.metadata.version('otter-grader')})")
    return problems


def ensure(install: bool) -> None:
    """Install the requirements with pip when something is missing and ``install`` is set;
    otherwise exit with a message saying how."""
    problems = missing()
    if not problems:
        return
    if not install:
        sys.exit(f"missing: {', '.join(problems)}; run with --install (pip install -r {REQUIREMENTS})")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    importlib.invalidate_caches()
    still = missing()
    if still:
        sys.exit(f"still missing after pip install: {', '.join(still)}")
