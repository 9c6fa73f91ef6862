"""The gate's stated error rates, checked by simulation through its own code.

Items are drawn with a known true effect (bias_gate.judge.simulate); the gate's gated metric
computes each look's statistics and its decision rule decides. The guarantees
(docs/statistics.md, "The decision"):

- P(PASS | h = limit) <= alpha for each category (and so for a config);
- P(FAIL | h = 0) <= alpha for a config's family of categories (Holm; BH under the
  complete null), per category with no correction;
- at the number of items `bias-gate power` recommends, P(PASS | h = 0) >= power;

for the fixed design and the sequential one (O'Brien-Fleming and Pocock spending), from
50 to 1000 ambiguous items. Each check allows three Monte Carlo standard errors; seeds
are fixed, so every run draws the same data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from bias_gate.judge import power
from bias_gate.judge.decision import CategoryRule, Design, RoundStats, decision_name, run_design
from bias_gate.judge.looks import judge_config, plan_categories
from bias_gate.judge.simulate import Scenario, agreement_range, cell_probabilities, simulate
from bias_gate.judge.thresholds import Thresholds
from bias_gate.metrics.gated import SRS, get_metric
from tests.support.gate import paired_answers

ALPHA = 0.05
LIMIT = 0.2
REPS = 2000


def _slack(p: float, reps: int = REPS) -> float:
    return 3 * math.sqrt(p * (1 - p) / reps)


def _one_way_agreement(dense_srs: float, h: float) -> float:
    """The largest agreement possible: every flip goes one way (the score test's hardest
    case, where the Wald interval fails worst)."""
    p2 = math.sin(math.asin(math.sqrt(dense_srs)) + h / 2) ** 2
    return 1 - abs(p2 - dense_srs) * 1.0001


# (n, dense SRS, agreement or None for the one-way extreme)
AT_LIMIT = [
    (50, 0.1, None),
    (50, 0.35, 0.8),
    (100, 0.05, None),
    (100, 0.5, None),
    (300, 0.2, 0.7),
    (300, 0.7, None),
    (1000, 0.3, None),
    (1000, 0.1, 0.85),
]


@pytest.mark.parametrize(("n", "srs", "agreement"), AT_LIMIT)
@pytest.mark.parametrize(
    ("looks", "spending"), [(1, "obrien-fleming"), (4, "obrien-fleming"), (4, "pocock")]
)
def test_a_model_at_the_limit_passes_at_most_alpha_of_the_time(
    n, srs, agreement, looks, spending
) -> None:
    agreement = agreement if agreement is not None else _one_way_agreement(srs, LIMIT)
    design = Design(alpha=ALPHA, spending=spending)
    oc = simulate(
        design,
        [Scenario(n, srs, agreement, LIMIT)],
        limit=LIMIT,
        looks=looks,
        replicates=REPS,
        seed=n,
    )
    assert oc.p_pass[0] <= ALPHA + _slack(ALPHA)


# Where the uncorrected score test exceeded alpha (issue 24 items 1-2, measured through
# `bias-gate oc` before the continuity correction): (n, dense SRS, agreement, looks,
# spending, replicates). Small n, extreme dense SRS with near-independent answers, fixed
# and sequential. The exact fixed-design rates for n = 1-50 are in test_small_categories.
SMALL_OR_EXTREME = [
    (10, 0.05, 0.85, 1, "obrien-fleming", 4000),  # was 0.142
    (150, 0.01, 0.95126, 4, "obrien-fleming", 4000),  # was 0.069
    (200, 0.01, 0.95126, 4, "pocock", 3000),  # was 0.078-0.081
    (60, 0.02, None, 1, "obrien-fleming", 3000),  # near-independent, was 0.059-0.066
    (100, 0.95, None, 1, "obrien-fleming", 3000),
    (300, 0.99, None, 4, "pocock", 2000),
]


def _independent_agreement(dense_srs: float, h: float) -> float:
    """The agreement of two models answering independently at this dense SRS and h."""
    p2 = math.sin(math.asin(math.sqrt(dense_srs)) + h / 2) ** 2
    return dense_srs * p2 + (1 - dense_srs) * (1 - p2)


@pytest.mark.parametrize(("n", "srs", "agreement", "looks", "spending", "reps"), SMALL_OR_EXTREME)
def test_small_or_extreme_categories_pass_at_most_alpha_of_the_time_at_the_limit(
    n, srs, agreement, looks, spending, reps
) -> None:
    agreement = agreement if agreement is not None else _independent_agreement(srs, LIMIT)
    oc = simulate(
        Design(alpha=ALPHA, spending=spending),
        [Scenario(n, srs, agreement, LIMIT)],
        limit=LIMIT,
        looks=looks,
        replicates=reps,
        seed=n,
    )
    assert oc.p_pass[0] <= ALPHA + _slack(ALPHA, reps)


NULL = [(50, 0.3, 0.6), (100, 0.1, 0.9), (300, 0.4, 0.7), (1000, 0.2, 0.95)]

# (n, dense SRS, agreement or None for the one-way extreme, looks): a model at the limit
# (300, 0.1, one way, 4 looks) was 0.067 before the continuity correction (issue 24).
BOUND_RULE_AT_LIMIT = [
    (n, srs, agreement, looks)
    for n, srs, agreement in [(100, 0.3, 0.85), (300, 0.1, None), (300, 0.5, 0.7), (1000, 0.3, 0.9)]
    for looks in (1, 4)
]


@pytest.mark.parametrize(("n", "srs", "agreement", "looks"), BOUND_RULE_AT_LIMIT)
def test_under_the_bound_rule_a_model_at_the_limit_fails_at_most_alpha_of_the_time(
    n, srs, agreement, looks
) -> None:
    # fail_rule: bound promises P(FAIL | h <= limit) <= alpha (docs/statistics.md,
    # "fail_rule"); h = limit is the hardest case.
    agreement = agreement if agreement is not None else _one_way_agreement(srs, LIMIT)
    oc = simulate(
        Design(alpha=ALPHA, fail_rule="bound"),
        [Scenario(n, srs, agreement, LIMIT)],
        limit=LIMIT,
        looks=looks,
        replicates=REPS,
        seed=n + 7,
    )
    assert oc.p_fail[0] <= ALPHA + _slack(ALPHA)


def test_the_estimate_rule_fails_models_inside_the_limit_more_often_than_alpha() -> None:
    # What fail_rule: estimate does NOT promise, measured so that the documented figure
    # stays true: at h = 0.15 (inside the limit 0.2), 200 items, it fails far more often
    # than alpha, and the bound rule does not.
    scenario = [Scenario(200, 0.3, 0.85, 0.15)]
    estimate = simulate(Design(alpha=ALPHA), scenario, limit=LIMIT, looks=4, replicates=REPS)
    bound = simulate(
        Design(alpha=ALPHA, fail_rule="bound"), scenario, limit=LIMIT, looks=4, replicates=REPS
    )
    assert 0.2 < estimate.p_fail[0] < 0.4
    assert bound.p_fail[0] <= ALPHA


@pytest.mark.parametrize(("n", "srs", "agreement"), NULL)
@pytest.mark.parametrize("correction", ["holm", "bh"])
@pytest.mark.parametrize("looks", [1, 4])
def test_an_unchanged_config_fails_at_most_alpha_of_the_time(
    n, srs, agreement, correction, looks
) -> None:
    # Six categories, none changed: the family's chance of any FAIL.
    design = Design(alpha=ALPHA, correction=correction)
    scenarios = [Scenario(n, srs, agreement, 0.0)] * 6
    oc = simulate(design, scenarios, limit=LIMIT, looks=looks, replicates=1000, seed=n + looks)
    assert oc.p_config_fail <= ALPHA + _slack(ALPHA, 1000)


def test_without_correction_each_category_keeps_alpha() -> None:
    design = Design(alpha=ALPHA, correction="none")
    oc = simulate(design, [Scenario(200, 0.3, 0.75, 0.0)], limit=LIMIT, looks=4, replicates=REPS)
    assert oc.p_fail[0] <= ALPHA + _slack(ALPHA)


def test_the_fail_test_has_power_against_a_real_amplification() -> None:
    # Not a guarantee, but a gate that never fails would satisfy the ones above.
    oc = simulate(
        Design(alpha=ALPHA), [Scenario(400, 0.3, 0.7, 0.5)], limit=LIMIT, looks=4, replicates=500
    )
    assert oc.p_fail[0] > 0.9


@pytest.mark.parametrize(("srs", "agreement"), [(0.3, 0.85), (0.15, 0.9), (0.5, 0.7)])
@pytest.mark.parametrize("looks", [1, 4])
def test_an_unchanged_model_passes_with_the_planned_power(srs, agreement, looks) -> None:
    variance = power.variance_from_agreement(srs, agreement, LIMIT)
    shift = power.continuity_shift(srs)  # as `bias-gate power --dense-srs` plans
    n = power.rule_items(variance, LIMIT, ALPHA, 0.8, looks, shift=shift)
    oc = simulate(
        Design(alpha=ALPHA),
        [Scenario(n, srs, agreement, 0.0)],
        limit=LIMIT,
        looks=looks,
        replicates=REPS,
        seed=looks,
    )
    assert oc.p_pass[0] >= 0.8 - _slack(0.8)


def test_the_unpaired_plan_holds_for_independent_answers() -> None:
    shift = power.continuity_shift()  # at PLAN_SRS, covering dense SRS 0.1-0.9
    n = power.rule_items(power.unpaired_variance(LIMIT), LIMIT, ALPHA, 0.8, 1, shift=shift)
    for srs in (0.2, 0.5):
        independent = srs * srs + (1 - srs) * (1 - srs)
        oc = simulate(
            Design(alpha=ALPHA), [Scenario(n, srs, independent, 0.0)], limit=LIMIT, replicates=REPS
        )
        assert oc.p_pass[0] >= 0.8 - _slack(0.8)


def test_the_pocock_plan_reaches_its_power() -> None:
    # Issue 24 item 8: the Pocock plan recommended 376 items at which the rule passed
    # 0.796-0.798 of unchanged models; the plan is now searched on the rule's power.
    shift = power.continuity_shift()
    n = power.rule_items(
        power.unpaired_variance(LIMIT), LIMIT, ALPHA, 0.8, 4, "pocock", shift=shift
    )
    oc = simulate(
        Design(alpha=ALPHA, spending="pocock"),
        [Scenario(n, 0.5, 0.5, 0.0)],  # independent answers at SRS 0.5
        limit=LIMIT,
        looks=4,
        replicates=REPS,
        seed=4,
    )
    assert oc.p_pass[0] >= 0.8 - _slack(0.8)


def test_looks_save_items_on_clear_cases() -> None:
    design = Design(alpha=ALPHA)
    clear = [Scenario(400, 0.3, 0.95, 0.0), Scenario(400, 0.3, 0.5, 0.8)]
    oc = simulate(design, clear, limit=LIMIT, looks=4, replicates=500)
    assert max(oc.expected_items) < 0.6 * 400


def test_cell_probabilities_refuse_impossible_scenarios() -> None:
    assert sum(cell_probabilities(0.3, 0.8, 0.2)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="impossible"):
        cell_probabilities(0.3, 0.99, 0.5)
    # Both ends of the quoted range are feasible, and just outside them is not.
    for srs, h in [(0.3, 0.5), (0.05, 0.2), (0.95, 0.2), (0.5, -0.3)]:
        low, high = agreement_range(srs, h)
        assert sum(cell_probabilities(srs, low, h)) == pytest.approx(1.0)
        assert sum(cell_probabilities(srs, high, h)) == pytest.approx(1.0)
        for outside in (low - 1e-6, high + 1e-6):
            with pytest.raises(ValueError, match=f"must lie in \\[{low:.4f}, {high:.4f}\\]"):
                cell_probabilities(srs, outside, h)


def test_the_simulated_rule_is_the_gate_rule() -> None:
    """The same answers judged through the gate's path (items -> answers -> judge)
    and through the simulation's arrays give the same decisions."""
    rng = np.random.default_rng(11)
    base = Thresholds()
    decisions = []
    for h in (0.0, 0.2, 0.6):
        cells = rng.choice(4, size=300, p=cell_probabilities(0.3, 0.7, h))
        items, dense, compressed = paired_answers(cells)
        plans = plan_categories(items, ["Age"], looks=1, seed=0)
        (judged,) = judge_config(
            plans,
            lambda wanted, dense=dense: {i.key: dense[i.key] for i in wanted},
            lambda wanted, compressed=compressed: {i.key: compressed[i.key] for i in wanted},
            base=base,
            per_category={},
            metric=get_metric("srs"),
        )
        # The simulation's path: the same pairs in the same (stage) order, as arrays.
        order = [int(item.example_id) for item in plans["Age"].ambiguous]
        x = np.array([[cells[i] <= 1 for i in order]])
        y = np.array([[cells[i] in (0, 2) for i in order]])
        look = get_metric("srs").look(x, y, LIMIT)
        _, b, c, d = SRS.counts(x, y)
        net = np.array([(c - b) / (c + d)], dtype=float).reshape(1, 1)
        state, _ = run_design(
            Design(alpha=ALPHA),
            [CategoryRule("Age", LIMIT, 1)],
            1,
            lambda _round, _running, look=look, net=net: RoundStats([look], net),
        )
        assert judged.stats.pass_p[0] == pytest.approx(look.pass_p[0])
        assert judged.stats.increase_p[0] == pytest.approx(look.increase_p[0])
        assert judged.decision == decision_name(state[0, 0])
        decisions.append(judged.decision)
    assert decisions[0] == "pass" and decisions[-1] == "fail"  # both paths were exercised


@pytest.mark.parametrize(("shape", "noise"), [((2, 3), 0.1), ((0.5, 2), 0.02), ((0.3, 0.3), 0.3)])
@pytest.mark.parametrize("n", [50, 400])
def test_the_expected_srs_pass_test_holds_its_size(shape, noise, n) -> None:
    """The soft metric at the limit: per-item probabilities Beta-distributed, the
    compressed model's shifted so that h of the population means is exactly the limit;
    the gate's own metric and decision PASS at most alpha of the time."""
    rng = np.random.default_rng(n)
    population = rng.beta(*shape, size=400_000)
    errors = rng.normal(0, noise, size=population.size)

    def h_of(shift: float) -> float:
        moved = np.clip(population + shift + errors, 0, 1).mean()
        return 2 * math.asin(math.sqrt(moved)) - 2 * math.asin(math.sqrt(population.mean()))

    low, high = 0.0, 0.5
    for _ in range(40):  # the shift at which h = limit
        middle = (low + high) / 2
        low, high = (middle, high) if h_of(middle) < LIMIT else (low, middle)
    dense = rng.beta(*shape, size=(REPS, n))
    compressed = np.clip(dense + low + rng.normal(0, noise, size=dense.shape), 0, 1)
    look = get_metric("expected_srs").look(dense, compressed, LIMIT)
    state, _ = run_design(
        Design(alpha=ALPHA),
        [CategoryRule("Age", LIMIT, 1)],
        REPS,
        lambda _round, _running: RoundStats([look], np.full((REPS, 1), np.nan)),
    )
    assert np.mean(state[:, 0] == 1) <= ALPHA + _slack(ALPHA)


def _judge_cells(cells: Sequence[int], looks: int, base: Thresholds):
    items, dense, compressed = paired_answers(cells)
    plans = plan_categories(items, ["Age"], looks=looks, seed=0)
    (judged,) = judge_config(
        plans,
        lambda wanted: {i.key: dense[i.key] for i in wanted},
        lambda wanted: {i.key: compressed[i.key] for i in wanted},
        base=base,
        per_category={},
        metric=get_metric("srs"),
    )
    return judged


def test_an_inconclusive_last_look_prints_its_repeated_bound() -> None:
    # The case (its table (39, 12, 20, 129) now has a corrected upper bound
    # 0.2094 at one look; one item moved keeps the case): (39, 12, 19, 130) at n = 200.
    # One look: its 95% upper bound is 0.1972 <= 0.2, PASS. Four O'Brien-Fleming looks:
    # the last look's PASS level is 0.0427, so it ends INCONCLUSIVE, and the printed
    # bound (at that level, 0.2025) is above the limit; a single-look bound beside
    # INCONCLUSIVE was the defect.
    cells = [0] * 39 + [1] * 12 + [2] * 19 + [3] * 130
    fixed = _judge_cells(cells, 1, Thresholds())
    assert fixed.decision == "pass" and fixed.summary.upper == pytest.approx(0.1972, abs=1e-4)
    sequential = _judge_cells(cells, 4, Thresholds())
    assert sequential.decision == "inconclusive" and sequential.look == 4
    assert sequential.summary.upper > LIMIT
    assert sequential.pass_level == pytest.approx(0.0427, abs=1e-4)
    # And the reason quotes the level of the bounds it prints.
    from bias_gate.judge.verdict import judge_bias

    (reason,) = judge_bias(
        sequential,
        Thresholds(),
        perplexity_passed=None,
    ).verdict.reasons
    assert "the 91.46% interval of Cohen's h" in reason


@pytest.mark.parametrize(("looks", "fail_rule"), [(1, "estimate"), (4, "bound")])
def test_the_printed_bound_is_the_decision(looks, fail_rule) -> None:
    """PASS <=> the printed upper bound is at or below the limit, at every look: the
    bound is the deciding look's repeated confidence bound (its nominal PASS level), not
    the single-look one; under fail_rule bound a FAIL's printed lower bound is above the
    limit. Tables near the limit, so both sides of it occur."""
    rng = np.random.default_rng(looks * 10 + len(fail_rule))
    base = Thresholds(fail_rule=fail_rule)
    seen = set()
    for h in (0.0, 0.1, 0.15, 0.18, 0.2, 0.22, 0.3, 0.6):
        cells = rng.choice(4, size=400, p=cell_probabilities(0.3, 0.65, h))
        judged = _judge_cells(list(cells), looks, base)
        upper, lower = judged.summary.upper, judged.summary.lower
        assert (judged.decision == "pass") == (upper <= LIMIT), (judged.decision, upper)
        if fail_rule == "bound" and judged.decision == "fail":
            assert lower > LIMIT
        seen.add((judged.decision, judged.look))
    assert {"pass", "inconclusive", "fail"} <= {decision for decision, _ in seen}
    if looks > 1:
        assert any(look < looks for _, look in seen)  # early looks were exercised


def test_a_family_of_two_benchmarks_fails_an_unchanged_config_at_most_alpha() -> None:
    """Decision #90: a config's categories of BBQ and KoBBQ are one family. BBQ-like
    categories (a model that reads the language: stable answers) beside KoBBQ-like ones
    (near chance, answers that agree less between models), none changed."""
    bbq = [Scenario(200, 0.3, 0.85, 0.0)] * 2
    kobbq = [Scenario(200, 0.33, 0.55, 0.0)] * 2
    oc = simulate(Design(alpha=ALPHA), bbq + kobbq, limit=LIMIT, looks=4, replicates=1000, seed=90)
    assert oc.p_config_fail <= ALPHA + _slack(ALPHA, 1000)
