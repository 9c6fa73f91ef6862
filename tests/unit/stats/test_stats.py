"""Each statistic against a hand computation, scipy/statsmodels, a published value or a
seeded simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_effectsize

from bias_gate.stats import core as stats

# ----------------------------------------------------------------------------- Cohen's h


def test_cohens_h_by_hand_and_against_statsmodels() -> None:
    # 2 asin(sqrt(.5)) - 2 asin(sqrt(.25)) = pi/2 - pi/3 = pi/6
    assert stats.cohens_h(0.25, 0.5) == pytest.approx(math.pi / 6)
    assert stats.cohens_h(0.5, 0.25) == pytest.approx(-math.pi / 6)
    assert stats.cohens_h(0.3, 0.3) == 0.0
    assert stats.cohens_h(0.0, 1.0) == pytest.approx(math.pi)
    for p1, p2 in [(0.1, 0.4), (0.55, 0.2), (0.0, 0.3), (0.9, 1.0)]:
        assert stats.cohens_h(p1, p2) == pytest.approx(proportion_effectsize(p2, p1))


def test_arcsine_transform_rejects_non_proportions() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.arcsine_transform(1.2)


# ------------------------------------------------------------------------ paired 2x2 table

TABLE = stats.PairedTable(both=30, first_only=10, second_only=20, neither=40)
FIRST = [1] * 40 + [0] * 60
SECOND = [1] * 30 + [0] * 10 + [1] * 20 + [0] * 40


def test_paired_table_from_sequences() -> None:
    assert stats.paired_table(FIRST, SECOND) == TABLE
    assert (TABLE.n, TABLE.discordant, TABLE.p_first, TABLE.p_second) == (100, 30, 0.4, 0.5)
    assert TABLE.as_array() == [[30, 10], [20, 40]]
    with pytest.raises(ValueError, match="length"):
        stats.paired_table([1, 0], [1])
    empty = stats.PairedTable(0, 0, 0, 0)
    assert empty.p_first is None and stats.paired_h_variance(empty) is None
    assert stats.paired_h_ci_delta(empty) is None


def test_phi_matches_numpy_correlation() -> None:
    assert stats.phi_coefficient(TABLE) == pytest.approx(np.corrcoef(FIRST, SECOND)[0, 1])
    assert stats.phi_coefficient(stats.PairedTable(0, 0, 5, 5)) is None  # p1 = 0


def test_paired_h_variance_by_hand() -> None:
    # p1 = .4, p2 = .5, p11 = .3: r = (.3 - .2) / sqrt(.24 * .25); Var = 2 (1 - r) / n
    r = 0.1 / math.sqrt(0.24 * 0.25)
    assert stats.paired_h_variance(TABLE) == pytest.approx(2 * (1 - r) / 100)
    low, high = stats.paired_h_ci_delta(TABLE)  # type: ignore[misc]
    h = stats.cohens_h(0.4, 0.5)
    assert (low + high) / 2 == pytest.approx(h)
    assert (high - low) / 2 == pytest.approx(1.959964 * math.sqrt(2 * (1 - r) / 100), rel=1e-6)


def test_paired_h_variance_equals_numeric_multinomial_delta_method() -> None:
    """Independent check: gradient of h over the four cell shares (finite differences)
    times the multinomial covariance (diag(pi) - pi pi^T) / n."""
    for table in [TABLE, stats.PairedTable(5, 12, 3, 80), stats.PairedTable(50, 2, 30, 18)]:
        n = table.n
        cells = np.array([table.both, table.first_only, table.second_only, table.neither]) / n

        def h_of(c: np.ndarray) -> float:
            return stats.cohens_h(c[0] + c[1], c[0] + c[2])

        eps = 1e-7
        grad = np.array(
            [(h_of(cells + eps * e) - h_of(cells - eps * e)) / (2 * eps) for e in np.eye(4)]
        )
        covariance = (np.diag(cells) - np.outer(cells, cells)) / n
        assert stats.paired_h_variance(table) == pytest.approx(grad @ covariance @ grad, rel=1e-5)


def test_paired_h_variance_at_the_boundaries_stays_positive_and_finite() -> None:
    for table in [
        stats.PairedTable(0, 0, 4, 96),  # p1 = 0
        stats.PairedTable(0, 0, 0, 100),  # both 0
        stats.PairedTable(100, 0, 0, 0),  # both 1
        stats.PairedTable(30, 0, 0, 70),  # no discordant pairs
    ]:
        variance = stats.paired_h_variance(table)
        assert variance is not None and 0 < variance < 1 and math.isfinite(variance)
        # the corrected variance is the formula on the table with 0.5 added to each cell
        a, b, c, d = (
            x + 0.5 for x in (table.both, table.first_only, table.second_only, table.neither)
        )
        r = (a * d - b * c) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
        assert variance == pytest.approx(2 * (1 - r) / table.n)


def test_the_wald_bound_is_anti_conservative_where_the_score_bound_holds() -> None:
    """Why the gate does not decide on the Wald interval: true h = 0.2 (the limit), all
    flips toward the bias, n = 100. The Wald upper 95% bound falls below the limit far
    more than 5% of the time; the score test's (bias_gate.stats.paired_score) does not."""
    from bias_gate.stats import paired_score

    p1 = 0.2
    p2 = math.sin(math.asin(math.sqrt(p1)) + 0.1) ** 2
    cells = [p1, 0.0, p2 - p1, 1 - p2]  # both, dense only (none), compressed only, neither
    draws = np.random.default_rng(5).multinomial(100, cells, size=4000)
    z = sps.norm.isf(0.05)
    wald = np.array(
        [
            stats.paired_h_ci_delta(stats.PairedTable(*row), confidence=0.90)[1]  # type: ignore[index]
            for row in draws
        ]
    )
    score = paired_score.score_z(*draws.T, 0.2)
    assert (wald <= 0.2).mean() > 0.08
    assert (score <= -z).mean() <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 4000)


def test_paired_h_ci_coverage_by_simulation() -> None:
    """2000 seeded paired samples of n = 150 with p1 = .35, p2 = .45, correlated:
    the 95% delta-method interval covers the true h 95% +- 2% of the time."""
    rng = np.random.default_rng(20260)
    cells = [0.25, 0.10, 0.20, 0.45]  # both, first_only, second_only, neither
    true_h = stats.cohens_h(0.35, 0.45)
    draws = rng.multinomial(150, cells, size=2000)
    covered = 0
    for a, b, c, d in draws:
        low, high = stats.paired_h_ci_delta(stats.PairedTable(a, b, c, d))  # type: ignore[misc]
        covered += low <= true_h <= high
    assert 0.93 <= covered / 2000 <= 0.97


# ------------------------------------------------------------------------------ McNemar


def test_mcnemar_published_example() -> None:
    """Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, example with
    b = 1, c = 7 discordant pairs: exact p = 0.070, mid-p = 0.039."""
    assert stats.mcnemar_exact_p(1, 7) == pytest.approx(18 / 256)  # 0.0703
    assert stats.mcnemar_midp(1, 7) == pytest.approx(10 / 256)  # 0.0391
    assert round(stats.mcnemar_exact_p(1, 7), 3) == 0.070
    assert round(stats.mcnemar_midp(1, 7), 3) == 0.039


@pytest.mark.parametrize("b, c", [(0, 0), (0, 3), (1, 7), (5, 5), (12, 4), (30, 45), (3, 60)])
def test_mcnemar_against_statsmodels_and_binomial(b: int, c: int) -> None:
    table = [[17, b], [c, 23]]
    assert stats.mcnemar_exact_p(b, c) == pytest.approx(mcnemar(table, exact=True).pvalue)
    m, k = b + c, min(b, c)
    if m:
        by_hand = 2 * sum(math.comb(m, i) for i in range(k)) / 2**m + math.comb(m, k) / 2**m
        assert stats.mcnemar_midp(b, c) == pytest.approx(min(1.0, by_hand))
        assert stats.mcnemar_midp(b, c) <= stats.mcnemar_exact_p(b, c)
    else:
        assert stats.mcnemar_midp(b, c) == 1.0


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 5), (3, 9), (12, 7), (40, 61)])
def test_one_sided_mcnemar_against_scipy_binomtest(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else sps.binomtest(c, b + c, 0.5, alternative="greater").pvalue
    assert float(stats.mcnemar_increase_p(b, c)) == pytest.approx(expected, rel=1e-12)


def test_null_table_gives_p_one() -> None:
    assert stats.mcnemar_exact_p(6, 6) == 1.0
    assert stats.mcnemar_midp(6, 6) == 1.0


def test_study_chi_square_by_hand_and_scipy() -> None:
    # [[30, 70], [45, 55]]: X^2 = n (ad - bc)^2 / (r1 r2 c1 c2) = 4.8 without correction
    p = stats.chi2_unpaired_p(30, 100, 45, 100, correction=False)
    assert p == pytest.approx(sps.chi2.sf(4.8, 1))
    expected = sps.chi2_contingency([[30, 70], [45, 55]]).pvalue
    assert stats.chi2_unpaired_p(30, 100, 45, 100) == pytest.approx(expected)
    assert stats.chi2_unpaired_p(0, 50, 0, 50) is None  # empty column: undefined


# ----------------------------------------------------------------------------- multiplicity


def test_holm_and_bh_by_hand() -> None:
    assert stats.adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert stats.adjust_pvalues([0.01, 0.04, 0.03], "bh") == pytest.approx([0.03, 0.04, 0.04])


def test_adjustments_against_statsmodels_with_none_kept() -> None:
    raw = [0.001, None, 0.2, 0.04, 0.03, None, 0.5, 0.012]
    present = np.array([p for p in raw if p is not None])
    for name, library in [("holm", "holm"), ("bh", "fdr_bh")]:
        adjusted = stats.adjust_pvalues(raw, name)  # type: ignore[arg-type]
        assert [p is None for p in adjusted] == [p is None for p in raw]
        got = [p for p in adjusted if p is not None]
        assert got == pytest.approx(list(multipletests(present, method=library)[1]))
    assert stats.adjust_pvalues(raw, "none") == raw


@pytest.mark.parametrize("seed", range(5))
def test_adjustments_match_statsmodels_on_random_families_with_ties(seed) -> None:
    rng = np.random.default_rng(seed)
    raw = np.round(rng.random(rng.integers(1, 12)) ** 3, 2)  # ties and values near 0
    for name, library in [("holm", "holm"), ("bh", "fdr_bh")]:
        got = stats.adjust_pvalues(list(raw), name)  # type: ignore[arg-type]
        assert got == pytest.approx(list(multipletests(raw, method=library)[1]), abs=1e-15)
    assert stats.adjust_pvalues([None, None], "holm") == [None, None]
    with pytest.raises(ValueError, match="unknown correction"):
        stats.adjust_pvalues([0.1], "bonferroni")  # type: ignore[arg-type]


def test_study_chi_square_over_seeds_is_anti_conservative_mcnemar_is_not() -> None:
    """Null: the compressed model has the same SRS in expectation but reshuffles which
    items are biased; 5 seeds per item at low temperature are nearly identical. Pooling
    seeds as independent samples (the study's chi-square) rejects far more than 5% of
    the time; McNemar mid-p on per-item majority votes holds its level
    (docs/statistics.md reports the 1000-rep figures)."""
    rng = np.random.default_rng(2026)
    n_items, seeds, reps = 300, 5, 400
    chi2_rejections = midp_rejections = 0
    for _ in range(reps):
        dense = rng.random((n_items, seeds)) < rng.beta(0.2, 0.3, n_items)[:, None]
        compressed = rng.random((n_items, seeds)) < rng.beta(0.2, 0.3, n_items)[:, None]
        p_chi2 = stats.chi2_unpaired_p(
            int(dense.sum()), dense.size, int(compressed.sum()), compressed.size
        )
        chi2_rejections += p_chi2 is not None and p_chi2 < 0.05
        table = stats.paired_table(dense.sum(1) > seeds / 2, compressed.sum(1) > seeds / 2)
        midp_rejections += stats.mcnemar_midp(table.first_only, table.second_only) < 0.05
    assert chi2_rejections / reps > 0.15
    assert midp_rejections / reps <= 0.08
