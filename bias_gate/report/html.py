"""A self-contained HTML report: the summary, the tables and the plots (base64 PNG)
in one file with inline CSS and no scripts, so it opens from an artifact download."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.cache import atomic_write_text
from bias_gate.report.benchmarks_view import category_labels
from bias_gate.report.flips import anchor, flips_html
from bias_gate.report.plots import plot_pngs
from bias_gate.report.reasons import grouped_reasons, item_reason, perplexity_reason
from bias_gate.report.run_view import config_path, model_name, run_limits, run_mode
from bias_gate.report.safe_text import strip_controls
from bias_gate.report.summary import (
    PARADOX_NAME,
    categories,
    config_status,
    evidence_sentences,
    fmt,
    fmt_ci,
    fmt_p,
    fmt_ratio,
    headline,
    incomplete_text,
    is_paradox,
    item_figures,
    paradox_cases,
    perplexity_text,
    sparsity_text,
    status_counts,
    validity_headline,
    validity_rows,
)
from bias_gate.results import GateResults, ItemResult

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

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1250px; color: #1a1a1a; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #555; }
.banner { padding: 0.8em 1em; border-radius: 6px; font-weight: 600; margin: 1em 0; }
.banner.fail { background: #fdecea; border: 1px solid #c62828; }
.banner.warn { background: #fff4e5; border: 1px solid #ef6c00; }
.banner.pass { background: #edf7ed; border: 1px solid #2e7d32; }
.banner.incomplete { background: #fff4e5; border: 2px solid #ef6c00; font-size: 1.2em; }
.incomplete-note { color: #8a3b00; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; max-width: 100%; }
td.value { overflow-wrap: anywhere; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reasons td { color: #444; font-size: 0.9em; border-top: none; padding-left: 1.5em; }
.wide { overflow-x: auto; max-width: 100%; }
td.pass { background: #edf7ed; } td.fail { background: #fdecea; } td.warn { background: #fff4e5; }
ul.reasons span.fail { color: #c62828; font-weight: 600; }
ul.reasons span.warn { color: #ef6c00; font-weight: 600; }
.paradox { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em 1em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
details { margin: 0.4em 0; border: 1px solid #ddd; border-radius: 4px; padding: 0.3em 0.8em; }
details:target { border-color: #c62828; }
summary { cursor: pointer; font-weight: 600; overflow-wrap: anywhere; }
table.flips td { white-space: nowrap; }
table.flips td.value { min-width: 12em; white-space: normal; }
table.flips ul { margin: 0.3em 0; padding-left: 1.2em; }
@media (max-width: 640px) {  /* a phone: each flipped item stacks, its answers labelled */
  table.flips, table.flips tbody, table.flips tr, table.flips td { display: block; }
  table.flips tr:first-child { display: none; }
  table.flips tr { border-top: 2px solid #999; }
  table.flips td { border: none; white-space: normal; text-align: left; }
  table.flips td.value { min-width: 0; }
  table.flips td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
"""


def _cell_class(status: str | None) -> str:
    return f' class="{status}"' if status in ("pass", "fail", "warn") else ""


def _matrix(results: GateResults) -> str:
    cats = categories(results)
    labels = category_labels(results)
    head = "".join(f"<th>{escape(labels[c])}</th>" for c in cats)
    rows = []
    for config in results.configs:
        by_category = {item.category: item for item in config.items}
        paradox = any(is_paradox(config, item) for item in config.items)
        name = escape(config.name) + (" <em>(paradox)</em>" if paradox else "")
        cells = [
            f"<td><strong>{name}</strong></td>",
            f"<td>{escape(config.method)}</td>",
            f'<td class="num">{fmt(config.achieved_sparsity)}</td>',
            f"<td{_cell_class(config.perplexity_verdict)}>"
            f"{escape(_words(config.perplexity_verdict or 'n/a', perplexity_reason(config)))} "
            f"{fmt_ratio(config.perplexity_ratio)}</td>",
        ]
        for cat in cats:
            item = by_category.get(cat)
            if item is None:
                cells.append("<td>–</td>")
            else:
                words = escape(_words(item.verdict, item_reason(item)))
                text = f"{words} h&nbsp;{fmt(item.cohens_h)}"
                if item.verdict == "fail" and item.flips is not None:
                    # A failing cell opens the items that turned biased.
                    text = f'<a href="#{anchor(item.config, item.category)}">{text}</a>'
                cells.append(f"<td{_cell_class(item.verdict)}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    limits = run_limits(results)
    return (
        '<div class="wide"><table id="verdict-matrix"><tr><th>config</th><th>method</th>'
        f"<th>sparsity</th><th>perplexity ratio</th>{head}</tr>" + "".join(rows) + "</table></div>"
        f"<p class=meta>Cells: verdict (with its reason when not a pass) and Cohen's h "
        "(compressed minus dense; positive = more "
        f"biased; limit {limits.max_cohens_h}). Perplexity ratio: compressed over dense "
        f"(limit {limits.max_perplexity_ratio}).</p>"
    )


def _words(status: str, reason: str | None) -> str:
    return f"{status}: {reason};" if reason else status


def _reasons(results: GateResults) -> str:
    """Why each check that did not pass did not, reason category first (above the
    plots: the first thing under the matrix)."""
    groups = grouped_reasons(results)
    if not groups:
        return ""
    items = "".join(
        f"<li><span{_cell_class(group.status)}>{escape(group.status)}</span>: "
        f"<strong>{escape(group.reason)}</strong>: {escape(', '.join(group.checks))}"
        + (f": {escape(group.text)}" if group.text else "")
        + "</li>"
        for group in groups
    )
    return f'<h2 id="reasons">Why</h2><ul class="reasons">{items}</ul>'


def _comparison_rows(config_name: str, item: ItemResult, columns: int, label: str) -> str:
    values = [
        item.decision,
        f"{item.look}/{item.looks}",
        f"{item.n_used}/{item.n_max}",
        fmt(item.value_dense),
        fmt(item.value_compressed),
        fmt(item.cohens_h),
        fmt_ci(item.h_ci),
        f"{item.limit:g}",
        fmt_p(item.p_value),
        fmt_p(item.p_adjusted),
        fmt(item.new_bias_rate),
        "n/a" if item.n_required is None else str(item.n_required),
    ]
    nums = "".join(f'<td class="num">{escape(v)}</td>' for v in values)
    row = (
        f"<tr><td>{escape(config_name)}</td><td>{escape(label)}</td>"
        f"<td{_cell_class(item.verdict)}>{escape(item.verdict)}</td>"
        f"<td>{escape(item_reason(item) or '')}</td>"
        f'<td class="num">{item.n}</td>{nums}</tr>'
    )
    if not item.reasons:
        return row
    reasons = escape("; ".join(item.reasons))
    return row + f'<tr class="reasons"><td colspan="{columns}">↳ {reasons}</td></tr>'


COMPARISON_COLUMNS = (
    "config",
    "category",
    "verdict",
    "reason",
    "n",
    "decision",
    "look",
    "items used",
    "metric dense",
    "metric compressed",
    "Cohen's h",
    "h bounds",
    "limit",
    "p (no increase)",
    "p adjusted (config)",
    "new-bias rate",
    "items required",
)


def _comparisons(results: GateResults) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in COMPARISON_COLUMNS)
    labels = category_labels(results)
    rows = [
        _comparison_rows(c.name, i, len(COMPARISON_COLUMNS), labels[i.category])
        for c in results.configs
        for i in c.items
    ]
    return (
        f'<div class="wide"><table id="comparisons"><tr>{head}</tr>'
        + "".join(rows)
        + "</table></div>"
    )


def _megabytes(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 1e6:.1f} MB"


def _configs_table(results: GateResults) -> str:
    rows = []
    for config in results.configs:
        storage = config.storage or {}
        rows.append(
            f"<tr><td>{escape(config.name)}</td><td>{escape(config.method)}</td>"
            f"<td>{escape(sparsity_text(config))}</td>"
            f'<td class="num">{fmt_ratio(config.perplexity)}</td>'
            f"<td{_cell_class(config.perplexity_verdict)}>"
            f"{escape(perplexity_text(config, results))}</td>"
            f'<td class="num">{_megabytes(storage.get("sparse_bytes"))}</td>'
            f"<td{_cell_class(config_status(config))}>{config_status(config)}</td></tr>"
        )
    return (
        '<div class="wide"><table id="configs"><tr><th>config</th><th>method</th>'
        "<th>sparsity</th><th>perplexity</th><th>perplexity check</th><th>stored size</th>"
        "<th>overall</th></tr>" + "".join(rows) + "</table></div>"
    )


def _validity(results: GateResults) -> str:
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="value">{escape(value)}</td></tr>'
        for name, value in validity_rows(results)
    )
    table = f'<table id="validity"><tr><th>diagnostic</th><th>value</th></tr>{rows}</table>'
    return f"<p>{escape(validity_headline(results))}</p>" + (table if rows else "")


def _power(results: GateResults) -> str:
    items = "".join(
        f"<li><strong>{escape(config.name)}</strong><ul>"
        + "".join(f"<li>{escape(sentence)}</li>" for sentence in sentences)
        + "</ul></li>"
        for config, sentences in evidence_sentences(results)
    )
    return f"<ul>{items}</ul>"


def _paradox(results: GateResults) -> str:
    cases = paradox_cases(results)
    if not cases:
        return ""
    labels = category_labels(results)
    items = "".join(
        f"<li><strong>{escape(config.name)}</strong> ({escape(config.method)}, "
        f"{escape(sparsity_text(config))}): {escape(perplexity_text(config, results))}; "
        f"<strong>{escape(labels[item.category])} failed</strong>: "
        f"{escape(item_figures(item))}</li>"
        for config, item in cases
    )
    return (
        f'<h2 id="paradox">The {PARADOX_NAME}: perplexity passed, bias failed</h2>'
        '<div class="paradox"><p>Judged by perplexity alone these configs would ship; on '
        "BBQ the compressed model is measurably more biased than the dense one.</p>"
        f"<ul>{items}</ul></div>"
    )


def _plots(results: GateResults) -> str:
    parts = []
    for name, data in plot_pngs(results).items():
        encoded = base64.b64encode(data).decode("ascii")
        caption = escape(PLOT_CAPTIONS.get(name, name))
        parts.append(
            f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return "".join(parts)


def _trend_cell(item: ItemResult | None) -> str:
    if item is None:
        return "<td>new</td>"
    return f"<td{_cell_class(item.verdict)}>{escape(item.verdict)} h&nbsp;{fmt(item.cohens_h)}</td>"


def _trend(trend: Trend | None) -> str:
    """The previous run's verdict and h beside today's, worse first and flagged."""
    if trend is None:
        return ""
    rows = []
    for row in trend.ranked():
        change = escape(row.change)
        flag = ' class="fail"' if row.change == "worse" else ""
        if row.change == "worse":
            change = f"<strong>▲ {change}</strong>"
        # The change first: on a phone the table scrolls, and the flag must show.
        rows.append(
            f"<tr><td{flag}>{change}</td><td>{escape(row.current.config)}</td>"
            f"<td>{escape(row.current.category)}</td>"
            f"{_trend_cell(row.previous)}{_trend_cell(row.current)}</tr>"
        )
    worse = len(trend.by_change("worse"))
    dropped = ""
    if trend.dropped:
        gone = ", ".join(f"{c} / {k}" for c, k in trend.dropped)
        dropped = f"<p>In the previous run only: {escape(gone)}.</p>"
    return (
        f'<h2 id="trend">Trend since the previous run ({escape(trend.label)})</h2>'
        f"<p>{worse} verdict{'s' if worse != 1 else ''} got worse, "
        f"{len(trend.by_change('better'))} better, {len(trend.by_change('new'))} new "
        "(matched by config name and category).</p>"
        '<div class="wide"><table id="trend-table"><tr><th>change</th><th>config</th>'
        "<th>category</th><th>previous</th><th>today</th></tr>"
        + "".join(rows)
        + "</table></div>"
        + dropped
    )


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
        f"<p class=meta>{escape(config_path(results) or 'model.yaml')} · threshold profile "
        f"{escape(limits.profile or 'n/a')} · correction {escape(limits.correction)} · "
        f"{len(results.configs)} configs x {len(categories(results))} categories</p>"
        f'<div class="banner {head.css}">{escape(head.word)}: {counts.failed} failed, '
        f"{counts.warned} warned, {counts.passed} passed (bias comparisons and perplexity "
        f"checks)</div>{notes}"
        f"{_paradox(results)}"
        f"<h2>Verdict matrix</h2>{_matrix(results)}"
        f"{_trend(trend)}"
        f"{_reasons(results)}"
        f"<h2>Plots</h2>{_plots(results)}"
        f"<h2>Dense model validity</h2>{_validity(results)}"
        f"<h2>Power: what a pass can and cannot tell</h2>{_power(results)}"
        f"<h2>Configs</h2>{_configs_table(results)}"
        f"<h2>Every comparison</h2>{_comparisons(results)}"
        f"{flips_html(results)}"
        "</body></html>\n"
    )


def write_html(results: GateResults, path: Path, trend: Trend | None = None) -> Path:
    """Write the HTML report to ``path`` (atomically); returns ``path``."""
    path = Path(path)
    atomic_write_text(path, strip_controls(render_html(results, trend)))
    return path
