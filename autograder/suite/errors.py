"""The two ways a test can fail because of the student, as opposed to a grader error, and the
error of a sandbox that cannot be set up.

Any other exception escaping a test is a fault of the grader (the suite or the engine) and is
reported as such, never blamed on the student.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograder.suite.checks.diagnosis import Diagnosis


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


WRONG_VALUES = "values"
"""The kind of a check failure about the numbers themselves (the type, shape and dtype were right)."""


@dataclass(frozen=True)
class Finding:
    """What one failed check found: ``kind`` (``"values"``, ``"type"``, ``"shape"``, ``"dtype"``,
    ``"not-finite"``, ``"structure"``, ``"modified"`` (an argument changed), ``"not-repeatable"``,
    ``"aliased"`` (a result shares memory with an argument), ``"warning"`` (the call warned), or
    ``"check"`` for any other property) and, when a known mistake explains it, its
    ``diagnosis`` (a ``checks.diagnosis.Diagnosis``)."""

    kind: str
    diagnosis: Diagnosis | None = None

    def as_data(self) -> dict[str, Any]:
        """``{"kind": ..., "diagnosis": {...}}`` (no diagnosis key without one): JSON-ready."""
        return {"kind": self.kind, **({"diagnosis": self.diagnosis.as_data()} if self.diagnosis else {})}


class CheckFailure(AssertionError):
    """A check found a wrong result; the message is written for the student and names the
    function, the argument or output, and what is wrong.

    ``findings`` carry the same as data, one per failed check: a failure that gathers several
    (the cases of one test) keeps all of theirs, in order.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "check",
        diagnosis: Diagnosis | None = None,
        findings: tuple[Finding, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.findings = tuple(findings) if findings is not None else (Finding(kind, diagnosis),)

    def reworded(self, message: str) -> "CheckFailure":
        """The same failure with another message (e.g. with what was compared put first)."""
        return CheckFailure(message, findings=self.findings)

    @classmethod
    def gathered(cls, message: str, failures: list["CheckFailure"]) -> "CheckFailure":
        """One failure standing for ``failures``, with all their findings."""
        return cls(message, findings=tuple(finding for failure in failures for finding in failure.findings))


class SandboxError(Exception):
    """The grader cannot run student code as configured; the message says what to fix. Never
    the student's fault."""
