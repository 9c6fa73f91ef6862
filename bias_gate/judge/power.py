"""How many ambiguous items the rule needs: the power of the PASS decision itself.

The question a gate's owner asks before a run is "how many items per category, so that a
compressed model that did not change passes?". Under the rule (bias_gate.judge.decision), a
category passes when the one-sided test of "h >= limit" rejects. Its statistic,
(limit - h^) / sqrt(V / n) with V = n Var(h^) the per-item variance, has mean
(limit - h) sqrt(n / V) when the true effect is h, so for a fixed design

    n = V (z_{1-alpha} + z_power)^2 / (limit - h)^2,

and with K looks the n at which the group-sequential crossing probability of the PASS
boundaries (bias_gate.stats.sequential) reaches ``power``. V is 2 assuming no pairing benefit
(the unpaired-conservative plan, :func:`unpaired_variance`: true whenever the two
models' answers are not negatively correlated) or 2 (1 - r) with the pairs' correlation r, which
:func:`variance_from_agreement` computes from the dense SRS and the agreement between
the models (the score test's variance at the limit for that population).
The alpha is the PASS side's, the one the decision uses (no multiplicity correction:
see bias_gate.judge.decision). Simulation tests
(tests/simulation/test_decision_rates.py) check that a model with h = 0 passes
with at least ``power`` at the recommended n.
"""

from __future__ import annotations

import math
from functools import lru_cache

from scipy import stats as sps

from bias_gate.stats import paired_score
from bias_gate.stats.sequential import (
    Spending,
    boundaries,
    crossing_probabilities,
    equal_fractions,
    stage_sizes,
)


def _check(limit: float, alpha: float, power: float, true_h: float) -> None:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha!r}, {power!r}")
    if true_h >= limit:
        raise ValueError(f"the true h ({true_h}) must be below the limit ({limit})")


#: The dense SRS at which plans that do not know it take the continuity correction's
#: cost (:func:`continuity_shift`): it covers every dense SRS in [0.1, 0.9].
PLAN_SRS = 0.1


def continuity_shift(dense_srs: float | None = None) -> float:
    """How far the PASS test's continuity correction moves h^ at h = 0, times n:
    half an item on each rate, (1/2)(phi'(p) + phi'(p)) = 2 c / sqrt(p (1 - p)) with
    c = ``paired_score.CONTINUITY`` (the plan's margin is limit - h - shift / n).
    At ``PLAN_SRS`` when the dense SRS is not known; clipped to [0.01, 0.99]."""
    p = PLAN_SRS if dense_srs is None else min(max(dense_srs, 0.01), 0.99)
    return 2.0 * paired_score.CONTINUITY / math.sqrt(p * (1.0 - p))


def _items(per_item_variance: float, margin: float, z: float, shift: float) -> int:
    """The n with (margin - shift / n) sqrt(n / V) = z, rounded up (a quadratic in
    sqrt n)."""
    root_v = math.sqrt(per_item_variance)
    x = (z * root_v + math.sqrt(z * z * per_item_variance + 4.0 * margin * shift)) / (2.0 * margin)
    return max(2, math.ceil(x * x - 1e-9))


def fixed_items(
    per_item_variance: float,
    limit: float,
    alpha: float,
    power: float,
    true_h: float = 0.0,
    shift: float = 0.0,
) -> int:
    """n = V (z_{1-alpha} + z_power)^2 / (limit - true_h)^2, rounded up; with a
    continuity ``shift`` (:func:`continuity_shift`) the n at which the margin left,
    limit - true_h - shift / n, gives that power."""
    _check(limit, alpha, power, true_h)
    z = float(sps.norm.isf(alpha) + sps.norm.isf(1.0 - power))
    return _items(per_item_variance, limit - true_h, z, shift)


def rule_items(
    per_item_variance: float,
    limit: float,
    alpha: float,
    power: float,
    looks: int = 1,
    spending: Spending | str = "obrien-fleming",
    true_h: float = 0.0,
    shift: float = 0.0,
) -> int:
    """Ambiguous items per category for P(PASS | true h) >= power under the rule with
    ``looks`` looks (fewer where a stage would be under 50 items, as the gate plans):
    the smallest n from the fixed design's up at which :func:`power_at` reaches
    ``power`` (searched by doubling and bisection, then confirmed by stepping up)."""
    n = fixed_items(per_item_variance, limit, alpha, power, true_h, shift)

    def enough(count: int) -> bool:
        reached = power_at(count, per_item_variance, limit, alpha, looks, spending, true_h, shift)
        return reached >= power

    if len(stage_sizes(n, looks)) <= 1 and enough(n):
        return n
    high = n
    while not enough(high):
        high *= 2
    low = n - 1 if high == n else high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def power_at(
    n: int,
    per_item_variance: float,
    limit: float,
    alpha: float,
    looks: int = 1,
    spending: Spending | str = "obrien-fleming",
    true_h: float = 0.0,
    shift: float = 0.0,
) -> float:
    """P(PASS | true h) at n ambiguous items (normal approximation of the rule, with the
    continuity ``shift``: the PASS statistic's mean falls by shift / sqrt(n_k V) at a
    look with n_k items)."""
    drift = (limit - true_h) * math.sqrt(n / per_item_variance)
    offset = shift / math.sqrt(n * per_item_variance)
    count = len(stage_sizes(n, looks))
    fractions = equal_fractions(max(count, 1))
    bounds = boundaries(alpha, fractions, spending)  # type: ignore[arg-type]
    return float(sum(crossing_probabilities(bounds, fractions, drift, offset)))


def variance_from_agreement(dense_srs: float, agreement: float, limit: float) -> float:
    """The per-item variance the score test uses at the limit, for a population in which
    the dense SRS is ``dense_srs``, compressed equals dense in expectation (h = 0) and the
    two agree on the biased / not-biased status of ``agreement`` of the items."""
    from bias_gate.judge.simulate import cell_probabilities

    both, first, second, neither = cell_probabilities(dense_srs, agreement, 0.0)
    scale = 1e6  # the population as a large table: the constrained MLE is its limit
    return float(
        paired_score.score_variance(
            both * scale, first * scale, second * scale, neither * scale, limit
        )
    )


@lru_cache(maxsize=64)
def unpaired_variance(limit: float) -> float:
    """The per-item variance to plan with when nothing is known of the pairing: the
    score test's variance at the limit for two models answering independently
    (agreement p^2 + (1 - p)^2), at the dense SRS where it is largest (a grid over
    (0, 1)). Slightly above 2, the Wald value, because the constrained fit at the limit
    pulls the correlation below 0; planning with it keeps the promised power whenever
    the two models' answers are not negatively correlated."""
    from bias_gate.judge.simulate import cell_probabilities

    grid = [i / 40 for i in range(1, 40) if _feasible(i / 40, limit)]
    cells = [cell_probabilities(p, p * p + (1 - p) * (1 - p), 0.0) for p in grid]
    scale = 1e6
    columns = [[row[i] * scale for row in cells] for i in range(4)]
    both, first, second, neither = columns
    return float(max(paired_score.score_variance(both, first, second, neither, limit)))


def _feasible(dense_srs: float, limit: float) -> bool:
    return math.asin(math.sqrt(dense_srs)) + limit / 2.0 <= math.pi / 2.0


def variance_from_correlation(correlation: float) -> float:
    """2 (1 - r): the per-item variance of h^ for pairs correlated r."""
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1), got {correlation!r}")
    return 2.0 * (1.0 - correlation)
