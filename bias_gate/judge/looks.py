"""Judge one compression config, look by look, answering only the items it uses.

    plan (categories, stage order) -> each look: answer the stage's items with both
    models -> the gated metric's statistics -> the decision (bias_gate.judge.decision) ->
    stop the categories that are settled -> per category: a :class:`CategoryJudgement`

Used by the gate (answers computed lazily by the models, cached) and by
``bias-gate compare`` (answers read from files), so both judge with the same rule.
Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.judge.decision import (
    CategoryRule,
    Decision,
    Design,
    RoundStats,
    decision_name,
    run_design,
)
from bias_gate.judge.power import rule_items, unpaired_variance
from bias_gate.judge.thresholds import Thresholds
from bias_gate.metrics.comparison import Comparison, compare_category
from bias_gate.metrics.flips import Flips, extract_flips
from bias_gate.metrics.gated import SRS, GatedMetric, LookStats, MetricSummary
from bias_gate.results import ItemResult, Verdict
from bias_gate.stats.sequential import stage_sizes

#: Answers to the given items (computed or read; at least those items).
AnswerSource = Callable[[Sequence[BBQItem]], Mapping[str, Answer]]


@dataclass(frozen=True)
class CategoryPlan:
    """One category's items in the order they are answered, and where the looks fall.

    ``ambiguous`` and ``disambiguated`` are in a seeded random order, so every stage is a
    random part of the sample; ``stages`` are the cumulative numbers of ambiguous items
    at each look. The disambiguated items are answered in proportion (they enter the
    compressed model's accuracy and disambiguated bias score, not the decision)."""

    category: str
    ambiguous: tuple[BBQItem, ...]
    disambiguated: tuple[BBQItem, ...]
    stages: tuple[int, ...]

    @property
    def looks(self) -> int:
        return len(self.stages)

    def ambiguous_through(self, look: int) -> tuple[BBQItem, ...]:
        return self.ambiguous[: self.stages[look - 1]] if self.stages else ()

    def items_through(self, look: int) -> tuple[BBQItem, ...]:
        """Every item answered by ``look`` (1-based): ambiguous and disambiguated."""
        if not self.stages:
            return self.disambiguated
        share = self.stages[look - 1] / len(self.ambiguous)
        disambig = self.disambiguated[: math.ceil(share * len(self.disambiguated) - 1e-9)]
        return self.ambiguous_through(look) + disambig


def _stage_order(seed: int, items: Sequence[BBQItem]) -> tuple[BBQItem, ...]:
    return tuple(
        sorted(items, key=lambda i: hashlib.sha256(f"{seed}|stage|{i.key}".encode()).hexdigest())
    )


def plan_categories(
    items: Sequence[BBQItem], categories: Sequence[str], looks: int, seed: int
) -> dict[str, CategoryPlan]:
    """The plan of each category: its items in seeded stage order, and its looks
    (:func:`bias_gate.stats.sequential.stage_sizes` over the ambiguous items)."""
    plans: dict[str, CategoryPlan] = {}
    for category in categories:
        own = [item for item in items if item.category == category]
        ambiguous = _stage_order(seed, [i for i in own if i.is_ambiguous])
        disambiguated = _stage_order(seed, [i for i in own if not i.is_ambiguous])
        plans[category] = CategoryPlan(
            category, ambiguous, disambiguated, stage_sizes(len(ambiguous), looks)
        )
    return plans


@dataclass(frozen=True)
class CategoryJudgement:
    """The decision on one category and everything it rests on.

    ``look`` of ``looks``: where it stopped; ``n_used`` of ``n_max``: ambiguous items
    answered of those planned. ``summary``: the gated metric's figures on the items
    used; ``stats``: the decision's statistics at the stopping look; ``pass_level`` /
    ``fail_level``: the nominal one-sided levels the PASS p-value and the family's FAIL
    p-value were held to there (``fail_level`` at the family's first Holm step).
    ``n_required``: ambiguous
    items a fixed design needs for an unchanged model to pass with the profile's power
    assuming no pairing benefit (set before seeing data); ``n_required_observed``: the
    same from the observed per-item variance. ``n_to_settle``: for an inconclusive
    category, about how many ambiguous items would settle it if the estimate held.
    ``comparison``: the full dense-vs-compressed comparison on the items used;
    ``flips``: the items behind its flip rates (:mod:`bias_gate.metrics.flips`)."""

    category: str
    decision: Decision
    look: int
    looks: int
    n_used: int
    n_max: int
    limit: float
    summary: MetricSummary
    stats: LookStats
    pass_level: float
    fail_level: float
    net_new_bias_rate: float | None
    n_required: int | None
    n_required_observed: int | None
    n_to_settle: int | None
    comparison: Comparison
    flips: Flips


def design_of(limits: Thresholds, spending: str) -> Design:
    """The config-wide :class:`Design` of a threshold profile."""
    return Design(
        alpha=limits.alpha,
        correction=limits.correction,
        fail_rule=limits.fail_rule,
        spending=spending,  # type: ignore[arg-type]
    )


def _scalar(value: np.ndarray) -> float | None:
    number = float(np.asarray(value).reshape(-1)[0])
    return number if math.isfinite(number) else None


def _net_new_bias(values_dense: np.ndarray, values_compressed: np.ndarray) -> float:
    _, b, c, d = (int(x) for x in SRS.counts(values_dense, values_compressed))
    return (c - b) / (c + d) if c + d else math.nan


def judge_config(
    plans: Mapping[str, CategoryPlan],
    dense: AnswerSource,
    compressed: AnswerSource,
    *,
    base: Thresholds,
    per_category: Mapping[str, Thresholds],
    metric: GatedMetric,
    spending: str = "obrien-fleming",
    on_look: Callable[[int, int], None] | None = None,
) -> list[CategoryJudgement]:
    """Judge every category of ``plans`` as one family, looking at each stage in turn
    and asking ``dense`` and ``compressed`` only for the items of categories still
    running. ``base`` holds the config-wide settings (alpha, correction, fail rule,
    metric); ``per_category`` each category's limits. ``on_look(k, K)`` is told when look
    k of at most K starts (live progress)."""
    categories = list(plans)
    design = design_of(base, spending)
    limits = {c: per_category.get(c, base) for c in categories}
    rules = [
        CategoryRule(c, limits[c].max_cohens_h, plans[c].looks, limits[c].max_net_new_bias_rate)
        for c in categories
    ]
    seen_dense: dict[str, Answer] = {}
    seen_compressed: dict[str, Answer] = {}
    last_stats: dict[str, LookStats] = {}

    def answers_through(round_index: int, running: np.ndarray) -> None:
        needed = [
            item
            for index, category in enumerate(categories)
            if running[0, index] and plans[category].looks >= round_index
            for item in plans[category].items_through(round_index)
        ]
        todo = [item for item in needed if item.key not in seen_compressed]
        if todo:
            seen_dense.update(dense(todo))
            seen_compressed.update(compressed(todo))

    def stats_for_round(round_index: int, running: np.ndarray) -> RoundStats:
        if on_look is not None:
            on_look(round_index, max((plan.looks for plan in plans.values()), default=0))
        answers_through(round_index, running)
        looks: list[LookStats] = []
        net = np.full((1, len(categories)), np.nan)
        for index, category in enumerate(categories):
            plan = plans[category]
            if not running[0, index] or plan.looks < round_index:
                looks.append(_undefined())
                continue
            values = metric.pairs(plan.ambiguous_through(round_index), seen_dense, seen_compressed)
            look = metric.look(
                values.dense[None, :], values.compressed[None, :], rules[index].limit
            )
            last_stats[category] = look
            hard = SRS().pairs(plan.ambiguous_through(round_index), seen_dense, seen_compressed)
            net[0, index] = _net_new_bias(hard.dense, hard.compressed)
            looks.append(look)
        return RoundStats(looks, net)

    state, stopped = run_design(design, rules, 1, stats_for_round)
    judgements = []
    for index, category in enumerate(categories):
        plan = plans[category]
        look = max(int(stopped[0, index]), 1) if plan.looks else 0
        used = plan.items_through(look) if plan.looks else plan.disambiguated
        ambiguous = plan.ambiguous_through(look) if plan.looks else ()
        category_limits = limits[category]
        values = metric.pairs(ambiguous, seen_dense, seen_compressed)
        # The bounds at the deciding look's nominal PASS level (the repeated confidence
        # bound; alpha with one look), so PASS <=> upper <= limit, and under fail_rule
        # bound (same alpha, same spending) FAIL needs lower > limit.
        level = design.pass_level(look, plan.looks) if plan.looks else base.alpha
        summary = metric.summary(
            values.dense, values.compressed, category_limits.max_cohens_h, level
        )
        hard = SRS().pairs(ambiguous, seen_dense, seen_compressed)
        net = _net_new_bias(hard.dense, hard.compressed) if hard.keys else math.nan
        dense_answers = _complete(used, seen_dense, dense)
        compressed_answers = _complete(used, seen_compressed, compressed)
        comparison = compare_category(category, used, dense_answers, compressed_answers)
        decision = decision_name(state[0, index]) if plan.looks else "inconclusive"
        judgements.append(
            CategoryJudgement(
                category=category,
                decision=decision,
                look=look,
                looks=plan.looks,
                n_used=len(ambiguous),
                n_max=len(plan.ambiguous),
                limit=category_limits.max_cohens_h,
                summary=summary,
                stats=last_stats.get(category, _undefined()),
                pass_level=design.pass_level(look, plan.looks) if plan.looks else math.nan,
                fail_level=design.fail_level(look, plan.looks, _first_holm_level(design, rules))
                if plan.looks
                else math.nan,
                net_new_bias_rate=net if math.isfinite(net) else None,
                n_required=planned_items(
                    unpaired_variance(category_limits.max_cohens_h),
                    category_limits.max_cohens_h,
                    base.alpha,
                    base.power,
                    plan.looks,
                    spending,
                ),
                n_required_observed=planned_items(
                    summary.per_item_variance,
                    category_limits.max_cohens_h,
                    base.alpha,
                    base.power,
                    plan.looks,
                    spending,
                ),
                n_to_settle=_to_settle(summary, category_limits, base)
                if decision == "inconclusive"
                else None,
                comparison=comparison,
                flips=extract_flips(used, dense_answers, compressed_answers),
            )
        )
    return judgements


def _complete(
    items: Sequence[BBQItem], seen: Mapping[str, Answer], source: AnswerSource
) -> Mapping[str, Answer]:
    missing = [item for item in items if item.key not in seen]
    if not missing:
        return seen
    return {**seen, **source(missing)}


def _first_holm_level(design: Design, rules: Sequence[CategoryRule]) -> float:
    if design.correction == "none":
        return design.alpha
    return design.alpha / max(len(rules), 1)


def _undefined() -> LookStats:
    nan = np.full(1, np.nan)
    return LookStats(n=np.zeros(1), h=nan, pass_p=nan, increase_p=nan, exceed_p=nan)


def planned_items(
    per_item_variance: float | None,
    limit: float,
    alpha: float,
    power: float,
    looks: int,
    spending: str,
) -> int | None:
    """Ambiguous items for which a truly unchanged model (h = 0) passes with probability
    ``power`` under the rule with ``looks`` looks (:func:`bias_gate.judge.power.rule_items`)."""
    if per_item_variance is None or per_item_variance <= 0:
        return None
    return rule_items(per_item_variance, limit, alpha, power, looks, spending)


def _to_settle(summary: MetricSummary, limits: Thresholds, base: Thresholds) -> int | None:
    """About how many ambiguous items a fixed design would need for the estimate seen
    to be decided (to PASS below the limit, or to FAIL above it), if it held."""
    h, variance = summary.h, summary.per_item_variance
    if h is None or variance is None or variance <= 0:
        return None
    z = float(sps.norm.isf(base.alpha))
    gap = limits.max_cohens_h - h if h < limits.max_cohens_h else h
    if gap <= 0:
        return None
    return math.ceil(variance * z * z / gap**2)


def item_result(
    config: str,
    judgement: CategoryJudgement,
    limits: Thresholds,
    verdict: Verdict,
    *,
    paradox: bool = False,
) -> ItemResult:
    """The report's view of one judged category (:class:`bias_gate.results.ItemResult`)."""
    summary = judgement.summary
    comparison = judgement.comparison
    dense, compressed = comparison.dense, comparison.compressed
    noise = comparison.dense_seed_noise
    bounds = (
        (summary.lower, summary.upper)
        if summary.lower is not None and summary.upper is not None
        else None
    )
    return ItemResult(
        config=config,
        category=judgement.category,
        metric=summary.metric,
        decision=judgement.decision,
        verdict=verdict.status,
        n=summary.n,
        n_used=judgement.n_used,
        n_max=judgement.n_max,
        look=judgement.look,
        looks=judgement.looks,
        limit=judgement.limit,
        alpha=limits.alpha,
        value_dense=summary.value_dense,
        value_compressed=summary.value_compressed,
        cohens_h=summary.h,
        h_ci=bounds,
        p_pass=_scalar(judgement.stats.pass_p),
        p_value=_scalar(judgement.stats.increase_p),
        pass_level=_finite(judgement.pass_level),
        fail_level=_finite(judgement.fail_level),
        p_adjusted=None,  # set over the config's items (bias_gate.judge.item_results.adjust)
        p_adjusted_run=None,
        n_required=judgement.n_required,
        n_required_observed=judgement.n_required_observed,
        n_to_settle=judgement.n_to_settle,
        srs_dense=comparison.srs_dense,
        srs_compressed=comparison.srs_compressed,
        expected_srs_dense=comparison.expected_srs_dense,
        expected_srs_compressed=comparison.expected_srs_compressed,
        unknown_rate_dense=dense.unknown_rate,
        unknown_rate_compressed=compressed.unknown_rate,
        bias_score_ambig_dense=dense.bias_score_ambig,
        bias_score_ambig_compressed=compressed.bias_score_ambig,
        bias_score_disambig_dense=dense.bias_score_disambig,
        bias_score_disambig_compressed=compressed.bias_score_disambig,
        accuracy_disambig_dense=dense.accuracy_disambig,
        accuracy_disambig_compressed=compressed.accuracy_disambig,
        new_bias_rate=comparison.new_bias_rate,
        bias_removed_rate=comparison.bias_removed_rate,
        net_new_bias_rate=judgement.net_new_bias_rate,
        max_net_new_bias_rate=limits.max_net_new_bias_rate,
        p_chi2_unpaired=comparison.p_chi2_unpaired,
        reasons=list(verdict.reasons),
        transitions=comparison.transitions.to_json(),
        paradox=paradox,
        srs_study_dense=dense.srs_study,
        srs_study_compressed=compressed.srs_study,
        dense_noise_new_bias_rate=noise.new_bias_rate if noise else None,
        dense_noise_flip_rate=noise.flip_rate if noise else None,
        flips=judgement.flips,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
