"""The charts of the instructor report, drawn with matplotlib's Agg renderer into PNG bytes.

Every chart has the same width and dpi; charts with one bar per item (a test, a mistake) grow by
a fixed height per bar, so that their labels stay readable however many there are. Text is shown
as written, never interpreted as mathtext (a ``$`` in a test name is just a dollar sign). The PNGs
carry no timestamp or software tag, so the same data always gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import textwrap
from collections.abc import Callable, Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

WIDTH_INCHES = 9.0
DPI = 100
HISTOGRAM_HEIGHT_INCHES = 3.6
BAR_HEIGHT_INCHES = 0.32  # per bar of a one-line label
MARGIN_HEIGHT_INCHES = 1.1  # the axis, its ticks and its label below the bars
HISTOGRAM_BINS = 20
LABEL_CHARS = 60  # a label longer than this is wrapped (mistakes) or shortened (tests)
LABEL_LINES = 3
BAR_COLOR = "#3566a8"
MARK_COLOR = "#c0392b"
STYLE = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs on every machine
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _styled(chart: Callable[..., bytes]) -> Callable[..., bytes]:
    """Draw ``chart`` with the report's style: matplotlib reads it as each text or bar is made."""

    @functools.wraps(chart)
    def draw(*args, **kwargs) -> bytes:
        with matplotlib.rc_context(STYLE):
            return chart(*args, **kwargs)

    return draw


@_styled
def score_histogram(scores: Sequence[float], max_score: float, mean: float, median: float) -> bytes:
    """How many submissions got each score, from 0 to ``max_score``, with the mean and median marked."""
    figure, axes = _figure(HISTOGRAM_HEIGHT_INCHES)
    upper = max_score if max_score > 0 else 1.0
    axes.hist(scores, bins=HISTOGRAM_BINS, range=(0, upper), color=BAR_COLOR, edgecolor="white")
    axes.axvline(mean, color=MARK_COLOR, linestyle="-", label=f"mean {mean:.4g}")
    axes.axvline(median, color=MARK_COLOR, linestyle="--", label=f"median {median:.4g}")
    axes.set_xlim(0, upper)
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="best", frameon=False)
    return _png(figure)


@_styled
def pass_rates(rates: Sequence[tuple[str, float]]) -> bytes:
    """One horizontal bar per test: the fraction of submissions that passed it (0 to 1), in the
    order given, top to bottom, with the percentage written next to each bar."""
    labels = [_shortened(label) for label, _ in rates]
    figure, axes = _figure(MARGIN_HEIGHT_INCHES + BAR_HEIGHT_INCHES * len(rates))
    positions = range(len(rates))
    bars = axes.barh(positions, [rate for _, rate in rates], color=BAR_COLOR, height=0.7)
    axes.bar_label(bars, labels=[f"{rate:.0%}" for _, rate in rates], padding=3)
    axes.set_yticks(list(positions), labels)
    axes.set_ylim(len(rates) - 0.5, -0.5)  # first item on top, no empty band above or below
    axes.set_xlim(0, 1.12)  # room for the label of a bar at 100 %
    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    axes.set_xlabel("submissions that passed the test")
    return _png(figure)


@_styled
def mistake_counts(counts: Sequence[tuple[str, int]]) -> bytes:
    """One horizontal bar per diagnosed mistake, top to bottom in the order given: how many times
    it was the likely cause of a failed test. Long explanations are wrapped over a few lines."""
    labels = [_wrapped(explanation) for explanation, _ in counts]
    lines = sum(label.count("\n") + 1 for label in labels)
    figure, axes = _figure(MARGIN_HEIGHT_INCHES + BAR_HEIGHT_INCHES * (lines + len(labels)))
    positions = range(len(counts))
    bars = axes.barh(positions, [count for _, count in counts], color=BAR_COLOR, height=0.6)
    axes.bar_label(bars, padding=3)
    axes.set_yticks(list(positions), labels, fontsize=9)
    axes.set_ylim(len(counts) - 0.5, -0.5)  # first item on top, no empty band above or below
    axes.margins(x=0.1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("failed tests with this likely cause")
    return _png(figure)


@_styled
def grading_times(seconds: Sequence[float]) -> bytes:
    """How many submissions took how long to grade, with the slowest one marked."""
    figure, axes = _figure(HISTOGRAM_HEIGHT_INCHES)
    slowest = max(seconds)
    axes.hist(seconds, bins=HISTOGRAM_BINS, range=(0, slowest or 1.0), color=BAR_COLOR, edgecolor="white")
    axes.axvline(slowest, color=MARK_COLOR, linestyle="--", label=f"slowest {slowest:.1f} s")
    axes.set_xlim(0, (slowest or 1.0) * 1.02)  # the mark of the slowest stays in sight
    axes.set_xlabel("seconds to grade one submission")
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="best", frameon=False)
    return _png(figure)


@_styled
def value_histogram(values: Sequence[float], label: str, median: float) -> bytes:
    """How many submissions reached each value of one leaderboard entry, with the median marked."""
    figure, axes = _figure(HISTOGRAM_HEIGHT_INCHES)
    low, high = min(values), max(values)
    axes.hist(
        values,
        bins=HISTOGRAM_BINS,
        range=(low, high) if high > low else (low - 0.5, high + 0.5),
        color=BAR_COLOR,
        edgecolor="white",
    )
    axes.axvline(median, color=MARK_COLOR, linestyle="--", label=f"median {median:.4g}")
    axes.set_xlabel(_shortened(label))
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="best", frameon=False)
    return _png(figure)


def _figure(height_inches: float):
    figure = Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _shortened(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _wrapped(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LABEL_CHARS, max_lines=LABEL_LINES, placeholder=" …"))
