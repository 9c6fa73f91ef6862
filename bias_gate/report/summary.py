"""What every human-readable report says, computed once: statuses, the paradox cases,
the power of each comparison and the dense model's validity, in plain words.

Markdown, HTML and annotations render these; none of them decides anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Re-exported: the reports print numbers with these (bias_gate.numbers, decision #23).
from bias_gate.numbers import fmt as fmt
from bias_gate.numbers import fmt_ci as fmt_ci
from bias_gate.numbers import fmt_p as fmt_p
from bias_gate.numbers import fmt_ratio as fmt_ratio
from bias_gate.report.benchmarks_view import benchmark_validity, category_labels
from bias_gate.report.reasons import item_reason, verdict_words
from bias_gate.report.run_view import run_limits
from bias_gate.results import NOT_JUDGED, ConfigResult, GateResults, ItemResult, Status

#: Worse statuses first; a config or run takes the worst status of its parts.
SEVERITY: dict[str, int] = {"fail": 2, "warn": 1, "pass": 0}

PARADOX_NAME = "smart-pruning paradox"


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


def missing_shards(results: GateResults) -> list[str]:
    """The shards ("K/N") a merged run lacks (``run["missing_shards"]``); empty when whole."""
    return [str(shard) for shard in results.run.get("missing_shards") or []]


@dataclass(frozen=True)
class Headline:
    """The run's verdict as a report's title shows it: ``word`` (PASS, FAIL, WARN,
    INCOMPLETE or FAIL (INCOMPLETE)) and ``css`` (the banner's class). A run with missing
    shards is never shown as a pass: what was not run was not gated."""

    word: str
    css: str
    status: Status
    incomplete: bool


def headline(results: GateResults) -> Headline:
    """The run's :class:`Headline`."""
    status = run_status(results)
    if not missing_shards(results):
        return Headline(status.upper(), status, status, False)
    if status == "fail":
        return Headline("FAIL (INCOMPLETE)", "fail", status, True)
    return Headline("INCOMPLETE", "incomplete", status, True)


def incomplete_text(results: GateResults) -> str:
    """One sentence on the missing shards (empty when none)."""
    missing = missing_shards(results)
    if not missing:
        return ""
    return (
        f"INCOMPLETE: shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
        "missing; the configs in them were not gated, so this run is not a pass."
    )


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
    """True when a perplexity limit was checked and passed while this comparison failed
    on the effect (not only on churn): decided by the gate (``ItemResult.paradox``)."""
    return item.paradox and config.perplexity_verdict == "pass"


def paradox_cases(results: GateResults) -> list[tuple[ConfigResult, ItemResult]]:
    """Every (config, item) where perplexity passed but bias failed, in run order."""
    return [
        (config, item)
        for config in results.configs
        for item in config.items
        if is_paradox(config, item)
    ]


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
    return f"perplexity ratio {fmt_ratio(config.perplexity_ratio)}{limit_text}: {verdict}"


def item_figures(item: ItemResult) -> str:
    """The figures of one comparison on one line: the gated metric, h with its bounds
    against the limit, the test of no increase, n and where the looks stopped."""
    return (
        f"{item.metric} {fmt(item.value_dense)} -> {fmt(item.value_compressed)}, "
        f"Cohen's h {fmt(item.cohens_h)} {fmt_ci(item.h_ci)} (limit {item.limit:g}), "
        f"p(no increase) {fmt_p(item.p_value)}, n={item.n} "
        f"(look {item.look}/{item.looks}, {item.n_used}/{item.n_max} items)"
    )


def evidence_sentence(item: ItemResult, name: str | None = None) -> str:
    """What the verdict of one comparison rests on, in plain words; never a word the
    verdict contradicts (a validity block, a hook's change and the rule each say so).
    ``name``: the row's name (default its category)."""
    level = f"{100 * (1 - item.bound_alpha):.4g}%"
    reason = item_reason(item)
    label = f"{name or item.category}: {verdict_words(item.verdict, reason)}"
    if item.decision == NOT_JUDGED:
        why = "; ".join(item.reasons) or "no reason recorded"
        return f"{label}: not judged for bias: {why}."
    if item.n == 0:
        return f"{label}: no items could be compared, so this says nothing about bias."
    upper = item.h_ci[1] if item.h_ci is not None else None
    hook = (
        ""
        if item.verdict == _RULE_VERDICT.get(item.decision, item.verdict)
        else (
            f" (the rule said {item.decision}; a pytest_bias_gate_results hook set {item.verdict})"
        )
    )
    if item.decision == "pass":
        return (
            f"{label}{hook}: the upper {level} bound of h, {fmt(upper)}, is at or below the "
            f"limit {item.limit:g}, so an amplification of h >= {item.limit:g} is ruled out "
            f"at that confidence ({item.n} valid pairs of {item.n_used} items)."
        )
    if item.decision == "fail":
        return (
            f"{label}{hook}: h {fmt(item.cohens_h)} against the limit {item.limit:g}, and the "
            f"increase is significant (p {fmt_p(item.p_value)}, {item.n} valid pairs of "
            f"{item.n_used} items)."
        )
    settle = (
        f" About {item.n_to_settle} items would settle it if the estimate held."
        if item.n_to_settle is not None
        else ""
    )
    required = (
        f" An unchanged model needs {item.n_required} items to pass with the planned power."
        if item.n_required is not None
        else ""
    )
    return (
        f"{label}{hook}: inconclusive with {item.n} valid pairs of {item.n_used} items: the "
        f"interval {fmt_ci(item.h_ci)} contains the limit {item.limit:g}.{settle}{required}"
    )


#: The verdict the rule's decision gives by default (a hook may change it).
_RULE_VERDICT: dict[str, str] = {"pass": "pass", "fail": "fail"}


def evidence_sentences(results: GateResults) -> list[tuple[ConfigResult, list[str]]]:
    """Per config, one evidence sentence per category (inconclusive ones first)."""
    out = []
    labels = category_labels(results)
    for config in results.configs:
        items = sorted(config.items, key=lambda i: item_reason(i) is None)
        out.append((config, [evidence_sentence(i, labels[i.category]) for i in items]))
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
    """Whether the dense model can be judged for bias at all, in one sentence (one per
    benchmark in a run of several)."""
    dense = results.dense
    if dense.validity_by_benchmark:
        return " ".join(
            f"On {name} the dense model is {words}"
            + (f": {'; '.join(reasons)}." if reasons else ", so its bias changes can be judged.")
            for name, words, reasons in benchmark_validity(dense)
        )
    reasons = "; ".join(dense.validity_reasons) or "no reason recorded"
    if dense.state() == "too_few":
        return (
            "The dense model's validity is NOT established, so this run judges no bias: "
            f"{reasons}. Too few items is not evidence of failure: its bias items are "
            "inconclusive (too few items)."
        )
    if dense.state() != "valid":
        return (
            "The dense model is NOT valid, so no bias verdict of this run can be trusted: "
            f"{reasons}."
        )
    return (
        "The dense model is valid: it answers the disambiguated questions above chance and "
        "not by letter position, so bias changes can be judged."
    )


def validity_rows(results: GateResults) -> list[tuple[str, str]]:
    """The dense model's validity diagnostics as (name, text) rows (nested keys dotted)."""
    rows = [(name, _value_text(value)) for name, value in _flatten("", results.dense.validity)]
    if results.dense.perplexity is not None:
        rows.insert(0, ("perplexity", f"{results.dense.perplexity:.3f}"))
    return rows


def failure_text(config: ConfigResult, item: ItemResult, name: str | None = None) -> str:
    """The reasons and figures of one non-passing comparison, several lines; ``name``:
    the row's name (default its category)."""
    level = f"{100 * (1 - 2 * item.bound_alpha):.4g}%"
    words = verdict_words(item.verdict, item_reason(item))
    lines = [f"{config.name} / {name or item.category}: {words}"]
    lines += [f"- {reason}" for reason in item.reasons]
    lines += [
        f"{item.metric} dense {fmt(item.value_dense)}, compressed {fmt(item.value_compressed)}",
        f"Cohen's h {fmt(item.cohens_h)}, {level} interval {fmt_ci(item.h_ci)}, "
        f"limit {item.limit:g}",
        f"p(no increase) {fmt_p(item.p_value)}, adjusted {fmt_p(item.p_adjusted)}",
        f"new-bias rate {fmt(item.new_bias_rate)}, net {fmt(item.net_new_bias_rate)}, "
        f"n {item.n} (look {item.look} of {item.looks}, {item.n_used} of {item.n_max} items)",
        f"perplexity ratio {fmt_ratio(config.perplexity_ratio)} "
        f"({config.perplexity_verdict or 'n/a'})",
    ]
    if is_paradox(config, item):
        lines.append(f"This is the {PARADOX_NAME}: perplexity passed, bias failed.")
    return "\n".join(lines)
