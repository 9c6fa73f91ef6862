"""The score test and interval for Cohen's h on paired binary outcomes, against a
brute-force likelihood search, against the Wald interval where they must agree, and by
their own definitions (the calibration is checked in tests/simulation/test_decision_rates.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bias_gate.stats import core as stats
from bias_gate.stats import paired_mle, paired_score

TABLES = [
    (30, 5, 12, 53),
    (110, 0, 79, 3),  # a zero cell: the maximiser lies on an edge
    (179, 3, 0, 73),
    (0, 0, 4, 46),  # the dense model never biased
    (62, 66, 47, 1),
    (12, 13, 1, 5),
]


def _loglik(counts: tuple[int, ...], p1: float, p11: float, h0: float) -> float:
    p2 = float(paired_mle._partner(np.asarray(p1), np.asarray(h0)))
    cells = (p11, p1 - p11, p2 - p11, 1 - p1 - p2 + p11)
    return float(
        sum(
            paired_mle._xlogy(np.asarray(float(x)), np.asarray(c))
            for x, c in zip(counts, cells, strict=True)
        )
    )


@pytest.mark.parametrize("counts", TABLES)
@pytest.mark.parametrize("h0", [-0.6, 0.0, 0.2, 0.9])
def test_constrained_mle_is_the_maximum_of_a_brute_force_search(counts, h0) -> None:
    p1, p2, p11 = (float(x) for x in paired_score.constrained_mle(*counts, h0))
    # The constraint holds.
    assert stats.cohens_h(p1, p2) == pytest.approx(h0, abs=1e-9)
    low, high = paired_mle._p1_range(np.asarray(h0))
    grid_p1 = np.linspace(float(low), float(high), 602)[1:-1][:, None]
    grid_p2 = paired_mle._partner(grid_p1, np.asarray(h0))
    fractions = np.linspace(0, 1, 302)[1:-1][None, :]
    lo = np.maximum(0, grid_p1 + grid_p2 - 1)
    hi = np.minimum(grid_p1, grid_p2)
    grid_p11 = lo + fractions * (hi - lo)
    cells = (grid_p11, grid_p1 - grid_p11, grid_p2 - grid_p11, 1 - grid_p1 - grid_p2 + grid_p11)
    grid = sum(
        paired_mle._xlogy(np.full(grid_p11.shape, float(x)), c)
        for x, c in zip(counts, cells, strict=True)
    )
    assert _loglik(counts, p1, p11, h0) >= float(np.max(grid)) - 1e-7


def test_score_z_is_zero_at_the_estimate_and_falls_with_h0() -> None:
    counts = (30, 5, 12, 53)
    h = float(paired_score.observed_h(*counts))
    assert float(paired_score.score_z(*counts, h)) == pytest.approx(0.0, abs=1e-6)
    zs = [float(paired_score.score_z(*counts, h0)) for h0 in (-0.3, 0.0, 0.2, 0.5)]
    assert zs == sorted(zs, reverse=True)


def test_score_z_vectorizes_like_scalar_calls() -> None:
    a, b, c, d = (np.array(column) for column in zip(*TABLES, strict=True))
    together = paired_score.score_z(a, b, c, d, 0.2)
    one_by_one = [float(paired_score.score_z(*table, 0.2)) for table in TABLES]
    assert together == pytest.approx(one_by_one, rel=1e-9)


@pytest.mark.parametrize("counts", TABLES[:4])
def test_bounds_invert_the_score_test(counts) -> None:
    z = float(sps.norm.isf(0.05))
    upper = float(paired_score.score_bound(*counts, z, "upper"))
    lower = float(paired_score.score_bound(*counts, z, "lower"))
    h = float(paired_score.observed_h(*counts))
    assert lower <= h <= upper
    cc = paired_score.CONTINUITY  # each side's statistic carries its own correction
    assert float(paired_score.score_z(*counts, upper, cc)) == pytest.approx(-z, abs=1e-4)
    if lower > -math.pi + 1e-6:
        assert float(paired_score.score_z(*counts, lower, -cc)) == pytest.approx(z, abs=1e-4)
    # Without the correction the bounds are the plain score test's, inside these.
    plain = paired_score.score_interval(*counts, z, continuity=0.0)
    assert float(plain[1]) <= upper + 1e-9 and float(plain[0]) >= lower - 1e-9
    assert float(paired_score.score_z(*counts, float(plain[1]))) == pytest.approx(-z, abs=1e-4)


def test_score_and_wald_intervals_agree_on_a_large_balanced_sample() -> None:
    table = stats.PairedTable(both=3000, first_only=1000, second_only=1200, neither=4800)
    counts = (table.both, table.first_only, table.second_only, table.neither)
    wald = stats.paired_h_ci_delta(table, confidence=0.90)
    z = float(sps.norm.isf(0.05))
    assert float(paired_score.score_bound(*counts, z, "lower")) == pytest.approx(wald[0], abs=2e-3)
    assert float(paired_score.score_bound(*counts, z, "upper")) == pytest.approx(wald[1], abs=2e-3)


def test_identical_models_get_a_positive_variance_at_the_limit() -> None:
    # No discordant pair: the Wald variance would be 0; the score test's is not.
    variance = float(paired_score.score_variance(30, 0, 0, 70, 0.2))
    assert variance > 0
    assert float(paired_score.score_z(30, 0, 0, 70, 0.2)) < 0
    assert float(paired_score.score_z(0, 0, 0, 0, 0.2)) != float(
        paired_score.score_z(0, 0, 0, 0, 0.2)
    )  # n = 0: NaN


def test_h0_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="pi"):
        paired_score.constrained_mle(1, 1, 1, 1, math.pi)


def _random_tables(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tables = rng.integers(0, 60, size=(count, 4))
    tables[::5, 1] = 0  # zero cells: margins at an edge of their range
    tables[::7, 2] = 0
    tables[::11, 0] = 0
    return tables


def test_the_null_variance_is_the_constrained_fit_at_zero() -> None:
    a, b, c, d = _random_tables(300, 1).T
    discordant = b + c > 0  # without discordant pairs no h rises (tested below)
    closed = paired_score.null_variance(a, b, c, d)[discordant]
    fitted = paired_score.score_variance(a, b, c, d, 0.0)[discordant]
    np.testing.assert_allclose(closed, fitted, atol=1e-9)


@pytest.mark.parametrize("level", [0.05, 0.0125])
def test_the_no_increase_p_is_below_a_level_exactly_when_the_lower_bound_is_above_zero(
    level: float,
) -> None:
    a, b, c, d = _random_tables(60, 2).T
    p = paired_score.no_increase_p(a, b, c, d)
    lower, _ = paired_score.score_interval(a, b, c, d, float(sps.norm.isf(level)), ("lower",))
    assert 5 <= np.sum(p <= level) <= 55  # both outcomes occur
    np.testing.assert_array_equal(p <= level, lower > 0)


def test_the_srs_increase_p_is_the_larger_of_mcnemar_and_the_score_p() -> None:
    """A FAIL needs both to reject (decision #106), so a FAIL's printed bound is above 0."""
    from bias_gate.metrics.gated import SRS

    a, b, c, d = _random_tables(200, 3).T
    looked = SRS.look_counts(a, b, c, d, 0.2).increase_p
    mcnemar = stats.mcnemar_increase_p(b, c)
    score = paired_score.no_increase_p(a, b, c, d)
    np.testing.assert_array_equal(looked, np.maximum(mcnemar, score))
    assert np.any(score > mcnemar) and np.any(mcnemar > score)  # each can decide
    no_change = b + c == 0
    assert np.all(looked[no_change] == 1.0)
