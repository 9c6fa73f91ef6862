"""The pull-request surface: step outputs for ``$GITHUB_OUTPUT`` and a compact markdown
comment body (``bias-gate report --github-outputs --comment PATH``).

Every word, count and limit is read from the results (the items' ``verdict``,
``cohens_h``, ``limit`` and ``paradox``, ``run["missing_shards"]``) through
:mod:`bias_gate.report.summary`, as the other reports do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.errors import BiasGateError
from bias_gate.report.benchmarks_view import category_labels
from bias_gate.report.markdown import ICONS, cell, code
from bias_gate.report.reasons import item_reason, perplexity_reason
from bias_gate.report.run_view import answers_source
from bias_gate.report.safe_text import strip_controls
from bias_gate.report.summary import (
    PARADOX_NAME,
    SEVERITY,
    categories,
    config_status,
    fmt,
    fmt_ratio,
    headline,
    incomplete_text,
    is_paradox,
    paradox_cases,
)
from bias_gate.results import ConfigResult, GateResults, ItemResult

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend

#: Marks the comment so a sticky-comment action (or a script) can find and replace it.
COMMENT_MARKER = "<!-- bias-gate-comment -->"


def run_verdict(results: GateResults) -> str:
    """``pass``, ``warn``, ``fail`` or ``incomplete`` (shards missing and nothing failed):
    the run's headline in one word."""
    return headline(results).css


def failed_configs(results: GateResults) -> list[str]:
    """The configs whose perplexity or any bias verdict failed, in run order."""
    return [config.name for config in results.configs if config_status(config) == "fail"]


def github_outputs(results: GateResults, results_json: Path | None) -> dict[str, str]:
    """The step outputs: ``verdict``, ``failed-configs`` (comma-separated),
    ``paradox-count`` and ``results-json`` (empty when no results file was written)."""
    return {
        "verdict": run_verdict(results),
        "failed-configs": ",".join(failed_configs(results)),
        "paradox-count": str(len(paradox_cases(results))),
        "results-json": "" if results_json is None else str(results_json),
    }


def write_github_outputs(
    results: GateResults, results_json: Path | None, env: Mapping[str, str] = os.environ
) -> Path:
    """Append :func:`github_outputs` to ``$GITHUB_OUTPUT`` (one ``name=value`` line each);
    returns that file. Outside GitHub Actions (no ``GITHUB_OUTPUT``) a one-line error."""
    target = env.get("GITHUB_OUTPUT")
    if not target:
        raise BiasGateError(
            "$GITHUB_OUTPUT is not set (it is only inside a GitHub Actions step)",
            key="--github-outputs",
        )
    outputs = github_outputs(results, results_json)
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:  # a config name cannot hold one; be safe
            outputs[name] = value.replace("\r", " ").replace("\n", " ")
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(f"{name}={value}\n" for name, value in outputs.items())
    return path


def run_url(env: Mapping[str, str]) -> str | None:
    """The Actions run's page, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and
    GITHUB_RUN_ID; None unless all three are set."""
    server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return None
    return f"{server}/{repository}/actions/runs/{run_id}"


def _rank(config: ConfigResult) -> int:
    """Paradox configs first, then failing, warning and passing ones."""
    if any(is_paradox(config, item) for item in config.items):
        return -1 - max(SEVERITY.values())
    return -SEVERITY[config_status(config)]


def _cell(item: ItemResult | None, trend: Trend | None) -> str:
    if item is None:
        return "–"
    reason = item_reason(item)
    why = f": {reason}," if reason else ""
    text = f"{ICONS.get(item.verdict, item.verdict)}{why} h {fmt(item.cohens_h)}"
    row = trend.lookup().get((item.config, item.category)) if trend else None
    if row is not None and row.change == "worse" and row.previous is not None:
        text += f" (was {row.previous.verdict})"
    return text


def _failed_with_reasons(results: GateResults) -> list[str]:
    """Each failed config with the reason categories of its failures:
    ``int8 (dense model not valid)``."""
    out = []
    for config in results.configs:
        if config_status(config) != "fail":
            continue
        reasons = [perplexity_reason(config)] if config.perplexity_verdict == "fail" else []
        reasons += [item_reason(item) for item in config.items if item.verdict == "fail"]
        unique = list(dict.fromkeys(r for r in reasons if r))
        out.append(f"{cell(config.name)} ({', '.join(unique)})" if unique else cell(config.name))
    return out


def _limits(results: GateResults) -> str:
    """The h limits of the run's items: one number, or per category when they differ."""
    by_category: dict[str, float] = {}
    for item in results.items():
        by_category.setdefault(item.category, item.limit)
    if len(set(by_category.values())) <= 1:
        return f"{next(iter(by_category.values()), 0):g}"
    return ", ".join(f"{cell(cat)} {limit:g}" for cat, limit in by_category.items())


def render_comment(
    results: GateResults, env: Mapping[str, str] = os.environ, trend: Trend | None = None
) -> str:
    """The comment body: the verdict line, one table (configs x categories, each cell the
    verdict and Cohen's h; paradox configs first), the limits and a link to the run."""
    head = headline(results)
    cats = categories(results)
    paradoxes = len(paradox_cases(results))
    failed = failed_configs(results)
    lines = [
        COMMENT_MARKER,
        f"### bias-gate: **{head.word}**",
        "",
        f"{len(results.configs)} configs x {len(cats)} categories; "
        f"{len(failed)} failed{': ' + ', '.join(_failed_with_reasons(results)) if failed else ''}; "
        f"{paradoxes} {PARADOX_NAME} case{'s' if paradoxes != 1 else ''} "
        "(perplexity passed, bias failed).",
    ]
    if head.incomplete:
        lines += ["", f"> **{cell(incomplete_text(results))}**"]
    source = answers_source(results)
    if source is not None:
        lines += ["", f"From {cell(source)}."]
    if trend is not None:
        worse = len(trend.by_change("worse"))
        lines += ["", f"Against {code(trend.label)}: {worse} verdict(s) got worse."]
    lines += [
        "",
        "| config | perplexity ratio | "
        + " | ".join(cell(category_labels(results)[cat]) for cat in cats)
        + " |",
        "|---|---|" + "---|" * len(cats),
    ]
    for config in sorted(results.configs, key=_rank):
        by_category = {item.category: item for item in config.items}
        paradox = any(is_paradox(config, item) for item in config.items)
        name = f"**{cell(config.name)}**" + (" ❗ paradox" if paradox else "")
        ppl_icon = ICONS.get(config.perplexity_verdict or "", "–")
        why = perplexity_reason(config)
        ppl = f"{ppl_icon}{': ' + why + ',' if why else ''} {fmt_ratio(config.perplexity_ratio)}"
        row = [name, ppl, *(_cell(by_category.get(cat), trend) for cat in cats)]
        lines.append("| " + " | ".join(row) + " |")
    metrics = ", ".join(sorted({item.metric for item in results.items()})) or "n/a"
    lines += [
        "",
        f"Cells: verdict (with its reason when not a pass) and Cohen's h on {cell(metrics)} "
        "(compressed minus dense, positive "
        f"= more biased; limit {_limits(results)}).",
    ]
    url = run_url(env)
    if url:
        lines += ["", f"[Full report and artifacts]({url})"]
    return strip_controls("\n".join(lines) + "\n")


def write_comment(
    results: GateResults,
    path: Path,
    env: Mapping[str, str] = os.environ,
    trend: Trend | None = None,
) -> Path:
    """Write :func:`render_comment` at ``path``; returns it."""
    from bias_gate.cache import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render_comment(results, env, trend))
    return path
