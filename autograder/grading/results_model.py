"""Gradescope's ``results.json`` as types: ``Results``, its ``TestResult`` entries and what the
engine records beside them, read from and written to JSON.

``Results.to_json`` writes the file Gradescope reads: keys in a fixed order, strict JSON (no NaN),
one space of indentation, a final newline; optional keys (``leaderboard``, a test's ``findings``,
the ``seed`` of a run) are left out when there is nothing to say. ``Results.from_json`` and
``Results.read`` take such a file back and check every field as they go (the checks of
``schema/gradescope-results.schema.json``, and the keys this engine always writes), so a file
that is not one of ours fails with one line naming the file and the field, e.g.
``results.json: tests[3].score: expected a number, got "x"``. Nothing but the standard library is
needed: this runs on Gradescope.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from autograder.grading.atomic import json_text, write_atomically

FORMATS = ("text", "html", "simple_format", "md", "ansi")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
STATUSES = ("passed", "failed")
ORDERS = ("asc", "desc")
SHOWN_CHARS = 40  # of a wrong value, in an error message
SCHEMA = Path(__file__).parent / "schema" / "gradescope-results.schema.json"


class ResultsError(ValueError):
    """A ``results.json`` that cannot be read; the one-line message names the file and the field."""


@dataclass(frozen=True)
class LeaderboardEntry:
    """One entry of Gradescope's leaderboard: the value the submission achieved (a number or a
    text) and whether lower (``asc``) or higher (``desc``) ranks first."""

    name: str
    value: float | str
    order: str = "desc"

    def as_data(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "order": self.order}


@dataclass(frozen=True)
class TestFinding:
    """What one failed check of a test found (``autograder.suite.errors.Finding.as_data``): its
    ``kind`` (``values``, ``shape``, ``exception``, ...) and, when a known mistake explains it, the
    diagnosis as data (``autograder.suite.checks.diagnosis.Diagnosis.as_data``: ``kind``,
    ``text``, ``label``, ``evidence``)."""

    kind: str
    diagnosis: dict[str, Any] | None = None

    @property
    def diagnosis_kind(self) -> str | None:
        """The pattern that diagnosed the mistake (``named``, ``factor``, ...), or None."""
        return self.diagnosis["kind"] if self.diagnosis is not None else None

    def as_data(self) -> dict[str, Any]:
        return {"kind": self.kind, **({"diagnosis": self.diagnosis} if self.diagnosis is not None else {})}


@dataclass(frozen=True)
class TestData:
    """The ``extra_data`` of a test: its test file relative to the suite folder
    (``public/test_x.py``) and, for a failed test, its findings, one per failed check (no
    ``findings`` key when there are none)."""

    file: str
    findings: tuple[TestFinding, ...] = ()

    def as_data(self) -> dict[str, Any]:
        findings = [finding.as_data() for finding in self.findings]
        return {"file": self.file, **({"findings": findings} if findings else {})}


@dataclass(frozen=True)
class TestResult:
    """One test as Gradescope shows it: ``output`` is Markdown for the student."""

    name: str
    number: str
    score: float
    max_score: float
    status: str
    output: str
    output_format: str
    visibility: str
    extra_data: TestData

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def file(self) -> str:
        """The test file, relative to the suite folder: the part of the gradebook."""
        return self.extra_data.file

    @property
    def findings(self) -> tuple[TestFinding, ...]:
        return self.extra_data.findings

    def as_data(self) -> dict[str, Any]:
        return {
            **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra_data"},
            "extra_data": self.extra_data.as_data(),
        }


@dataclass(frozen=True, kw_only=True)
class RunData:
    """The top-level ``extra_data``: the assignment and seed (when known), the engine's version,
    and either the number of tests the grader failed on or, for a run that could not grade at all,
    why. A field that is None is left out of the file."""

    assignment: str | None = None
    seed: int | None = None
    engine: str
    grader_errors: int | None = None
    grader_failure: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class Results:
    """A whole ``results.json``: the score, the Markdown summary at the top of the page, the tests
    in the order of the suite and the leaderboard entries measured (empty: no leaderboard key)."""

    score: float
    execution_time: float
    output: str
    output_format: str
    visibility: str
    stdout_visibility: str
    extra_data: RunData
    tests: tuple[TestResult, ...]
    leaderboard: tuple[LeaderboardEntry, ...] = ()

    @property
    def max_score(self) -> float:
        """The points of all tests (0 for a run that could not grade)."""
        return sum(test.max_score for test in self.tests)

    @property
    def grader_failure(self) -> str | None:
        """Why the run could not grade at all, or None."""
        return self.extra_data.grader_failure

    @property
    def grader_errors(self) -> int:
        """Tests the grader failed on through no fault of the student."""
        return self.extra_data.grader_errors or 0

    @property
    def engine(self) -> str:
        return self.extra_data.engine

    @property
    def seed(self) -> int | None:
        return self.extra_data.seed

    def as_data(self) -> dict[str, Any]:
        """The JSON object, keys in Gradescope's order."""
        return {
            **{
                f.name: getattr(self, f.name)
                for f in fields(self)
                if f.name not in ("extra_data", "tests", "leaderboard")
            },
            "extra_data": self.extra_data.as_data(),
            "tests": [test.as_data() for test in self.tests],
            **({"leaderboard": [entry.as_data() for entry in self.leaderboard]} if self.leaderboard else {}),
        }

    def to_json(self) -> str:
        return json_text(self.as_data())

    def write(self, path: Path) -> None:
        """Write ``to_json()`` to ``path`` atomically (a reader never sees a half-written file)."""
        write_atomically(path, self.to_json())

    @classmethod
    def from_json(cls, text: str | bytes, source: str | Path = "results.json") -> Results:
        """The results in ``text``; raises ``ResultsError`` naming ``source`` and the wrong field."""
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except ValueError as err:
            raise ResultsError(f"{source}: not JSON ({err})") from None
        return _results(_Object(data, "", str(source)))

    @classmethod
    def read(cls, path: Path) -> Results:
        """The results stored in ``path``; raises ``ResultsError`` when it cannot be read or is not
        a results file of this engine."""
        try:
            text = path.read_bytes()
        except OSError as err:
            raise ResultsError(f"{path}: cannot be read ({err.strerror or err})") from None
        return cls.from_json(text, source=path)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _is_number(value: Any) -> bool:
    """An int or a finite float, not a bool (which JSON writes as true or false)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value)
    )


class _Object:
    """A JSON object being read, at ``where`` (``tests[3]``) in the file ``source``: each read
    names its field, so that a wrong one can be told in one line."""

    def __init__(self, value: Any, where: str, source: str) -> None:
        self.where, self.source = where, source
        if not isinstance(value, dict):
            raise self.wrong("", "an object", value)
        self.data = value
        self.taken: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def wrong(self, key: str, expected: str, value: Any) -> ResultsError:
        where = self.path(key) if key else self.where
        return ResultsError(f"{self.source}: {where + ': ' if where else ''}expected {expected}, got {_shown(value)}")

    def field(self, key: str, expected: str, fits: Callable[[Any], bool], default: Any = ...) -> Any:
        """The value at ``key`` when ``fits`` it; ``default`` when absent (required without one)."""
        self.taken.add(key)
        if key not in self.data:
            if default is ...:
                raise ResultsError(f"{self.source}: {self.path(key)}: missing")
            return default
        value = self.data[key]
        if not fits(value):
            raise self.wrong(key, expected, value)
        return value

    def text(self, key: str, default: Any = ...) -> str:
        return self.field(key, "a text", lambda v: isinstance(v, str), default)

    def amount(self, key: str) -> float:
        """A number that is at least 0 (points, seconds)."""
        value = self.field(key, "a number", _is_number)
        if value < 0:
            raise self.wrong(key, "a number of at least 0", value)
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        return self.field(key, "one of " + ", ".join(map(json.dumps, options)), lambda v: v in options, default)

    def child(self, key: str, *, optional: bool = False) -> _Object | None:
        """The object at ``key``; None when it is absent and ``optional``."""
        value = self.field(key, "an object", lambda v: isinstance(v, dict), None if optional else ...)
        return None if value is None else _Object(value, self.path(key), self.source)

    def children(self, key: str, default: Any = ...) -> list[_Object]:
        items = self.field(key, "a list", lambda v: isinstance(v, list), default)
        return [_Object(item, f"{self.path(key)}[{index}]", self.source) for index, item in enumerate(items)]

    def done(self) -> None:
        """Refuse the keys no read asked for: a file with them was not written by this engine."""
        extra = [key for key in self.data if key not in self.taken]
        if extra:
            where = f"{self.where}: " if self.where else ""
            raise ResultsError(f"{self.source}: {where}unexpected key {_shown(extra[0])}")


def _finding(read: _Object) -> TestFinding:
    kind = read.text("kind")
    diagnosis = read.child("diagnosis", optional=True)
    read.done()
    return TestFinding(kind, _diagnosis(diagnosis) if diagnosis is not None else None)


def _diagnosis(read: _Object) -> dict[str, Any]:
    """A diagnosis as data: an object with a ``kind`` text; the rest is the checking library's."""
    read.text("kind")
    return read.data


def _test_data(read: _Object) -> TestData:
    data = TestData(file=read.text("file"), findings=tuple(_finding(f) for f in read.children("findings", [])))
    read.done()
    return data


def _test(read: _Object) -> TestResult:
    test = TestResult(
        name=read.text("name"),
        number=read.text("number"),
        score=read.amount("score"),
        max_score=read.amount("max_score"),
        status=read.choice("status", STATUSES),
        output=read.text("output"),
        output_format=read.choice("output_format", FORMATS),
        visibility=read.choice("visibility", VISIBILITIES),
        extra_data=_test_data(read.child("extra_data")),
    )
    read.done()
    return test


def _leaderboard_entry(read: _Object) -> LeaderboardEntry:
    entry = LeaderboardEntry(
        name=read.text("name"),
        value=read.field("value", "a number or a text", lambda v: _is_number(v) or isinstance(v, str)),
        order=read.choice("order", ORDERS, "desc"),
    )
    read.done()
    return entry


def _run_data(read: _Object) -> RunData:
    data = RunData(
        assignment=read.text("assignment", None),
        seed=read.field("seed", "an integer", lambda v: isinstance(v, int) and not isinstance(v, bool), None),
        engine=read.text("engine"),
        grader_errors=read.field(
            "grader_errors", "a count", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, None
        ),
        grader_failure=read.text("grader_failure", None),
    )
    read.done()
    return data


def _results(read: _Object) -> Results:
    results = Results(
        score=read.amount("score"),
        execution_time=read.amount("execution_time"),
        output=read.text("output"),
        output_format=read.choice("output_format", FORMATS),
        visibility=read.choice("visibility", VISIBILITIES),
        stdout_visibility=read.choice("stdout_visibility", VISIBILITIES),
        extra_data=_run_data(read.child("extra_data")),
        tests=tuple(_test(test) for test in read.children("tests")),
        leaderboard=tuple(_leaderboard_entry(entry) for entry in read.children("leaderboard", [])),
    )
    read.done()
    return results
