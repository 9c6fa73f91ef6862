"""PNG plots of a gate run (matplotlib, Agg canvas, no pyplot global state).

- ``srs_by_sparsity.png``: per category, the gated metric (SRS) of each method against
  achieved sparsity, the dense model at sparsity 0. Error bars are 95% Wilson score
  intervals of each SRS as a proportion of its n items (Cohen's h CIs are intervals of a
  *difference* and belong on the paradox plot, not on a level). Configs without a
  target sparsity (quantization, checkpoints) are not on this plot.
- ``new_bias_rate.png``: the new-bias rate (share of dense-unbiased items the compressed
  model answers with the biased option) per config and category.
- ``paradox.png``: perplexity ratio (x, log scale: a broken config at 3e7 and sane ones
  at 1.05 are both readable) against Cohen's h (y, with its one-sided bounds) for every
  comparison; the "perplexity passes, bias fails" quadrant (ratio <= the profile's
  ``max_perplexity_ratio``, h > ``max_cohens_h``) is shaded when those limits are set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bias_gate.report.run_view import run_limits
from bias_gate.report.summary import categories
from bias_gate.results import GateResults

#: Colour of each verdict on the plots.
VERDICT_COLORS: dict[str, str] = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828"}

Z_95 = 1.959963984540054


def wilson_interval(rate: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (default 95%) of a proportion ``rate`` seen on ``n`` items,
    as (low, high) fractions; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _dense_point(results: GateResults, category: str) -> tuple[float, int] | None:
    for item in results.items():
        if item.category == category and item.srs_dense is not None and item.n > 0:
            return item.srs_dense, item.n
    return None


#: The widest a plot gets (100 dpi): wider images shrink to unreadable in a page.
MAX_WIDTH_INCHES = 16.0

#: Panels per row of the SRS plot: 11 categories make 3 rows, not one 4620 px row.
SRS_COLUMNS = 4


def plot_srs_by_sparsity(results: GateResults) -> Figure:
    """SRS against achieved sparsity, per method (lines) and category (panels)."""
    cats = categories(results) or ["(none)"]
    columns = min(len(cats), SRS_COLUMNS)
    rows = math.ceil(len(cats) / columns)
    figure = _new_figure(4.2 * columns, 3.6 * rows + 0.4)
    grid = figure.subplots(rows, columns, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for spare in axes[len(cats) :]:
        spare.set_visible(False)
    methods = list(dict.fromkeys(c.method for c in results.configs))
    spread = 0.012 * (len(methods) - 1)
    shifts = {m: -spread / 2 + 0.012 * i for i, m in enumerate(methods)}
    for position, (ax, category) in enumerate(zip(axes, cats, strict=False)):
        dense = _dense_point(results, category)
        if dense is not None:
            low, high = wilson_interval(*dense)
            ax.errorbar(
                [0.0],
                [dense[0]],
                yerr=[[dense[0] - low], [high - dense[0]]],
                fmt="s",
                color="black",
                capsize=3,
                label="dense",
            )
        for method in methods:
            points = sorted(
                (config.achieved_sparsity, item.srs_compressed, item.n)
                for config in results.configs
                # Pruning configs only: quantization zeroes a few weights by rounding
                # (rtn shows 0.008), which is not a sparsity the plot compares.
                if config.method == method
                and config.target_sparsity is not None
                and config.achieved_sparsity is not None
                for item in config.items
                if item.category == category and item.srs_compressed is not None and item.n > 0
            )
            if not points:
                continue
            xs = [p[0] + shifts[method] for p in points]
            ys = [p[1] for p in points]
            intervals = [wilson_interval(p[1], p[2]) for p in points]
            yerr = [
                [y - lo for y, (lo, _) in zip(ys, intervals, strict=True)],
                [hi - y for y, (_, hi) in zip(ys, intervals, strict=True)],
            ]
            ax.errorbar(xs, ys, yerr=yerr, fmt="o-", capsize=3, label=method)
        ax.set_title(category)
        ax.set_xlabel("achieved sparsity (share of zero weights)")
        if position % columns == 0:
            ax.set_ylabel("SRS (share of biased answers)")
        ax.set_ylim(0, 1)
        ax.set_xlim(-0.05, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.suptitle("Stereotype reliance by sparsity (95% Wilson CIs; methods offset slightly)")
    return figure


def plot_new_bias_rate(results: GateResults) -> Figure:
    """Grouped bars: new-bias rate per config (groups) and category (bars)."""
    cats = categories(results)
    names = [config.name for config in results.configs]
    wanted = 1.2 * len(names) * max(1, len(cats)) ** 0.5 + 2
    figure = _new_figure(min(MAX_WIDTH_INCHES, max(5.0, wanted)), 3.8)
    ax = figure.subplots()
    width = 0.8 / max(1, len(cats))
    for offset, category in enumerate(cats):
        xs, heights, colors = [], [], []
        for index, config in enumerate(results.configs):
            item = next((i for i in config.items if i.category == category), None)
            if item is None or item.new_bias_rate is None:
                continue
            xs.append(index + (offset - (len(cats) - 1) / 2) * width)
            heights.append(item.new_bias_rate)
            colors.append(VERDICT_COLORS.get(item.verdict, "grey"))
        ax.bar(xs, heights, width=width * 0.95, label=category, edgecolor=colors, linewidth=2.5)
    limit = run_limits(results).max_net_new_bias_rate
    if limit is not None:
        ax.axhline(limit, color="black", linestyle="--", linewidth=1, label="limit")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("new-bias rate (fraction)")
    ax.set_ylim(0, 1)
    ax.set_title("New-bias rate: dense-unbiased items turned biased (edge colour: verdict)")
    ax.grid(axis="y", alpha=0.3)
    if cats:
        ax.legend(fontsize="small")
    return figure


def plot_paradox(results: GateResults) -> Figure:
    """Perplexity ratio vs Cohen's h per comparison; the paradox quadrant shaded."""
    figure = _new_figure(6.4, 4.8)
    ax = figure.subplots()
    limits = run_limits(results)
    points = [
        (config, item)
        for config in results.configs
        for item in config.items
        if config.perplexity_ratio is not None
        and config.perplexity_ratio > 0  # a log axis
        and item.cohens_h is not None
    ]
    xs = [c.perplexity_ratio for c, _ in points if c.perplexity_ratio is not None]
    x_high = max([*xs, limits.max_perplexity_ratio or 1.0, 1.0]) * 1.3
    x_low = min([*xs, 1.0]) / 1.15
    # Every point and both of its bounds are inside: the upper bound decides PASS.
    ys = [h for _, item in points for h in (item.cohens_h, *(item.h_ci or ())) if h is not None]
    y_high = max([*ys, limits.max_cohens_h or 0.2, 0.2]) + 0.15
    y_low = min([*ys, 0.0]) - 0.15
    if limits.max_perplexity_ratio is not None and limits.max_cohens_h is not None:
        ax.fill_between(
            [x_low, limits.max_perplexity_ratio],
            limits.max_cohens_h,
            y_high,
            color="#c62828",
            alpha=0.12,
            label="smart-pruning paradox: perplexity passes, bias fails",
        )
    if limits.max_perplexity_ratio is not None:
        ax.axvline(limits.max_perplexity_ratio, color="black", linestyle="--", linewidth=1)
    if limits.max_cohens_h is not None:
        ax.axhline(limits.max_cohens_h, color="black", linestyle=":", linewidth=1)
    for config, item in points:
        color = VERDICT_COLORS.get(item.verdict, "grey")
        h = item.cohens_h
        assert h is not None and config.perplexity_ratio is not None
        yerr = None
        if item.h_ci is not None:
            yerr = [[max(0.0, h - item.h_ci[0])], [max(0.0, item.h_ci[1] - h)]]
        ax.errorbar([config.perplexity_ratio], [h], yerr=yerr, fmt="o", color=color, capsize=2)
    _log_ratio_axis(ax, x_low, x_high)
    ax.set_ylim(y_low, y_high)
    labelled = [(c, i) for c, i in points if i.verdict != "pass"]  # the matrix names the rest
    labelled.sort(key=lambda pair: (not pair[1].paradox, pair[1].verdict != "fail"))
    _label_points(
        ax,
        [
            (c.perplexity_ratio, i.cohens_h, f"{c.name}/{i.category}")
            for c, i in labelled
            if c.perplexity_ratio is not None and i.cohens_h is not None
        ],
    )
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


#: File name -> plot function; each plot is written as one PNG.
PLOTS: dict[str, Callable[[GateResults], Figure]] = {
    "srs_by_sparsity.png": plot_srs_by_sparsity,
    "new_bias_rate.png": plot_new_bias_rate,
    "paradox.png": plot_paradox,
}


def render_png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    from io import BytesIO

    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_pngs(results: GateResults) -> dict[str, bytes]:
    """Every plot as PNG bytes, keyed by file name (order of :data:`PLOTS`); names and
    categories are drawn as one-line text (:func:`bias_gate.report.safe_text.plot_label`)."""
    from bias_gate.report.safe_text import plot_label, with_text

    results = with_text(results, plot_label)
    return {name: render_png(plot(results)) for name, plot in PLOTS.items()}


def write_plots(results: GateResults, out_dir: Path) -> list[Path]:
    """Write every plot into ``out_dir`` (created); returns the PNG paths written."""
    from bias_gate.cache import atomic_write_bytes

    out_dir = Path(out_dir)
    paths = []
    for name, data in plot_pngs(results).items():
        path = out_dir / name
        atomic_write_bytes(path, data)
        paths.append(path)
    return paths
