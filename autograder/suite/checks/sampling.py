"""Seeded random inputs that expose mistakes: all drawn from a caller's ``numpy.random.Generator``,
so a seed reproduces a test exactly.

- ``normal``: Gaussian arrays, float64.
- ``away_from_kinks``: float64 arrays whose entries stay at least ``margin`` away from every kink
  (so that a central difference with a step h < margin never straddles one) while covering both
  sides of each kink (both signs for a kink at 0).
- ``distinct_sizes``: dimensions that all differ (N != D != M), so a transposition or a wrong
  axis cannot go unnoticed because two sizes happen to be equal.
- ``integer_ids``: int64 ids with a repeated id within a row and across rows, so that a gradient
  accumulated with fancy-index ``+=`` (which drops repeated ids) is caught.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_REJECTION_ROUNDS = 100


def normal(rng: np.random.Generator, shape: Sequence[int] | int, scale: float = 1.0) -> np.ndarray:
    """float64 array of ``shape`` with independent N(0, scale²) entries."""
    return scale * rng.standard_normal(shape, dtype=np.float64)


def away_from_kinks(
    rng: np.random.Generator,
    shape: Sequence[int] | int,
    kinks: Sequence[float] = (0.0,),
    margin: float = 1e-3,
    low: float = -3.0,
    high: float = 3.0,
) -> np.ndarray:
    """float64 array of ``shape``, uniform on [low, high) without the points closer than
    ``margin`` to a kink: every entry satisfies ``|x - k| >= margin`` for every k in ``kinks``.
    Each side of each kink that has room inside [low, high] holds at least one entry (one
    reserved entry per side, at a random position), so the array needs at least that many
    entries."""
    if not margin > 0 or not low < high:
        raise ValueError("away_from_kinks needs margin > 0 and low < high")
    kink_points = np.asarray(kinks, dtype=np.float64).reshape(-1)
    sides = [(low, kink - margin) for kink in kink_points if kink - margin > low]
    sides += [(kink + margin, high) for kink in kink_points if kink + margin < high]
    size = int(np.prod(shape))
    if size < len(sides):
        raise ValueError(f"{size} entries cannot cover the {len(sides)} sides of the kinks")
    values = np.empty(size, dtype=np.float64)
    positions = rng.permutation(size)
    for position, (side_low, side_high) in zip(positions, sides):
        values[position] = _uniform_away(rng, 1, side_low, side_high, kink_points, margin)[0]
    values[positions[len(sides) :]] = _uniform_away(rng, size - len(sides), low, high, kink_points, margin)
    return values.reshape(shape)


def distinct_sizes(rng: np.random.Generator, n: int = 3, low: int = 2, high: int = 9) -> tuple[int, ...]:
    """``n`` different ints from ``low`` to ``high`` inclusive, in random order."""
    if not 0 <= n <= high - low + 1:
        raise ValueError(f"cannot draw {n} distinct sizes from {low} to {high}")
    return tuple(int(size) for size in rng.choice(np.arange(low, high + 1), size=n, replace=False))


def integer_ids(rng: np.random.Generator, shape: Sequence[int], vocab: int, repeats: bool = True) -> np.ndarray:
    """int64 array of ``shape`` with ids in [0, vocab).

    repeats=True: some row (last axis) holds one id twice, and that id also occurs in another
    row; for a 1-d shape, some id occurs twice. repeats=False: all ids differ (vocab >= size).
    """
    shape = tuple(shape)
    size = math.prod(shape)
    if not repeats:
        if vocab < size:
            raise ValueError(f"{size} distinct ids need vocab >= {size}")
        return rng.permutation(vocab)[:size].astype(np.int64).reshape(shape)
    ids = rng.integers(0, vocab, size=shape, dtype=np.int64)
    rows = ids.reshape(-1, shape[-1]) if len(shape) >= 2 else ids.reshape(1, -1)
    row_count, row_length = rows.shape
    if row_length < 2 or (len(shape) >= 2 and row_count < 2):
        raise ValueError(f"shape {shape} has no room for an id repeated within and across rows")
    row = rng.integers(row_count)
    first, second = rng.choice(row_length, size=2, replace=False)
    rows[row, second] = rows[row, first]
    if len(shape) >= 2:
        other_row = (row + rng.integers(1, row_count)) % row_count
        rows[other_row, rng.integers(row_length)] = rows[row, first]
    return ids


def _uniform_away(
    rng: np.random.Generator, count: int, low: float, high: float, kinks: np.ndarray, margin: float
) -> np.ndarray:
    """``count`` draws uniform on [low, high) and at least ``margin`` from every kink (rejection)."""
    accepted = np.empty(0, dtype=np.float64)
    for _ in range(MAX_REJECTION_ROUNDS):
        draws = rng.uniform(low, high, size=count - accepted.size)
        far = np.all(np.abs(draws[:, None] - kinks[None, :]) >= margin, axis=1)
        accepted = np.concatenate([accepted, draws[far]])
        if accepted.size == count:
            return accepted
    raise ValueError(f"[{low}, {high}) leaves too little room away from the kinks {kinks} (margin {margin})")
