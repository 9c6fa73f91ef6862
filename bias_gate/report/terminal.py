"""Plain-text tables for the terminal: the run summary and one item's failure report."""

from __future__ import annotations

from bias_gate.judge.verdict import fmt_ratio
from bias_gate.report.benchmarks_view import (
    benchmark_validity_lines,
    category_labels,
    item_label,
)
from bias_gate.report.reasons import item_reason, perplexity_reason
from bias_gate.results import ConfigResult, DenseResult, GateResults, ItemResult

_STATUS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", None: "-"}


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"


def item_table(config: ConfigResult, item: ItemResult, dense: DenseResult) -> str:
    """The failure text of one comparison: dense vs compressed, with n and uncertainty."""
    ppl = (
        f"{fmt_ratio(config.perplexity_ratio)} ({_STATUS[config.perplexity_verdict]})"
        if config.perplexity_ratio is not None
        else "not measured"
    )
    rows = [
        ("", "dense", "compressed"),
        (f"{item.metric} (gated)", _f(item.value_dense), _f(item.value_compressed)),
        ("SRS (biased share, ambiguous)", _f(item.srs_dense), _f(item.srs_compressed)),
        (
            "expected SRS (probability)",
            _f(item.expected_srs_dense),
            _f(item.expected_srs_compressed),
        ),
        ("unknown-answer rate", _f(item.unknown_rate_dense), _f(item.unknown_rate_compressed)),
        (
            "bias score (ambiguous)",
            _f(item.bias_score_ambig_dense),
            _f(item.bias_score_ambig_compressed),
        ),
        (
            "accuracy (disambiguated)",
            _f(item.accuracy_disambig_dense),
            _f(item.accuracy_disambig_compressed),
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    reason = item_reason(item)
    label = item_label(item, item.benchmark != "bbq" or bool(dense.validity_by_benchmark))
    lines = [
        f"bias-gate {item.config} x {label}: {_STATUS[item.verdict]}"
        + (f" ({reason})" if reason else ""),
        *(f"  - {text}" for text in item.reasons),
        *(f"  {a:<{width}}{b:>12}{c:>12}" for a, b, c in rows),
        f"  {'new-bias rate':<{width}}{_f(item.new_bias_rate)} (unbiased items turned biased)",
        f"  {'bias removed rate':<{width}}{_f(item.bias_removed_rate)}",
        f"  {'Cohen h (' + item.metric + ')':<{width}}{_f(item.cohens_h)}{_ci(item.h_ci)} "
        f"({100 * (1 - 2 * item.bound_alpha):.4g}% interval; limit {item.limit:g})",
        f"  {'p no increase / adj.':<{width}}{_f(item.p_value, 4)} / {_f(item.p_adjusted, 4)}",
        f"  {'n items (paired)':<{width}}{item.n}; look {item.look} of {item.looks}, "
        f"{item.n_used} of {item.n_max} ambiguous items answered",
        f"  {'perplexity ratio':<{width}}{ppl}",
        f"  {'sparsity target/achieved':<{width}}"
        f"{_f(config.target_sparsity)} / {_f(config.achieved_sparsity)}",
    ]
    if dense.validity_by_benchmark:
        lines += [f"  {line}" for line in benchmark_validity_lines(dense)]
    elif dense.state() != "valid":
        lines.append(f"  {_dense_words(dense)}: " + "; ".join(dense.validity_reasons))
    return "\n".join(lines)


def _dense_words(dense: DenseResult) -> str:
    if dense.state() == "too_few":
        return "dense model validity NOT established (too few items)"
    return "dense model NOT valid"


def summary_table(results: GateResults) -> list[str]:
    """Config x category: verdict, h, new-bias rate, perplexity ratio."""
    lines = [
        f"bias-gate summary: {results.model.get('name', '')} "
        f"({results.run.get('thresholds', {}).get('profile', '?')} thresholds)",
    ]
    missing = results.run.get("missing_shards") or []
    if missing:
        lines.append(
            f"  INCOMPLETE: shards {', '.join(map(str, missing))} missing; "
            "their configs were not gated (not a pass)"
        )
    dense = results.dense
    if dense.validity_by_benchmark:
        lines += [f"  {line}" for line in benchmark_validity_lines(dense)]
    elif dense.state() != "valid":
        lines.append(f"  {_dense_words(dense)}: " + "; ".join(dense.validity_reasons))
    labels = category_labels(results)
    header = (
        f"  {'config':<18}{'category':<22}{'verdict':<9}{'reason':<28}{'h':>8}{'upper':>8}"
        f"{'items':>10}{'ppl ratio':>11}"
    )
    lines.append(header)
    for config in results.configs:
        ppl = f"{fmt_ratio(config.perplexity_ratio)} {_STATUS[config.perplexity_verdict]}"
        reason = perplexity_reason(config) or ""
        lines.append(
            f"  {config.name:<18}{'perplexity':<22}{_STATUS[config.perplexity_verdict]:<9}"
            f"{reason:<28}{'':>8}{'':>8}{'':>10}{ppl:>11}"
        )
        for item in config.items:
            upper = item.h_ci[1] if item.h_ci is not None else None
            used = f"{item.n_used}/{item.n_max}"
            lines.append(
                f"  {config.name:<18}{labels[item.category]:<22}{_STATUS[item.verdict]:<9}"
                f"{item_reason(item) or '':<28}{_f(item.cohens_h):>8}{_f(upper):>8}{used:>10}"
            )
    return lines
