"""Combining the output folders of the shards of one class (``autograder merge``).

Each shard (``autograder batch --shard I/N``) writes its own folder, perhaps on its own machine.
The merge copies every submission folder into one output and writes the gradebook and summary
of the whole class, the same as an unsharded run would (its ``runs`` list every shard's run),
comparing the whole class's submissions for similarity when given the assignment.
It refuses, with a one-line reason, shards that do not fit together: graded against another
assignment, suite or engine version, sliced from another class, shards of different counts,
the same shard twice, a missing shard, or a submission present in two shards.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.classroom import gradebook
from autograder.classroom.batch import class_digest, compare_if_installed
from autograder.classroom.gradebook import GradebookError, Record
from autograder.suite.assignment import Assignment

MUST_AGREE = ("assignment", "engine", "suite", "class")


def check_shards(outs: list[Path], summaries: list[dict]) -> None:
    """Raise ``GradebookError`` unless ``summaries`` are exactly the shards of one class."""
    first, first_out = summaries[0], outs[0]
    for out, summary in zip(outs, summaries):
        for key in MUST_AGREE:
            if summary.get(key) != first.get(key):
                raise GradebookError(f"{out} and {first_out} differ in {key}; they are not shards of one batch")
    count = first["shard"]["count"]
    seen: dict[int, Path] = {}
    for out, summary in zip(outs, summaries):
        index, its_count = summary["shard"]["index"], summary["shard"]["count"]
        if its_count != count:
            raise GradebookError(f"{out} is shard {index}/{its_count} but {first_out} is one of {count}")
        if index in seen:
            raise GradebookError(f"{seen[index]} and {out} are both shard {index}/{count}")
        seen[index] = out
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise GradebookError(f"shard {missing[0]}/{count} is missing")


def merge(outs: list[Path], target: Path, assignment: Assignment | None = None, jobs: int = 1) -> dict:
    """Merge the shard folders ``outs`` into ``target``; return the merged summary. With the
    ``assignment``, the merged class is compared for similarity (``jobs`` processes), as a batch is."""
    target = target.resolve()
    outs = [out.resolve() for out in outs]
    if any(target == out or out in target.parents or target in out.parents for out in outs):
        raise GradebookError(f"the merged folder {target} must be apart from the shards' folders")
    summaries = [gradebook.read_summary(out) for out in outs]
    check_shards(outs, summaries)
    owner: dict[str, Path] = {}
    records: list[Record] = []
    skipped: set[str] = set()
    for out, summary in zip(outs, summaries):
        for listed in summary["submissions"]:
            submission_id = listed["id"]
            if submission_id in owner:
                raise GradebookError(f"submission {submission_id} is in both {owner[submission_id]} and {out}")
            owner[submission_id] = out
            record = gradebook.read_record(out, submission_id)
            if record is None:
                raise GradebookError(f"{gradebook.submission_folder(out, submission_id)} has no readable record")
            records.append(record)
            if listed["skipped"]:
                skipped.add(submission_id)
    if class_digest(list(owner)) != summaries[0]["class"]["digest"]:
        raise GradebookError(
            f"the shards hold {len(owner)} submissions, not the {summaries[0]['class']['submissions']} of their class"
        )
    for submission_id, out in owner.items():
        destination = gradebook.submission_folder(target, submission_id)
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(gradebook.submission_folder(out, submission_id), destination)
    (target / gradebook.SIMILARITY).unlink(missing_ok=True)
    if assignment is not None:
        compare_if_installed(target, records, assignment, jobs)
    about = {
        **{key: summaries[0][key] for key in MUST_AGREE},
        "shard": {"index": 1, "count": 1},
        "runs": [run for summary in summaries for run in summary["runs"]],
    }
    return gradebook.write(target, records, about, skipped)
