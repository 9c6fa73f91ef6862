"""The report's view of one judged category (:class:`bias_gate.results.ItemResult`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bias_gate.judge.judgement import CategoryJudgement
from bias_gate.judge.thresholds import Thresholds
from bias_gate.results import ItemResult, Verdict


def _scalar(value: np.ndarray) -> float | None:
    number = float(np.asarray(value).reshape(-1)[0])
    return number if math.isfinite(number) else None


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
        net_new_bias_rate=judgement.net_new_bias_rate,
        max_net_new_bias_rate=limits.max_net_new_bias_rate,
        **_comparison_fields(judgement),
        reasons=list(verdict.reasons),
        transitions=judgement.comparison.transitions.to_json(),
        paradox=paradox,
        flips=judgement.flips,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _comparison_fields(judgement: CategoryJudgement) -> dict[str, Any]:
    """The item's fields that describe the two models on the items used (the
    comparison beside the decision)."""
    comparison = judgement.comparison
    dense, compressed = comparison.dense, comparison.compressed
    noise = comparison.dense_seed_noise
    return {
        "srs_dense": comparison.srs_dense,
        "srs_compressed": comparison.srs_compressed,
        "expected_srs_dense": comparison.expected_srs_dense,
        "expected_srs_compressed": comparison.expected_srs_compressed,
        "unknown_rate_dense": dense.unknown_rate,
        "unknown_rate_compressed": compressed.unknown_rate,
        "bias_score_ambig_dense": dense.bias_score_ambig,
        "bias_score_ambig_compressed": compressed.bias_score_ambig,
        "bias_score_disambig_dense": dense.bias_score_disambig,
        "bias_score_disambig_compressed": compressed.bias_score_disambig,
        "accuracy_disambig_dense": dense.accuracy_disambig,
        "accuracy_disambig_compressed": compressed.accuracy_disambig,
        "new_bias_rate": comparison.new_bias_rate,
        "bias_removed_rate": comparison.bias_removed_rate,
        "p_chi2_unpaired": comparison.p_chi2_unpaired,
        "srs_study_dense": dense.srs_study,
        "srs_study_compressed": compressed.srs_study,
        "dense_noise_new_bias_rate": noise.new_bias_rate if noise else None,
        "dense_noise_flip_rate": noise.flip_rate if noise else None,
    }
