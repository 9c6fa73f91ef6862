"""The HTML report's verdict matrix, its "Why" list and the trend table: the cells a
reader looks at first."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bias_gate.report.benchmarks_view import category_labels
from bias_gate.report.flips import anchor
from bias_gate.report.reasons import grouped_reasons, item_reason, perplexity_reason
from bias_gate.report.run_view import run_limits
from bias_gate.report.summary import categories, fmt, fmt_ratio, is_paradox
from bias_gate.results import ConfigResult, GateResults, ItemResult

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend


def cell_class(status: str | None) -> str:
    return f' class="{status}"' if status in ("pass", "fail", "warn") else ""


def _config_cells(config: ConfigResult) -> tuple[str, list[str]]:
    """The config's name cell and its trailing cells (perplexity, method, sparsity)."""
    paradox = any(is_paradox(config, item) for item in config.items)
    name = escape(config.name) + (" <em>(paradox)</em>" if paradox else "")
    if config.perplexity_verdict is None and config.perplexity_ratio is None:
        perplexity = "not measured"
    else:
        words = _words(config.perplexity_verdict or "n/a", perplexity_reason(config))
        perplexity = f"{escape(words)} {fmt_ratio(config.perplexity_ratio)}"
    return f'<th scope="row" class="config">{name}</th>', [
        f'<td{cell_class(config.perplexity_verdict)} data-label="perplexity ratio">'
        f"{perplexity}</td>",
        f'<td data-label="method">{escape(config.method)}</td>',
        f'<td class="num" data-label="sparsity">{fmt(config.achieved_sparsity)}</td>',
    ]


def _bias_cell(item: ItemResult | None, category: str) -> str:
    label = f' data-label="{escape(category)}"'
    if item is None:
        return f'<td class="bias"{label}>–</td>'
    text = f"{escape(_words(item.verdict, item_reason(item)))} h&nbsp;{fmt(item.cohens_h)}"
    if item.verdict == "fail" and item.flips is not None:
        # A failing cell opens the items that turned biased.
        text = f'<a href="#{anchor(item.config, item.category)}">{text}</a>'
    css = f"bias {item.verdict}" if item.verdict in ("pass", "fail", "warn") else "bias"
    return f'<td class="{css}"{label}>{text}</td>'


def matrix_html(results: GateResults) -> str:
    """The verdict matrix: config, then the bias cells (first, so they show on a phone),
    then perplexity, method and sparsity. The config column stays put while the table
    scrolls; under 640 px each config is a card of labelled cells (html_style)."""
    cats = categories(results)
    labels = category_labels(results)
    head = "".join(f'<th scope="col">{escape(labels[c])}</th>' for c in cats)
    rows = []
    for config in results.configs:
        by_category = {item.category: item for item in config.items}
        name, tail = _config_cells(config)
        cells = [_bias_cell(by_category.get(cat), labels[cat]) for cat in cats]
        rows.append("<tr>" + name + "".join(cells) + "".join(tail) + "</tr>")
    limits = run_limits(results)
    return (
        '<div class="wide"><table id="verdict-matrix"><tr><th class="config">config</th>'
        f"{head}<th>perplexity ratio</th><th>method</th><th>sparsity</th></tr>"
        + "".join(rows)
        + "</table></div>"
        f"<p class=meta>Cells: verdict (with its reason when not a pass) and Cohen's h "
        "(compressed minus dense; positive = more "
        f"biased; limit {limits.max_cohens_h}). Perplexity ratio: compressed over dense "
        f"(limit {limits.max_perplexity_ratio}).</p>"
    )


def _words(status: str, reason: str | None) -> str:
    return f"{status}: {reason};" if reason else status


def reasons_html(results: GateResults) -> str:
    """Why each check that did not pass did not, reason category first (above the
    plots: the first thing under the matrix)."""
    groups = grouped_reasons(results)
    if not groups:
        return ""
    items = "".join(
        f"<li><span{cell_class(group.status)}>{escape(group.status)}</span>: "
        f"<strong>{escape(group.reason)}</strong>: {escape(', '.join(group.checks))}"
        + (f": {escape(group.text)}" if group.text else "")
        + "</li>"
        for group in groups
    )
    return f'<h2 id="reasons">Why</h2><ul class="reasons">{items}</ul>'


def _trend_cell(item: ItemResult | None) -> str:
    if item is None:
        return "<td>new</td>"
    return f"<td{cell_class(item.verdict)}>{escape(item.verdict)} h&nbsp;{fmt(item.cohens_h)}</td>"


def trend_html(trend: Trend | None) -> str:
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
