"""The trusted checking library: compares values and checks gradients of arbitrary functions.

It knows nothing about neural networks or about the assignment. Suites call it with the values
student code returned (plain Python/numpy data, never assumed well-formed); a check that finds a
wrong value raises ``CheckFailure`` with a message for the student.

- ``compare``: type, shape, dtype, finiteness and value of arrays, scalars, tuples and dicts;
- ``purity``: arguments left unchanged, results repeatable (bitwise);
- ``gradients``: central-difference gradient checks, full or along random directions;
- ``diagnosis``: likely causes of a wrong result, as data (``Diagnosis``) and in plain words;
- ``sampling``: seeded inputs that expose mistakes (away from kinks, distinct sizes, repeated ids).
"""

from autograder.suite.checks import sampling
from autograder.suite.checks.compare import (
    assert_array,
    assert_array_form,
    assert_int_array,
    assert_scalar,
    assert_structure,
)
from autograder.suite.checks.diagnosis import Diagnosis, Tolerance, diagnose, shape_hint
from autograder.suite.checks.gradients import (
    GradientProbe,
    check_gradient,
    check_loss_gradient,
    numerical_vjp,
)
from autograder.suite.checks.purity import Difference, assert_same_bits, assert_unchanged, first_difference

__all__ = [
    "Diagnosis",
    "Difference",
    "GradientProbe",
    "assert_array",
    "assert_array_form",
    "assert_int_array",
    "assert_same_bits",
    "assert_scalar",
    "assert_structure",
    "assert_unchanged",
    "check_gradient",
    "check_loss_gradient",
    "diagnose",
    "first_difference",
    "numerical_vjp",
    "sampling",
    "shape_hint",
    "Tolerance",
]
