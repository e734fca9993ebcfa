"""Which submissions of a class look alike, function by function, once the code every student
shares is taken out: a hint for a person to look at, never a verdict.

Two correct solutions of a small function are often the same few tokens, a student may have
worked with a tutor or from the lecture notes, and a group shares its code by design; a high
similarity says where to look, and only a person reading both submissions can say what happened.

How a class is compared (copydetect, which fingerprints code as MOSS does):

1. **Units.** Every submitted Python file is cut with ``ast`` into its functions
   (``optim.py:train``; a method is ``file.py:Class.method``) and the rest of its top-level code
   (``file.py:<module>``). A file that is missing or does not parse is left out with a note; a
   submission with nothing left to compare (or that could not be read at all) is skipped with
   its reason.
2. **Fingerprints** (``copydetect.utils``): pygments tokenises each unit; names become ``V``,
   ``F`` or ``O`` and strings ``S`` (so renaming variables changes nothing), comments and
   whitespace go. The k-grams of that text (``k = noise_tokens`` characters) are hashed and
   winnowed with a window of ``guarantee_tokens - noise_tokens + 1``: a match of at least
   ``guarantee_tokens`` characters is always found, one shorter than ``noise_tokens`` never.
3. **Shared code out.** The fingerprints of the student template (its stubs, signatures,
   docstrings and provided code) are removed from every unit, and so are those found in more
   than ``common_submissions`` submissions: code that many students write alike is nobody's
   copy (MOSS's ``-m``). A unit left without fingerprints (an untouched stub) counts for nothing.
4. **Pairs.** Only submissions that share a fingerprint in a function of the same name are
   compared (an index of fingerprints, not every pair); each such pair is compared function by
   function with ``copydetect.compare_files``. The similarity of a pair is the share of both
   submissions' fingerprinted code that matches: ``(matched(A) + matched(B)) / (size(A) +
   size(B))``, sizes over all their units, so that a few identical one-line functions weigh
   little against whole different solutions. Two submissions that share a student (by SID,
   email or name: a group submission and one of its members) are not compared.

Python salts its string hashes per process, and copydetect hashes with ``hash()``: every
fingerprint is therefore made in this one process; only the tokenising, which gives the same text
anywhere, runs in ``jobs`` worker processes.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from copydetect import compare_files
from copydetect.utils import filter_code, get_token_coverage, hashed_kgrams, winnow

from autograder.classroom import gradebook
from autograder.classroom.gradebook import UNUSABLE, Record
from autograder.suite.assignment import Assignment, SimilaritySettings

MODULE_UNIT = "<module>"
LANGUAGE = "python"


@dataclass(frozen=True)
class Unit:
    """One function (or the rest of the top-level code) of one submitted file, tokenised."""

    name: str
    """``file.py:function``, ``file.py:Class.method`` or ``file.py:<module>``."""
    code: str
    line: int
    """Where ``code`` starts in its file (1-based)."""
    filtered: str
    """The code as copydetect normalises it (names ``V``/``F``/``O``, strings ``S``, no comments)."""
    offsets: np.ndarray
    """copydetect's map from positions in ``filtered`` back to positions in ``code``, shape (M, 2)."""


@dataclass
class Fingerprint:
    """The winnowed fingerprints of one unit, with the attributes ``copydetect.compare_files`` reads."""

    unit: Unit
    k: int
    hashes: set[int]
    hash_idx: dict[int, list[int]]
    """Fingerprint -> its positions in the normalised code."""
    token_coverage: float = 0.0
    """Characters of the normalised code covered by the fingerprints: the unit's size."""

    @property
    def filtered_code(self) -> str:
        return self.unit.filtered

    @property
    def offsets(self) -> np.ndarray:
        return self.unit.offsets

    def without(self, removed: set[int]) -> Fingerprint:
        """This fingerprint less the fingerprints in ``removed``, its size counted again."""
        kept = {h: positions for h, positions in self.hash_idx.items() if h not in removed}
        coverage = get_token_coverage(kept, self.k, len(self.unit.filtered)) if kept else 0.0
        return Fingerprint(self.unit, self.k, set(kept), kept, float(coverage))


@dataclass(frozen=True)
class FunctionMatch:
    """What two submissions share in one unit; spans are ``(start, end)`` in each side's code."""

    unit: str
    similarity: float
    """Matched share of this unit in both submissions."""
    matched: float
    """Matched characters of normalised code, both sides together."""
    code: tuple[str, str]
    line: tuple[int, int]
    spans: tuple[list[tuple[int, int]], list[tuple[int, int]]]


@dataclass(frozen=True)
class Pair:
    """Two submissions and how alike they are (``a < b``)."""

    a: str
    b: str
    similarity: float
    functions: list[FunctionMatch]
    """The units they share, most matched first."""


@dataclass
class Comparison:
    """The similarity of a class."""

    settings: SimilaritySettings
    compared: list[str] = field(default_factory=list)
    """The submissions that had code to compare, sorted."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Submission -> why it was not compared."""
    notes: dict[str, list[str]] = field(default_factory=dict)
    """Submission -> the files left out of its comparison and why."""
    pairs: list[Pair] = field(default_factory=list)
    """Every pair found to share code, most similar first."""
    candidates: int = 0
    """Pairs that shared at least one fingerprint and were compared function by function."""
    seconds: float = 0.0

    def closest(self) -> dict[str, tuple[float, str]]:
        """Submission -> (its highest similarity, the submission it is shared with)."""
        best: dict[str, tuple[float, str]] = {}
        for pair in self.pairs:  # most similar first: the first pair of a submission is its closest
            best.setdefault(pair.a, (pair.similarity, pair.b))
            best.setdefault(pair.b, (pair.similarity, pair.a))
        return best

    def flagged(self) -> list[Pair]:
        """The pairs at or above the threshold, most similar first."""
        return [pair for pair in self.pairs if pair.similarity >= self.settings.threshold]


class SourceSegments:
    """``ast.get_source_segment`` for many nodes of one source: the source is split into lines
    once, where the standard function splits all of it again for every node (quadratic in the
    length of a file)."""

    def __init__(self, source: str) -> None:
        self._lines = [line.encode() for line in re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", source)]

    def of(self, node: ast.AST) -> str:
        """The source code of ``node``, "" without positions (as ``ast.get_source_segment(source, node) or ""``)."""
        try:
            first, last = node.lineno - 1, node.end_lineno - 1
            start, end = node.col_offset, node.end_col_offset
        except AttributeError:
            return ""
        if None in (last, end):
            return ""
        if first == last:
            return self._lines[first][start:end].decode()
        return b"".join([self._lines[first][start:], *self._lines[first + 1 : last], self._lines[last][:end]]).decode()


def units_of(file_name: str, source: str) -> list[tuple[str, str, int]]:
    """``(unit name, code, first line)`` of every function, method and the remaining top-level
    code of ``source``; raises ``SyntaxError`` when it does not parse."""
    tree = ast.parse(source)
    units, rest = [], []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            units.append((f"{file_name}:{node.name}", node))
        elif isinstance(node, ast.ClassDef):
            methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
            units += [(f"{file_name}:{node.name}.{method.name}", method) for method in methods]
            rest += [item for item in node.body if item not in methods]
        else:
            rest.append(node)
    segments = SourceSegments(source)
    found = [(name, segments.of(node), node.lineno) for name, node in units]
    if rest:
        code = "\n".join(segments.of(node) for node in rest)
        found.append((f"{file_name}:{MODULE_UNIT}", code, rest[0].lineno))
    return found


def tokenised(files: dict[str, bytes]) -> tuple[list[Unit], list[str]]:
    """The units of the Python files of one submission, and notes on the files left out."""
    units, notes = [], []
    for file_name in sorted(files):
        if not file_name.endswith(".py"):
            continue
        try:
            source = files[file_name].decode("utf-8")
            found = units_of(file_name, source)
        except UnicodeDecodeError:
            notes.append(f"{file_name} is not UTF-8 text")
            continue
        except SyntaxError as err:
            notes.append(f"{file_name} does not parse (line {err.lineno}: {err.msg})")
            continue
        for name, code, line in found:
            units.append(Unit(name, code, line, *normalised(code)))
    return units, notes


@functools.lru_cache(maxsize=4096)
def normalised(code: str) -> tuple[str, np.ndarray]:
    """copydetect's normalised text of Python ``code`` and its offsets (the same code, such as an
    untouched stub, recurs in many submissions: it is tokenised once per process)."""
    filtered, offsets = filter_code(code, "unit.py", LANGUAGE)
    return filtered, np.asarray(offsets, dtype=np.int64).reshape(-1, 2)


def fingerprinted(unit: Unit, settings: SimilaritySettings) -> Fingerprint:
    """The winnowed fingerprints of ``unit`` (in this process: ``hash()`` is salted per process)."""
    k = settings.noise_tokens
    window = settings.guarantee_tokens - settings.noise_tokens + 1
    if len(unit.filtered) < k:
        return Fingerprint(unit, k, set(), {})
    hashes, positions = winnow(hashed_kgrams(unit.filtered, k), window, remove_duplicates=False)
    index: dict[int, list[int]] = defaultdict(list)
    for value, position in zip(hashes.tolist(), positions.tolist()):
        index[value].append(position)
    return Fingerprint(unit, k, set(index), dict(index)).without(set())


def tokenise_all(sources: list[dict[str, bytes]], jobs: int) -> list[tuple[list[Unit], list[str]]]:
    """``tokenised`` of every submission, in ``jobs`` processes when there are several."""
    if jobs <= 1 or len(sources) < 2 * jobs:
        return [tokenised(files) for files in sources]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(tokenised, sources, chunksize=max(1, len(sources) // (4 * jobs))))


def compare_pair(
    a: dict[str, Fingerprint], b: dict[str, Fingerprint], size: float
) -> tuple[float, list[FunctionMatch]]:
    """The similarity of two submissions (units by name) whose sizes add up to ``size``, and
    their shared units, most matched first."""
    matches = []
    for name in sorted(a.keys() & b.keys()):
        left, right = a[name], b[name]
        if not left.hashes & right.hashes:
            continue
        _, (share_left, share_right), (slices_left, slices_right) = compare_files(left, right)
        matched = share_left * left.token_coverage + share_right * right.token_coverage
        if matched <= 0:
            continue
        matches.append(
            FunctionMatch(
                unit=name,
                similarity=round(float(matched / (left.token_coverage + right.token_coverage)), 4),
                matched=float(matched),
                code=(left.unit.code, right.unit.code),
                line=(left.unit.line, right.unit.line),
                spans=(spans_of(slices_left), spans_of(slices_right)),
            )
        )
    matches.sort(key=lambda match: (-match.matched, match.unit))
    return (float(sum(match.matched for match in matches) / size) if size else 0.0), matches


def spans_of(slices: np.ndarray) -> list[tuple[int, int]]:
    """copydetect's (2, N) array of slice starts and ends as ``(start, end)`` pairs."""
    return [(int(start), int(end)) for start, end in zip(*slices)] if len(slices) and len(slices[0]) else []


def share_a_student(a: Iterable[tuple[str, str, str]], b: Iterable[tuple[str, str, str]]) -> bool:
    """Whether two lists of ``(name, sid, email)`` name a student in common (by any non-empty field)."""

    def keys(people):
        return {
            (kind, value.strip().lower()) for person in people for kind, value in zip("nse", person) if value.strip()
        }

    return bool(keys(a) & keys(b))


def common_fingerprints(fingerprints: dict[str, dict[str, Fingerprint]], limit: int) -> set[int]:
    """The fingerprints found in more than ``limit`` submissions (id -> unit name -> fingerprint)."""
    counts = Counter(h for units in fingerprints.values() for h in set().union(*(fp.hashes for fp in units.values())))
    return {h for h, count in counts.items() if count > limit}


def candidate_pairs(fingerprints: dict[str, dict[str, Fingerprint]]) -> set[tuple[str, str]]:
    """The pairs ``(a, b)``, ``a < b``, that share a fingerprint in a unit of the same name, found
    through an index of the fingerprints rather than by comparing every pair."""
    holders: dict[tuple[str, int], list[str]] = defaultdict(list)
    for submission_id in sorted(fingerprints):
        for name, fp in fingerprints[submission_id].items():
            for value in fp.hashes:
                holders[name, value].append(submission_id)
    return {pair for owners in holders.values() for pair in itertools.combinations(owners, 2)}


def compare_class(
    submissions: dict[str, dict[str, bytes]],
    template: dict[str, bytes],
    settings: SimilaritySettings,
    *,
    people: dict[str, list[tuple[str, str, str]]] | None = None,
    skipped: dict[str, str] | None = None,
    jobs: int = 1,
) -> Comparison:
    """Compare the ``submissions`` (id -> file name -> content) of a class against each other,
    without what they share with ``template`` (file name -> content); see the module doc.

    ``people`` gives each submission's students as ``(name, sid, email)``: submissions sharing one
    are not compared. ``skipped`` are submissions known not to be comparable (id -> reason).
    """
    started = time.perf_counter()
    comparison = Comparison(settings, skipped=dict(skipped or {}))
    people = people or {}
    ids = sorted(submissions)
    template_units, _ = tokenised(template)
    boilerplate = set().union(*(fingerprinted(unit, settings).hashes for unit in template_units))
    fingerprints: dict[str, dict[str, Fingerprint]] = {}
    for submission_id, (units, notes) in zip(ids, tokenise_all([submissions[i] for i in ids], jobs)):
        if notes:
            comparison.notes[submission_id] = notes
        kept = {unit.name: fingerprinted(unit, settings).without(boilerplate) for unit in units}
        kept = {name: fp for name, fp in kept.items() if fp.hashes}
        if kept:
            fingerprints[submission_id] = kept
        else:
            reasons = "; ".join(notes) if notes else "every function is the template's or too short to compare"
            comparison.skipped[submission_id] = f"nothing to compare: {reasons}"
    common = common_fingerprints(fingerprints, settings.common_submissions)
    for submission_id, units in list(fingerprints.items()):
        fingerprints[submission_id] = {name: fp.without(common) for name, fp in units.items() if fp.hashes - common}
        if not fingerprints[submission_id]:
            del fingerprints[submission_id]
            comparison.skipped[submission_id] = (
                f"nothing to compare: all its code is in more than {settings.common_submissions} submissions "
                "(code everyone writes; raise common_submissions to compare it)"
            )
    comparison.compared = sorted(fingerprints)
    candidates = candidate_pairs(fingerprints)
    sizes = {i: sum(fp.token_coverage for fp in units.values()) for i, units in fingerprints.items()}
    for a, b in sorted(candidates):
        if share_a_student(people.get(a, ()), people.get(b, ())):
            continue
        comparison.candidates += 1
        score, matches = compare_pair(fingerprints[a], fingerprints[b], sizes[a] + sizes[b])
        if matches:
            comparison.pairs.append(Pair(a, b, round(min(score, 1.0), 4), matches))
    comparison.pairs.sort(key=lambda pair: (-pair.similarity, pair.a, pair.b))
    comparison.seconds = round(time.perf_counter() - started, 3)
    return comparison


def as_json(comparison: Comparison) -> dict:
    """The content of ``similarity.json`` (see ``autograder.gradebook``): the settings, what was
    compared and skipped, every submission's closest partner, and the flagged pairs (at most
    ``pairs_listed``) with their shared units side by side."""
    flagged = comparison.flagged()
    return {
        "settings": asdict(comparison.settings),
        "compared": comparison.compared,
        "skipped": comparison.skipped,
        "notes": comparison.notes,
        "candidates": comparison.candidates,
        "seconds": comparison.seconds,
        "closest": {
            i: {"similarity": score, "partner": partner} for i, (score, partner) in comparison.closest().items()
        },
        "flagged": len(flagged),
        "pairs": [
            {
                "a": pair.a,
                "b": pair.b,
                "similarity": pair.similarity,
                "functions": [
                    {
                        "unit": m.unit,
                        "similarity": m.similarity,
                        "code": list(m.code),
                        "line": list(m.line),
                        "spans": [[list(span) for span in side] for side in m.spans],
                    }
                    for m in pair.functions
                ],
            }
            for pair in flagged[: comparison.settings.pairs_listed]
        ],
    }


def compare_output(out: Path, records: list[Record], assignment: Assignment, jobs: int = 1) -> dict:
    """Compare the submissions of the batch output ``out`` (their files as intake took them, kept
    in the output by the batch) and write ``out/similarity.json``; return its content."""
    submissions, skipped = {}, {}
    for record in records:
        files = gradebook.read_files(out, record.id)
        if record.status == UNUSABLE or files is None:
            skipped[record.id] = (
                record.reason or "its files are not in the batch output (grade it again with autograder batch)"
            )
        else:
            submissions[record.id] = files
    template = {
        name: (assignment.template / name).read_bytes()
        for name in assignment.files
        if (assignment.template / name).is_file()
    }
    people = {r.id: [(p.name, p.sid, p.email) for p in r.submitters] for r in records}
    comparison = compare_class(submissions, template, assignment.similarity, people=people, skipped=skipped, jobs=jobs)
    document = as_json(comparison)
    gradebook.write_json(out / gradebook.SIMILARITY, document)
    return document
