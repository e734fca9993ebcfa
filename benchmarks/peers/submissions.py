"""The submissions the peers are compared on, written as folders of the student's files.

- ``reference``: the reference solution (full marks everywhere);
- ``template``: the student template (every function raises NotImplementedError);
- ``mutant``: the reference with one variant of the assignment's bug corpus
  (``assignments/NAME/mutants``, see ``autograder.authoring.variants``);
- ``wrong_solution``: the reference with several mutants at once, in different modules, all of
  them wrong values of the right shape: the solution the tampering submissions start from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.authoring import variants
from autograder.suite.assignment import Assignment

WRONG_SOLUTION_MUTANTS = (
    "activations.sigma_of_output",
    "layers.db_averaged",
    "network.missing_one_hot",
    "optim.history_sums",
    "gradcheck.sum_of_entries",
)
"""One value bug per module: what the wrong solution gets wrong."""


def bug_corpus(assignment: Assignment) -> dict[str, variants.Variant]:
    """The assignment's mutants by id (``layers.db_averaged``)."""
    return {variant.id: variant for variant in variants.discover(assignment.folder / "mutants")}


def copy_files(source: Path, assignment: Assignment, target: Path) -> Path:
    """The assignment's submitted files of ``source`` copied into ``target``."""
    target.mkdir(parents=True)
    for name in assignment.files:
        shutil.copy(source / name, target / name)
    return target


def reference(assignment: Assignment, target: Path) -> Path:
    return copy_files(assignment.solution, assignment, target)


def template(assignment: Assignment, target: Path) -> Path:
    return copy_files(assignment.template, assignment, target)


def with_variants(assignment: Assignment, ids: tuple[str, ...], target: Path) -> Path:
    """The reference with the mutants ``ids`` applied (at most one per module)."""
    corpus = bug_corpus(assignment)
    chosen = {corpus[variant_id].module: corpus[variant_id] for variant_id in ids}
    if len(chosen) != len(ids):
        raise ValueError(f"at most one mutant per module: {', '.join(ids)}")
    reference(assignment, target)
    for module, variant in chosen.items():
        path = target / f"{module}.py"
        path.write_text(variants.apply(path.read_text(), variant, path.name))
    return target


def mutant(assignment: Assignment, variant_id: str, target: Path) -> Path:
    return with_variants(assignment, (variant_id,), target)


def wrong_solution(assignment: Assignment, target: Path) -> Path:
    return with_variants(assignment, WRONG_SOLUTION_MUTANTS, target)
