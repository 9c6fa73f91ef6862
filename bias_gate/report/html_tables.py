"""The HTML report's detail tables: every comparison, the configs, the dense model's
validity, what each verdict rests on and the paradox cases."""

from __future__ import annotations

from html import escape

from bias_gate.report.benchmarks_view import category_labels
from bias_gate.report.html_matrix import cell_class
from bias_gate.report.reasons import item_reason
from bias_gate.report.summary import (
    PARADOX_NAME,
    config_status,
    evidence_sentences,
    fmt,
    fmt_ci,
    fmt_p,
    fmt_ratio,
    item_figures,
    paradox_cases,
    perplexity_text,
    sparsity_text,
    validity_headline,
    validity_rows,
)
from bias_gate.results import GateResults, ItemResult


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
        f"<td{cell_class(item.verdict)}>{escape(item.verdict)}</td>"
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


def comparisons_html(results: GateResults) -> str:
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


def configs_html(results: GateResults) -> str:
    rows = []
    for config in results.configs:
        storage = config.storage or {}
        rows.append(
            f"<tr><td>{escape(config.name)}</td><td>{escape(config.method)}</td>"
            f"<td>{escape(sparsity_text(config))}</td>"
            f'<td class="num">{fmt_ratio(config.perplexity)}</td>'
            f"<td{cell_class(config.perplexity_verdict)}>"
            f"{escape(perplexity_text(config, results))}</td>"
            f'<td class="num">{_megabytes(storage.get("sparse_bytes"))}</td>'
            f"<td{cell_class(config_status(config))}>{config_status(config)}</td></tr>"
        )
    return (
        '<div class="wide"><table id="configs"><tr><th>config</th><th>method</th>'
        "<th>sparsity</th><th>perplexity</th><th>perplexity check</th><th>stored size</th>"
        "<th>overall</th></tr>" + "".join(rows) + "</table></div>"
    )


def validity_html(results: GateResults) -> str:
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="value">{escape(value)}</td></tr>'
        for name, value in validity_rows(results)
    )
    table = f'<table id="validity"><tr><th>diagnostic</th><th>value</th></tr>{rows}</table>'
    return f"<p>{escape(validity_headline(results))}</p>" + (table if rows else "")


def power_html(results: GateResults) -> str:
    items = "".join(
        f"<li><strong>{escape(config.name)}</strong><ul>"
        + "".join(f"<li>{escape(sentence)}</li>" for sentence in sentences)
        + "</ul></li>"
        for config, sentences in evidence_sentences(results)
    )
    return f"<ul>{items}</ul>"


def paradox_html(results: GateResults) -> str:
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
