"""One category's judgement: the decision and everything it rests on."""

from __future__ import annotations

from dataclasses import dataclass

from bias_gate.judge.decision import Decision
from bias_gate.metrics.comparison import Comparison
from bias_gate.metrics.flips import Flips
from bias_gate.metrics.gated import LookStats, MetricSummary


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
