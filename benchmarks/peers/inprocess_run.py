"""The in-process peer's ``run_autograder`` (installed as ``source/run_autograder.py``).

As on Gradescope: the submitted files are copied next to the tests (``source/tests``), then pytest
runs the suites there, in local mode (student code imported into the test process), with the
``json_results`` plugin writing ``results/results.json``.
"""

import os
import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
ROOT = SOURCE.parent


def main() -> None:
    tests = SOURCE / "tests"
    for path in (ROOT / "submission").iterdir():
        if path.is_file():
            shutil.copy(path, tests / path.name)
    os.chdir(tests)
    os.environ["PYTHONPATH"] = str(SOURCE)
    results = ROOT / "results" / "results.json"
    pytest = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "json_results",
        f"--results-json={results}",
    ]
    os.execv(sys.executable, pytest)


if __name__ == "__main__":
    main()
