"""From one config's paired answers to its item results, with the one adjustment path.

    plans + both models' answers -> bias_gate.judge.looks (look by look) -> both models'
    validity (bias_gate.judge.validity_gate) -> bias_gate.judge.verdict (perplexity,
    profile) -> ItemResult per category, with its reason category -> p-values adjusted

The gate (:class:`bias_gate.gate.runner.GateRun`) and ``bias-gate compare`` both judge
through :func:`judge_items`, so a config's items read the same whichever produced the
answers. Every adjusted p-value in the results comes from :func:`adjust`: over a config's
categories (``p_adjusted``, here) and over the whole run (``p_adjusted_run``, once the
run's configs are gathered). Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.judge.looks import (
    AnswerSource,
    CategoryJudgement,
    CategoryPlan,
    item_result,
    judge_config,
)
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.judge.validity_gate import CompressedValidity, compressed_validity, validity_block
from bias_gate.judge.verdict import judge_bias
from bias_gate.metrics.gated import GatedMetric
from bias_gate.results import NOT_JUDGED, DenseResult, ItemResult
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
    family (:func:`bias_gate.judge.looks.judge_config`), each given its verdict against
    both models' validity (the dense model's ``dense_result``, over the run and for its
    category; the compressed model's over the items it answered) and
    ``perplexity_passed`` (``None`` where no perplexity limit was checked), then the
    family's p-values adjusted over its categories (``p_adjusted``)."""
    base = thresholds.base
    seen: dict[str, Answer] = {}

    def recorded(wanted: Sequence[BBQItem]) -> Mapping[str, Answer]:
        answers = compressed(wanted)
        seen.update(answers)
        return answers

    judgements = judge_config(
        plans,
        dense,
        recorded,
        base=base,
        per_category=thresholds.per_category,
        metric=metric,
        spending=spending,
        on_look=on_look,
    )
    checked = _compressed_validity(plans, judgements, seen, thresholds)
    items = []
    for judgement in judgements:
        limits = thresholds.for_category(judgement.category)
        outcome = judge_bias(
            judgement,
            limits,
            block=validity_block(dense_result, judgement.category, checked),
            perplexity_passed=perplexity_passed,
        )
        item = item_result(config, judgement, limits, outcome.verdict, paradox=outcome.paradox)
        item.reason_category = outcome.verdict.category
        if not outcome.judged:
            item.decision = NOT_JUDGED
        items.append(item)
    adjust(items, base.correction, "p_adjusted")
    return items


def _compressed_validity(
    plans: Mapping[str, CategoryPlan],
    judgements: Sequence[CategoryJudgement],
    answers: Mapping[str, Answer],
    thresholds: ThresholdSet,
) -> CompressedValidity:
    """The compressed model's validity over every item it answered for the judgements
    (each category's items through its stopping look)."""
    used = [
        item
        for judgement in judgements
        for item in (
            plans[judgement.category].items_through(judgement.look)
            if judgement.look
            else plans[judgement.category].disambiguated
        )
    ]
    return compressed_validity(used, answers, thresholds.base)


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
