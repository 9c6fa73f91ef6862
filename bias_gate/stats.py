"""Statistics of the gate, one function each: effect size, paired intervals and tests,
multiplicity corrections, power, and the reduction of several seeds to one value per item.

Conventions: proportions and p-values are fractions in [0, 1]; tests are two-sided;
"first" is the dense model and "second" the compressed one, so a positive Cohen's h means
the second proportion is larger (amplification). Library functions are used wherever they
exist (scipy, statsmodels); what is written by hand is tested against them or against a
published value (tests/test_stats.py). The formulas are collected in docs/statistics.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

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
    """Wald interval h +- z * sqrt(Var(h)) with :func:`paired_h_variance`; ``None`` at n = 0.

    Not clipped to [-pi, pi] (it cannot leave it for n >= 2)."""
    variance = paired_h_variance(table)
    if variance is None or table.p_first is None or table.p_second is None:
        return None
    h = cohens_h(table.p_first, table.p_second)
    half = _normal_quantile(confidence) * math.sqrt(variance)
    return (h - half, h + half)


def paired_mean_h_variance(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Delta-method variance of h = phi(mean(second)) - phi(mean(first)) for per-item values
    in [0, 1] (e.g. the probability of the biased option), paired by item.

    Var(h) = [phi'(m1)^2 s1^2 + phi'(m2)^2 s2^2 - 2 phi'(m1) phi'(m2) s12] / n, with the
    population (ddof = 0) variances s1^2, s2^2 and covariance s12 of the values. For 0/1
    values this equals :func:`paired_h_variance` without the 0.5 correction. A mean at 0
    or 1 has its slope evaluated at the mean clipped to [1/(2n), 1 - 1/(2n)].
    ``None`` when n = 0."""
    x = np.asarray(first, dtype=float)
    y = np.asarray(second, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired sequences differ in length: {x.size} vs {y.size}")
    n = x.size
    if n == 0:
        return None
    low, high = 0.5 / n, 1.0 - 0.5 / n
    g1 = _arcsine_slope(min(max(float(x.mean()), low), high))
    g2 = _arcsine_slope(min(max(float(y.mean()), low), high))
    cov = np.cov(np.vstack([x, y]), ddof=0) if n > 1 else np.zeros((2, 2))
    variance = (g1**2 * cov[0, 0] + g2**2 * cov[1, 1] - 2 * g1 * g2 * cov[0, 1]) / n
    return max(float(variance), 0.0)


def paired_mean_h_ci_delta(
    first: Sequence[float], second: Sequence[float], confidence: float = 0.95
) -> Interval | None:
    """Wald interval for h on two paired means (:func:`paired_mean_h_variance`)."""
    variance = paired_mean_h_variance(first, second)
    if variance is None:
        return None
    h = cohens_h(_mean(first), _mean(second))
    half = _normal_quantile(confidence) * math.sqrt(variance)
    return (h - half, h + half)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def paired_bootstrap_ci(
    first: Sequence[float],
    second: Sequence[float],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Interval | None:
    """Percentile bootstrap interval resampling ITEMS (pairs stay together), seeded.

    ``statistic(x, y)`` maps two (B, n) arrays of resampled values to B statistics; the
    default is Cohen's h of the row means. ``None`` when n = 0."""
    x = np.asarray(first, dtype=float)
    y = np.asarray(second, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired sequences differ in length: {x.size} vs {y.size}")
    if x.size == 0:
        return None
    _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    stat = statistic or _h_of_row_means
    chunks = []
    for start in range(0, n_boot, 256):
        size = min(256, n_boot - start)
        index = rng.integers(0, x.size, size=(size, x.size))
        chunks.append(stat(x[index], y[index]))
    values = np.concatenate(chunks)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return (float(low), float(high))


def _h_of_row_means(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    m1 = np.clip(x.mean(axis=1), 0.0, 1.0)
    m2 = np.clip(y.mean(axis=1), 0.0, 1.0)
    return 2.0 * np.arcsin(np.sqrt(m2)) - 2.0 * np.arcsin(np.sqrt(m1))


# ------------------------------------------------------------------------------ paired tests


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


def paired_t_p(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Two-sided paired t-test of mean(second - first) = 0 (``scipy.stats.ttest_rel``).
    1.0 when every difference is zero; ``None`` when n < 2."""
    x = np.asarray(first, dtype=float)
    y = np.asarray(second, dtype=float)
    if x.size < 2:
        return None
    if np.all(x == y):
        return 1.0
    return float(stats.ttest_rel(y, x).pvalue)


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

#: statsmodels ``multipletests`` method per correction name (``None``: no correction).
CORRECTIONS: dict[str, str | None] = {"holm": "holm", "bh": "fdr_bh", "none": None}


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
    adjusted = multipletests(values, method=library_method)[1]
    for i, p in zip(present, adjusted, strict=True):
        result[i] = float(p)
    return result


# ----------------------------------------------------------------------------------- power


def _check_design(alpha: float, power: float) -> None:
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha!r}, {power!r}")


def required_n_unpaired(h: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Items PER GROUP for a two-sided two-sample z-test on arcsine-transformed
    proportions to detect |h| (statsmodels ``NormalIndPower``, ratio 1), rounded up.
    h = 0.2, alpha = 0.05, power = 0.8 -> 393."""
    _check_design(alpha, power)
    if h == 0:
        raise ValueError("h must be non-zero")
    n = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1.0)
    return math.ceil(float(n) - 1e-9)


def min_detectable_h_unpaired(n: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest |h| detected with ``power`` by the two-sample test with n items per group
    (statsmodels ``NormalIndPower``); ``None`` when n < 2."""
    _check_design(alpha, power)
    if n < 2:
        return None
    return float(
        NormalIndPower().solve_power(effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=1)
    )


def _correlation_scale(correlation: float) -> float:
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1), got {correlation!r}")
    return math.sqrt(1.0 - correlation)


def required_n_paired_correlation(
    h: float, correlation: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Paired ITEMS for the paired Wald test on h (the test behind
    :func:`paired_h_ci_delta`), whose variance is 2 (1 - r) / n: the two-sample variance
    2 / n scaled by (1 - r). So it is ``NormalIndPower`` at effect |h| / sqrt(1 - r):
    n_paired ~= n_unpaired_per_group * (1 - r). Rounded up."""
    return required_n_unpaired(abs(h) / _correlation_scale(correlation), alpha, power)


def min_detectable_h_paired_correlation(
    n: int, correlation: float, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """Smallest |h| the paired Wald test detects at n paired items and correlation r:
    min_detectable_h_unpaired(n) * sqrt(1 - r); ``None`` when n < 2."""
    unpaired = min_detectable_h_unpaired(n, alpha, power)
    return None if unpaired is None else unpaired * _correlation_scale(correlation)


def risk_difference_for_h(h: float, baseline: float | None = None) -> float:
    """p2 - p1 for Cohen's h: with ``baseline`` p1 given, p2 = sin^2(asin(sqrt p1) + h/2);
    without, the pair centred on 1/2, where p2 - p1 = sin(h / 2) (the largest difference
    any pair with this h has, so the most favourable case for a McNemar test)."""
    if baseline is None:
        return math.sin(h / 2.0)
    angle = math.asin(math.sqrt(baseline)) + h / 2.0
    if not 0.0 <= angle <= math.pi / 2:
        raise ValueError(f"h = {h} from baseline {baseline} leaves [0, 1]")
    return math.sin(angle) ** 2 - baseline


def h_for_risk_difference(delta: float, baseline: float | None = None) -> float:
    """Inverse of :func:`risk_difference_for_h`: h = 2 asin(delta) for the centred pair,
    else cohens_h(baseline, baseline + delta)."""
    if baseline is None:
        return 2.0 * math.asin(delta)
    return cohens_h(baseline, baseline + delta)


def _check_discordance(delta: float, discordance: float) -> None:
    if not 0.0 < discordance <= 1.0:
        raise ValueError(f"discordance must be in (0, 1], got {discordance!r}")
    if abs(delta) >= discordance:
        raise ValueError(
            f"|p2 - p1| = {abs(delta):.4f} must be below the discordance {discordance}"
        )


def mcnemar_power(n: int, delta: float, discordance: float, alpha: float = 0.05) -> float:
    """Approximate power of the two-sided McNemar test (Connor 1987, normal approximation)
    with n pairs, difference delta = p01 - p10 and discordance psi = p01 + p10:
    Phi((|delta| sqrt(n) - z_{1-alpha/2} sqrt(psi)) / sqrt(psi - delta^2))."""
    _check_discordance(delta, discordance)
    z_alpha = float(stats.norm.ppf(1.0 - alpha / 2.0))
    numerator = abs(delta) * math.sqrt(n) - z_alpha * math.sqrt(discordance)
    return float(stats.norm.cdf(numerator / math.sqrt(discordance - delta**2)))


def required_n_mcnemar(
    delta: float, discordance: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Pairs for the McNemar test (Connor 1987):
    n = [z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - delta^2)]^2 / delta^2, rounded up."""
    _check_design(alpha, power)
    _check_discordance(delta, discordance)
    if delta == 0:
        raise ValueError("delta must be non-zero")
    z_alpha = float(stats.norm.ppf(1.0 - alpha / 2.0))
    z_beta = float(stats.norm.ppf(power))
    root = z_alpha * math.sqrt(discordance) + z_beta * math.sqrt(discordance - delta**2)
    return math.ceil(root**2 / delta**2 - 1e-9)


def min_detectable_delta_mcnemar(
    n: int, discordance: float, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """Smallest |p2 - p1| the McNemar test detects with ``power`` at n pairs and
    discordance psi (:func:`mcnemar_power` solved for delta); ``None`` when even a
    difference equal to psi is not detectable or n < 1."""
    _check_design(alpha, power)
    if n < 1:
        return None
    high = discordance * (1 - 1e-9)
    if mcnemar_power(n, high, discordance, alpha) < power:
        return None
    return float(
        optimize.brentq(
            lambda d: mcnemar_power(n, d, discordance, alpha) - power, 1e-12, high, xtol=1e-12
        )
    )


def min_detectable_h_mcnemar(
    n: int,
    discordance: float,
    alpha: float = 0.05,
    power: float = 0.8,
    baseline: float | None = None,
) -> float | None:
    """:func:`min_detectable_delta_mcnemar` expressed as Cohen's h
    (:func:`h_for_risk_difference`, centred pair unless ``baseline`` is given)."""
    delta = min_detectable_delta_mcnemar(n, discordance, alpha, power)
    return None if delta is None else h_for_risk_difference(delta, baseline)


def required_n_mcnemar_for_h(
    h: float,
    discordance: float,
    alpha: float = 0.05,
    power: float = 0.8,
    baseline: float | None = None,
) -> int:
    """:func:`required_n_mcnemar` with delta from h (:func:`risk_difference_for_h`)."""
    return required_n_mcnemar(risk_difference_for_h(h, baseline), discordance, alpha, power)


# -------------------------------------------------------------------- several seeds per item


def majority_vote(seed_choices: Sequence[int | None]) -> int | None:
    """The per-item HARD value from several seeds: the option chosen by the most valid
    seeds; ``None`` when no seed is valid or the top count is tied."""
    counts = Counter(c for c in seed_choices if c is not None).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def seed_shares(seed_choices: Sequence[int | None]) -> tuple[float, float, float] | None:
    """The per-item SOFT value from several seeds: the share of valid seeds choosing each
    of the three options; ``None`` when no seed is valid."""
    valid = [c for c in seed_choices if c is not None]
    if not valid:
        return None
    return (
        valid.count(0) / len(valid),
        valid.count(1) / len(valid),
        valid.count(2) / len(valid),
    )
