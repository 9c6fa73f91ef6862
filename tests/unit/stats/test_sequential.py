"""Group-sequential boundaries: against published values, scipy's multivariate normal
distribution, closed forms and a seeded Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bias_gate.stats import sequential as sq

FOUR = (0.25, 0.5, 0.75, 1.0)


def test_obrien_fleming_matches_published_boundaries() -> None:
    # Lan-DeMets O'Brien-Fleming spending, one-sided 0.025, four equally spaced looks:
    # 4.3326, 2.9631, 2.3590, 2.0141 (Jennison & Turnbull 2000, Table 7.6; gsDesign).
    bounds = sq.boundaries(0.025, FOUR, "obrien-fleming")
    assert bounds == pytest.approx((4.3326, 2.9631, 2.3590, 2.0141), abs=2e-4)


def test_first_boundary_is_the_spent_quantile() -> None:
    for spending in sq.SPENDING_FUNCTIONS:
        bounds = sq.boundaries(0.05, FOUR, spending)  # type: ignore[arg-type]
        assert bounds[0] == pytest.approx(sps.norm.isf(sq.spent(spending, 0.05, 0.25)))
    assert sq.spent("pocock", 0.05, 0.25) == pytest.approx(0.05 * math.log(1 + (math.e - 1) / 4))


def test_one_look_is_the_fixed_design() -> None:
    assert sq.boundaries(0.05, (1.0,)) == pytest.approx((sps.norm.isf(0.05),))


@pytest.mark.parametrize("t1", [0.3, 0.5, 0.8])
def test_two_looks_against_scipy_multivariate_normal(t1) -> None:
    bounds = sq.boundaries(0.05, (t1, 1.0), "obrien-fleming")
    rho = math.sqrt(t1)
    joint = sps.multivariate_normal([0, 0], [[1, rho], [rho, 1]])
    never = float(joint.cdf(np.array(bounds)))
    assert 1 - never == pytest.approx(0.05, abs=2e-5)


@pytest.mark.parametrize("spending", sq.SPENDING_FUNCTIONS)
def test_crossing_probabilities_spend_alpha_and_match_monte_carlo(spending) -> None:
    bounds = sq.boundaries(0.05, FOUR, spending)
    probabilities = sq.crossing_probabilities(bounds, FOUR)
    spent = [sq.spent(spending, 0.05, t) for t in FOUR]
    assert np.cumsum(probabilities) == pytest.approx(spent, abs=1e-7)
    rng = np.random.default_rng(2026)
    increments = rng.normal(size=(200_000, 4)) * math.sqrt(0.25)
    z = np.cumsum(increments, axis=1) / np.sqrt(FOUR)
    crossed = (z >= np.array(bounds)).any(axis=1).mean()
    assert crossed == pytest.approx(0.05, abs=0.0015)  # 3 Monte Carlo SE


def test_power_under_drift_against_monte_carlo() -> None:
    bounds = sq.boundaries(0.05, FOUR)
    drift = 2.5
    power = sum(sq.crossing_probabilities(bounds, FOUR, drift))
    rng = np.random.default_rng(7)
    steps = rng.normal(loc=drift * 0.25, scale=math.sqrt(0.25), size=(200_000, 4))
    z = np.cumsum(steps, axis=1) / np.sqrt(FOUR)
    assert power == pytest.approx((z >= np.array(bounds)).any(axis=1).mean(), abs=0.004)


def test_stage_sizes_keep_fifty_items_per_stage() -> None:
    assert sq.stage_sizes(400, 4) == (100, 200, 300, 400)
    assert sq.stage_sizes(100, 4) == (50, 100)
    assert sq.stage_sizes(30, 4) == (30,)
    assert sq.stage_sizes(0, 4) == ()
    assert sq.stage_sizes(301, 3) == (101, 201, 301)


def test_bad_fractions_are_refused() -> None:
    with pytest.raises(ValueError, match="end at 1"):
        sq.boundaries(0.05, (0.5, 0.9))
    with pytest.raises(ValueError, match="increase"):
        sq.boundaries(0.05, (0.5, 0.5, 1.0))
