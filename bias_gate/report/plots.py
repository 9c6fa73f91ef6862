"""PNG plots of a gate run (matplotlib, Agg canvas, no pyplot global state).

- ``srs_by_sparsity.png``: per category, the gated metric (SRS) of each method against
  achieved sparsity, the dense model at sparsity 0. Error bars are 95% Wilson score
  intervals of each SRS as a proportion of its n items (Cohen's h CIs are intervals of a
  *difference* and belong on the paradox plot, not on a level). Configs without a
  target sparsity (quantization, checkpoints) are not on this plot.
- ``new_bias_rate.png``: the new-bias rate (share of dense-unbiased items the compressed
  model answers with the biased option) per config and category.
- ``paradox.png``: perplexity ratio against Cohen's h for every comparison
  (:mod:`bias_gate.report.paradox_plot`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from bias_gate.report.paradox_plot import VERDICT_COLORS, new_figure, plot_paradox
from bias_gate.report.run_view import run_limits
from bias_gate.report.summary import categories
from bias_gate.results import GateResults

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
    figure = new_figure(4.2 * columns, 3.6 * rows + 0.4)
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
    figure = new_figure(min(MAX_WIDTH_INCHES, max(5.0, wanted)), 3.8)
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
    # Two lines: one overflows the figure's left edge when there are few configs.
    ax.set_title("New-bias rate: dense-unbiased items turned biased\n(edge colour: verdict)")
    ax.grid(axis="y", alpha=0.3)
    if cats:
        ax.legend(fontsize="small")
    return figure


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


def plots_with_data(results: GateResults) -> list[str]:
    """The plots that show something of these results: no SRS-by-sparsity plot without a
    config of a target sparsity, no paradox plot without a perplexity ratio (results of
    ``bias-gate compare``: answers from another harness)."""
    sparsity = any(c.target_sparsity is not None for c in results.configs)
    perplexity = any(c.perplexity_ratio is not None for c in results.configs)
    shown = {"srs_by_sparsity.png": sparsity, "paradox.png": perplexity}
    return [name for name in PLOTS if shown.get(name, True)]


def plot_pngs(results: GateResults, names: list[str] | None = None) -> dict[str, bytes]:
    """Every plot (or those ``names``) as PNG bytes, keyed by file name (order of
    :data:`PLOTS`); names and categories are drawn as one-line text
    (:func:`bias_gate.report.safe_text.plot_label`)."""
    from bias_gate.report.safe_text import plot_label, with_text

    results = with_text(results, plot_label)
    wanted = PLOTS if names is None else names
    return {name: render_png(plot(results)) for name, plot in PLOTS.items() if name in wanted}


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
