"""The PASS rule's exact error rate on small categories, by enumerating every table.

For a fixed design with n valid pairs, the paired table (both, dense only, compressed
only, neither) is multinomial; the gate's own statistics
(:meth:`bias_gate.metrics.gated.SRS.look_counts`) decide each of the C(n + 3, 3)
tables, and P(PASS) is the sum of the multinomial probabilities of the tables that
pass. No Monte Carlo error: used by the tests that hold the PASS guarantee at every n
from 1 (tests/simulation/test_small_categories.py) and by
``scripts/exact_pass_size.py`` for the full grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from bias_gate.judge.decision import Design
from bias_gate.judge.simulate import cell_probabilities
from bias_gate.metrics.gated import SRS


def all_tables(n: int) -> np.ndarray:
    """Every (both, dense only, compressed only, neither) with sum n: (tables, 4)."""
    a, b, c = np.meshgrid(np.arange(n + 1), np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = a + b + c <= n
    a, b, c = a[keep], b[keep], c[keep]
    return np.stack([a, b, c, n - a - b - c], axis=1)


@lru_cache(maxsize=256)
def passing_tables(n: int, limit: float, alpha: float) -> np.ndarray:
    """The tables of n pairs on which the fixed design's rule PASSes."""
    tables = all_tables(n)
    a, b, c, d = (tables[:, i].astype(float) for i in range(4))
    look = SRS.look_counts(a, b, c, d, limit)
    level = Design(alpha=alpha).pass_level(1, 1)
    with np.errstate(invalid="ignore"):
        passed = np.asarray(look.pass_p) <= level
    return tables[passed]


def pass_probability(
    n: int, dense_srs: float, agreement: float, h: float, limit: float, alpha: float
) -> float:
    """Exact P(PASS) of the fixed design at n valid pairs for the scenario's cells."""
    tables = passing_tables(n, limit, alpha)
    if len(tables) == 0:
        return 0.0
    cells = np.asarray(cell_probabilities(dense_srs, agreement, h))
    return float(np.sum(sps.multinomial.pmf(tables, n, cells / cells.sum())))


def worst_pass_probability(
    n: int,
    dense_srs: Sequence[float],
    agreements: int,
    limit: float,
    alpha: float,
) -> tuple[float, float, float]:
    """The largest exact P(PASS | h = limit) over the dense SRS given and ``agreements``
    evenly spaced agreements across each one's feasible range (both ends included):
    (probability, dense SRS, agreement)."""
    from bias_gate.judge.simulate import agreement_range

    worst = (0.0, float("nan"), float("nan"))
    for srs in dense_srs:
        low, high = agreement_range(srs, limit)
        for agreement in np.linspace(low, high, agreements):
            chance = pass_probability(n, srs, float(agreement), limit, limit, alpha)
            if chance > worst[0]:
                worst = (chance, srs, float(agreement))
    return worst
