"""The FAIL family: a config's "no increase" tests, corrected at every look.

Every category counts in the family (m = all categories, also those already stopped);
those rejected (FAIL) at earlier looks pass their level on: Holm's step-down and
Benjamini-Hochberg's step-up over the looks (Ye et al. 2013). Each category's threshold
at family level L is its look's nominal level for a test at L
(:func:`bias_gate.judge.decision.round_levels`), per replicate.
"""

from __future__ import annotations

import numpy as np


def family_alphas(alpha: float, correction: str, count: int) -> tuple[float, ...]:
    """The family levels whose thresholds the correction needs: alpha/j (Holm) or
    j alpha/m (BH) for j = 1..m, or alpha alone (no correction)."""
    if correction == "none" or count == 0:
        return (alpha,)
    if correction == "holm":
        return tuple(alpha / j for j in range(1, count + 1))
    return tuple(alpha * j / count for j in range(1, count + 1))


def family_rejects(
    correction: str, p: np.ndarray, table: np.ndarray, failed_before: np.ndarray
) -> np.ndarray:
    """Which candidates the family rejects at this look. ``p``: (replicates,
    categories), inf for non-candidates; ``table``: (replicates, categories, levels) the
    thresholds at the levels of :func:`family_alphas`; ``failed_before``: rejections at
    earlier looks per replicate."""
    replicates, count = p.shape
    if correction == "none" or count == 0:
        return p <= table[:, :, 0]
    m = count
    rows = np.arange(replicates)
    rejected = np.zeros_like(p, dtype=bool)
    if correction == "holm":
        remaining = m - failed_before  # hypotheses not yet rejected
        index = np.clip(remaining - 1, 0, m - 1)
        first = np.take_along_axis(table, index[:, None, None].repeat(count, 1), axis=2)[..., 0]
        order = np.argsort(p / first, axis=1, kind="stable")
        still = np.ones(replicates, dtype=bool)
        for step in range(count):
            category = order[:, step]
            level_index = np.clip(remaining - step - 1, 0, m - 1)
            ok = still & (p[rows, category] <= table[rows, category, level_index])
            rejected[rows[ok], category[ok]] = True
            still = ok
        return rejected
    order = np.argsort(p, axis=1, kind="stable")
    best = np.full(replicates, -1)
    for step in range(count):
        category = order[:, step]
        level_index = np.clip(failed_before + step, 0, m - 1)
        ok = p[rows, category] <= table[rows, category, level_index]
        best = np.where(ok, step, best)
    for step in range(count):
        category = order[:, step]
        take = step <= best
        rejected[rows[take], category[take]] = True
    return rejected
