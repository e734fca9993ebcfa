"""Diagnosis: each generic mistake pattern is recognised with its evidence, candidates come first
and are computed only when reached (a passing check seeks none), a match needs the check's own
tolerance, unrelated errors get no explanation, no diagnosis reveals the values behind it, and a
diagnosis survives the trip through JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.suite.checks import Diagnosis, Tolerance, compare, diagnose, gradients, shape_hint
from autograder.suite.checks.compare import assert_array, assert_int_array, assert_scalar
from autograder.suite.checks.diagnosis import (
    ABSOLUTE,
    ALL_ZERO,
    DIVIDED_BY_BATCH,
    FLOAT32,
    NOT_SUMMED,
    SIGN_FLIPPED,
    SOME_ROWS,
    SOME_ROWS_LABEL,
    SQUARE_ROOT,
    SQUARED,
    SUMMED,
    TIMES_BATCH,
    TRANSPOSED,
)
from autograder.suite.checks.gradients import check_gradient

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
        (np.float64(-2.5), 2.5, None, SIGN_FLIPPED),
        (EXPECTED**2, EXPECTED, None, SQUARED),
        (np.sqrt(np.abs(EXPECTED)), np.abs(EXPECTED), None, SQUARE_ROOT),
        (np.abs(EXPECTED), EXPECTED, None, ABSOLUTE),
    ],
)
def test_each_pattern_is_recognised(got, expected, batch_size, explanation):
    assert diagnose(got, expected, batch_size=batch_size).text == explanation


def test_a_match_needs_the_tolerance_of_the_check():
    slightly_off = -EXPECTED * (1 + 1e-6)
    assert diagnose(slightly_off, EXPECTED, tolerance=Tolerance(rtol=1e-5, atol=0.0)).text == SIGN_FLIPPED
    assert diagnose(slightly_off, EXPECTED).kind == "factor"  # at rtol 1e-7: a factor, but not -1
    assert diagnose(slightly_off, EXPECTED).evidence["factor"] == pytest.approx(-1 - 1e-6, rel=1e-12)


@pytest.mark.parametrize(
    ("factor", "named"),
    [
        (2.0, "exactly 2 times"),
        (0.5, "exactly 1/2 times"),
        (-3.0, "exactly -3 times"),
        (1.5, "exactly 3/2 times"),
        (1.3, "1.3 times the right one (the same factor for all 15 entries)"),
    ],
)
def test_a_constant_factor_is_named_with_its_value(factor, named):
    found = diagnose(EXPECTED * factor, EXPECTED)
    assert found.kind == "factor" and named in found.text and found.evidence["factor"] == pytest.approx(factor)
    assert str(factor) not in found.label or factor in (2.0,)  # the label names no varying factor ...
    assert diagnose(EXPECTED * 1.7, EXPECTED).label == diagnose(EXPECTED * 1.3, EXPECTED).label  # ... as one mistake


def test_a_piecewise_function_wrong_on_one_side_of_its_kink():
    x = np.array([-2.0, -0.5, 0.3, 1.2, -1.1, 2.5])
    right = np.where(x > 0, 1.0, 0.2)
    wrong_left = np.where(x > 0, 1.0, 0.02)  # 0.02 = 0.2 ** 2 would also be "a square" without x
    found = diagnose(wrong_left, right, argument=x, kinks=(0.0,))
    assert found.kind == "branch" and found.evidence == {"kink": 0.0, "region": "x < 0", "wrong": 3}
    assert "all 3 entries where x < 0 are wrong, and all 3 entries where x > 0 are right" in found.text
    found = diagnose(np.where(x > 0, 2.0, 0.2), right, argument=x, kinks=(0.0,))
    assert found.evidence["region"] == "x > 0"
    assert diagnose(wrong_left, right).kind != "branch"  # no argument, no branch


def test_values_wrong_only_at_or_near_the_kink():
    x = np.array([-2.0, 0.0, 0.3, 1.2, -1.1, 2.5, 0.0])
    right = np.where(x > 0, 1.0, 0.0)
    at_kink = diagnose(np.where(x >= 0, 1.0, 0.0), right, argument=x, kinks=(0.0,))
    assert at_kink.kind == "branch" and at_kink.evidence["region"] == "at" and "only the 2 entries" in at_kink.text
    x = np.array([-2.0, -0.01, 0.3, 1.2, -1.1, 2.5, 0.02])
    near = np.where(np.abs(x) < 0.1, 5.0, x)
    found = diagnose(near, x.copy(), argument=x, kinks=(0.0,))
    assert found.evidence["region"] == "near" and "within 0.02" in found.text


def test_the_right_values_in_the_wrong_order():
    rows = diagnose(EXPECTED[[1, 0, 2, 3, 4]], EXPECTED)
    assert rows.kind == "permuted" and rows.evidence == {"moved": 2} and "2 of 5 rows" in rows.text
    order = np.array([3, 0, 4, 1, 2], dtype=np.int64)
    found = diagnose(np.sort(order), order, tolerance=Tolerance(0.0, 0.0))
    assert found.kind == "permuted" and found.evidence == {"moved": 5, "ascending": True}
    vector = RNG.standard_normal(6)
    assert "ascending" not in diagnose(vector[::-1].copy(), vector).text


def test_right_values_on_a_subset_of_rows_columns_or_entries():
    some_rows = EXPECTED.copy()
    some_rows[[1, 3]] += 1.0
    found = diagnose(some_rows, EXPECTED)
    assert found.kind == "subset" and found.evidence == {"axis": 0, "wrong": [1, 3], "of": 5}
    assert "only rows 1 and 3 of 5 are wrong" in found.text
    one_column = EXPECTED.copy()
    one_column[:, 2] += 1.0
    assert "only column 2 of 3 is wrong" in diagnose(one_column, EXPECTED).text
    vector = RNG.standard_normal(8)
    one_entry = vector.copy()
    one_entry[5] = 9.0
    assert diagnose(one_entry, vector).evidence == {"wrong": [5], "of": 8}
    assert diagnose(vector + 1.0, vector) is None  # every entry wrong: no subset
    assert diagnose(some_rows, EXPECTED, positional=False) is None  # values along directions have no rows


def test_a_reshaped_result_with_its_entries_in_order():
    found = diagnose(EXPECTED.reshape(3, 5), EXPECTED)
    assert found.kind == "reshaped" and found.evidence == {"got_shape": [3, 5], "expected_shape": [5, 3]}
    assert diagnose(EXPECTED.reshape(15, 1), EXPECTED.reshape(15)) is None  # an axis of length 1: shape_hint


def test_a_known_value_returned_where_the_result_belongs():
    x = RNG.standard_normal((5, 3))
    found = diagnose(np.tanh(x), 1 - np.tanh(x) ** 2, known={"the forward tanh(x)": lambda: np.tanh(x), "x": x})
    assert found.kind == "equals" and found.label == "the result is the forward tanh(x)"
    assert "all 15 entries agree with it" in found.text


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
    assert "batch size" not in diagnose(EXPECTED * 5, EXPECTED).text
    assert "batch size" not in diagnose(EXPECTED * 5, EXPECTED, batch_size=1).text
    assert diagnose(EXPECTED * 5, EXPECTED, batch_size=5).evidence == {"factor": 5.0, "n": 5}


def test_a_scalar_factor_is_named_only_when_it_is_a_simple_one():
    assert "exactly 2 times" in diagnose(2 * 0.731, 0.731).text
    assert diagnose(1.37 * 0.731, 0.731) is None


def test_a_symmetric_result_is_never_called_transposed():
    symmetric = EXPECTED.T @ EXPECTED
    assert diagnose(symmetric.T + 1.0, symmetric) is None


def test_candidates_come_first_in_order():
    candidates = {"the derivative is evaluated at the output": -EXPECTED, "second": -EXPECTED}
    found = diagnose(-EXPECTED, EXPECTED, candidates=candidates)
    assert (found.kind, found.label) == ("named", "the derivative is evaluated at the output")
    assert found.text == "the derivative is evaluated at the output (all 15 entries agree with that formula)"


def test_candidates_are_computed_only_when_reached():
    computed = []

    def candidate(name, value):
        return lambda: computed.append(name) or value

    candidates = {
        "first": candidate("first", EXPECTED + 2),
        "second": candidate("second", EXPECTED + 1),
        "third": candidate("third", EXPECTED + 1),
    }
    assert diagnose(EXPECTED + 1, EXPECTED, candidates=candidates).label == "second"
    assert computed == ["first", "second"]
    assert diagnose(EXPECTED + 1, EXPECTED, candidates=lambda: {"whole mapping": EXPECTED + 1}).label == "whole mapping"


def test_a_candidate_equal_to_the_right_result_is_skipped():
    candidates = {"indistinguishable on these inputs": EXPECTED.copy(), "a real mistake": EXPECTED + 1}
    assert diagnose(EXPECTED + 1, EXPECTED, candidates=candidates).label == "a real mistake"
    assert diagnose(EXPECTED + RNG.standard_normal((5, 3)), EXPECTED, candidates=candidates) is None


def test_a_diagnosis_survives_json():
    found = diagnose(EXPECTED * 4, EXPECTED, batch_size=4)
    assert Diagnosis.from_data(json.loads(json.dumps(found.as_data()))) == found
    for bad in ({"kind": "factor", "text": "t"}, {"kind": "x", "text": "t", "label": "l", "evidence": []}, "text"):
        with pytest.raises(ValueError):
            Diagnosis.from_data(bad)


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
    hint = shape_hint(got, expected)
    assert hint.kind == "shape" and text in hint.text and hint.evidence["got_shape"] == list(got)


def test_no_shape_hint_for_unrelated_shapes():
    assert shape_hint((2, 7), (3, 5)) is None


def test_a_branch_with_a_wrong_coefficient_names_the_factor():
    x = np.array([-2.0, -0.5, 0.3, 1.2, -1.1, 2.5])
    right = np.where(x > 0, 1.0, 0.01)
    found = diagnose(np.where(x > 0, 1.0, 0.1), right, argument=x, kinks=(0.0,))
    assert found.kind == "branch" and found.evidence["factor"] == 10.0
    assert "every entry is exactly 10 times the right one" in found.text
    unrelated = np.where(x > 0, 1.0, [0.3, 0.7, 0.0, 0.0, 0.2, 0.0])
    assert "factor" not in diagnose(unrelated, right, argument=x, kinks=(0.0,)).evidence


def test_integer_results_get_only_the_suites_candidates():
    order = np.array([3, 0, 4, 1, 2], dtype=np.int64)
    exact = Tolerance(0.0, 0.0)
    assert diagnose(np.sort(order), order, tolerance=exact, generic=False) is None
    assert diagnose(np.zeros(5, dtype=np.int64), order, tolerance=exact, generic=False) is None
    named = diagnose(np.sort(order), order, tolerance=exact, candidates={"not shuffled": np.arange(5)}, generic=False)
    assert named.label == "not shuffled"


def test_subset_texts_state_only_what_the_numbers_show():
    some_rows = EXPECTED.copy()
    some_rows[[0, 4]] *= 3.0
    found = diagnose(some_rows, EXPECTED)
    assert found.label == SOME_ROWS_LABEL
    assert found.text == SOME_ROWS.format(which="rows 0 and 4", n=5, verb="are")


def test_a_passing_check_seeks_no_diagnosis(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a diagnosis was sought for a check that passed")

    def never():
        raise AssertionError("a candidate was computed for a check that passed")

    for module in (compare, gradients):
        monkeypatch.setattr(module, "diagnose", refuse)
    lazy = {"a mistake": never}
    assert_array(EXPECTED.copy(), EXPECTED, what="r", candidates=lazy, known=lazy, argument=EXPECTED, kinks=(0.0,))
    assert_scalar(2.5, 2.5, what="loss", candidates=lazy, batch_size=4)
    assert_int_array(np.arange(4), np.arange(4), what="order", candidates=lazy)
    weights = RNG.standard_normal((3, 2))
    check_gradient(
        lambda w: w**3,
        3 * weights**2,
        {"w": weights},
        np.ones((3, 2)),
        "w",
        what="dw",
        rng=np.random.default_rng(0),
        candidates=lambda: {"a mistake": never()},
        known=lazy,
        batch_size=3,
    )


def _mistakes() -> list[tuple[str, Diagnosis, list[np.ndarray]]]:
    """A battery of diagnosed mistakes of every kind: (case, diagnosis, the arrays behind it)."""
    x = RNG.standard_normal(12)
    right = np.where(x > 0, 1.0, 0.01)
    rows = EXPECTED.copy()
    rows[[1, 3]] += RNG.standard_normal((2, 3))
    entry = EXPECTED.copy()
    entry[2, 1] = 7.123456
    cases = [
        ("factor", EXPECTED * 5, EXPECTED, {"batch_size": 5}),
        ("any factor", EXPECTED * 1.7391, EXPECTED, {}),
        ("transposed", EXPECTED.T, EXPECTED, {}),
        ("reshaped", EXPECTED.reshape(3, 5), EXPECTED, {}),
        ("summed", PER_EXAMPLE.sum(axis=0), PER_EXAMPLE, {"batch_size": 4}),
        ("squared", EXPECTED**2, EXPECTED, {}),
        ("branch", np.where(x > 0, 1.0, 0.1), right, {"argument": x, "kinks": (0.0,)}),
        ("permuted", EXPECTED[[4, 2, 0, 1, 3]], EXPECTED, {}),
        ("subset rows", rows, EXPECTED, {}),
        ("subset entry", entry, EXPECTED, {}),
        ("float32", EXPECTED.astype(np.float32), EXPECTED, {}),
        ("named", EXPECTED + 1, EXPECTED, {"candidates": {"off by one": EXPECTED + 1}}),
        ("known", x.copy(), right, {"known": {"the input x": x}}),
    ]
    found = []
    for case, got, expected, options in cases:
        diagnosis = diagnose(got, expected, **options)
        assert diagnosis is not None, case
        inputs = [
            value
            for option in options.values()
            for value in (option.values() if isinstance(option, dict) else [option])
        ]
        found.append((case, diagnosis, [np.asarray(value) for value in (got, expected, *inputs)]))
    return found


def _numbers(evidence) -> list[float]:
    if isinstance(evidence, dict):
        return [n for value in evidence.values() for n in _numbers(value)]
    if isinstance(evidence, list):
        return [n for value in evidence for n in _numbers(value)]
    return [evidence] if isinstance(evidence, (int, float)) and not isinstance(evidence, bool) else []


@pytest.mark.parametrize(("case", "diagnosis", "arrays"), _mistakes(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_diagnosis_reveals_no_value_of_the_arrays_behind_it(case, diagnosis, arrays):
    """Neither the text nor the evidence holds an entry of the expected result, the result got
    or the inputs, in any rounding a message uses: only counts, indices, shapes and factors."""
    values = {float(v) for array in arrays if array.dtype.kind == "f" for v in np.ravel(array)}
    revealing = {v for v in values if abs(v) not in (0.0, 1.0) and not float(v).is_integer()}
    for v in revealing:
        for shown in {f"{abs(v):{digits}g}" for digits in (".3", ".4", ".6")}:
            if sum(c.isdigit() for c in shown) >= 3:  # shorter forms are counts, not values
                assert shown not in diagnosis.text, (case, shown, diagnosis.text)
    for number in _numbers(diagnosis.evidence):
        assert not any(np.isclose(number, v, rtol=1e-6, atol=0.0) for v in revealing), (case, number)
    assert len(_numbers(diagnosis.evidence)) <= 12, case
