"""The paradox plot: perplexity ratio (x, log scale: a broken config at 3e7 and sane ones
at 1.05 are both readable) against Cohen's h (y, with its one-sided bounds) for every
comparison; the "perplexity passes, bias fails" quadrant (ratio <= the profile's
``max_perplexity_ratio``, h > ``max_cohens_h``) is shaded when those limits are set."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bias_gate.report.run_view import RunLimits, run_limits
from bias_gate.results import ConfigResult, GateResults, ItemResult

#: Colour of each verdict on the plots.
VERDICT_COLORS: dict[str, str] = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828"}

Point = tuple[ConfigResult, ItemResult]


def new_figure(width: float, height: float) -> Figure:
    """A figure on its own Agg canvas (no pyplot global state)."""
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


@dataclass(frozen=True)
class Box:
    """The axes' ranges: x (perplexity ratio, log) and y (Cohen's h)."""

    x_low: float
    x_high: float
    y_low: float
    y_high: float


def _points(results: GateResults) -> list[Point]:
    """Every comparison with a positive perplexity ratio (a log axis) and an h."""
    return [
        (config, item)
        for config in results.configs
        for item in config.items
        if config.perplexity_ratio is not None
        and config.perplexity_ratio > 0
        and item.cohens_h is not None
    ]


def _box(points: list[Point], limits: RunLimits) -> Box:
    """Ranges that hold every point and both of its bounds (the upper bound decides
    PASS) and the limits, with a margin."""
    xs = [c.perplexity_ratio for c, _ in points if c.perplexity_ratio is not None]
    ys = [h for _, item in points for h in (item.cohens_h, *(item.h_ci or ())) if h is not None]
    return Box(
        x_low=min([*xs, 1.0]) / 1.15,
        x_high=max([*xs, limits.max_perplexity_ratio or 1.0, 1.0]) * 1.3,
        y_low=min([*ys, 0.0]) - 0.15,
        y_high=max([*ys, limits.max_cohens_h or 0.2, 0.2]) + 0.15,
    )


def _draw_limits(ax: Axes, box: Box, limits: RunLimits) -> None:
    """The limit lines and, when both are set, the shaded paradox quadrant."""
    if limits.max_perplexity_ratio is not None and limits.max_cohens_h is not None:
        ax.fill_between(
            [box.x_low, limits.max_perplexity_ratio],
            limits.max_cohens_h,
            box.y_high,
            color="#c62828",
            alpha=0.12,
            label="smart-pruning paradox: perplexity passes, bias fails",
        )
    if limits.max_perplexity_ratio is not None:
        ax.axvline(limits.max_perplexity_ratio, color="black", linestyle="--", linewidth=1)
    if limits.max_cohens_h is not None:
        ax.axhline(limits.max_cohens_h, color="black", linestyle=":", linewidth=1)


def _draw_points(ax: Axes, points: list[Point]) -> None:
    """Each comparison in its verdict's colour with its bounds as bars."""
    for config, item in points:
        h, ratio = item.cohens_h, config.perplexity_ratio
        assert h is not None and ratio is not None
        yerr = None
        if item.h_ci is not None:
            yerr = [[max(0.0, h - item.h_ci[0])], [max(0.0, item.h_ci[1] - h)]]
        color = VERDICT_COLORS.get(item.verdict, "grey")
        ax.errorbar([ratio], [h], yerr=yerr, fmt="o", color=color, capsize=2)


def _draw_labels(ax: Axes, points: list[Point]) -> None:
    """Label the comparisons that did not pass (paradox cases first: the matrix names the
    rest); after the axes' scales and ranges are set, which place the labels."""
    labelled = [(c, i) for c, i in points if i.verdict != "pass"]
    labelled.sort(key=lambda pair: (not pair[1].paradox, pair[1].verdict != "fail"))
    _label_points(
        ax,
        [
            (c.perplexity_ratio, i.cohens_h, f"{c.name}/{i.category}")
            for c, i in labelled
            if c.perplexity_ratio is not None and i.cohens_h is not None
        ],
    )


def plot_paradox(results: GateResults) -> Figure:
    """Perplexity ratio vs Cohen's h per comparison; the paradox quadrant shaded."""
    figure = new_figure(6.4, 4.8)
    ax = figure.subplots()
    limits = run_limits(results)
    points = _points(results)
    box = _box(points, limits)
    _draw_limits(ax, box, limits)
    _draw_points(ax, points)
    _log_ratio_axis(ax, box.x_low, box.x_high)
    ax.set_ylim(box.y_low, box.y_high)
    _draw_labels(ax, points)
    ax.set_xlabel("perplexity ratio (compressed / dense, log scale)")
    one_sided, interval = 100 * (1 - limits.alpha), 100 * (1 - 2 * limits.alpha)
    ax.set_ylabel(
        f"Cohen's h on SRS (compressed - dense)\nbars: one-sided {one_sided:.3g}% bounds "
        f"({interval:.3g}% interval)"
    )
    ax.set_title("Perplexity change vs bias change (colour: verdict)")
    ax.grid(alpha=0.3)
    if limits.max_perplexity_ratio is not None and limits.max_cohens_h is not None:
        ax.legend(fontsize="small", loc="lower right")
    return figure


#: Least vertical gap between two labels near the same x, in axes fractions.
LABEL_GAP = 0.05
#: At most this many labelled points (the paradox cases first): more are unreadable.
MAX_LABELS = 8


def _label_points(ax: Axes, points: list[tuple[float, float, str]]) -> None:
    """Label the (x, y, text) points in the order given, each moved up (with a leader
    line) past the labels already placed near its x, so no two labels overlap; a label
    that would leave the axes, or beyond :data:`MAX_LABELS`, is left out."""
    to_axes = ax.transData + ax.transAxes.inverted()
    placed: list[tuple[float, float]] = []
    for x, y, text in points:
        if len(placed) == MAX_LABELS:
            return
        fx, fy = (float(v) for v in to_axes.transform((x, y)))
        ly = fy
        while any(abs(px - fx) < 0.35 and abs(py - ly) < LABEL_GAP for px, py in placed):
            ly += LABEL_GAP / 2
        if ly > 0.93:
            continue
        placed.append((fx, ly))
        ax.annotate(
            text,
            (x, y),
            xytext=(min(fx + 0.015, 0.75), ly + 0.01),
            textcoords="axes fraction",
            fontsize="x-small",
            arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.5} if ly != fy else None,
        )


def _log_ratio_axis(ax: Axes, low: float, high: float) -> None:
    """A log x axis from ``low`` to ``high`` with plain tick labels (1.1, 1.5, 100, 3.1e7):
    within a decade or two, about six ticks spread evenly on the log scale."""
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    if high / low < 30:
        ticks = sorted({float(f"{v:.2g}") for v in _geomspace(low, high, 6)})
        ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
    wide = high >= 1000
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: _tick(value, wide)))


def _geomspace(low: float, high: float, count: int) -> list[float]:
    step = (high / low) ** (1 / (count - 1))
    return [low * step**k for k in range(count)]


def _tick(value: float, wide: bool = False) -> str:
    """One format per axis: plain (``1.5``, ``100``) on a narrow one, powers of ten
    (``1e2``, ``1e3``, ``3.1e7``) on one reaching 1000, never ``100`` beside ``1.0e3``."""
    if not wide:
        return f"{value:g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"
