"""The in-process peer's ``reference`` fixture, installed as the hidden tests' ``conftest.py``.

The hidden tests compare with the reference solution, which this grader keeps in the test
process (``source/reference``), imported apart from the student's modules of the same names.
"""

from pathlib import Path

import pytest
from reference_import import import_apart

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="session")
def reference():
    """The reference solution's modules: ``reference.layers.affine_forward``."""
    return import_apart(REFERENCE)
