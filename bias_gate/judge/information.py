"""The looks' information fractions as observed, and the nominal levels they give.

A look's information is the number of valid pairs it rests on (both models answered
readably), not the items planned: unreadable answers shrink it, and the shares at the
looks can be far from k/K. The looks therefore spend alpha at the **realised**
fractions (Lan & DeMets 1983: the spending function evaluated at the information
actually observed, the boundary of look k computed from t_1..t_k alone):

    t_k = (valid pairs at look k) / (items planned for the category),

except at the last planned look, where t_K = 1 (the rest of alpha is spent whatever was
observed). A look that adds no valid pair to the previous one is not a test (level 0)
and spends nothing. Fractions before the last are floored to 1/100 so that similar
histories share a cached boundary: a look then spends alpha(t') for a t' at most 0.01
below its t (less, never more, than its share), and the correlations the recursion uses
differ from the true sqrt(t_j / t_k) by under 1% of each fraction; a simulation that
runs thousands of histories through this code stays affordable, and the tests below
hold the error at alpha with it.

Why this keeps each side's error at most alpha for any realised fractions: the
increments of the score statistics are, asymptotically, those of a Brownian motion in
the observed information, whose correlations sqrt(t_j / t_k) are what the recursion
uses; forcing t_K = 1 when fewer pairs arrived overstates the last look's new
information, which lowers the computed correlation with the earlier looks and so
(Slepian's inequality) over-states the crossing probability: conservative. Checked by
simulation through the gate's rule with realised fractions (0.1, 0.2, 0.6, 1) and with
70% unreadable compressed answers (tests/simulation/test_small_categories.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from bias_gate.stats.sequential import Spending, boundaries_so_far, nominal_levels

#: Fractions are floored to this resolution (shared cache entries).
RESOLUTION = 100
#: Relative slack on nominal levels, so that a p-value equal to a level (e.g. alpha in a
#: fixed design, recovered from its normal quantile) counts as at the level.
SLACK = 1e-9


def realised_fractions(
    valid_pairs: Sequence[int], planned: int, looks: int
) -> tuple[float, ...] | None:
    """The fractions of the looks that were tests, through the current one (the last of
    ``valid_pairs``, cumulative counts per look); None when the current look is no test
    (it adds no valid pair, or has none)."""
    current = len(valid_pairs)
    kept: list[float] = []
    for index, count in enumerate(valid_pairs, start=1):
        if index == looks:
            t = 1.0
        elif planned <= 0:
            t = 0.0
        else:
            t = min(math.floor(count / planned * RESOLUTION), RESOLUTION - 1) / RESOLUTION
        grew = count > (valid_pairs[index - 2] if index > 1 else 0)
        if t > (kept[-1] if kept else 0.0) and grew:
            kept.append(t)
        elif index == current:
            return None
    return tuple(kept) if kept else None


@lru_cache(maxsize=65536)
def level_at(alpha: float, fractions: tuple[float, ...], spending: Spending) -> float:
    """The nominal one-sided level of the last of ``fractions`` (a test at family level
    ``alpha``); alpha itself for one look at t = 1."""
    if fractions == (1.0,):
        return alpha * (1 + SLACK)
    return nominal_levels(boundaries_so_far(alpha, fractions, spending))[-1] * (1 + SLACK)


def level_table(
    valid_pairs: np.ndarray,
    planned: int,
    looks: int,
    alphas: Sequence[float],
    spending: Spending,
) -> np.ndarray:
    """Nominal levels at the current look for every replicate: ``valid_pairs`` is
    (replicates, looks so far), the result (replicates, len(alphas)); 0 where the
    current look is no test. Replicates with the same history share one computation."""
    counts = np.asarray(valid_pairs, dtype=np.int64)
    rows, inverse = np.unique(counts, axis=0, return_inverse=True)
    table = np.zeros((len(rows), len(alphas)))
    for index, row in enumerate(rows):
        fractions = realised_fractions([int(x) for x in row], planned, looks)
        if fractions is not None:
            table[index] = [level_at(alpha, fractions, spending) for alpha in alphas]
    return table[np.asarray(inverse).reshape(-1)]
