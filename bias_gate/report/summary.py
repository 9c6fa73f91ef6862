"""What every human-readable report says, computed once: statuses, the paradox cases,
the power of each comparison and the dense model's validity, in plain words.

Markdown, HTML and annotations render these; none of them decides anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bias_gate.report.run_info import category_max_h, run_limits
from bias_gate.results import ConfigResult, GateResults, ItemResult, Status

#: Worse statuses first; a config or run takes the worst status of its parts.
SEVERITY: dict[str, int] = {"fail": 2, "warn": 1, "pass": 0}

PARADOX_NAME = "smart-pruning paradox"


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or ``"n/a"`` for None."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_p(value: float | None) -> str:
    """A p-value: 4 decimals, ``<0.0001`` below that, ``n/a`` for None."""
    if value is None:
        return "n/a"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def fmt_ci(ci: tuple[float, float] | None) -> str:
    """A confidence interval as ``[lo, hi]`` (3 decimals) or ``n/a``."""
    return "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def worst(statuses: list[Status | None]) -> Status:
    """The most severe of ``statuses`` (None entries ignored; "pass" when empty)."""
    present = [s for s in statuses if s is not None]
    return max(present, key=lambda s: SEVERITY[s], default="pass")


def config_status(config: ConfigResult) -> Status:
    """The worst of the config's perplexity verdict and its bias verdicts."""
    return worst([config.perplexity_verdict, *(item.verdict for item in config.items)])


def run_status(results: GateResults) -> Status:
    """The worst status over every config of the run."""
    return worst([config_status(config) for config in results.configs])


@dataclass(frozen=True)
class StatusCounts:
    """How many comparisons (bias items and perplexity checks) ended in each status."""

    passed: int
    failed: int
    warned: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.warned


def status_counts(results: GateResults) -> StatusCounts:
    """Counts over every bias item and every perplexity verdict of the run."""
    statuses: list[str] = [item.verdict for item in results.items()]
    statuses += [c.perplexity_verdict for c in results.configs if c.perplexity_verdict]
    return StatusCounts(
        passed=statuses.count("pass"), failed=statuses.count("fail"), warned=statuses.count("warn")
    )


def is_paradox(config: ConfigResult, item: ItemResult) -> bool:
    """True when perplexity passed but this bias comparison failed."""
    return config.perplexity_verdict == "pass" and item.verdict == "fail"


def paradox_cases(results: GateResults) -> list[tuple[ConfigResult, ItemResult]]:
    """Every (config, item) where perplexity passed but bias failed, in run order."""
    return [
        (config, item)
        for config in results.configs
        for item in config.items
        if is_paradox(config, item)
    ]


def failing_configs(results: GateResults) -> list[ConfigResult]:
    """Configs with any failing verdict (perplexity or bias), in run order."""
    return [config for config in results.configs if config_status(config) == "fail"]


def categories(results: GateResults) -> list[str]:
    """Every category of the run, in first-seen order."""
    seen: dict[str, None] = {}
    for item in results.items():
        seen.setdefault(item.category, None)
    return list(seen)


def sparsity_text(config: ConfigResult) -> str:
    """``"target 0.50, achieved 0.498"``-style text, or ``"n/a"`` without sparsity."""
    parts = []
    if config.target_sparsity is not None:
        parts.append(f"target {config.target_sparsity:.2f}")
    if config.achieved_sparsity is not None:
        parts.append(f"achieved {config.achieved_sparsity:.3f}")
    return ", ".join(parts) or "n/a"


def perplexity_text(config: ConfigResult, results: GateResults) -> str:
    """The perplexity check in words: ratio, limit and verdict."""
    limit = run_limits(results).max_perplexity_ratio
    if config.perplexity_ratio is None:
        return "perplexity not measured"
    limit_text = f" (limit {limit:g})" if limit is not None else " (no limit)"
    verdict = config.perplexity_verdict or "not judged"
    return f"perplexity ratio {config.perplexity_ratio:.3f}{limit_text}: {verdict}"


def item_figures(item: ItemResult) -> str:
    """The figures of one comparison on one line (SRS change, h with CI, p, n)."""
    return (
        f"{item.metric} {fmt(item.srs_dense)} -> {fmt(item.srs_compressed)}, "
        f"Cohen's h {fmt(item.cohens_h)} {fmt_ci(item.h_ci)}, "
        f"adjusted p {fmt_p(item.p_adjusted)}, new-bias rate {fmt(item.new_bias_rate)}, "
        f"n={item.n}"
    )


def paradox_sentence(config: ConfigResult, item: ItemResult) -> str:
    """One sentence naming a paradox case for a release manager."""
    ratio = fmt(config.perplexity_ratio)
    return (
        f"{config.name} ({config.method}): perplexity passed (ratio {ratio}) "
        f"but bias on {item.category} failed: {item_figures(item)}"
    )


def power_sentence(item: ItemResult, max_h: float | None) -> str:
    """What a pass of this comparison can and cannot tell, in plain words."""
    if item.n == 0:
        return f"{item.category}: no items could be compared, so this says nothing about bias."
    mdh = item.min_detectable_h
    if mdh is None:
        return (
            f"{item.category}: with {item.n} items the smallest detectable effect is unknown; "
            "treat a pass with caution."
        )
    limit = "" if max_h is None else f" (the limit is {max_h:g})"
    if item.verdict == "fail":
        return (
            f"{item.category}: failed with {item.n} items, where |h| >= {mdh:.2f} was "
            f"detectable{limit}; the amplification found was large enough to be detected."
        )
    if max_h is not None and mdh > max_h:
        return (
            f"{item.category}: with {item.n} items we could only have detected "
            f"|h| >= {mdh:.2f}{limit}; a pass here does not mean no bias."
        )
    return (
        f"{item.category}: with {item.n} items an amplification of |h| >= {mdh:.2f} "
        f"would have been detected{limit}, so a pass here is meaningful."
    )


def power_sentences(results: GateResults) -> list[tuple[ConfigResult, list[str]]]:
    """Per config, one power sentence per category (underpowered ones first)."""
    out = []
    for config in results.configs:
        items = sorted(config.items, key=lambda i: not i.underpowered)
        out.append(
            (config, [power_sentence(i, category_max_h(results, i.category)) for i in items])
        )
    return out


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, inner in value.items():
            out += _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
        return out
    return [(prefix, value)]


def _value_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value)
    return str(value)


def validity_headline(results: GateResults) -> str:
    """Whether the dense model can be judged for bias at all, in one sentence."""
    dense = results.dense
    if dense.informative:
        return (
            "The dense model is informative: it answers the disambiguated questions above "
            "chance and not by letter position, so bias changes can be judged."
        )
    reasons = "; ".join(dense.validity_reasons) or "no reason recorded"
    return (
        "The dense model is NOT informative, so no bias verdict of this run can be "
        f"trusted: {reasons}."
    )


def validity_rows(results: GateResults) -> list[tuple[str, str]]:
    """The dense model's validity diagnostics as (name, text) rows (nested keys dotted)."""
    rows = [(name, _value_text(value)) for name, value in _flatten("", results.dense.validity)]
    if results.dense.perplexity is not None:
        rows.insert(0, ("perplexity", f"{results.dense.perplexity:.3f}"))
    return rows


def failure_text(config: ConfigResult, item: ItemResult) -> str:
    """The reasons and figures of one non-passing comparison, several lines."""
    lines = [f"{config.name} / {item.category}: {item.verdict}"]
    lines += [f"- {reason}" for reason in item.reasons]
    lines += [
        f"{item.metric} dense {fmt(item.srs_dense)}, compressed {fmt(item.srs_compressed)}",
        f"Cohen's h {fmt(item.cohens_h)}, 95% CI {fmt_ci(item.h_ci)}",
        f"p {fmt_p(item.p_value)}, adjusted p {fmt_p(item.p_adjusted)}",
        f"new-bias rate {fmt(item.new_bias_rate)}, n {item.n}, "
        f"minimum detectable h {fmt(item.min_detectable_h)}",
        f"perplexity ratio {fmt(config.perplexity_ratio)} ({config.perplexity_verdict or 'n/a'})",
    ]
    if is_paradox(config, item):
        lines.append(f"This is the {PARADOX_NAME}: perplexity passed, bias failed.")
    return "\n".join(lines)
