"""Samplers: seeded, float64/int64, and with the properties that make tests expose mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suite.checks import sampling


def test_normal_is_seeded_float64_with_the_given_scale():
    first = sampling.normal(np.random.default_rng(3), (200, 50), scale=2.0)
    again = sampling.normal(np.random.default_rng(3), (200, 50), scale=2.0)
    assert first.dtype == np.float64 and first.shape == (200, 50)
    assert np.array_equal(first, again)
    assert 1.9 < first.std() < 2.1


@pytest.mark.parametrize(
    ("kinks", "margin", "low", "high"),
    [((0.0,), 1e-3, -3.0, 3.0), ((-1.0, 0.0, 0.7), 0.05, -2.0, 2.0), ((0.0,), 0.5, -1.0, 1.0)],
)
def test_away_from_kinks_keeps_the_margin_and_the_range(kinks, margin, low, high):
    for seed in range(20):
        x = sampling.away_from_kinks(np.random.default_rng(seed), (40, 25), kinks, margin, low, high)
        assert x.dtype == np.float64 and x.shape == (40, 25)
        assert np.all((x >= low) & (x < high))
        assert np.min(np.abs(x[..., None] - np.asarray(kinks))) >= margin


def test_away_from_kinks_covers_both_sides_of_every_kink_even_in_tiny_arrays():
    kinks = (-1.0, 0.0, 0.7)
    for seed in range(200):
        x = sampling.away_from_kinks(np.random.default_rng(seed), 6, kinks, margin=0.05, low=-2.0, high=2.0)
        for kink in kinks:
            assert np.any(x < kink) and np.any(x > kink)
    for seed in range(200):
        signs = np.sign(sampling.away_from_kinks(np.random.default_rng(seed), 2))
        assert set(signs) == {-1.0, 1.0}


def test_away_from_kinks_ignores_kinks_outside_the_range():
    x = sampling.away_from_kinks(np.random.default_rng(0), 1, kinks=(5.0,))
    assert x.shape == (1,) and x[0] < 3.0


def test_away_from_kinks_is_reproducible():
    first = sampling.away_from_kinks(np.random.default_rng(9), (3, 4))
    assert np.array_equal(first, sampling.away_from_kinks(np.random.default_rng(9), (3, 4)))


@pytest.mark.parametrize(
    "arguments",
    [
        {"shape": 1},  # two sides of the kink at 0 need two entries
        {"shape": 5, "margin": 0.0},
        {"shape": 5, "low": 1.0, "high": 1.0},
        {"shape": 5, "kinks": (0.0,), "margin": 2.0, "low": -1.0, "high": 1.0},  # no room left
    ],
)
def test_away_from_kinks_refuses_impossible_requests(arguments):
    with pytest.raises(ValueError):
        sampling.away_from_kinks(np.random.default_rng(0), **arguments)


def test_distinct_sizes_are_distinct_ints_in_the_inclusive_range():
    seen = set()
    for seed in range(100):
        sizes = sampling.distinct_sizes(np.random.default_rng(seed))
        assert len(sizes) == 3 and len(set(sizes)) == 3
        assert all(type(size) is int and 2 <= size <= 9 for size in sizes)
        seen.update(sizes)
    assert seen == set(range(2, 10))
    assert sorted(sampling.distinct_sizes(np.random.default_rng(0), n=2, low=4, high=5)) == [4, 5]


def test_distinct_sizes_refuses_more_sizes_than_the_range_holds():
    with pytest.raises(ValueError):
        sampling.distinct_sizes(np.random.default_rng(0), n=4, low=2, high=4)


def test_integer_ids_repeat_within_a_row_and_across_rows():
    for seed in range(100):
        ids = sampling.integer_ids(np.random.default_rng(seed), (4, 3), vocab=50)
        assert ids.dtype == np.int64 and ids.shape == (4, 3)
        assert np.all((ids >= 0) & (ids < 50))
        assert any(len(set(row)) < len(row) for row in ids.tolist())
        rows_of = {}
        for row_index, row in enumerate(ids.tolist()):
            for word in row:
                rows_of.setdefault(word, set()).add(row_index)
        assert any(len(rows) > 1 for rows in rows_of.values())


def test_integer_ids_in_one_dimension_repeat_once_at_least():
    for seed in range(50):
        ids = sampling.integer_ids(np.random.default_rng(seed), (5,), vocab=1000)
        assert len(set(ids.tolist())) < 5


def test_integer_ids_without_repeats_are_all_distinct():
    ids = sampling.integer_ids(np.random.default_rng(0), (4, 5), vocab=20, repeats=False)
    assert ids.dtype == np.int64 and len(set(ids.ravel().tolist())) == 20


@pytest.mark.parametrize(
    ("shape", "vocab", "repeats"),
    [((1, 5), 10, True), ((5, 1), 10, True), ((1,), 10, True), ((3, 4), 11, False)],
)
def test_integer_ids_refuse_shapes_without_room(shape, vocab, repeats):
    with pytest.raises(ValueError):
        sampling.integer_ids(np.random.default_rng(0), shape, vocab, repeats)
