"""Judge one compression config, look by look, answering only the items it uses.

    plan (categories, stage order) -> each look: answer the stage's items with both
    models -> the gated metric's statistics -> the decision (bias_gate.judge.decision) ->
    stop the categories that are settled -> per category: a :class:`CategoryJudgement`

Used by the gate (answers computed lazily by the models, cached) and by
``bias-gate compare`` (answers read from files), so both judge with the same rule.
Each look spends alpha at the information it observed: the valid pairs it rests on
(:mod:`bias_gate.judge.information`). Nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.judge.category_plan import CategoryPlan, plan_categories
from bias_gate.judge.decision import (
    CategoryRule,
    Design,
    RoundStats,
    decision_name,
    run_design,
)
from bias_gate.judge.information import level_at, realised_fractions
from bias_gate.judge.item_result import item_result
from bias_gate.judge.judgement import CategoryJudgement
from bias_gate.judge.power import unpaired_variance
from bias_gate.judge.sizing import planned_items, to_settle
from bias_gate.judge.thresholds import Thresholds
from bias_gate.metrics.comparison import compare_category
from bias_gate.metrics.flips import extract_flips
from bias_gate.metrics.gated import SRS, GatedMetric, LookStats, MetricSummary

__all__ = [
    "AnswerSource",
    "CategoryJudgement",
    "CategoryPlan",
    "design_of",
    "item_result",
    "judge_config",
    "plan_categories",
    "planned_items",
]

#: Answers to the given items (computed or read; at least those items).
AnswerSource = Callable[[Sequence[BBQItem]], Mapping[str, Answer]]


def design_of(limits: Thresholds, spending: str) -> Design:
    """The config-wide :class:`Design` of a threshold profile."""
    return Design(
        alpha=limits.alpha,
        correction=limits.correction,
        fail_rule=limits.fail_rule,
        spending=spending,  # type: ignore[arg-type]
    )


def _net_new_bias(values_dense: np.ndarray, values_compressed: np.ndarray) -> float:
    _, b, c, d = (int(x) for x in SRS.counts(values_dense, values_compressed))
    return (c - b) / (c + d) if c + d else math.nan


class _Run:
    """The answers seen so far and each category's statistics per look."""

    def __init__(
        self,
        plans: Mapping[str, CategoryPlan],
        rules: Sequence[CategoryRule],
        metric: GatedMetric,
        dense: AnswerSource,
        compressed: AnswerSource,
    ) -> None:
        self.plans, self.rules, self.metric = plans, rules, metric
        self.categories = list(plans)
        self.dense, self.compressed = dense, compressed
        self.seen_dense: dict[str, Answer] = {}
        self.seen_compressed: dict[str, Answer] = {}
        self.last_stats: dict[str, LookStats] = {}
        self.valid_pairs: dict[str, list[int]] = {c: [] for c in self.categories}

    def answer_through(self, round_index: int, running: np.ndarray) -> None:
        needed = [
            item
            for index, category in enumerate(self.categories)
            if running[0, index] and self.plans[category].looks >= round_index
            for item in self.plans[category].items_through(round_index)
        ]
        todo = [item for item in needed if item.key not in self.seen_compressed]
        if todo:
            self.seen_dense.update(self.dense(todo))
            self.seen_compressed.update(self.compressed(todo))

    def stats_for_round(self, round_index: int, running: np.ndarray) -> RoundStats:
        self.answer_through(round_index, running)
        looks: list[LookStats] = []
        net = np.full((1, len(self.categories)), np.nan)
        for index, category in enumerate(self.categories):
            plan = self.plans[category]
            if not running[0, index] or plan.looks < round_index:
                looks.append(_undefined())
                continue
            items = plan.ambiguous_through(round_index)
            values = self.metric.pairs(items, self.seen_dense, self.seen_compressed)
            look = self.metric.look(
                values.dense[None, :], values.compressed[None, :], self.rules[index].limit
            )
            self.last_stats[category] = look
            self.valid_pairs[category].append(int(np.asarray(look.n).reshape(-1)[0]))
            hard = SRS().pairs(items, self.seen_dense, self.seen_compressed)
            net[0, index] = _net_new_bias(hard.dense, hard.compressed)
            looks.append(look)
        return RoundStats(looks, net)


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
        CategoryRule(
            c,
            limits[c].max_cohens_h,
            plans[c].looks,
            limits[c].max_net_new_bias_rate,
            planned=len(plans[c].ambiguous),
        )
        for c in categories
    ]
    run = _Run(plans, rules, metric, dense, compressed)
    most = max((plan.looks for plan in plans.values()), default=0)

    def stats_for_round(round_index: int, running: np.ndarray) -> RoundStats:
        if on_look is not None:
            on_look(round_index, most)
        return run.stats_for_round(round_index, running)

    state, stopped = run_design(design, rules, 1, stats_for_round)
    return [
        _judgement(run, design, rules, index, int(state[0, index]), int(stopped[0, index]), base)
        for index in range(len(categories))
    ]


def _levels(
    design: Design, run: _Run, category: str, look: int, family: float
) -> tuple[float, float]:
    """The nominal PASS level and the FAIL family's first level at the deciding look, at
    the information fractions the looks observed (the planned ones where the look was
    no test: no new valid pair)."""
    plan = run.plans[category]
    fractions = realised_fractions(
        run.valid_pairs[category][:look], len(plan.ambiguous), plan.looks
    )
    if fractions is None:
        return design.pass_level(look, plan.looks), design.fail_level(look, plan.looks, family)
    return (
        level_at(design.alpha, fractions, design.spending),
        level_at(family, fractions, design.spending),
    )


def _judgement(
    run: _Run,
    design: Design,
    rules: Sequence[CategoryRule],
    index: int,
    code: int,
    stopped: int,
    base: Thresholds,
) -> CategoryJudgement:
    category = run.categories[index]
    plan = run.plans[category]
    limits = rules[index]
    look = max(stopped, 1) if plan.looks else 0
    used = plan.items_through(look) if plan.looks else plan.disambiguated
    ambiguous = plan.ambiguous_through(look) if plan.looks else ()
    limit = limits.limit
    # The bounds at the deciding look's nominal PASS level (the repeated confidence
    # bound; alpha with one look), so PASS <=> upper <= limit, and under fail_rule
    # bound (same alpha, same spending) FAIL needs lower > limit.
    pass_level, fail_level = (
        _levels(design, run, category, look, _first_holm_level(design, rules))
        if plan.looks
        else (math.nan, math.nan)
    )
    values = run.metric.pairs(ambiguous, run.seen_dense, run.seen_compressed)
    level = pass_level if plan.looks else base.alpha
    summary = run.metric.summary(values.dense, values.compressed, limit, level)
    hard = SRS().pairs(ambiguous, run.seen_dense, run.seen_compressed)
    net = _net_new_bias(hard.dense, hard.compressed) if hard.keys else math.nan
    dense_answers = _complete(used, run.seen_dense, run.dense)
    compressed_answers = _complete(used, run.seen_compressed, run.compressed)
    decision = decision_name(code) if plan.looks else "inconclusive"
    spending = design.spending
    return CategoryJudgement(
        category=category,
        decision=decision,
        look=look,
        looks=plan.looks,
        n_used=len(ambiguous),
        n_max=len(plan.ambiguous),
        limit=limit,
        summary=summary,
        stats=run.last_stats.get(category, _undefined()),
        pass_level=pass_level,
        fail_level=fail_level,
        net_new_bias_rate=net if math.isfinite(net) else None,
        n_required=planned_items(
            unpaired_variance(limit), limit, base.alpha, base.power, plan.looks, spending
        ),
        n_required_observed=_observed_plan(summary, limit, base, plan.looks, spending),
        n_to_settle=to_settle(summary, limit, base.alpha) if decision == "inconclusive" else None,
        comparison=compare_category(category, used, dense_answers, compressed_answers),
        flips=extract_flips(used, dense_answers, compressed_answers),
    )


def _observed_plan(
    summary: MetricSummary, limit: float, base: Thresholds, looks: int, spending: str
) -> int | None:
    """The plan from the observed per-item variance, the correction's cost at the
    observed dense SRS."""
    variance, dense_srs = summary.per_item_variance, summary.value_dense
    return planned_items(variance, limit, base.alpha, base.power, looks, spending, dense_srs)


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
