"""The markdown summary of a gate run, and its place in the GitHub Actions step summary.

Order, most important first: the run's verdict, why each check that did not pass did
not (its reason category first), the smart-pruning paradox cases (perplexity passed, bias
failed), the verdict matrix (perplexity beside bias), the dense model's validity, the
power of each comparison in plain words, then failure details.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

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

#: GitHub refuses step summaries over 1 MiB; what we append stays below this many bytes.
STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024 - 1024

ICONS: dict[str, str] = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn"}


#: What a markdown cell or sentence escapes so data opens no table column, code span,
#: HTML tag or comment: ``\\``, ``|`` and backticks backslash-escaped, ``<`` as an entity
#: (``>`` and ``&`` cannot start markup; emphasis and link brackets cannot add a line, a
#: column or hide text, and GitHub links bare URLs anyway).
_MARKDOWN_ESCAPES = {"<": "&lt;"} | {char: "\\" + char for char in "\\|`"}
_MARKDOWN_SPECIAL = re.compile("[" + re.escape("".join(_MARKDOWN_ESCAPES)) + "]")


def cell(text: str) -> str:
    """``text`` made safe for one markdown table cell or sentence: one line, controls
    removed, HTML and markdown punctuation escaped (it renders as written)."""
    return _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN_ESCAPES[m.group()], one_line(text))


def code(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _icon(status: str | None) -> str:
    return ICONS.get(status or "", "–")


def _header(results: GateResults) -> list[str]:
    head = headline(results)
    counts = status_counts(results)
    limits = run_limits(results)
    where = where_from(results)
    icon = "⚠️" if head.incomplete and head.status != "fail" else _icon(head.status).split()[0]
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
        "Judged by perplexity alone these configs would ship; on BBQ the compressed model "
        "is measurably more biased than the dense one.",
        "",
    ]
    for config, item in cases:
        lines.append(
            f"- **{cell(config.name)}** ({cell(config.method)}, {sparsity_text(config)}): "
            f"{cell(perplexity_text(config, results))}; **{cell(item.category)} failed**: "
            f"{cell(item_figures(item))}"
        )
    return lines


def _matrix_cell(item: ItemResult | None) -> str:
    """The verdict, its reason category first when it is not a pass, then h."""
    if item is None:
        return "–"
    reason = item_reason(item)
    why = f": {reason};" if reason else ""
    return f"{_icon(item.verdict)}{why} h {fmt(item.cohens_h)}"


def _reasons(results: GateResults) -> list[str]:
    """Why each check that did not pass did not: reason category first, failures first."""
    groups = grouped_reasons(results)
    if not groups:
        return []
    lines = ["", "### Why", ""]
    for group in groups:
        lines.append(
            f"- {_icon(group.status)}: **{cell(group.reason)}**: "
            f"{cell(', '.join(group.checks))}" + (f": {cell(group.text)}" if group.text else "")
        )
    return lines


def _matrix(results: GateResults) -> list[str]:
    cats = categories(results)
    lines = [
        "",
        "### Verdict matrix",
        "",
        "| config | method | sparsity | perplexity ratio | " + " | ".join(map(cell, cats)) + " |",
        "|---|---|---|---|" + "---|" * len(cats),
    ]
    for config in results.configs:
        by_category = {item.category: item for item in config.items}
        paradox = any(is_paradox(config, item) for item in config.items)
        name = f"**{cell(config.name)}**" + (" (paradox)" if paradox else "")
        sparsity = fmt(config.achieved_sparsity) if config.achieved_sparsity is not None else "–"
        why = perplexity_reason(config)
        ppl = f"{_icon(config.perplexity_verdict)}{': ' + why + ';' if why else ''} " + (
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


def _trend(trend: Trend | None) -> list[str]:
    """Last release's verdict and h beside today's, per config x category; what got
    worse first."""
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
            f"| {cell(row.current.config)} | {cell(row.current.category)} | {before} | "
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
                summary = f"{config.name} / {item.category}: {item.verdict}"
                summary += f" ({why})" if why else ""
                if rank == 0:
                    summary += f" ({PARADOX_NAME})"
                ranked.append((rank, _detail(summary, failure_text(config, item))))
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
        *_trend(trend),
        *_validity(results),
        *_power(results),
        *_details(results),
    ]
    return strip_controls("\n".join(lines) + "\n")


def truncate_markdown(text: str, limit_bytes: int) -> str:
    """``text`` if its UTF-8 form fits in ``limit_bytes``, else its first whole lines plus a
    note saying it was cut; the result's UTF-8 form never exceeds ``limit_bytes``."""
    data = text.encode("utf-8")
    if len(data) <= limit_bytes:
        return text
    note = (
        f"\n\n> Summary truncated to fit GitHub's step-summary limit ({len(data)} bytes "
        "in all); the full report is in the uploaded artifacts.\n"
    )
    budget = max(0, limit_bytes - len(note.encode("utf-8")))
    kept = data[:budget].decode("utf-8", errors="ignore")
    lines = kept.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # a partial line
    while True:
        text_kept = "".join(lines)
        candidate = text_kept + _closers(text_kept) + note
        if len(candidate.encode("utf-8")) <= limit_bytes or not lines:
            return candidate if lines else note.lstrip("\n")
        lines.pop()


def _closers(text: str) -> str:
    """What closes the code fence and the ``<details>`` blocks ``text`` leaves open."""
    fence: str | None = None
    open_details = 0
    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        if stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            continue
        open_details += line.count("<details>") - line.count("</details>")
    closing = "" if fence is None else f"{fence}\n"
    return closing + "\n</details>\n" * max(0, open_details)


def write_step_summary(
    results: GateResults, env: Mapping[str, str] = os.environ, trend: Trend | None = None
) -> Path | None:
    """When ``GITHUB_ACTIONS == "true"``, append the summary to ``$GITHUB_STEP_SUMMARY``,
    keeping the file under 1 MiB; returns the file written, or None when not in Actions."""
    if env.get("GITHUB_ACTIONS") != "true" or not env.get("GITHUB_STEP_SUMMARY"):
        return None
    path = Path(env["GITHUB_STEP_SUMMARY"])
    existing = path.stat().st_size if path.exists() else 0
    budget = max(0, STEP_SUMMARY_LIMIT_BYTES - existing)
    text = truncate_markdown(render_markdown(results, trend), budget)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return path
