"""The two ways a test can fail because of the student, as opposed to a grader error, and the
error of a sandbox that cannot be set up.

Any other exception escaping a test is a fault of the grader (the suite or the engine) and is
reported as such, never blamed on the student.
"""

from __future__ import annotations


class StudentError(Exception):
    """Calling student code did not produce a usable result.

    ``kind`` is one of ``"exception"`` (the student's code raised), ``"timeout"``, ``"crash"`` (the
    worker process died: exit, signal, resource limit), ``"bad-reply"`` (a result that is not plain
    data, or too large), ``"missing"`` (a file or function was not submitted) and ``"import"`` (the
    module failed to import, e.g. a syntax error). ``message`` is written for the student.
    """

    KINDS = ("exception", "timeout", "crash", "bad-reply", "missing", "import")

    def __init__(self, message: str, *, kind: str) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown StudentError kind {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind = kind


class CheckFailure(AssertionError):
    """A check found a wrong result; the message is written for the student and names the
    function, the argument or output, and what is wrong."""


class SandboxError(Exception):
    """The grader cannot run student code as configured; the message says what to fix. Never
    the student's fault."""
