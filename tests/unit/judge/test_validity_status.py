"""Valid, not valid, or too few items (bias_gate.judge.validity_status): the exact power
against scipy's binomial test and the states of given counts (the three promises are
checked by simulation in tests/simulation/test_validity_rates.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from bias_gate.judge.thresholds import ValidityThresholds
from bias_gate.judge.validity_status import (
    CHANCE,
    accuracy_upper_bound,
    check_accuracy,
    exact_power,
    items_to_show_validity,
)

LIMITS = ValidityThresholds()  # alpha_v 0.05, min_accuracy 0.45
POWER = 0.8


def _critical(n: int, alpha: float) -> int:
    """The smallest count correct that scipy's exact test calls above chance."""
    for k in range(n + 1):
        if binomtest(k, n, CHANCE, alternative="greater").pvalue <= alpha:
            return k
    return n + 1


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_exact_power_is_the_binomial_tests_rejection_probability(alpha):
    from scipy.stats import binom

    n = np.arange(1, 90)
    got = exact_power(n, 0.5, alpha)
    for size, power in zip(n, got, strict=True):
        critical = _critical(int(size), alpha)
        want = 0.0 if critical > size else binom.sf(critical - 1, size, 0.5)
        assert power == pytest.approx(want, abs=1e-12), size


def test_items_to_show_validity_is_where_the_power_stays_above_target():
    m = items_to_show_validity(0.45, 0.05, POWER)
    assert m == 121
    sizes = np.arange(m, m + 400)
    assert (exact_power(sizes, 0.45, 0.05) >= POWER).all()
    assert exact_power(np.array([m - 1]), 0.45, 0.05)[0] < POWER
    assert items_to_show_validity(CHANCE, 0.05, POWER) is None
    assert items_to_show_validity(0.6, 0.01, 0.8) == 39


def test_the_upper_bound_is_clopper_pearson():
    from scipy.stats import beta

    assert accuracy_upper_bound(11, 24, 0.05) == pytest.approx(beta.ppf(0.95, 12, 13))
    assert accuracy_upper_bound(0, 0, 0.05) == 1.0
    assert accuracy_upper_bound(24, 24, 0.05) == 1.0


def test_the_smoke_runs_24_items_are_too_few_not_invalid():
    """`--bias-gate-limit 24` on SmolLM2: 11 of 24 disambiguated items right (45.8%)."""
    check = check_accuracy(11, 24, binomtest(11, 24, CHANCE, alternative="greater").pvalue,
                           alpha=0.05, min_accuracy=0.45, power=POWER)  # fmt: skip
    assert check.state == "too_few" and check.items_needed == 121
    at_chance = check_accuracy(40, 120, binomtest(40, 120, CHANCE, alternative="greater").pvalue,
                               alpha=0.05, min_accuracy=0.45, power=POWER)  # fmt: skip
    assert at_chance.state == "not_valid" and at_chance.items_needed is None
