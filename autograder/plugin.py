"""The pytest plugin of the grading engine (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

MARKERS = {
    "points(n)": "the test is worth n points",
    "visibility(v)": "Gradescope visibility: visible, hidden, after_due_date or after_published",
    "name(text)": "the test's display name",
    "number(text)": "the test's Gradescope number, e.g. '1.2'",
    "partial_credit": "the test may earn part of its points (through the `credit` fixture)",
}


def pytest_configure(config) -> None:
    for signature, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{signature}: {meaning}")
