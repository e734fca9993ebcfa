"""Grading a whole class (``autograder batch``), in parallel, in slices if need be.

Every submission of a class (see ``autograder.classroom.roster``) is graded exactly as ``autograder grade``
grades it, with the same intake, sandbox and ``results.json``, ``jobs`` at a time, into the output
folder described in ``autograder.classroom.gradebook`` (its ``summary.json`` and the ``results.json`` files
are the input of the report). One broken submission never stops the others.

- **Seed**: the seed Gradescope's own run used when the export gives a numeric submission id
  (``submission_<id>``): the id itself (see ``autograder.integrations.gradescope``), so ``autograder grade
  --seed <id>`` of the same files repeats the row; otherwise ``pipeline.default_seed`` of the
  files, the seed ``autograder grade`` picks, so ``autograder grade`` of the same files repeats it.
- **Status**: ``graded``; ``unusable`` when the submission cannot be read at all (a corrupt zip,
  a folder missing from an export; the reason is kept, no ``results.json`` is written);
  ``grader-error`` when grading reported a problem on the grader's side (the ``results.json``
  says so, as it does for ``autograder grade``).
- **Skipping**: the fingerprint of a submission is a digest of the engine version, the suite
  (``assignment.toml``, the provided files, every file under ``tests/`` and of the reference
  solution), the seed (when given by the export) and the submission as intake takes it (names
  and contents of the files taken, and the notes on what was ignored). A submission whose stored record has the same fingerprint, was
  graded without a grader error and still has its ``results.json`` is not graded again, unless
  ``force``; unusable submissions and grader errors are always tried again. After changing the
  engine itself without bumping its version, use ``force``. An interrupted batch therefore goes
  on where it stopped when run again.
- **Shards**: shard ``I/N`` takes the submissions whose id hashes (SHA-256) to ``I - 1`` modulo
  ``N``, so a submission's shard depends on its id only, whatever else is in the class. Each
  shard writes its own folder; ``autograder.classroom.merge`` combines them.
- **Similarity**: once every submission is graded, the files intake took (kept in the output)
  are compared with each other by ``autograder.classroom.similarity`` into ``similarity.json`` (within
  the shard only, for a shard: ``autograder merge`` compares the whole class). Without copydetect
  the batch has no similarity, and its summary says so (null).
- **Start-up**: each thread of the pool keeps a pre-started test runner
  (``autograder.grading.prestarted_runner``) that has collected the suites and imported the
  reference once; every submission is graded in a fresh process forked from it, with a fresh
  worker, so the start-up is paid once per job, not once per submission.
- **Isolation**: besides what ``pipeline.grade`` hides, student code cannot read the class's
  submissions nor the output folder, so no submission can see another one's files or results.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder import __version__
from autograder.classroom import gradebook, roster
from autograder.classroom.gradebook import GRADED, GRADER_ERROR, UNUSABLE, GradebookError, Record
from autograder.grading import intake, pipeline, results
from autograder.grading.intake import IntakeError, Submission
from autograder.grading.prestarted_runner import PerThread
from autograder.suite.assignment import Assignment

UNHASHED_FOLDERS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


class ShardError(ValueError):
    """A shard that is not ``I/N`` with ``1 <= I <= N``."""


@dataclass(frozen=True)
class Shard:
    """Slice ``index`` of ``count`` of a class."""

    index: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ShardError(f"a shard is I/N with 1 <= I <= N, e.g. 2/4; got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def takes(self, submission_id: str) -> bool:
        digest = hashlib.sha256(submission_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def default_jobs() -> int:
    """Every core this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def files_under(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted, without caches."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not UNHASHED_FOLDERS & set(path.relative_to(folder).parts)
    )


def suite_digest(assignment: Assignment) -> str:
    """A digest of what grading depends on besides the submission: the assignment's config, its
    provided files, its suites and its reference solution."""
    sources = [
        assignment.folder / "assignment.toml",
        *(assignment.folder / name for name in assignment.provided),
        *files_under(assignment.tests),
        *files_under(assignment.solution),
    ]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(assignment.root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(suite: str, seed: int | None, submission: Submission) -> str:
    """A digest of everything a grade depends on (see the module doc)."""
    digest = submission.digest_files(hashlib.sha256(f"{__version__}\0{suite}\0{seed}\0".encode()))
    for note in submission.ignored:
        digest.update(note.encode() + b"\0")
    return digest.hexdigest()


def class_digest(ids: list[str]) -> str:
    """A digest of the ids of a whole class, to tell whether shards sliced the same class."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


@dataclass(frozen=True)
class BatchJob:
    """What every submission of one batch run is graded against, and where it goes."""

    assignment: Assignment
    out: Path
    suite: str
    force: bool
    hidden_paths: tuple[Path, ...]
    runners: PerThread
    """The pre-started test runner of each thread of the pool."""

    def unusable(self, entry: roster.Entry, reason: str) -> Record:
        """The record of a submission that cannot be graded; an earlier ``results.json`` goes."""
        (gradebook.submission_folder(self.out, entry.id) / gradebook.RESULTS).unlink(missing_ok=True)
        gradebook.remove_files(self.out, entry.id)
        return Record(entry.id, UNUSABLE, list(entry.submitters), reason=reason)

    def up_to_date(self, entry: roster.Entry, expected: str) -> Record | None:
        """The stored record of ``entry`` when its results can be reused."""
        if self.force:
            return None
        previous = gradebook.read_record(self.out, entry.id)
        if previous is None or previous.status != GRADED or previous.fingerprint != expected:
            return None
        try:
            gradebook.read_results(self.out, entry.id)
        except GradebookError:  # missing or damaged: graded again
            return None
        previous.submitters = list(entry.submitters)
        return previous

    def grade(self, entry: roster.Entry) -> Record:
        """Grade one submission into its folder of the output."""
        results_path = gradebook.submission_folder(self.out, entry.id) / gradebook.RESULTS
        # The whole output folder is hidden from student code already; an earlier results.json
        # left in it would be hidden a second time, inside a hidden folder, which cannot be done.
        results_path.unlink(missing_ok=True)
        started = time.perf_counter()
        try:
            outcome = pipeline.grade(
                self.assignment,
                entry.path,
                results_path,
                seed=entry.gradescope_id,
                hidden_paths=self.hidden_paths,
                runner=self.runners.mine(),
            )
        except IntakeError as err:
            return self.unusable(entry, str(err))
        except Exception as err:  # a grader-side failure: say so in a valid results.json, go on
            reason = f"{type(err).__name__}: {err}".splitlines()[0]
            elapsed = time.perf_counter() - started
            results.grader_failure(reason, execution_time=elapsed, assignment=self.assignment.name).write(results_path)
            return Record(
                entry.id, GRADER_ERROR, list(entry.submitters), reason=reason, score=0.0, seconds=round(elapsed, 3)
            )
        return Record(
            entry.id,
            GRADER_ERROR if outcome.problems else GRADED,
            list(entry.submitters),
            reason=outcome.problems[0].splitlines()[0] if outcome.problems else "",
            seed=outcome.seed,
            score=outcome.results.score,
            max_score=outcome.results.max_score if outcome.results.tests else None,
            seconds=round(time.perf_counter() - started, 3),
            fingerprint=fingerprint(self.suite, entry.gradescope_id, outcome.submission),
        )

    def run(self, entry: roster.Entry) -> tuple[Record, bool]:
        """The record of one submission, graded or reused, and whether it was reused. Never raises
        for a problem of the submission; the record is stored next to its results."""
        if entry.problem:
            return self.unusable(entry, entry.problem), False
        try:
            submission = intake.collect(entry.path, self.assignment)
        except IntakeError as err:
            record, reused = self.unusable(entry, str(err)), False
        else:
            gradebook.write_files(self.out, entry.id, submission.files)
            reusable = self.up_to_date(entry, fingerprint(self.suite, entry.gradescope_id, submission))
            record, reused = (reusable, True) if reusable else (self.grade(entry), False)
        gradebook.write_record(self.out, record)
        return record, reused


SIMILARITY_MISSING = "the similarity needs copydetect; install it with: pip install copydetect"


def compare_if_installed(out: Path, records: list[Record], assignment: Assignment, jobs: int) -> bool:
    """Write ``out/similarity.json`` for ``records`` (see ``autograder.classroom.similarity``) and say True;
    without copydetect, remove an earlier one and say False."""
    try:
        from autograder.classroom import similarity
    except ImportError:
        (out / gradebook.SIMILARITY).unlink(missing_ok=True)
        return False
    similarity.compare_output(out, records, assignment, jobs)
    return True


def grade_class(
    assignment: Assignment,
    path: Path,
    out: Path,
    *,
    jobs: int | None = None,
    force: bool = False,
    shard: Shard = Shard(),
    started: Callable[[int], None] | None = None,
    finished: Callable[[Record, bool], None] | None = None,
) -> dict:
    """Grade the class at ``path`` (its shard ``shard``) into ``out``; return the summary.

    ``started(total)`` is called once the submissions are known, ``finished(record, skipped)``
    as each one is done. Raises ``roster.RosterError`` when ``path`` cannot be used and
    ``gradebook.GradebookError`` when ``out`` cannot be.
    """
    clock = time.perf_counter()
    jobs = jobs or default_jobs()
    source, out = path.resolve(), out.resolve()
    if out == source or source in out.parents or out in source.parents:
        raise gradebook.GradebookError(f"the output folder {out} and {source} overlap; choose an output folder apart")
    with roster.open_roster(path) as found:
        chosen = [entry for entry in found.entries if shard.takes(entry.id)]
        out.mkdir(parents=True, exist_ok=True)
        runners = PerThread(assignment)
        hidden = tuple({source, found.root.resolve(), out})
        job = BatchJob(assignment, out, suite_digest(assignment), force, hidden, runners)
        if started:
            started(len(chosen))
        records, skipped = [], set()
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            for future in as_completed([pool.submit(job.run, entry) for entry in chosen]):
                record, reused = future.result()
                records.append(record)
                if reused:
                    skipped.add(record.id)
                if finished:
                    finished(record, reused)
        finally:  # on an interrupt, grade no more; what was graded is kept and reused next time
            pool.shutdown(cancel_futures=True)
            runners.close()
    compare_if_installed(out, records, assignment, jobs)
    about = {
        "assignment": assignment.name,
        "engine": __version__,
        "suite": job.suite,
        "class": {"submissions": len(found.entries), "digest": class_digest([e.id for e in found.entries])},
        "shard": asdict(shard),
        "runs": [
            {
                "source": str(source),
                "shard": str(shard),
                "jobs": jobs,
                "wall_seconds": round(time.perf_counter() - clock, 3),
                "submissions": len(records),
                "skipped": len(skipped),
            }
        ],
    }
    return gradebook.write(out, records, about, skipped)
