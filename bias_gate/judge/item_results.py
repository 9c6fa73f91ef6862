"""From one config's paired answers to its item results, with the one adjustment path.

    plans + both models' answers -> bias_gate.judge.looks (look by look) -> bias_gate.judge.verdict
    (validity, perplexity, profile) -> ItemResult per category -> p-values adjusted

The gate (:class:`bias_gate.gate.runner.GateRun`) and ``bias-gate compare`` both judge
through :func:`judge_items`, so a config's items read the same whichever produced the
answers. Every adjusted p-value in the results comes from :func:`adjust`: over a config's
categories (``p_adjusted``, here) and over the whole run (``p_adjusted_run``, once the
run's configs are gathered). Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from bias_gate.judge.looks import AnswerSource, CategoryPlan, item_result, judge_config
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.judge.verdict import judge_bias
from bias_gate.metrics.gated import GatedMetric
from bias_gate.results import DenseResult, ItemResult
from bias_gate.stats.core import Correction, adjust_pvalues


def judge_items(
    config: str,
    plans: Mapping[str, CategoryPlan],
    dense: AnswerSource,
    compressed: AnswerSource,
    *,
    thresholds: ThresholdSet,
    metric: GatedMetric,
    dense_result: DenseResult,
    perplexity_passed: bool | None = None,
    spending: str = "obrien-fleming",
    on_look: Callable[[int, int], None] | None = None,
) -> list[ItemResult]:
    """The item results of config ``config``: every category of ``plans`` judged as one
    family (:func:`bias_gate.judge.looks.judge_config`), each given its verdict against the
    dense model's validity (``dense_result``, over the run and for its category) and
    ``perplexity_passed`` (``None`` where no perplexity limit was checked), then the
    family's p-values adjusted over its categories (``p_adjusted``)."""
    base = thresholds.base
    judgements = judge_config(
        plans,
        dense,
        compressed,
        base=base,
        per_category=thresholds.per_category,
        metric=metric,
        spending=spending,
        on_look=on_look,
    )
    items = []
    for judgement in judgements:
        limits = thresholds.for_category(judgement.category)
        own = dense_result.validity_by_category.get(judgement.category, {})
        outcome = judge_bias(
            judgement,
            limits,
            dense_informative=dense_result.informative and own.get("informative", True),
            validity_reasons=dense_result.validity_reasons + own.get("reasons", []),
            perplexity_passed=perplexity_passed,
        )
        items.append(
            item_result(config, judgement, limits, outcome.verdict, paradox=outcome.paradox)
        )
    adjust(items, base.correction, "p_adjusted")
    return items


def adjust(
    items: Sequence[ItemResult],
    correction: Correction,
    field: Literal["p_adjusted", "p_adjusted_run"],
) -> None:
    """Set ``field`` of each of ``items`` to its "no increase" p-value (``p_value``)
    adjusted over ``items`` (Holm, BH or none: the profile's ``correction``). For
    reading: the decision itself holds each category to its boundary."""
    adjusted = adjust_pvalues([item.p_value for item in items], correction)
    for item, value in zip(items, adjusted, strict=True):
        setattr(item, field, value)
