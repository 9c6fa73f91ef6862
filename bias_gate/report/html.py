"""A self-contained HTML report: the summary, the tables and the plots (base64 PNG)
in one file with inline CSS and no scripts, so it opens from an artifact download."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.cache import atomic_write_text
from bias_gate.report.flips import flips_html
from bias_gate.report.html_matrix import matrix_html, reasons_html, trend_html
from bias_gate.report.html_style import STYLE
from bias_gate.report.html_tables import (
    comparisons_html,
    configs_html,
    paradox_html,
    power_html,
    validity_html,
)
from bias_gate.report.plots import PLOTS, plot_pngs, plots_with_data
from bias_gate.report.run_view import model_name, run_limits, run_mode, where_from
from bias_gate.report.safe_text import strip_controls
from bias_gate.report.summary import (
    categories,
    headline,
    incomplete_text,
    status_counts,
)
from bias_gate.results import GateResults

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend

PLOT_CAPTIONS: dict[str, str] = {
    "paradox.png": "Perplexity ratio against Cohen's h for every comparison. The shaded "
    "quadrant is the smart-pruning paradox: perplexity within its limit, bias beyond its.",
    "srs_by_sparsity.png": "SRS of each pruning method by achieved sparsity (dense at 0), 95% "
    "Wilson intervals of each proportion. Configs without a target sparsity (quantization, "
    "checkpoints) are not shown.",
    "new_bias_rate.png": "New-bias rate per config and category: items the dense model "
    "answered without bias that the compressed model answers with the biased option.",
}


def _plots(results: GateResults) -> str:
    """The plots that show something of these results (:func:`plots_with_data`)."""
    names = plots_with_data(results)
    parts = []
    why = {
        "srs_by_sparsity.png": "no config has a target sparsity",
        "paradox.png": "no config has a perplexity ratio",
    }
    for name in PLOTS:
        if name not in names:
            parts.append(f"<p class=meta>{escape(name)} left out: {why.get(name, 'no data')}.</p>")
    for name, data in plot_pngs(results, names).items():
        encoded = base64.b64encode(data).decode("ascii")
        caption = escape(PLOT_CAPTIONS.get(name, name))
        parts.append(
            f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return "".join(parts)


def render_html(results: GateResults, trend: Trend | None = None) -> str:
    """The whole report as one HTML document (UTF-8 text, images inline); with a
    ``trend`` (``bias-gate report --previous``) a trend section follows the matrix."""
    head = headline(results)
    counts = status_counts(results)
    limits = run_limits(results)
    title = f"bias-gate {head.word}: {model_name(results)}"
    notes = ""
    if run_mode(results) == "warn":
        notes += "<p><strong>Warn mode:</strong> failures were reported, not enforced.</p>"
    if head.incomplete:
        sentence = escape(incomplete_text(results))
        notes += f'<p class="incomplete-note"><strong>{sentence}</strong></p>'
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p class=meta>{escape(where_from(results))} · threshold profile "
        f"{escape(limits.profile or 'n/a')} · correction {escape(limits.correction)} · "
        f"{len(results.configs)} configs x {len(categories(results))} categories</p>"
        f'<div class="banner {head.css}">{escape(head.word)}: {counts.failed} failed, '
        f"{counts.warned} warned, {counts.passed} passed (bias comparisons and perplexity "
        f"checks)</div>{notes}"
        f"{paradox_html(results)}"
        f"<h2>Verdict matrix</h2>{matrix_html(results)}"
        f"{trend_html(trend)}"
        f"{reasons_html(results)}"
        f"<h2>Plots</h2>{_plots(results)}"
        f"<h2>Dense model validity</h2>{validity_html(results)}"
        f"<h2>Power: what a pass can and cannot tell</h2>{power_html(results)}"
        f"<h2>Configs</h2>{configs_html(results)}"
        f"<h2>Every comparison</h2>{comparisons_html(results)}"
        f"{flips_html(results)}"
        "</body></html>\n"
    )


def write_html(results: GateResults, path: Path, trend: Trend | None = None) -> Path:
    """Write the HTML report to ``path`` (atomically); returns ``path``."""
    path = Path(path)
    atomic_write_text(path, strip_controls(render_html(results, trend)))
    return path
