"""Statistics of the gate, one function each: effect size, paired intervals and tests,
multiplicity corrections, and the reduction of several seeds to one value per item.
The decision's own tests live in :mod:`bias_gate.stats.paired_score` (the score test for h),
:mod:`bias_gate.metrics.gated` and :mod:`bias_gate.judge.power` (how many items the rule needs).

Conventions: proportions and p-values are fractions in [0, 1]; tests are two-sided
unless named one-sided;
"first" is the dense model and "second" the compressed one, so a positive Cohen's h means
the second proportion is larger (amplification). Library functions are used wherever they
exist (scipy, statsmodels); what is written by hand is tested against them or against a
published value (tests/unit/stats/test_stats.py). The formulas are collected in docs/statistics.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

Interval = tuple[float, float]

# ----------------------------------------------------------------------------- effect size


def arcsine_transform(p: float) -> float:
    """phi(p) = 2 * asin(sqrt(p)), in radians, for a proportion p in [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a proportion must be in [0, 1], got {p!r}")
    return 2.0 * math.asin(math.sqrt(p))


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)), in [-pi, pi]; positive when p2 > p1.

    (statsmodels' ``proportion_effectsize(prop1, prop2)`` is the same with the sign
    reversed: ``cohens_h(p1, p2) == proportion_effectsize(p2, p1)``.)"""
    return arcsine_transform(p2) - arcsine_transform(p1)


def _arcsine_slope(p: float) -> float:
    """d phi / dp = 1 / sqrt(p (1 - p)) for p strictly inside (0, 1)."""
    return 1.0 / math.sqrt(p * (1.0 - p))


# ------------------------------------------------------------------------ paired 2x2 table


@dataclass(frozen=True)
class PairedTable:
    """Counts of paired binary outcomes (e.g. "biased") for the same items.

    ``both``: 1 under first and second; ``first_only``: 1 under first, 0 under second;
    ``second_only``: 0 then 1; ``neither``: 0 under both."""

    both: int
    first_only: int
    second_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.first_only + self.second_only + self.neither

    @property
    def discordant(self) -> int:
        return self.first_only + self.second_only

    @property
    def p_first(self) -> float | None:
        """Share of items with outcome 1 under the first condition (``None`` when n = 0)."""
        return (self.both + self.first_only) / self.n if self.n else None

    @property
    def p_second(self) -> float | None:
        return (self.both + self.second_only) / self.n if self.n else None

    def as_array(self) -> list[list[int]]:
        """[[both, first_only], [second_only, neither]]: rows = first, columns = second
        (1 then 0), the layout statsmodels' ``mcnemar`` expects."""
        return [[self.both, self.first_only], [self.second_only, self.neither]]


def paired_table(first: Sequence[bool], second: Sequence[bool]) -> PairedTable:
    """The :class:`PairedTable` of two equally long sequences of per-item outcomes."""
    if len(first) != len(second):
        raise ValueError(f"paired sequences differ in length: {len(first)} vs {len(second)}")
    pairs = Counter(zip((bool(x) for x in first), (bool(y) for y in second), strict=True))
    return PairedTable(
        both=pairs[(True, True)],
        first_only=pairs[(True, False)],
        second_only=pairs[(False, True)],
        neither=pairs[(False, False)],
    )


def phi_coefficient(table: PairedTable) -> float | None:
    """Pearson correlation of the paired binary outcomes (phi), or ``None`` when one
    margin is constant (a proportion at 0 or 1) and the correlation is undefined."""
    n = table.n
    p1, p2 = table.p_first, table.p_second
    if p1 is None or p2 is None or p1 in (0.0, 1.0) or p2 in (0.0, 1.0):
        return None
    p11 = table.both / n
    return (p11 - p1 * p2) / math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))


def _phi_of_counts(a: float, b: float, c: float, d: float) -> float:
    """phi of a 2x2 table given as (possibly fractional) counts."""
    return (a * d - b * c) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))


def paired_h_variance(table: PairedTable) -> float | None:
    """Delta-method variance of h = phi(p2) - phi(p1) from one sample of paired items.

    With phi'(p) = 1 / sqrt(p(1-p)), Var(p_i) = p_i(1-p_i)/n and
    Cov(p1, p2) = (p11 - p1 p2)/n (the within-item covariance), the delta method gives

        Var(h) = phi'(p1)^2 Var(p1) + phi'(p2)^2 Var(p2) - 2 phi'(p1) phi'(p2) Cov(p1, p2)
               = 2 (1 - r) / n,

    r being the phi coefficient of the pairs. When r is undefined (a proportion at 0 or 1)
    or there are no discordant pairs (the interval would collapse to a point), r is taken
    from the table with 0.5 added to every cell (Haldane-Anscombe), so the variance stays
    positive and finite. ``None`` when n = 0."""
    n = table.n
    if n == 0:
        return None
    r = phi_coefficient(table)
    if r is None or table.discordant == 0:
        r = _phi_of_counts(
            table.both + 0.5, table.first_only + 0.5, table.second_only + 0.5, table.neither + 0.5
        )
    return 2.0 * (1.0 - r) / n


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _normal_quantile(confidence: float) -> float:
    """z such that P(|Z| <= z) = confidence."""
    _check_confidence(confidence)
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def paired_h_ci_delta(table: PairedTable, confidence: float = 0.95) -> Interval | None:
    """Wald interval h +- z * sqrt(Var(h)) with :func:`paired_h_variance`, clipped to
    [-pi, pi] (the range of h); ``None`` at n = 0. The gate does not decide on it: it is
    anti-conservative when few flips go one way (see :mod:`bias_gate.stats.paired_score`)."""
    variance = paired_h_variance(table)
    if variance is None or table.p_first is None or table.p_second is None:
        return None
    h = cohens_h(table.p_first, table.p_second)
    half = _normal_quantile(confidence) * math.sqrt(variance)
    return (max(h - half, -math.pi), min(h + half, math.pi))


# ------------------------------------------------------------------------------ paired tests


def mcnemar_increase_p(first_only: ArrayLike, second_only: ArrayLike) -> np.ndarray:
    """Exact ONE-SIDED McNemar p-value of "no increase" (the gate's FAIL test):
    P(X >= c) for X ~ Binomial(b + c, 1/2), c = ``second_only`` (biased under compressed
    only), b = ``first_only``; ``scipy.stats.binomtest(c, b + c, 0.5,
    alternative="greater")``, elementwise. 1 with no discordant pairs. Exact, so its size
    never exceeds alpha (the mid-p's conditional size can)."""
    b = np.asarray(first_only)
    c = np.asarray(second_only)
    m = b + c
    return np.where(m > 0, stats.binom.sf(c - 1, m, 0.5), 1.0)


def mcnemar_exact_p(first_only: int, second_only: int) -> float:
    """Exact McNemar p-value: two-sided binomial test of the discordant pairs against 1/2
    (``scipy.stats.binomtest``); 1.0 when there are no discordant pairs."""
    discordant = first_only + second_only
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(first_only, discordant, 0.5).pvalue)


def mcnemar_midp(first_only: int, second_only: int) -> float:
    """Mid-p McNemar (Fagerland, Lydersen & Laake 2013): with k = min(b, c), m = b + c and
    X ~ Binomial(m, 1/2), p = 2 * [P(X <= k) - P(X = k) / 2] = 2 P(X < k) + P(X = k),
    capped at 1; 1.0 when b = c (including m = 0).
    Less conservative than the exact test and close to nominal size."""
    discordant = first_only + second_only
    if first_only == second_only:  # includes m = 0; exactly 1, spared the rounding
        return 1.0
    k = min(first_only, second_only)
    p = 2.0 * stats.binom.cdf(k - 1, discordant, 0.5) + stats.binom.pmf(k, discordant, 0.5)
    return float(min(1.0, p))


def chi2_unpaired_p(
    successes1: int, n1: int, successes2: int, n2: int, correction: bool = True
) -> float | None:
    """THE STUDY'S TEST, kept for comparison: Pearson chi-square on the 2x2 table
    [[s1, n1 - s1], [s2, n2 - s2]] treating the two proportions as independent samples
    (``scipy.stats.chi2_contingency``, Yates' correction by default as in scipy).
    It ignores the pairing by item (and, over seeds, counts correlated answers as
    independent), so its p-values are not valid for this design. ``None`` when a row or
    column of the table is empty (the test is undefined)."""
    table = np.array([[successes1, n1 - successes1], [successes2, n2 - successes2]])
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return None
    return float(stats.chi2_contingency(table, correction=correction).pvalue)


# ---------------------------------------------------------------------------- multiplicity

Correction = Literal["holm", "bh", "none"]

#: statsmodels ``multipletests`` method per correction name (``None``: no correction);
#: computed here with the same formulas (statsmodels 0.15's Holm runs ``gc.collect()`` on
#: every call, 0.1-0.2 s in a large process; tests check the two agree).
CORRECTIONS: dict[str, str | None] = {"holm": "holm", "bh": "fdr_bh", "none": None}


def _holm(values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: max over j <= i of (m - j + 1) p_(j), at most 1."""
    order = np.argsort(values, kind="stable")
    m = len(values)
    adjusted = np.minimum(np.maximum.accumulate(values[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _bh(values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values: min over j >= i of m p_(j) / j, at most 1."""
    order = np.argsort(values, kind="stable")
    m = len(values)
    raw = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def adjust_pvalues(pvalues: Sequence[float | None], method: Correction) -> list[float | None]:
    """Adjusted p-values (Holm: family-wise error; BH: false discovery rate) over the
    non-``None`` entries, in the input order; ``None`` entries stay ``None`` and do not
    count in the family."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; known: {', '.join(CORRECTIONS)}")
    present = [i for i, p in enumerate(pvalues) if p is not None]
    result: list[float | None] = list(pvalues)
    library_method = CORRECTIONS[method]
    if not present or library_method is None:
        return result
    values = np.array([pvalues[i] for i in present], dtype=float)
    adjusted = _holm(values) if method == "holm" else _bh(values)
    for i, p in zip(present, adjusted, strict=True):
        result[i] = float(p)
    return result
