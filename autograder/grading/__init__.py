"""Grading one submission: intake (files, zips, notebooks), the grading process that starts the
test runner (``pipeline``), the test runner's grading side (``test_runner``: the sandboxed worker
behind ``RemoteStudent``), and Gradescope's ``results.json``. Built on ``autograder.sandbox`` and
``autograder.suite``."""
