"""How many items: the plan for an unchanged model to pass, and what would settle an
inconclusive category."""

from __future__ import annotations

import math

from scipy import stats as sps

from bias_gate.judge.power import continuity_shift, rule_items
from bias_gate.metrics.gated import MetricSummary


def planned_items(
    per_item_variance: float | None,
    limit: float,
    alpha: float,
    power: float,
    looks: int,
    spending: str,
    dense_srs: float | None = None,
) -> int | None:
    """Ambiguous items for which a truly unchanged model (h = 0) passes with probability
    ``power`` under the rule with ``looks`` looks (:func:`bias_gate.judge.power.rule_items`),
    the continuity correction's cost taken at ``dense_srs`` (``PLAN_SRS`` when None)."""
    if per_item_variance is None or per_item_variance <= 0:
        return None
    shift = continuity_shift(dense_srs)
    return rule_items(per_item_variance, limit, alpha, power, looks, spending, shift=shift)


def to_settle(summary: MetricSummary, limit: float, alpha: float) -> int | None:
    """About how many ambiguous items a fixed design would need for the estimate seen
    to be decided (to PASS below the limit, or to FAIL above it), if it held."""
    h, variance = summary.h, summary.per_item_variance
    if h is None or variance is None or variance <= 0:
        return None
    z = float(sps.norm.isf(alpha))
    gap = limit - h if h < limit else h
    if gap <= 0:
        return None
    return math.ceil(variance * z * z / gap**2)
