"""Diagnosis: each generic mistake pattern is recognised, candidates come first, unrelated errors
get no explanation."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suite.checks import diagnose, shape_hint
from autograder.suite.checks.diagnosis import (
    ALL_ZERO,
    DIVIDED_BY_BATCH,
    FLOAT32,
    NOT_SUMMED,
    SIGN_FLIPPED,
    SUMMED,
    TIMES_BATCH,
    TRANSPOSED,
)

RNG = np.random.default_rng(7)
EXPECTED = RNG.standard_normal((5, 3))
PER_EXAMPLE = RNG.standard_normal((4, 3))


@pytest.mark.parametrize(
    ("got", "expected", "batch_size", "explanation"),
    [
        (np.zeros((5, 3)), EXPECTED, None, ALL_ZERO),
        (-EXPECTED, EXPECTED, None, SIGN_FLIPPED),
        (EXPECTED.T, EXPECTED, None, TRANSPOSED),
        (EXPECTED.T.reshape(5, 3), EXPECTED, None, TRANSPOSED),  # transposed, then forced into shape
        (EXPECTED * 5, EXPECTED, 5, TIMES_BATCH.format(n=5)),
        (EXPECTED / 5, EXPECTED, 5, DIVIDED_BY_BATCH.format(n=5)),
        (PER_EXAMPLE, PER_EXAMPLE.sum(axis=0), 4, NOT_SUMMED),
        (PER_EXAMPLE.sum(axis=0), PER_EXAMPLE, 4, SUMMED),
        (EXPECTED.astype(np.float32).astype(np.float64), EXPECTED, None, FLOAT32),
        (EXPECTED.astype(np.float32), EXPECTED, None, FLOAT32),
        (-EXPECTED * (1 + 1e-6), EXPECTED, None, SIGN_FLIPPED),  # matches within a tolerance
        (np.float64(-2.5), 2.5, None, SIGN_FLIPPED),
    ],
)
def test_each_pattern_is_recognised(got, expected, batch_size, explanation):
    assert diagnose(got, expected, batch_size=batch_size) == explanation


@pytest.mark.parametrize(
    "got",
    [
        EXPECTED + RNG.standard_normal((5, 3)),
        EXPECTED * (1.3 + 0.1 * RNG.standard_normal((5, 3))),  # scaled, but not by one factor
        EXPECTED + 1e-3,
        -EXPECTED + 0.01,  # a sign flip with another error on top is not a sign flip
        np.full((5, 3), np.nan),
        "not numbers",
        np.ones(7),
    ],
)
def test_unrelated_errors_get_no_explanation(got):
    assert diagnose(got, EXPECTED, batch_size=4) is None


def test_batch_factor_needs_the_batch_size():
    for cause in (diagnose(EXPECTED * 5, EXPECTED), diagnose(EXPECTED * 5, EXPECTED, batch_size=1)):
        assert "batch" not in cause and cause.startswith("every entry is exactly 5 times the right one")


@pytest.mark.parametrize(
    "got, text",
    [
        (EXPECTED * 2, "exactly 2 times the right one: a constant factor is missing"),
        (EXPECTED / 2, "exactly 1/2 times the right one: a constant factor is extra"),
        (EXPECTED * 1.3, "exactly 1.3 times the right one"),
        (EXPECTED**2, "the square of the right one"),
        (EXPECTED[::-1].copy(), "the rows are in the wrong order"),
        (np.sort(EXPECTED, axis=None).reshape(5, 3), "the entries are in the wrong order"),
        (EXPECTED.reshape(3, 5), "the right ones in another shape"),
    ],
)
def test_generic_patterns_state_their_evidence(got, text):
    assert text in diagnose(got, EXPECTED)


def test_a_missing_square_is_named_for_results_that_cannot_be_negative():
    positive = EXPECTED**2 + 0.5
    assert "square root of the right one" in diagnose(np.sqrt(positive), positive)


def test_right_rows_among_wrong_ones_are_named():
    got = EXPECTED.copy()
    got[[1, 3]] += 1.0
    assert diagnose(got, EXPECTED) == (
        "rows 0, 2, 4 are right and the other 2 rows are wrong (a loop or a mask that misses rows)"
    )


def test_a_scalar_factor_is_named_only_when_it_is_a_simple_one():
    assert "exactly 2 times" in diagnose(2 * 0.731, 0.731)
    assert diagnose(1.37 * 0.731, 0.731) is None


def test_a_symmetric_result_is_never_called_transposed():
    symmetric = EXPECTED.T @ EXPECTED
    assert diagnose(symmetric.T + 1.0, symmetric) is None


def test_candidates_come_first_in_order():
    candidates = {"the derivative is evaluated at the output": -EXPECTED, "second": -EXPECTED}
    assert diagnose(-EXPECTED, EXPECTED, candidates=candidates) == "the derivative is evaluated at the output"


def test_a_candidate_equal_to_the_right_result_is_skipped():
    candidates = {"indistinguishable on these inputs": EXPECTED.copy(), "a real mistake": EXPECTED + 1}
    assert diagnose(EXPECTED + 1, EXPECTED, candidates=candidates) == "a real mistake"
    assert diagnose(EXPECTED * (1 + 1e-6), EXPECTED, candidates=candidates) is None


def test_a_candidate_of_another_shape_or_not_finite_is_ignored():
    candidates = {"wrong shape": EXPECTED.T, "nan": np.full((5, 3), np.nan)}
    assert diagnose(EXPECTED + 1, EXPECTED, candidates=candidates) is None


def test_float32_is_not_claimed_when_the_right_values_are_float32_numbers():
    halves = np.array([0.5, 1.25, -2.0])
    assert diagnose(halves + 2**-20, halves) is None


def test_nothing_explains_a_difference_from_an_all_zero_result():
    assert diagnose(np.ones(3), np.zeros(3)) is None


@pytest.mark.parametrize(
    ("got", "expected", "text"),
    [
        ((3, 4), (4, 3), "transpose"),
        ((5, 1), (5,), "extra axis of length 1"),
        ((1, 5), (5,), "extra axis of length 1"),
        ((5,), (5, 1), "axis of length 1 is missing"),
        ((8, 3), (3,), "extra first axis of length 8"),
        ((3,), (8, 3), "first axis (length 8) is missing"),
    ],
)
def test_shape_hints(got, expected, text):
    assert text in shape_hint(got, expected)


def test_no_shape_hint_for_unrelated_shapes():
    assert shape_hint((2, 7), (3, 5)) is None
