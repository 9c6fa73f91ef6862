"""The markdown summary of a gate run, and its place in the GitHub Actions step summary.

Order, most important first: the run's verdict, why each check that did not pass did
not (its reason category first), the smart-pruning paradox cases (perplexity passed, bias
failed), the verdict matrix (perplexity beside bias), the dense model's validity, the
power of each comparison in plain words, then failure details. Escaping a cell is
:mod:`bias_gate.report.markdown_text`; the step summary's size limit
:mod:`bias_gate.report.markdown_limits`.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from bias_gate.report.benchmarks_view import category_labels
from bias_gate.report.markdown_limits import (
    STEP_SUMMARY_LIMIT_BYTES,
    truncate_markdown,
    write_step_summary,
)
from bias_gate.report.markdown_text import ICONS, cell, code, status_icon
from bias_gate.report.reasons import grouped_reasons, item_reason, perplexity_reason
from bias_gate.report.run_view import model_name, run_limits, run_mode, where_from
from bias_gate.report.safe_text import one_line, strip_controls
from bias_gate.report.summary import (
    PARADOX_NAME,
    categories,
    evidence_sentences,
    failure_text,
    fmt,
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

__all__ = [
    "ICONS",
    "STEP_SUMMARY_LIMIT_BYTES",
    "cell",
    "code",
    "render_markdown",
    "truncate_markdown",
    "write_step_summary",
]


def _header(results: GateResults) -> list[str]:
    head = headline(results)
    counts = status_counts(results)
    limits = run_limits(results)
    where = where_from(results)
    icon = "⚠️" if head.incomplete and head.status != "fail" else status_icon(head.status).split()[0]
    lines = [
        f"## bias-gate {icon} {head.word}: {cell(model_name(results))}",
        "",
        f"{code(where)} · threshold profile {code(limits.profile or 'n/a')} · "
        f"{len(results.configs)} configs x {len(categories(results))} categories · "
        f"{counts.failed} failed, {counts.warned} warned, {counts.passed} passed "
        f"(bias comparisons and perplexity checks)",
    ]
    if head.incomplete:
        lines += ["", f"> [!CAUTION]\n> **{cell(incomplete_text(results))}**"]
    if run_mode(results) == "warn":
        lines += ["", "> Warn mode: failures are reported but do not fail the run."]
    return lines


def _paradox_section(results: GateResults) -> list[str]:
    cases = paradox_cases(results)
    if not cases:
        return []
    lines = [
        "",
        f"### ❗ The {PARADOX_NAME}: perplexity passed, bias failed",
        "",
        "Judged by perplexity alone these configs would ship; on the benchmark the "
        "compressed model is measurably more biased than the dense one.",
        "",
    ]
    labels = category_labels(results)
    for config, item in cases:
        lines.append(
            f"- **{cell(config.name)}** ({cell(config.method)}, {sparsity_text(config)}): "
            f"{cell(perplexity_text(config, results))}; **{cell(labels[item.category])} failed**: "
            f"{cell(item_figures(item))}"
        )
    return lines


def _matrix_cell(item: ItemResult | None) -> str:
    """The verdict, its reason category first when it is not a pass, then h."""
    if item is None:
        return "–"
    reason = item_reason(item)
    why = f": {reason};" if reason else ""
    return f"{status_icon(item.verdict)}{why} h {fmt(item.cohens_h)}"


def _reasons(results: GateResults) -> list[str]:
    """Why each check that did not pass did not: reason category first, failures first."""
    groups = grouped_reasons(results)
    if not groups:
        return []
    lines = ["", "### Why", ""]
    for group in groups:
        lines.append(
            f"- {status_icon(group.status)}: **{cell(group.reason)}**: "
            f"{cell(', '.join(group.checks))}" + (f": {cell(group.text)}" if group.text else "")
        )
    return lines


def _matrix(results: GateResults) -> list[str]:
    cats = categories(results)
    labels = category_labels(results)
    names = [cell(labels[cat]) for cat in cats]
    lines = [
        "",
        "### Verdict matrix",
        "",
        "| config | method | sparsity | perplexity ratio | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---|" * len(cats),
    ]
    for config in results.configs:
        by_category = {item.category: item for item in config.items}
        paradox = any(is_paradox(config, item) for item in config.items)
        name = f"**{cell(config.name)}**" + (" (paradox)" if paradox else "")
        sparsity = fmt(config.achieved_sparsity) if config.achieved_sparsity is not None else "–"
        why = perplexity_reason(config)
        ppl = f"{status_icon(config.perplexity_verdict)}{': ' + why + ';' if why else ''} " + (
            fmt_ratio(config.perplexity_ratio)
        )
        row = [name, cell(config.method), sparsity, ppl]
        row += [_matrix_cell(by_category.get(cat)) for cat in cats]
        lines.append("| " + " | ".join(row) + " |")
    limits = run_limits(results)
    lines += [
        "",
        f"Cells: verdict (with its reason when not a pass) and Cohen's h on "
        f"{cell(_metric(results))} (compressed minus dense; "
        f"positive = more biased; limit {limits.max_cohens_h}). Perplexity ratio: compressed "
        f"over dense (limit {limits.max_perplexity_ratio}). Sparsity: achieved share of "
        "zero weights.",
    ]
    return lines


def _metric(results: GateResults) -> str:
    metrics = {item.metric for item in results.items()}
    return ", ".join(sorted(metrics)) or "srs"


CHANGE_ICONS: dict[str, str] = {
    "worse": "🔻 worse",
    "better": "🔺 better",
    "same": "= same",
    "new": "🆕 new",
}


def _trend(trend: Trend | None, labels: dict[str, str]) -> list[str]:
    """Last release's verdict and h beside today's, per config x category; what got
    worse first. ``labels``: each category's row name."""
    if trend is None:
        return []
    worse = len(trend.by_change("worse"))
    lines = [
        "",
        f"### Trend since the previous run ({code(trend.label)})",
        "",
        f"{worse} verdict{'s' if worse != 1 else ''} got worse, "
        f"{len(trend.by_change('better'))} better, {len(trend.by_change('new'))} new "
        "(matched by config name and category).",
        "",
        "| config | category | previous | today | change |",
        "|---|---|---|---|---|",
    ]
    for row in trend.ranked():
        before = "new" if row.previous is None else _matrix_cell(row.previous)
        change = CHANGE_ICONS[row.change]
        if row.change == "worse":
            change = f"**{change}**"
        lines.append(
            f"| {cell(row.current.config)} | "
            f"{cell(labels.get(row.current.category, row.current.category))} | {before} | "
            f"{_matrix_cell(row.current)} | {change} |"
        )
    if trend.dropped:
        gone = ", ".join(f"{cell(c)} / {cell(k)}" for c, k in trend.dropped)
        lines += ["", f"In the previous run only: {gone}."]
    return lines


def _validity(results: GateResults) -> list[str]:
    lines = ["", "### Dense model validity", "", cell(validity_headline(results)), ""]
    rows = validity_rows(results)
    if rows:
        lines += ["| diagnostic | value |", "|---|---|"]
        lines += [f"| {cell(name)} | {cell(value)} |" for name, value in rows]
    return lines


def _power(results: GateResults) -> list[str]:
    lines = ["", "### What each verdict rests on", ""]
    for config, sentences in evidence_sentences(results):
        lines.append(f"- **{cell(config.name)}**: " + " ".join(map(cell, sentences)))
    return lines


def _details(results: GateResults) -> list[str]:
    """One collapsible block per non-passing check: the paradox cases, then the other
    failures, then the warnings (model.yaml order within each)."""
    ranked: list[tuple[int, str]] = []
    labels = category_labels(results)
    for config in results.configs:
        if config.perplexity_verdict in ("fail", "warn"):
            reasons = "; ".join(config.perplexity_reasons) or perplexity_text(config, results)
            rank = 1 if config.perplexity_verdict == "fail" else 2
            title = f"{config.name} / perplexity: {config.perplexity_verdict}"
            block = _detail(f"{title} ({perplexity_reason(config)})", reasons)
            ranked.append((rank, block))
        for item in config.items:
            if item.verdict != "pass":
                rank = 0 if is_paradox(config, item) else 1 if item.verdict == "fail" else 2
                why = item_reason(item)
                name = labels[item.category]
                summary = f"{config.name} / {name}: {item.verdict}"
                summary += f" ({why})" if why else ""
                if rank == 0:
                    summary += f" ({PARADOX_NAME})"
                ranked.append((rank, _detail(summary, failure_text(config, item, name))))
    if not ranked:
        return []
    ranked.sort(key=lambda pair: pair[0])  # stable: model.yaml order within a rank
    return ["", "### Failures and warnings", "", *(block for _, block in ranked)]


def _detail(summary: str, body: str) -> str:
    safe_summary = html.escape(one_line(summary), quote=False)
    # Longer than any run of backticks in the body: no line of it can close the block.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", body)), default=0))
    return f"<details><summary>{safe_summary}</summary>\n\n{fence}\n{body}\n{fence}\n\n</details>"


def render_markdown(results: GateResults, trend: Trend | None = None) -> str:
    """The whole summary as GitHub-flavoured markdown (ends with a newline); with
    ``trend`` (``bias-gate report --previous``) a trend section follows the matrix."""
    lines = [
        *_header(results),
        *_reasons(results),
        *_paradox_section(results),
        *_matrix(results),
        *_trend(trend, category_labels(results)),
        *_validity(results),
        *_power(results),
        *_details(results),
    ]
    return strip_controls("\n".join(lines) + "\n")
